import AsyncHTTPClient
import BankHooksCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// What one HTTP request to a receiver came to.
public struct SendResult: Sendable {
    public var startedAt: Timestamp
    public var durationMicroseconds: Int64
    public var status: Int?
    /// The `Retry-After` header of the response, if any.
    public var retryAfter: String?
    /// The first bytes of the response body, as text.
    public var excerpt: String?
    public var errorKind: TransportErrorKind?
    public var errorMessage: String?
}

/// Sends webhook requests with AsyncHTTPClient: no redirects, one deadline on the whole of each
/// attempt (resolution, connection, TLS, head and body), response bodies read up to a cap, and
/// the destination policy applied before connecting and on the socket connected.
///
/// A host name is resolved and checked once (cached by `DestinationGuard`), and its connections
/// are pinned to one of exactly the addresses that passed: each host name has its own client
/// whose DNS override maps the name to that address, so AsyncHTTPClient never resolves it again
/// (DNS rebinding cannot reach a handshake elsewhere) while the `Host` header, TLS SNI and
/// certificate checks still use the name. URLs that name an address use one shared client.
public final class Sender: Sendable {
    /// How the sender behaves.
    public struct Configuration: Sendable {
        /// Time allowed to open a connection (within the attempt's deadline).
        /// 10 s, the shortest format timeout (Lean's): a connection attempt the client keeps going
        /// after its attempt's deadline would otherwise outlive it and hold up shutdown.
        public var connectTimeout: Duration = .seconds(10)
        /// Most of a response body that is read; the rest is dropped.
        public var responseBodyLimit = 64 * 1024
        /// Most of a response body that is recorded.
        public var excerptLimit = 4 * 1024
        /// Connections kept per receiver host (the pool's soft limit).
        public var connectionsPerHost = 64
        /// The `user-agent` header.
        public var userAgent = "BankHooks/0.1"
        /// Caps every attempt's deadline (nil: the format's timeout, 15 s, Lean 10 s).
        public var requestTimeoutLimit: Duration?
        /// Host names with a pinned client at once; beyond it the least recently used idle ones are closed.
        public var pinnedHostLimit = 1_024

        public init() {}
    }

    /// The client for URLs that name an address.
    let client: HTTPClient
    let configuration: Configuration
    public let destinations: DestinationGuard
    let clock: any WallClock
    private let pins = Mutex(Pins())

    public init(configuration: Configuration = .init(), destinations: DestinationGuard, clock: any WallClock = SystemClock()) {
        self.configuration = configuration
        self.destinations = destinations
        self.clock = clock
        client = Self.makeClient(configuration, destinations: destinations, pin: nil)
    }

    /// An HTTP client; with `pin`, every connection for the pin's host goes to the pin's address.
    static func makeClient(_ configuration: Configuration, destinations: DestinationGuard, pin: (host: String, address: IPAddress)?) -> HTTPClient {
        var http = HTTPClient.Configuration()
        http.redirectConfiguration = .disallow
        // A connection attempt outlives its request's deadline until this timeout (and shutdown
        // waits for it), so it is never longer than the deadline cap.
        let connectTimeout = configuration.requestTimeoutLimit.map { min($0, configuration.connectTimeout) } ?? configuration.connectTimeout
        http.timeout = .init(connect: .nanoseconds(connectTimeout.wholeMilliseconds * 1_000_000))
        http.decompression = .disabled
        http.httpVersion = .http1Only
        if let pin { http.dnsOverride = [pin.host: pin.address.description] }
        var pool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.connectionsPerHost)
        // A refused connection must fail the request now, not be retried until the deadline.
        pool.retryConnectionEstablishment = false
        http.connectionPool = pool
        let pinned = pin?.address
        http.http1_1ConnectionDebugInitializer = { [destinations] channel in
            do {
                try destinations.check(connected: channel.remoteAddress, pinnedTo: pinned)
                return channel.eventLoop.makeSucceededVoidFuture()
            } catch {
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
        return HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: http)
    }

