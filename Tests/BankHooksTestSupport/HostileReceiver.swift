import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A raw TCP server on 127.0.0.1 (a free port) that answers HTTP/1.1 requests as badly as a test
/// scripts it: normally, trickling the body, silent after the head, silent altogether, a head a
/// byte at a time, a reset, a close. It parses each request itself (request line, headers,
/// `Content-Length` body), records it with the connection it came on, and notes when each
/// connection opened and closed. It runs on NIO's shared event loops: no threads of its own, and
/// `stop` closes every connection, so nothing outlives it.
public final class HostileReceiver: Sendable {
    /// One header of a scripted answer.
    public struct Header: Sendable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// What to do with one request.
    public enum Behaviour: Sendable {
        /// A complete answer (after `delay`); the connection stays open for the next request.
        case respond(status: Int = 200, headers: [Header] = [], body: String = "ok", delay: Duration = .zero)
        /// A 503 or 429 (any status) with this `Retry-After` value.
        case retryAfter(status: Int, value: String)
        /// The head (announcing a 1 MB body), then one body byte every `every`, forever.
        case trickleBody(status: Int = 200, every: Duration)
        /// The head (announcing a body), then nothing.
        case silentAfterHead(status: Int = 200)
        /// Nothing at all: the request is read and never answered.
        case silent
        /// A head sent one byte every `every` that never ends (an endless header value).
        case slowHead(every: Duration)
        /// Resets the connection (SO_LINGER 0, then close: an RST instead of a FIN).
        case reset
        /// Closes the connection without answering.
        case close
    }

    /// Decides what to do with the request of the given 0-based index (counted over all connections).
    public typealias Script = @Sendable (Int) -> Behaviour

    /// One request as received.
    public struct Request: Sendable {
        public var index: Int
        /// The id of the connection it came on (see `connections`).
        public var connection: Int
        public var method: String
        public var path: String
        /// Header names lowercased.
        public var headers: [String: String]
        public var body: [UInt8]
        public var receivedAt: ContinuousClock.Instant

        public func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    /// One accepted connection.
    public struct Connection: Sendable {
        public var id: Int
        public var openedAt: ContinuousClock.Instant
        public var closedAt: ContinuousClock.Instant?
        /// The first bytes the client sent (up to 4 KiB), as they came: a TLS ClientHello too.
        public var firstBytes: [UInt8] = []
        public var isClosed: Bool { closedAt != nil }
    }

    private struct State {
        var requests: [Request] = []
        var connections: [Connection] = []
        var channels: [Int: any Channel] = [:]
        var stopped = false
    }

    private let state = Mutex(State())
    private let script: Script
    private let serverChannel: Mutex<(any Channel)?> = Mutex(nil)
    /// The port it listens on.
    public let port: Int
    /// The address it listens on.
    public let host: String

    private init(host: String, port: Int, script: @escaping Script) {
        self.host = host
        self.port = port
        self.script = script
    }

    /// Starts a receiver on `host` (127.0.0.1 unless a test needs another loopback address) and
    /// `port` (0: a free one).
    public static func start(host: String = "127.0.0.1", port: Int = 0, script: @escaping Script) async throws -> HostileReceiver {
        let box = Mutex<HostileReceiver?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let receiver = box.withLock({ $0 }) else { throw TestFailure("receiver not ready") }
                    try channel.pipeline.syncOperations.addHandler(ConnectionHandler(receiver: receiver, id: receiver.opened(channel)))
                }
            }
            .bind(host: host, port: port).get()
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw TestFailure("hostile receiver did not bind")
        }
        let receiver = HostileReceiver(host: host, port: port, script: script)
        receiver.serverChannel.withLock { $0 = channel }
        box.withLock { $0 = receiver }
        return receiver
    }

    /// Runs a receiver for the duration of `body`, then stops it.
    public static func run<T: Sendable>(
        host: String = "127.0.0.1", port: Int = 0, script: @escaping Script, _ body: @Sendable (HostileReceiver) async throws -> T
    ) async throws -> T {
        let receiver = try await start(host: host, port: port, script: script)
        do {
            let result = try await body(receiver)
            await receiver.stop()
            return result
        } catch {
            await receiver.stop()
            throw error
        }
    }

    /// Stops listening and closes every connection; returns when all are closed.
    public func stop() async {
        let server = serverChannel.withLock { channel -> (any Channel)? in defer { channel = nil }; return channel }
        try? await server?.close()
        let open = state.withLock { s -> [any Channel] in
            s.stopped = true
            return Array(s.channels.values)
        }
        for channel in open {
            channel.close(promise: nil)
            try? await channel.closeFuture.get()
        }
    }

    /// The URL of a path on this receiver (`host` replaces the address in the URL only).
    public func url(_ path: String = "/hook", host: String? = nil) -> String { "http://\(host ?? self.host):\(port)\(path)" }

    /// Every request so far, in arrival order.
    public var requests: [Request] { state.withLock { $0.requests } }

    /// Every connection accepted so far, in order.
    public var connections: [Connection] { state.withLock { $0.connections } }

    /// Waits (polling every 10 ms) until at least `count` requests arrived; throws after `timeout`.
    @discardableResult
    public func waitForRequests(_ count: Int, timeout: Duration = .seconds(20)) async throws -> [Request] {
        try await eventually("\(count) requests at the hostile receiver (got \(requests.count))", timeout: timeout) { requests.count >= count }
        return requests
    }

    /// Waits until every connection accepted so far is closed; throws after `timeout`.
    public func waitUntilAllConnectionsClosed(timeout: Duration = .seconds(20)) async throws {
        try await eventually("every connection to the hostile receiver closed", timeout: timeout) {
            connections.allSatisfy(\.isClosed)
        }
    }

    // MARK: Connection bookkeeping

    fileprivate func opened(_ channel: any Channel) -> Int {
        let id = state.withLock { s -> Int in
            let id = s.connections.count
            s.connections.append(Connection(id: id, openedAt: .now))
            s.channels[id] = channel
            return id
        }
        channel.closeFuture.whenComplete { [self] _ in
            state.withLock { s in
                s.connections[id].closedAt = .now
                s.channels[id] = nil
            }
        }
        if state.withLock({ $0.stopped }) { channel.close(promise: nil) }
        return id
    }

    fileprivate func read(_ bytes: ByteBuffer, connection id: Int) {
        state.withLock { s in
            let room = 4096 - s.connections[id].firstBytes.count
            if room > 0 { s.connections[id].firstBytes += bytes.readableBytesView.prefix(room) }
        }
    }

    fileprivate func received(_ request: Request) -> Behaviour {
        let index = state.withLock { s -> Int in
            var request = request
            request.index = s.requests.count
            s.requests.append(request)
            return request.index
        }
        return script(index)
    }
}

