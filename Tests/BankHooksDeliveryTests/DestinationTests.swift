import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import BankHooksTestSupport
import NIOCore
import Synchronization
import Testing

/// A resolver that answers from a table: stands in for DNS so a test can make a name resolve
/// to a public address while the socket actually goes to 127.0.0.1.
struct TableResolver: HostResolver {
    var table: [String: [String]]
    func resolve(host: String, port: Int) async throws -> [IPAddress] {
        guard let entries = table[host] else { throw ResolutionError(host: host) }
        return entries.compactMap(IPAddress.init)
    }
}

/// A resolver whose answer changes after the first lookup of each name: DNS rebinding.
final class RebindingResolver: HostResolver {
    let first: [String: [String]]
    let later: [String: [String]]
    private let lookups = Mutex<[String: Int]>([:])

    init(first: [String: [String]], later: [String: [String]]) {
        self.first = first
        self.later = later
    }

    /// How many times `host` was looked up.
    func lookups(of host: String) -> Int { lookups.withLock { $0[host] ?? 0 } }

    func resolve(host: String, port: Int) async throws -> [IPAddress] {
        let count = lookups.withLock { l -> Int in l[host, default: 0] += 1; return l[host] ?? 0 }
        guard let entries = (count == 1 ? first : later)[host] else { throw ResolutionError(host: host) }
        return entries.compactMap(IPAddress.init)
    }
}