    /// Sends one POST and reports what happened; never throws. The whole attempt (resolution,
    /// connect, TLS, head and body) has `timeout` (capped by `requestTimeoutLimit`); when it
    /// passes, the connection is closed and the attempt is a `timeout`.
    public func send(url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Duration, logger: Logger) async -> SendResult {
        let startedAt = clock.now()
        let start = ContinuousClock.now
        let limit = configuration.requestTimeoutLimit.map { min($0, timeout) } ?? timeout
        let deadline = NIODeadline.now() + .nanoseconds(limit.wholeMilliseconds * 1_000_000)
        func finish(status: Int? = nil, retryAfter: String? = nil, excerpt: String? = nil, error: TransportErrorKind? = nil, message: String? = nil) -> SendResult {
            let elapsed = ContinuousClock.now - start
            let (s, a) = elapsed.components
            return SendResult(
                startedAt: startedAt, durationMicroseconds: s * 1_000_000 + a / 1_000_000_000_000, status: status,
                retryAfter: retryAfter, excerpt: excerpt, errorKind: error, errorMessage: message)
        }
        let destination: CheckedDestination
        do {
            destination = try await destinations.check(url: url, deadline: start.advanced(by: limit))
        } catch let error as BlockedDestinationError {
            logger.info("destination refused", metadata: ["destination.address": "\(error.address)", "destination.class": "\(error.addressClass.rawValue)"])
            return finish(error: .blocked, message: error.description)
        } catch let error as InvalidURLError {
            return finish(error: .invalidURL, message: error.description)
        } catch let error as ResolutionDeadlineError {
            return finish(error: .timeout, message: "\(error) within the attempt's deadline (\(Self.text(limit)))")
        } catch {
            return finish(error: .dns, message: String(describing: error))
        }
        let pinned: PinnedClient?
        do {
            pinned = try client(for: destination)
        } catch {
            return finish(error: .network, message: "the sender is shut down")
        }
        defer { pinned?.release() }

        var requestHeaders = HTTPHeaders()
        requestHeaders.reserveCapacity(headers.count + 1)
        requestHeaders.add(name: "user-agent", value: configuration.userAgent)
        for header in headers { requestHeaders.add(name: header.name, value: header.value) }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: url, method: .POST, headers: requestHeaders, body: .byteBuffer(ByteBuffer(bytes: body)))
        } catch {
            let (kind, message) = Self.classify(error)
            return finish(error: kind, message: message)
        }
        let collector = ResponseCollector(bodyLimit: configuration.responseBodyLimit)
        // No logger for AsyncHTTPClient's own request logs: it would copy the logger's metadata
        // (delivery and webhook ids) on every request to add its request id.
        let task = (pinned?.client ?? client).execute(request: request, delegate: collector, eventLoop: .indifferent, deadline: deadline, logger: nil)
        var failure: (any Error)?
        do {
            try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
        } catch {
            failure = error
        }
        let response = collector.collected
        if let failure, !response.isTruncated {
            var (kind, message) = Self.classify(failure)
            if kind == .timeout {
                message = response.status.map { "no complete answer within \(Self.text(limit)): the receiver answered \($0) and did not finish its body" }
                    ?? "no answer within \(Self.text(limit))"
            }
            return finish(error: kind, message: message)
        }
        let excerptBytes = response.body.readableBytesView.prefix(configuration.excerptLimit)
        return finish(
            status: response.status, retryAfter: response.retryAfter,
            excerpt: excerptBytes.isEmpty ? nil : String(decoding: excerptBytes, as: UTF8.self))
    }

    /// A deadline as people write it: `15 s`, `1.5 s`.
    static func text(_ duration: Duration) -> String {
        let milliseconds = duration.wholeMilliseconds
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(Double(milliseconds) / 1000) s"
    }

    /// Maps a client error to a recorded error kind and message.
    static func classify(_ error: any Error) -> (TransportErrorKind, String) {
        if let blocked = error as? BlockedDestinationError { return (.blocked, blocked.description) }
        if let http = error as? HTTPClientError {
            switch http {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout:
                return (.timeout, "timed out (\(http))")
            case .tlsHandshakeTimeout:
                return (.tls, "TLS handshake timed out")
            case .invalidURL, .emptyHost, .emptyScheme:
                return (.invalidURL, String(describing: http))
            case .remoteConnectionClosed:
                return (.network, "the receiver closed the connection before answering")
            default:
                return (.network, String(describing: http))
            }
        }
        if let connection = error as? NIOConnectionError {
            if connection.dnsAAAAError != nil || connection.dnsAError != nil, connection.connectionErrors.isEmpty {
                return (.dns, "could not resolve host \(connection.host)")
            }
            return (.refused, "could not connect to \(connection.host):\(connection.port)")
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED, ECONNRESET: return (.refused, String(describing: io))
            case ETIMEDOUT: return (.timeout, String(describing: io))
            default: return (.network, String(describing: io))
            }
        }
        if error is ChannelError { return (.network, String(describing: error)) }
        let text = String(describing: error)
        if text.localizedCaseInsensitiveContains("ssl") || text.localizedCaseInsensitiveContains("tls") || text.contains("certificate") {
            return (.tls, text)
        }
        if text.contains("connect") { return (.refused, text) }
        return (.network, text)
    }

    /// Closes every client's connections; later sends fail.
    public func shutdown() async throws {
        let pinnedClients = pins.withLock { pins -> [PinnedClient] in
            pins.isShutDown = true
            defer { pins.byHost = [:] }
            return pins.byHost.values.map(\.client)
        }
        for pinned in pinnedClients { await pinned.shutDown() }
        try await client.shutdown()
    }

    // MARK: Pinned clients

    /// The host names' pinned clients, with when each was last used.
    private struct Pins {
        var byHost: [String: (client: PinnedClient, lastUsed: ContinuousClock.Instant)] = [:]
        var isShutDown = false
    }

    /// The pinned client for a checked host name, acquired (release it after the request); nil
    /// for a URL that names an address. A host keeps its pin while the pinned address is among
    /// those it resolves to; otherwise it gets a new client (the old one closes once idle).
    func client(for destination: CheckedDestination) throws -> PinnedClient? {
        guard let addresses = destination.addresses else { return nil }
        let now = ContinuousClock.now
        var retired: [PinnedClient] = []
        defer { for client in retired { client.retire() } }
        return try pins.withLock { pins -> PinnedClient in
            guard !pins.isShutDown else { throw HTTPClientError.alreadyShutdown }
            if let entry = pins.byHost[destination.host], addresses.contains(entry.client.address) {
                pins.byHost[destination.host]?.lastUsed = now
                entry.client.acquire()
                return entry.client
            }
            if let stale = pins.byHost.removeValue(forKey: destination.host) { retired.append(stale.client) }
            if pins.byHost.count >= configuration.pinnedHostLimit {
                // Close the least recently used idle quarter at once, so this runs rarely.
                let idle = pins.byHost.filter { !$0.value.client.isBusy }.sorted { $0.value.lastUsed < $1.value.lastUsed }
                for (host, entry) in idle.prefix(max(1, configuration.pinnedHostLimit / 4)) {
                    pins.byHost[host] = nil
                    retired.append(entry.client)
                }
            }
            // IPv4 first: a host with both families may have no IPv6 route from here, and a pinned
            // connection has no second address to fall back to.
            let address = addresses.first(where: \.isIPv4) ?? addresses[0]
            let client = PinnedClient(
                address: address,
                client: Self.makeClient(configuration, destinations: destinations, pin: (destination.host, address)))
            pins.byHost[destination.host] = (client, now)
            client.acquire()
            return client
        }
    }
}

