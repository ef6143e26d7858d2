import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Bounds on client connections, so idle, half-sent or too many connections cannot exhaust the
/// server's file descriptors: the most open at once, how long one may sit idle between requests,
/// and how long a request head may take to arrive in full.
public struct ConnectionLimits: Sendable, Hashable {
    /// Connections open at once; one more is answered 503 and closed at once.
    public var maxConnections = 512
    /// A connection with no request in progress and nothing read or written for this long is
    /// closed (Hummingbird's idle timeout).
    public var idleTimeout: Duration = .seconds(30)
    /// From the first byte of a request, its whole head (request line and headers) must arrive
    /// within this time, however it is trickled; otherwise it is answered 408 and closed.
    public var requestHeadTimeout: Duration = .seconds(10)
    /// From its head, a request's whole body must arrive within this time, however it is trickled;
    /// otherwise the connection is closed.
    public var requestBodyTimeout: Duration = .seconds(60)

    public init() {}
}

extension HTTPServerBuilder {
    /// HTTP/1 under `limits`: Hummingbird's HTTP/1 channel with its idle timeout, behind a handler
    /// that counts connections and enforces the request-head deadline.
    static func http1(limits: ConnectionLimits) -> HTTPServerBuilder {
        let connections = ConnectionCount()
        return HTTPServerBuilder { responder in
            GuardedHTTP1Channel(
                http1: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: TimeAmount(limits.idleTimeout))),
                limits: limits, connections: connections)
        }
    }
}

/// How many client connections are open, shared by every connection of one server.
final class ConnectionCount: Sendable {
    private let open = Atomic<Int>(0)

    /// Counts one more connection if fewer than `limit` are open; false (and nothing counted) otherwise.
    func tryOpen(limit: Int) -> Bool {
        if open.wrappingAdd(1, ordering: .relaxed).newValue <= limit { return true }
        open.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    func close() {
        open.wrappingSubtract(1, ordering: .relaxed)
    }
}

/// Hummingbird's `HTTP1Channel` with a `ConnectionGuardHandler` in front of the HTTP decoder and
/// a `RequestProgressHandler` behind it, which tells the guard when a head is complete and when
/// a response has ended.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let http1: HTTP1Channel
    let limits: ConnectionLimits
    let connections: ConnectionCount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(
                ConnectionGuardHandler(limits: limits, connections: connections, logger: logger), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let front = try pipeline.handler(type: ConnectionGuardHandler.self)
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(RequestProgressHandler(guard: front), position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

/// First in a connection's pipeline, on raw bytes: counts the connection against the cap (one over
/// it gets a 503 and is closed), and enforces the request-head and request-body deadlines. A
/// deadline is armed only when a read leaves a head (or a body) incomplete, so a request that
/// arrives whole, as most do, schedules nothing. Idle connections are Hummingbird's idle timeout's.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let limits: ConnectionLimits
    let connections: ConnectionCount
    let logger: Logger
    private var isCounted = false
    private var isRefused = false
    /// Requests whose head was read and whose response has not ended.
    private var openRequests = 0
    /// A request's head was read and its body has not ended.
    private var isReadingBody = false
    private var headDeadline: Scheduled<Void>?
    private var bodyDeadline: Scheduled<Void>?

    init(limits: ConnectionLimits, connections: ConnectionCount, logger: Logger) {
        self.limits = limits
        self.connections = connections
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context)
        context.fireChannelActive()
    }

    private func admit(_ context: ChannelHandlerContext) {
        guard !isCounted, !isRefused else { return }
        if connections.tryOpen(limit: limits.maxConnections) {
            isCounted = true
        } else {
            isRefused = true
            logger.debug("connection refused: too many open", metadata: ["http.max_connections": "\(limits.maxConnections)"])
            answerAndClose(context, status: "503 Service Unavailable", slug: "too-many-connections", title: "Too many connections",
                           detail: "the server has \(limits.maxConnections) connections open, its limit; retry shortly", retryAfter: true)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isRefused else { return }
        // Decoded at once: a complete head or body has been reported by the time this returns.
        context.fireChannelRead(data)
        guard context.channel.isActive else { return }
        if openRequests == 0, !isReadingBody, headDeadline == nil {
            // These bytes began a head that is not complete yet.
            let timeout = limits.requestHeadTimeout
            headDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
                headDeadline = nil
                guard openRequests == 0, context.channel.isActive else { return }
                logger.debug("connection closed: request head not received in time", metadata: ["http.head_timeout": "\(timeout)"])
                answerAndClose(context, status: "408 Request Timeout", slug: "request-head-timeout", title: "Request head too slow",
                               detail: "the request line and headers must arrive within \(timeout) of the request's first byte", retryAfter: false)
            }
        } else if isReadingBody, bodyDeadline == nil {
            let timeout = limits.requestBodyTimeout
            bodyDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
                bodyDeadline = nil
                guard isReadingBody, context.channel.isActive else { return }
                logger.debug("connection closed: request body not received in time", metadata: ["http.body_timeout": "\(timeout)"])
                context.close(promise: nil)
            }
        }
    }

    /// A request's head was decoded: its deadline is met.
    func requestHeadReceived() {
        openRequests += 1
        isReadingBody = true
        headDeadline?.cancel()
        headDeadline = nil
    }

    /// A request's body ended: its deadline is met.
    func requestEnded() {
        isReadingBody = false
        bodyDeadline?.cancel()
        bodyDeadline = nil
    }

    /// A response ended: the next bytes begin a new request head.
    func responseEnded() {
        openRequests = max(0, openRequests - 1)
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    private func release() {
        headDeadline?.cancel()
        headDeadline = nil
        bodyDeadline?.cancel()
        bodyDeadline = nil
        if isCounted {
            isCounted = false
            connections.close()
        }
    }

    /// Writes a complete problem+json response straight to the socket and closes the connection:
    /// used only while no response is being written on it.
    private func answerAndClose(_ context: ChannelHandlerContext, status: String, slug: String, title: String, detail: String, retryAfter: Bool) {
        let code = status.prefix(3)
        let body = #"{"detail":"\#(detail)","status":\#(code),"title":"\#(title)","type":"urn:bankhooks:problem:\#(slug)"}"#
        var head = "HTTP/1.1 \(status)\r\ncontent-type: application/problem+json\r\ncontent-length: \(body.utf8.count)\r\nconnection: close\r\n"
        if retryAfter { head += "retry-after: 1\r\n" }
        let buffer = context.channel.allocator.buffer(string: head + "\r\n" + body)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        context.close(promise: nil)
    }
}

/// Behind the HTTP/1 decoder: tells the connection's guard when a request's head and body are
/// complete and when a response has ended.
final class RequestProgressHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let front: ConnectionGuardHandler

    init(guard front: ConnectionGuardHandler) {
        self.front = front
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: front.requestHeadReceived()
        case .body: break
        case .end: front.requestEnded()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { front.responseEnded() }
        context.write(data, promise: promise)
    }
}
