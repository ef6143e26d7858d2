import BankHooksCore
import BankHooksDelivery
import BankHooksTestSupport
import Logging
import Testing

/// A sender allowed to reach loopback, shut down after `body`.
func withSender<T: Sendable>(
    allowed: [String] = ["127.0.0.1/32"], resolver: (any HostResolver)? = nil, resolutionTTL: Duration = .seconds(30),
    configure: (inout Sender.Configuration) -> Void = { _ in },
    _ body: @Sendable (Sender) async throws -> T
) async throws -> T {
    let policy = DestinationPolicy(allowedRanges: allowed.compactMap(AddressRange.init))
    let guardian = DestinationGuard(policy: policy, resolver: resolver ?? SystemHostResolver(), resolutionTTL: resolutionTTL)
    var configuration = Sender.Configuration()
    configure(&configuration)
    let sender = Sender(configuration: configuration, destinations: guardian)
    do {
        let result = try await body(sender)
        try await sender.shutdown()
        return result
    } catch {
        try? await sender.shutdown()
        throw error
    }
}

let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    return logger
}()

extension Sender {
    /// Sends a small POST with a one-second deadline.
    func post(_ url: String, timeout: Duration = .seconds(1)) async -> SendResult {
        await send(url: url, headers: [("content-type", "application/json")], body: Array("{}".utf8), timeout: timeout, logger: quietLogger)
    }
}

/// A resolver that never answers (until its task is cancelled).
struct HangingResolver: HostResolver {
    func resolve(host: String, port: Int) async throws -> [IPAddress] {
        try await Task.sleep(for: .seconds(3600))
        throw ResolutionError(host: host)
    }
}

/// Receivers that answer too slowly or not at all, for the deadline tests.
enum Stall: String, CaseIterable, Sendable {
    case trickledBody, silentAfterHead, silent, slowHead

