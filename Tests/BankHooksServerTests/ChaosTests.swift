import BankHooksCore
import BankHooksTestSupport
import Foundation
import Testing

/// A chaotic receiver beside a well-behaved one, both subscribed to every event, on a live
/// `bankhooks serve` (a child process) with a 1-second retry schedule and a 2-second attempt
/// deadline. The chaotic one answers half its requests with every kind of failure a receiver can
/// cause: 500s, 503 and 429 with `Retry-After` (usable, garbage, and the HTTP date that once
/// crashed the server), silence, a head and then nothing, a body trickled forever, a head
/// trickled forever, resets and closes.
@Suite struct ChaosTests {
    /// The chaotic receiver's answer to a roll of 0..<100: 50 succeed, 50 fail in every way.
    static func behaviour(_ roll: UInt64) -> HostileReceiver.Behaviour {
        switch roll {
        case 0..<50: .respond(status: 200)
        case 50..<55: .respond(status: 500, body: "internal error")
        case 55..<59: .retryAfter(status: 503, value: "1")
        case 59..<62: .retryAfter(status: 503, value: "Sun, 06 Nov 1994 08:49:9223372036854775807 GMT")
        case 62..<65: .retryAfter(status: 429, value: "Sun, 06 Nov 1994 08:49:37 GMT")
        case 65..<67: .retryAfter(status: 429, value: "soon")
        case 67..<72: .silent
        case 72..<77: .silentAfterHead(status: 200)
        case 77..<83: .trickleBody(status: 200, every: .milliseconds(100))
        case 83..<88: .slowHead(every: .milliseconds(100))
        case 88..<94: .reset
        default: .close
        }
    }

    @Test(.timeLimit(.minutes(5)), arguments: TestBackend.all)
    func everyEventReachesTheWellBehavedReceiverOnceAndTheChaoticOneAtLeastOnce(_ backend: TestBackend) async throws {
        let total = 40
        let deadlineSeconds = 2.0
        let random = Locked(SeededGenerator(state: 20_261_201))
        let script: HostileReceiver.Script = { _ in Self.behaviour(random.withLock { $0.next() } % 100) }
        try await HostileReceiver.run(script: script) { chaotic in try await TestReceiver.run { calm in
            let dir = TemporaryDirectory()
            let server = try await ServerProcess(
                database: try await backend.database(in: dir, name: "chaos.sqlite"),
                arguments: ["--allow-destination", "127.0.0.1/32", "--request-timeout", "\(Int(deadlineSeconds))"] + backend.serveArguments(in: dir),
                logFile: dir.file("serve.log"))
            let key = try #require(server.bootstrapKey)
            let api = API(baseURL: server.baseURL, key: key)
            let registered = try await api.call(.POST, "/v1/event-types", body: #"{"name": "chaos.tick", "description": "One tick of the chaos test."}"#)
            #expect(registered.status == 201)
            let schedule = "[" + Array(repeating: "1", count: 20).joined(separator: ",") + "]"
            let hostile = try await api.call(
                .POST, "/v1/webhooks", body: #"{"url": "\#(chaotic.url())", "retry_schedule": \#(schedule)}"#)
            let hostileID = try #require(hostile.json?["id"] as? String, "\(hostile.text)")
            let wellBehaved = try await api.call(.POST, "/v1/webhooks", body: #"{"url": "\#(calm.url())", "retry_schedule": \#(schedule)}"#)
            #expect(wellBehaved.status == 201)

            var published: Set<String> = []
            for n in 0..<total {
                let reply = try await api.call(.POST, "/v1/events", body: #"{"id": "chaos-\#(n)", "type": "chaos.tick", "data": {"n": \#(n)}}"#)
                #expect(reply.status == 202, "\(reply.text)")
                published.insert("chaos-\(n)")
            }

            // Every delivery to the chaotic receiver ends `succeeded`: none is failed or lost.
            try await eventually("every delivery to the chaotic receiver succeeded", timeout: .seconds(240)) {
                let page = try await api.call(.GET, "/v1/webhooks/\(hostileID)/deliveries?status=succeeded&limit=100")
                return (page.json?["data"] as? [Any])?.count == total
            }
            #expect(server.isRunning, "the server never stopped or restarted")

            // The well-behaved receiver got every event exactly once.
            let calmIDs = calm.requests.compactMap { $0.header("webhook-id") }
            #expect(calmIDs.count == total, "the well-behaved receiver got \(calmIDs.count) requests for \(total) events")
            #expect(Set(calmIDs) == published)
            // The chaotic one got every event at least once.
            #expect(published.isSubset(of: Set(chaotic.requests.compactMap { $0.header("webhook-id") })))

            // No attempt outlived its deadline, and the chaos really happened.
            let deliveries = try await api.call(.GET, "/v1/webhooks/\(hostileID)/deliveries?limit=100")
            var errorKinds: [String: Int] = [:]
            var statuses: Set<Int> = []
            var attemptCount = 0
            for case let delivery as [String: Any] in deliveries.json?["data"] as? [Any] ?? [] {
                let id = try #require(delivery["id"] as? Int)
                let detail = try await api.call(.GET, "/v1/deliveries/\(id)")
                for case let attempt as [String: Any] in detail.json?["attempts"] as? [Any] ?? [] {
                    attemptCount += 1
                    let duration = try #require(attempt["duration_ms"] as? Double)
                    #expect(duration <= (deadlineSeconds + 1) * 1000, "attempt \(attempt["id"] ?? "?") took \(duration) ms")
                    if let kind = attempt["error"] as? String { errorKinds[kind, default: 0] += 1 }
                    if let status = attempt["status"] as? Int { statuses.insert(status) }
                }
            }
            #expect(attemptCount > total, "failures were retried: \(attemptCount) attempts")
            #expect((errorKinds["timeout"] ?? 0) > 0, "timeouts were recorded: \(errorKinds)")
            #expect(errorKinds.keys.contains { $0 == "network" || $0 == "refused" }, "resets and closes were recorded: \(errorKinds)")
            #expect(statuses.isSuperset(of: [200, 500, 503, 429]), "statuses seen: \(statuses.sorted())")

            // After all that, it still stops gracefully.
            #expect(server.terminate() == 0)
        } }
    }
}