/// A client whose connections go to one checked address, counted while requests use it so a
/// replaced or evicted one is shut down only when its last request is done.
final class PinnedClient: Sendable {
    let address: IPAddress
    let client: HTTPClient
    private let inFlight = Atomic<Int>(0)
    private let isRetired = Atomic<Bool>(false)
    private let shutdownStarted = Once()

    init(address: IPAddress, client: HTTPClient) {
        self.address = address
        self.client = client
    }

    var isBusy: Bool { inFlight.load(ordering: .sequentiallyConsistent) > 0 }

    /// Called under the sender's pin lock, only while the client is still in the map.
    func acquire() { inFlight.add(1, ordering: .sequentiallyConsistent) }

    func release() {
        if inFlight.subtract(1, ordering: .sequentiallyConsistent).newValue == 0, isRetired.load(ordering: .sequentiallyConsistent) {
            startShutdown()
        }
    }

    /// Taken out of the map: shut down now if idle, else when the last request releases it.
    func retire() {
        isRetired.store(true, ordering: .sequentiallyConsistent)
        if !isBusy { startShutdown() }
    }

    private func startShutdown() {
        guard shutdownStarted.claim() else { return }
        client.shutdown { _ in }
    }

    /// Shuts the client down and waits (the sender's own shutdown).
    func shutDown() async {
        guard shutdownStarted.claim() else { return }
        try? await client.shutdown()
    }
}

/// Collects a response through AsyncHTTPClient's delegate API, whose deadline covers the whole
/// response, body included (the async API's covers only the head). Keeps the status, `Retry-After`
/// and the body up to `bodyLimit`; at the limit it cancels the request (closing the connection)
/// and marks the response truncated, which still counts as an answer.
final class ResponseCollector: HTTPClientResponseDelegate {
    typealias Response = Void

    struct Collected: Sendable {
        var status: Int?
        var retryAfter: String?
        var body = ByteBuffer()
        var isTruncated = false
    }

    let bodyLimit: Int
    private let state = Mutex(Collected())

    init(bodyLimit: Int) { self.bodyLimit = bodyLimit }

    /// What arrived; read it after the request's future completed.
    var collected: Collected { state.withLock { $0 } }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        state.withLock { collected in
            collected.status = Int(head.status.code)
            collected.retryAfter = head.headers.first(name: "retry-after")
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let isFull = state.withLock { collected -> Bool in
            guard !collected.isTruncated else { return false }
            var part = buffer
            let room = bodyLimit - collected.body.readableBytes
            if part.readableBytes >= room {
                part = part.getSlice(at: part.readerIndex, length: max(0, room)) ?? ByteBuffer()
                collected.isTruncated = true
            }
            collected.body.writeBuffer(&part)
            return collected.isTruncated
        }
        if isFull { task.cancel() }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {}

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {}
}