    var behaviour: HostileReceiver.Behaviour {
        switch self {
        case .trickledBody: .trickleBody(every: .milliseconds(50))
        case .silentAfterHead: .silentAfterHead()
        case .silent: .silent
        case .slowHead: .slowHead(every: .milliseconds(50))
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct SenderTests {
    /// Time allowed beyond the deadline on a loaded 2-core machine.
    static let margin: Duration = .seconds(3)

    @Test(arguments: Stall.allCases)
    func anAttemptEndsAsATimeoutAtItsDeadlineAndClosesTheConnection(_ stall: Stall) async throws {
        try await HostileReceiver.run(script: { _ in stall.behaviour }) { receiver in
            try await withSender { sender in
                let started = ContinuousClock.now
                let result = await sender.post(receiver.url(), timeout: .seconds(1))
                let took = ContinuousClock.now - started
                #expect(result.errorKind == .timeout, "\(stall): \(result.errorKind.map(\.rawValue) ?? "none") \(result.errorMessage ?? "")")
                #expect(result.status == nil, "a head without its body is not an answer")
                #expect(took >= .milliseconds(900) && took < .seconds(1) + Self.margin, "\(stall) took \(took)")
                #expect(receiver.requests.count == 1)
                // The sender closed the connection: the receiver sees it close.
                try await receiver.waitUntilAllConnectionsClosed(timeout: .seconds(10))
            }
        }
    }

    @Test func theHeadsStatusIsNamedWhenTheBodyDoesNotArrive() async throws {
        try await HostileReceiver.run(script: { _ in .trickleBody(status: 200, every: .milliseconds(100)) }) { receiver in
            try await withSender { sender in
                let result = await sender.post(receiver.url())
                #expect(result.errorKind == .timeout)
                #expect(result.errorMessage?.contains("200") == true, "\(result.errorMessage ?? "")")
            }
        }
    }

    @Test func aResolverThatNeverAnswersIsBoundedByTheSameDeadline() async throws {
        try await withSender(resolver: HangingResolver()) { sender in
            let started = ContinuousClock.now
            let result = await sender.post("http://hangs.example/hook", timeout: .seconds(1))
            let took = ContinuousClock.now - started
            #expect(result.errorKind == .timeout, "\(result.errorMessage ?? "")")
            #expect(took < .seconds(1) + Self.margin, "took \(took)")
        }
    }

    @Test func theTimeoutLimitCapsTheFormatsTimeout() async throws {
        try await HostileReceiver.run(script: { _ in .silentAfterHead() }) { receiver in
            try await withSender(configure: { $0.requestTimeoutLimit = .seconds(1) }) { sender in
                let started = ContinuousClock.now
                let result = await sender.post(receiver.url(), timeout: .seconds(30))
                #expect(result.errorKind == .timeout)
                #expect(ContinuousClock.now - started < .seconds(1) + Self.margin)
            }
        }
    }

    @Test func aNormalAnswerKeepsItsStatusRetryAfterAndConnection() async throws {
        try await HostileReceiver.run(script: { index in index == 0 ? .retryAfter(status: 503, value: "7") : .respond(status: 204, body: "") }) { receiver in
            try await withSender { sender in
                let first = await sender.post(receiver.url())
                #expect(first.status == 503)
                #expect(first.retryAfter == "7")
                #expect(first.errorKind == nil)
                let second = await sender.post(receiver.url())
                #expect(second.status == 204)
                #expect(receiver.connections.count == 1, "the second request reused the connection")
            }
        }
    }

    @Test func aBodyOverTheLimitIsStillAnAnswer() async throws {
        let big = String(repeating: "b", count: 200_000)
        try await HostileReceiver.run(script: { _ in .respond(status: 200, body: big) }) { receiver in
            try await withSender { sender in
                let result = await sender.post(receiver.url())
                #expect(result.status == 200)
                #expect(result.errorKind == nil)
                #expect(result.excerpt?.utf8.count == 4096)
            }
        }
    }

    @Test func aHostThatMovesIsRepinnedAndTheOldClientClosesItsConnections() async throws {
        try await HostileReceiver.run(script: { _ in .respond(body: "first") }) { first in
            try await HostileReceiver.run(host: "127.0.0.2", port: first.port, script: { _ in .respond(body: "second") }) { second in
                // Resolved afresh on every send: 127.0.0.1 the first time, 127.0.0.2 afterwards.
                let resolver = RebindingResolver(first: ["moving.example": ["127.0.0.1"]], later: ["moving.example": ["127.0.0.2"]])
                try await withSender(allowed: ["127.0.0.1/32", "127.0.0.2/32"], resolver: resolver, resolutionTTL: .zero) { sender in
                    let url = "http://moving.example:\(first.port)/hook"
                    #expect(await sender.post(url).excerpt == "first")
                    #expect(await sender.post(url).excerpt == "second")
                    #expect(await sender.post(url).excerpt == "second")
                    #expect(second.connections.count == 1, "the new pin's connection is reused")
                    try await first.waitUntilAllConnectionsClosed(timeout: .seconds(10))
                }
            }
        }
    }

    @Test func pinnedClientsBeyondTheLimitAreClosedAndRecreatedWhenNeeded() async throws {
        try await HostileReceiver.run(script: { _ in .respond() }) { receiver in
            let names = ["a.example", "b.example", "c.example"]
            let resolver = TableResolver(table: Dictionary(uniqueKeysWithValues: names.map { ($0, ["127.0.0.1"]) }))
            try await withSender(resolver: resolver, configure: { $0.pinnedHostLimit = 2 }) { sender in
                for round in 0..<3 {
                    for name in names {
                        let result = await sender.post("http://\(name):\(receiver.port)/hook")
                        #expect(result.status == 200, "round \(round), \(name): \(result.errorMessage ?? "")")
                    }
                }
                #expect(receiver.requests.count == 9)
            }
        }
    }

    @Test func aResetOrACloseFailsAtOnceWithoutATimeout() async throws {
        try await HostileReceiver.run(script: { index in index == 0 ? .reset : .close }) { receiver in
            try await withSender { sender in
                for _ in 0..<2 {
                    let started = ContinuousClock.now
                    let result = await sender.post(receiver.url(), timeout: .seconds(10))
                    #expect(result.status == nil)
                    #expect(result.errorKind != nil && result.errorKind != .timeout, "\(result.errorKind.map(\.rawValue) ?? "none")")
                    #expect(ContinuousClock.now - started < .seconds(5))
                }
            }
        }
    }
}
