import AsyncHTTPClient
import BankHooksCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

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

/// Sends webhook requests with its own AsyncHTTPClient: no redirects, deadlines on every
/// request, response bodies read up to a cap, and the destination policy applied before and at
/// connect time.
public final class Sender: Sendable {
    /// How the sender behaves.
    public struct Configuration: Sendable {
        /// Time allowed to open a connection.
        public var connectTimeout: Duration = .seconds(15)
        /// Most of a response body that is read; the rest is dropped.
        public var responseBodyLimit = 64 * 1024
        /// Most of a response body that is recorded.
        public var excerptLimit = 4 * 1024
        /// Connections kept per receiver host (the pool's soft limit).
        public var connectionsPerHost = 64
        /// The `user-agent` header.
        public var userAgent = "BankHooks/0.1"

        public init() {}
    }

    let client: HTTPClient
    let configuration: Configuration
    public let destinations: DestinationGuard
    let clock: any WallClock

    public init(configuration: Configuration = .init(), destinations: DestinationGuard, clock: any WallClock = SystemClock()) {
        self.configuration = configuration
        self.destinations = destinations
        self.clock = clock
        var http = HTTPClient.Configuration()
        http.redirectConfiguration = .disallow
        http.timeout = .init(connect: .nanoseconds(configuration.connectTimeout.wholeMilliseconds * 1_000_000))
        http.decompression = .disabled
        http.httpVersion = .http1Only
        var pool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.connectionsPerHost)
        // A refused connection must fail the request now, not be retried until the deadline.
        pool.retryConnectionEstablishment = false
        http.connectionPool = pool
        http.http1_1ConnectionDebugInitializer = { [destinations] channel in
            do {
                try destinations.check(connected: channel.remoteAddress)
                return channel.eventLoop.makeSucceededVoidFuture()
            } catch {
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
        client = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: http)
    }

    /// Sends one POST and reports what happened; never throws.
    public func send(url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Duration, logger: Logger) async -> SendResult {
        let startedAt = clock.now()
        let start = ContinuousClock.now
        func finish(status: Int? = nil, retryAfter: String? = nil, excerpt: String? = nil, error: TransportErrorKind? = nil, message: String? = nil) -> SendResult {
            let elapsed = ContinuousClock.now - start
            let (s, a) = elapsed.components
            return SendResult(
                startedAt: startedAt, durationMicroseconds: s * 1_000_000 + a / 1_000_000_000_000, status: status,
                retryAfter: retryAfter, excerpt: excerpt, errorKind: error, errorMessage: message)
        }
        do {
            try await destinations.check(url: url)
        } catch let error as BlockedDestinationError {
            return finish(error: .blocked, message: error.description)
        } catch let error as InvalidURLError {
            return finish(error: .invalidURL, message: error.description)
        } catch {
            return finish(error: .dns, message: String(describing: error))
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.reserveCapacity(headers.count + 2)
        request.headers.add(name: "user-agent", value: configuration.userAgent)
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(timeout.wholeMilliseconds * 1_000_000), logger: logger)
            var collected = ByteBuffer()
            for try await var chunk in response.body {
                let room = configuration.responseBodyLimit - collected.readableBytes
                if room <= 0 { break }
                if chunk.readableBytes > room { chunk = chunk.getSlice(at: chunk.readerIndex, length: room) ?? chunk }
                collected.writeBuffer(&chunk)
            }
            let excerptBytes = collected.readableBytesView.prefix(configuration.excerptLimit)
            return finish(
                status: Int(response.status.code), retryAfter: response.headers.first(name: "retry-after"),
                excerpt: excerptBytes.isEmpty ? nil : String(decoding: excerptBytes, as: UTF8.self))
        } catch {
            let (kind, message) = Self.classify(error)
            return finish(error: kind, message: message)
        }
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

    /// Closes the client's connections.
    public func shutdown() async throws {
        try await client.shutdown()
    }
}
