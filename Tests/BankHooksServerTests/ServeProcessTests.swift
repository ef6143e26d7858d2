import AsyncHTTPClient
import BankHooksCore
import BankHooksTestSupport
import Foundation
import Synchronization
import Testing

/// `bankhooks serve` run as a user runs it: a child process on an SQLite file, or on a PostgreSQL
/// database (with the master key file nodes sharing it need).
@Suite(.serialized) struct ServeProcessTests {
    /// Verifies a received request with the Python `standardwebhooks` package (PyPI): an
    /// implementation that shares no code with ours.
    static func verifyWithStandardWebhooks(_ request: TestReceiver.Received, secret: String) throws -> (status: Int32, output: String) {
        let dir = TemporaryDirectory()
        let bodyFile = dir.file("body"), headersFile = dir.file("headers.json")
        try Data(request.body).write(to: URL(fileURLWithPath: bodyFile))
        try JSONSerialization.data(withJSONObject: request.headers).write(to: URL(fileURLWithPath: headersFile))
        let script = """
            import json, sys
            from standardwebhooks.webhooks import Webhook
            body = open(sys.argv[1], 'rb').read()
            headers = json.load(open(sys.argv[2]))
            payload = Webhook(sys.argv[3]).verify(body, headers)
            print('verified', payload['type'])
            """
        return try runCommand("python3", ["-c", script, bodyFile, headersFile, secret])
    }

