import BankHooksCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real HTTP receiver on 127.0.0.1 (a free port), shared by the tests and the benchmark: it
/// records every request and answers as a script says, or only notes when each event arrived.
public final class LoopbackReceiver: Sendable {
    /// One request as received.
    public struct Received: Sendable {
        public var path: String
        public var headers: [String: String]
        public var body: [UInt8]
        public var receivedAt: ContinuousClock.Instant

        public var bodyText: String { String(decoding: body, as: UTF8.self) }
        public func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    /// The answer to one request.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String
        public var delay: Duration

        public init(status: Int = 200, headers: [String: String] = [:], body: String = "ok", delay: Duration = .zero) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
        }
    }

    /// Decides the reply to the request with the given 0-based index.
    public typealias Script = @Sendable (Received, Int) async -> Reply

    /// What the receiver keeps of each request.
    public enum Mode: Sendable {
        /// Every request in full (path, headers, body), answered as the script says: for tests.
        case record(Script)
        /// Only when each event arrived (by its `webhook-id`, `b<index>`), answered 200 "ok" at
        /// once: a request costs one header read and one append, so the benchmark measures the
        /// sender, not the receiver.
        case arrivals
    }

    private struct Arrivals {
        var receipts: [(Int, ContinuousClock.Instant)] = []
        var expected = 0
        var last: ContinuousClock.Instant?
    }

    private let mode: Mode
    private let received = Mutex<[Received]>([])
    private let arrivals = Mutex(Arrivals())
    private let allArrived = Signal()
    private let boundPort = Atomic<Int>(0)
    private let handled = Atomic<Int>(0)
    /// Looked up once, not per request.
    private static let webhookIDField = HTTPField.Name("webhook-id")

    private init(mode: Mode) {
        self.mode = mode
    }

    /// The port it listens on.
    public var port: Int { boundPort.load(ordering: .acquiring) }

    /// How many requests it has answered, in either mode.
    public var requestCount: Int { handled.load(ordering: .relaxed) }

    /// The URL of a path on this receiver.
    public func url(_ path: String = "/hook", host: String = "127.0.0.1") -> String { "http://\(host):\(port)\(path)" }

    // MARK: Recorded requests (record mode)

    /// Every request so far.
    public var requests: [Received] { received.withLock { $0 } }

    /// Waits (polling every 10 ms) until at least `count` requests arrived; throws after `timeout`.
    public func waitForRequests(_ count: Int, timeout: Duration = .seconds(20)) async throws -> [Received] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            let all = requests
            if all.count >= count { return all }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ReceiverTimeout("receiver got \(requests.count) requests, expected \(count) within \(timeout)")
    }

    // MARK: Arrivals (arrivals mode)

    /// Forgets earlier arrivals and waits for `expected` new ones.
    public func reset(expecting expected: Int) {
        arrivals.withLock { a in
            a = Arrivals()
            a.expected = expected
            a.receipts.reserveCapacity(expected)
        }
    }

    /// Each arrival since the reset: the event index and when it arrived.
    public func receipts() -> [(Int, ContinuousClock.Instant)] { arrivals.withLock { $0.receipts } }

    /// When the latest arrival came.
    public var lastReceived: ContinuousClock.Instant? { arrivals.withLock { $0.last } }

    /// Waits for every expected arrival (or the timeout); returns how many arrived.
    public func waitForAll(timeout: Duration) async -> Int {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [allArrived] in await allArrived.wait() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        return arrivals.withLock { $0.receipts.count }
    }

    private func noteArrival(_ id: String?) {
        let now = ContinuousClock.now
        guard let id, id.first == "b", let index = Int(id.dropFirst()) else { return }
        let finished = arrivals.withLock { a -> Bool in
            a.receipts.append((index, now))
            a.last = now
            return a.receipts.count == a.expected
        }
        if finished { allArrived.signal() }
    }

    // MARK: Serving

    private func handle(_ request: Request) async throws -> Response {
        handled.add(1, ordering: .relaxed)
        switch mode {
        case .arrivals:
            noteArrival(Self.webhookIDField.flatMap { request.headers[$0] })
            for try await _ in request.body {}
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok")))
        case .record(let script):
            var request = request
            let body = try await request.collectBody(upTo: 16 * 1024 * 1024)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let entry = Received(path: request.uri.path, headers: headers, body: Array(buffer: body), receivedAt: .now)
            let index = received.withLock { r -> Int in r.append(entry); return r.count - 1 }
            let reply = await script(entry, index)
            if reply.delay > .zero { try? await Task.sleep(for: reply.delay) }
            var fields = HTTPFields()
            for (name, value) in reply.headers {
                guard let field = HTTPField.Name(name) else { continue }
                fields[field] = value
            }
            return Response(status: .init(code: reply.status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: reply.body)))
        }
    }

    /// Runs a recording receiver for the duration of `body`.
    public static func run<T: Sendable>(
        script: @escaping Script = { _, _ in Reply() },
        _ body: @Sendable (LoopbackReceiver) async throws -> T
    ) async throws -> T {
        try await run(mode: .record(script), body)
    }

    /// Runs a receiver in `mode` for the duration of `body`.
    public static func run<T: Sendable>(mode: Mode, _ body: @Sendable (LoopbackReceiver) async throws -> T) async throws -> T {
        let receiver = LoopbackReceiver(mode: mode)
        let router = Router()
        router.post("**") { request, _ -> Response in try await receiver.handle(request) }
        var logger = Logger(label: "LoopbackReceiver")
        logger.logLevel = .critical
        return try await LoopbackService.run(logger: logger, notStarted: ReceiverTimeout("the receiver did not start")) { listening in
            Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "LoopbackReceiver"),
                onServerRunning: { channel in listening(channel.localAddress?.port ?? 0) },
                logger: logger)
        } _: { port in
            receiver.boundPort.store(port, ordering: .releasing)
            return try await body(receiver)
        }
    }
}

/// The receiver did not get what was waited for in time (or did not start).
public struct ReceiverTimeout: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