@Suite(.timeLimit(.minutes(1))) struct DestinationTests {
    @Test func loopbackIsRefusedByDefaultWithoutConnecting() async throws {
        try await TestReceiver.run { receiver in
            let h = try Harness(allowed: [])
            _ = try await h.addWebhook("by_ip", url: receiver.url(host: "127.0.0.1"))
            _ = try await h.addWebhook("by_name", url: receiver.url(host: "localhost"))
            try await h.run {
                try await h.publish("e1")
                let deliveries = try await h.store.deliveries(eventID: "e1", applicationID: "app")
                #expect(deliveries.count == 2)
                for delivery in deliveries {
                    try await eventually("attempt recorded") { try await h.store.attempts(deliveryID: delivery.id).count == 1 }
                    let attempt = try #require(try await h.store.attempts(deliveryID: delivery.id).first)
                    #expect(attempt.errorKind == .blocked)
                    let message = try #require(attempt.errorMessage)
                    #expect(message.contains("non-public address"))
                    #expect(!message.contains("127.0.0.1") && !message.contains("::1") && !message.contains("\(receiver.port)"), "\(message)")
                }
                #expect(receiver.requests.isEmpty, "no request reached the receiver")
            }
        }
    }

    @Test func allowedLoopbackIsDeliveredByNameAndByAddress() async throws {
        try await TestReceiver.run { receiver in
            let h = try Harness(allowed: ["127.0.0.1/32", "::1/128"])
            _ = try await h.addWebhook("by_ip", url: receiver.url(host: "127.0.0.1"))
            _ = try await h.addWebhook("by_name", url: receiver.url(host: "localhost"))
            try await h.run {
                try await h.publish("e1")
                _ = try await receiver.waitForRequests(2)
                try await eventually("both succeeded") {
                    try await h.store.deliveries(eventID: "e1", applicationID: "app").allSatisfy { $0.state == .succeeded }
                }
            }
        }
    }

    @Test func aBlockedDestinationNamesNeitherTheAddressNorThePortAndLooksTheSameOpenOrClosed() async throws {
        // internal.example resolves to loopback: blocked, whether something listens on the port or not.
        try await HostileReceiver.run(script: { _ in .respond() }) { listening in
            let resolver = TableResolver(table: ["internal.example": ["127.0.0.1"]])
            try await withSender(allowed: [], resolver: resolver) { sender in
                let toOpen = await sender.post(listening.url(host: "internal.example"))
                let toClosed = await sender.post("http://internal.example:1/hook")
                #expect(toOpen.errorKind == .blocked)
                #expect(toClosed.errorKind == toOpen.errorKind)
                #expect(toClosed.errorMessage == toOpen.errorMessage)
                let message = try #require(toOpen.errorMessage)
                #expect(message.contains("non-public address"))
                #expect(!message.contains("127.0.0.1") && !message.contains("\(listening.port)") && !message.contains("loopback"), "\(message)")
                #expect(listening.connections.isEmpty, "a blocked destination is never connected to")
            }
        }
    }

    @Test func rebindingNeverReachesAHandshakeOnThePrivateAddress() async throws {
        // localhost passes the check as 127.0.0.2 (allowed here, standing in for a public address)
        // and would resolve to 127.0.0.1 (refused) on any later lookup, AsyncHTTPClient's own
        // included. The connection must go to the checked 127.0.0.2 only.
        try await HostileReceiver.run(script: { _ in .respond(body: "internal") }) { service in
            try await HostileReceiver.run(host: "127.0.0.2", port: service.port, script: { _ in .respond(body: "public") }) { checked in
                let resolver = RebindingResolver(first: ["localhost": ["127.0.0.2"]], later: ["localhost": ["127.0.0.1"]])
                try await withSender(allowed: ["127.0.0.2/32"], resolver: resolver) { sender in
                    let result = await sender.post(service.url(host: "localhost"))
                    #expect(result.status == 200, "\(result.errorKind.map(\.rawValue) ?? "") \(result.errorMessage ?? "")")
                    #expect(result.excerpt == "public")
                    #expect(service.connections.isEmpty, "not even a TCP handshake on the private address")
                    #expect(checked.requests.first?.header("host") == "localhost:\(service.port)", "the Host header keeps the name")
                    // A second send reuses the pinned connection, without another lookup.
                    #expect(await sender.post(service.url(host: "localhost")).status == 200)
                    #expect(checked.connections.count == 1)
                    #expect(resolver.lookups(of: "localhost") == 1)
                }
            }
        }
    }

    @Test func whetherAnInternalPortIsOpenDoesNotShowInTheOutcome() async throws {
        // The same rebinding name and port, first with a service listening on 127.0.0.1, then without.
        let resolver: @Sendable () -> RebindingResolver = { RebindingResolver(first: ["localhost": ["127.0.0.2"]], later: ["localhost": ["127.0.0.1"]]) }
        let (port, whileOpen) = try await HostileReceiver.run(script: { _ in .respond() }) { service in
            let result = try await withSender(allowed: ["127.0.0.2/32"], resolver: resolver()) { sender in
                await sender.post(service.url(host: "localhost"))
            }
            #expect(service.connections.isEmpty)
            return (service.port, result)
        }
        let whileClosed = try await withSender(allowed: ["127.0.0.2/32"], resolver: resolver()) { sender in
            await sender.post("http://localhost:\(port)/hook")
        }
        #expect(whileOpen.errorKind != nil)
        #expect(whileOpen.errorKind == whileClosed.errorKind)
        #expect(whileOpen.errorMessage == whileClosed.errorMessage)
    }

    @Test func httpsIsPinnedToo() async throws {
        // https://localhost passes as 127.0.0.2: the TLS connection goes there, and its ClientHello
        // still names localhost (SNI), so the certificate is checked for the name, not the address.
        try await HostileReceiver.run(host: "127.0.0.2", script: { _ in .silent }) { checked in
            let resolver = RebindingResolver(first: ["localhost": ["127.0.0.2"]], later: ["localhost": ["127.0.0.1"]])
            // The connection attempt itself lives until its connect timeout, and shutdown waits for it.
            try await withSender(allowed: ["127.0.0.2/32"], resolver: resolver, configure: { $0.connectTimeout = .seconds(2) }) { sender in
                let started = ContinuousClock.now
                let result = await sender.post("https://localhost:\(checked.port)/hook", timeout: .seconds(1))
                #expect(ContinuousClock.now - started < .seconds(1) + SenderTests.margin, "a stalled TLS handshake ends at the deadline too")
                #expect(result.errorKind == .timeout)
                let hello = try #require(checked.connections.first?.firstBytes, "the pinned address was connected to")
                #expect(hello.first == 0x16, "a TLS handshake record")
                #expect(hello.firstRange(of: Array("localhost".utf8)) != nil, "SNI names the host")
            }
        }
    }

    @Test func aConnectedSocketMustBeThePinnedAddress() throws {
        let guardian = DestinationGuard(policy: DestinationPolicy(allowedRanges: ["127.0.0.0/8"].compactMap(AddressRange.init)))
        let socket = try SocketAddress(ipAddress: "127.0.0.1", port: 80)
        #expect(throws: Never.self) { try guardian.check(connected: socket, pinnedTo: IPAddress("127.0.0.1")) }
        #expect(throws: BlockedDestinationError.self) { try guardian.check(connected: socket, pinnedTo: IPAddress("127.0.0.2")) }
        let refused = DestinationGuard(policy: .publicOnly)
        #expect(throws: BlockedDestinationError.self) { try refused.check(connected: socket) }
    }

    @Test func aNameThatDoesNotResolveIsADNSError() async throws {
        let h = try Harness(allowed: [], resolver: TableResolver(table: [:]))
        _ = try await h.addWebhook("wh", url: "http://no-such-host.invalid/hook")
        try await h.run {
            try await h.publish("e1")
            try await eventually("attempt recorded") { try await h.delivery("e1").attempts == 1 }
            let attempt = try #require(try await h.store.attempts(deliveryID: try await h.delivery("e1").id).first)
            #expect(attempt.errorKind == .dns)
        }
    }
}