    @Test(arguments: TestBackend.all)
    func aWebhookCreatedWithThePrintedKeyReceivesASignatureStandardWebhooksVerifies(_ backend: TestBackend) async throws {
        try await TestReceiver.run { receiver in
            let dir = TemporaryDirectory()
            let database = try await backend.database(in: dir, name: "bankhooks.sqlite")
            let server = try await ServerProcess(database: database, arguments: ["--allow-destination", "127.0.0.1/32"] + backend.serveArguments(in: dir))
            let key = try #require(server.bootstrapKey, "serve prints a bootstrap key on first start: \(server.printed)")
            let api = API(baseURL: server.baseURL, key: key)
            let created = try await api.call(.POST, "/v1/webhooks", body: #"{"url": "\#(receiver.url())", "event_types": ["payment.updated"]}"#)
            #expect(created.status == 201)
            let secret = try #require(created.json?["secret"] as? String)
            // A Lean catalog type, validated against its schema, carried by the standard format.
            let payment = #"{"id": "e4e672fb-7f3c-43ea-be31-84195a65d0d7", "customer_id": "8ad2437d-2815-4b5c-82fd-543d85567668", "intent_id": "17e030df-91a9-4463-964c-6656605d5bcf", "status": "ACCEPTED_BY_BANK", "amount": 670, "currency": "AED", "bank_transaction_reference": "44778733", "end_user_id": "eb3b08f9-4d5e-4ea3-8d28-09b4917a61a9"}"#
            let published = try await api.call(.POST, "/v1/events", body: #"{"type": "payment.updated", "data": \#(payment)}"#)
            #expect(published.status == 202)
            let request = try #require(try await receiver.waitForRequests(1).first)
            #expect(request.header("webhook-id") == published.json?["id"] as? String)
            let verified = try Self.verifyWithStandardWebhooks(request, secret: secret)
            #expect(verified.status == 0, "standardwebhooks refused the request: \(verified.output)")
            #expect(verified.output.contains("verified payment.updated"))
            // The same check refuses a wrong secret, so it can fail.
            let wrong = try Self.verifyWithStandardWebhooks(request, secret: "whsec_" + Data(repeating: 1, count: 32).base64EncodedString())
            #expect(wrong.status != 0)
            // A restart on the same database prints no new key and keeps the old one working.
            #expect(server.terminate() == 0)
            let again = try await ServerProcess(database: database, arguments: backend.serveArguments(in: dir))
            #expect(again.bootstrapKey == nil)
            #expect(try await API(baseURL: again.baseURL, key: key).call(.GET, "/v1/webhooks").status == 200)
        }
    }

    /// Publishes thousands of events, SIGKILLs the server mid-stream, restarts it on the same
    /// database, and checks that every published event reached the receiver at least once.
    @Test(arguments: TestBackend.all)
    func noPublishedEventIsLostWhenTheServerIsKilled(_ backend: TestBackend) async throws {
        let total = 3000
        try await TestReceiver.run { receiver in
            let dir = TemporaryDirectory()
            let database = try await backend.database(in: dir, name: "crash.sqlite")
            let arguments = ["--allow-destination", "127.0.0.1/32", "--lease", "2"] + (try backend.serveArguments(in: dir))
            let first = try await ServerProcess(database: database, arguments: arguments, logFile: dir.file("first.log"))
            let key = try #require(first.bootstrapKey)
            let created = try await API(baseURL: first.baseURL, key: key).call(.POST, "/v1/webhooks", body: #"{"url": "\#(receiver.url())"}"#)
            #expect(created.status == 201)
            let registered = try await API(baseURL: first.baseURL, key: key).call(
                .POST, "/v1/event-types", body: #"{"name": "bank.offline", "description": "A bank went offline."}"#)
            #expect(registered.status == 201)

            let acknowledged = Locked<Set<String>>([])
            /// Publishes ids `range` with 16 concurrent clients; returns the ids not acknowledged.
            @Sendable func publish(_ ids: [String], to base: String, killAfter: Int? = nil, server: ServerProcess? = nil) async -> [String] {
                let api = API(baseURL: base, key: key)
                let next = Locked(0)
                let failed = Locked<[String]>([])
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<16 {
                        group.addTask {
                            while true {
                                let index = next.withLock { n -> Int in defer { n += 1 }; return n }
                                guard index < ids.count else { return }
                                if let killAfter, index == killAfter { server?.kill() }
                                let id = ids[index]
                                let reply = try? await api.call(.POST, "/v1/events", body: #"{"id": "\#(id)", "type": "bank.offline", "data": {"n": \#(index)}}"#)
                                if reply?.status == 202 {
                                    acknowledged.withLock { _ = $0.insert(id) }
                                } else {
                                    failed.withLock { $0.append(id) }
                                }
                            }
                        }
                    }
                }
                return failed.withLock { $0 }
            }

            let ids = (0..<total).map { "evt-\($0)" }
            let unacknowledged = await publish(ids, to: first.baseURL, killAfter: total / 2, server: first)
            #expect(!first.isRunning)
            let beforeKill = acknowledged.withLock { $0.count }
            #expect(beforeKill >= total / 2 - 16, "about half were acknowledged before the kill, got \(beforeKill)")
            #expect(!unacknowledged.isEmpty, "the kill happened mid-stream")

            // Restart on the same database; a client retries what was not acknowledged, with the same ids.
            let second = try await ServerProcess(database: database, arguments: arguments, logFile: dir.file("second.log"))
            let stillFailing = await publish(unacknowledged, to: second.baseURL)
            #expect(stillFailing.isEmpty)
            #expect(acknowledged.withLock { $0.count } == total)

            try await eventually("every acknowledged event reached the receiver", timeout: .seconds(60)) {
                Set(receiver.requests.compactMap { $0.header("webhook-id") }).count >= total
            }
            let received = Set(receiver.requests.compactMap { $0.header("webhook-id") })
            #expect(received == acknowledged.withLock { $0 })
            #expect(second.terminate() == 0)
        }
    }

    /// SIGTERM while a delivery is stuck on a receiver that sent its head and trickles its body:
    /// the attempt ends at its deadline (the standard format's 15 s), is recorded, and serve exits.
    @Test(arguments: TestBackend.all)
    func sigtermWithADeliveryStuckOnATricklingReceiverExitsWithinTheDeadline(_ backend: TestBackend) async throws {
        try await HostileReceiver.run(script: { _ in .trickleBody(every: .milliseconds(200)) }) { receiver in
            let dir = TemporaryDirectory()
            let database = try await backend.database(in: dir, name: "trickle.sqlite")
            let server = try await ServerProcess(database: database, arguments: ["--allow-destination", "127.0.0.1/32"] + backend.serveArguments(in: dir))
            let api = API(baseURL: server.baseURL, key: try #require(server.bootstrapKey))
            #expect(try await api.call(.POST, "/v1/webhooks", body: #"{"url": "\#(receiver.url())"}"#).status == 201)
            #expect(try await api.call(.POST, "/v1/event-types", body: #"{"name": "bank.offline", "description": "A bank went offline."}"#).status == 201)
            #expect(try await api.call(.POST, "/v1/events", body: #"{"type": "bank.offline", "data": {"bank": "b1"}}"#).status == 202)
            try await receiver.waitForRequests(1)
            let started = try #require(receiver.requests.first?.receivedAt)
            // SIGTERM without waiting (terminate() waits, spinning, however long it takes): the
            // child is found by its database (a path or a new database's URL), which no other process has.
            let found = try runCommand("pgrep", ["-f", database])
            let pid = try #require(found.output.split(separator: "\n").compactMap { Int32($0) }.first, "pgrep: \(found.output)")
            #expect(kill(pid, SIGTERM) == 0)
            try await eventually("serve exited after SIGTERM", timeout: .seconds(40)) { !server.isRunning }
            let took = ContinuousClock.now - started
            #expect(took < .seconds(15 + 5), "exited \(took) after the stuck request started")
            #expect(server.terminate() == 0, "a clean exit")
            try await receiver.waitUntilAllConnectionsClosed(timeout: .seconds(5))
        }
    }
}