/// Parses requests off one connection and carries out the script's behaviour for each.
private final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let receiver: HostileReceiver
    let id: Int
    var buffer = ByteBuffer()
    /// Set once a behaviour took the connection over: later bytes are ignored.
    var isDone = false

    init(receiver: HostileReceiver, id: Int) {
        self.receiver = receiver
        self.id = id
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        receiver.read(bytes, connection: id)
        guard !isDone else { return }
        buffer.writeBuffer(&bytes)
        while !isDone, let request = takeRequest() {
            act(receiver.received(request), channel: context.channel)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// The next complete request in the buffer, if there is one.
    private func takeRequest() -> Request? {
        let view = buffer.readableBytesView
        let terminator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = view.firstRange(of: terminator) else { return nil }
        let headText = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = headers["content-length"].flatMap { Int($0) } ?? 0
        let headLength = end.upperBound - view.startIndex
        guard buffer.readableBytes >= headLength + length else { return nil }
        buffer.moveReaderIndex(forwardBy: headLength)
        let body = buffer.readBytes(length: length) ?? []
        buffer.discardReadBytes()
        return Request(
            index: 0, connection: id, method: requestLine.first.map(String.init) ?? "",
            path: requestLine.dropFirst().first.map(String.init) ?? "", headers: headers, body: body, receivedAt: .now)
    }

    private typealias Request = HostileReceiver.Request

    private func act(_ behaviour: HostileReceiver.Behaviour, channel: any Channel) {
        switch behaviour {
        case .respond(let status, let headers, let body, let delay):
            let bytes = Self.response(status: status, headers: headers, body: body)
            if delay > .zero {
                channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(delay.nanoseconds))) {
                    channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
                }
            } else {
                channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
            }
        case .retryAfter(let status, let value):
            channel.writeAndFlush(ByteBuffer(bytes: Self.response(status: status, headers: [.init("Retry-After", value)], body: "")), promise: nil)
        case .trickleBody(let status, let every):
            isDone = true
            channel.writeAndFlush(ByteBuffer(string: "HTTP/1.1 \(status) OK\r\nContent-Length: 1000000\r\n\r\n"), promise: nil)
            Self.trickle(channel, byte: UInt8(ascii: "x"), every: every)
        case .silentAfterHead(let status):
            isDone = true
            channel.writeAndFlush(ByteBuffer(string: "HTTP/1.1 \(status) OK\r\nContent-Length: 100\r\n\r\n"), promise: nil)
        case .silent:
            isDone = true
        case .slowHead(let every):
            isDone = true
            Self.trickle(channel, prefix: Array("HTTP/1.1 200 OK\r\nX-Slow: ".utf8), byte: UInt8(ascii: "a"), every: every)
        case .reset:
            isDone = true
            let linger = linger(l_onoff: 1, l_linger: 0)
            if let options = channel as? any SocketOptionProvider {
                options.setSoLinger(linger).whenComplete { _ in channel.close(promise: nil) }
            } else {
                channel.close(promise: nil)
            }
        case .close:
            isDone = true
            channel.close(promise: nil)
        }
    }

    /// Writes `prefix` one byte at a time, then `byte` forever, one every `every`, until the channel closes.
    private static func trickle(_ channel: any Channel, prefix: [UInt8] = [], at index: Int = 0, byte: UInt8, every: Duration) {
        guard channel.isActive else { return }
        let next = index < prefix.count ? prefix[index] : byte
        channel.writeAndFlush(ByteBuffer(bytes: [next]), promise: nil)
        channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(every.nanoseconds))) {
            trickle(channel, prefix: prefix, at: index + 1, byte: byte, every: every)
        }
    }

    private static func response(status: Int, headers: [HostileReceiver.Header], body: String) -> [UInt8] {
        var head = "HTTP/1.1 \(status) Scripted\r\nContent-Length: \(body.utf8.count)\r\n"
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        return Array((head + "\r\n" + body).utf8)
    }
}

extension Duration {
    /// The whole duration in nanoseconds (saturating).
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
