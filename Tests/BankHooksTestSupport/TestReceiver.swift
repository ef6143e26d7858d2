import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import NIOCore
import Synchronization

/// A real HTTP receiver on 127.0.0.1 (a free port) that records every request and answers as
/// the test scripts it.
public final class TestReceiver: Sendable {
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

    private let received = Mutex<[Received]>([])
    private let script: Script
    /// The port it listens on.
    public let port: Int

    init(port: Int, script: @escaping Script) {
        self.port = port
        self.script = script
    }

    /// Every request so far.
    public var requests: [Received] { received.withLock { $0 } }

    /// The URL of a path on this receiver.
    public func url(_ path: String = "/hook", host: String = "127.0.0.1") -> String { "http://\(host):\(port)\(path)" }

    /// Waits (polling every 10 ms) until at least `count` requests arrived; throws after `timeout`.
    public func waitForRequests(_ count: Int, timeout: Duration = .seconds(20)) async throws -> [Received] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            let all = requests
            if all.count >= count { return all }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("receiver got \(requests.count) requests, expected \(count) within \(timeout)")
    }

    fileprivate func handle(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 16 * 1024 * 1024)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let entry = Received(path: request.uri.path, headers: headers, body: Array(buffer: body), receivedAt: .now)
        let index = received.withLock { r -> Int in r.append(entry); return r.count - 1 }
        let reply = await script(entry, index)
        if reply.delay > .zero { try? await Task.sleep(for: reply.delay) }
        var fields = HTTPFields()
        for (name, value) in reply.headers { fields[HTTPField.Name(name)!] = value }
        return Response(status: .init(code: reply.status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: reply.body)))
    }

    /// Runs a receiver for the duration of `body`.
    public static func run<T: Sendable>(
        script: @escaping Script = { _, _ in Reply() },
        _ body: @Sendable (TestReceiver) async throws -> T
    ) async throws -> T {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let box = Mutex<TestReceiver?>(nil)
        let router = Router()
        router.post("**") { request, _ -> Response in
            guard let receiver = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return try await receiver.handle(request)
        }
        var logger = Logger(label: "TestReceiver")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "TestReceiver"),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger)
        // Stopped by graceful shutdown, as a real server is: cancelling a Hummingbird server while
        // it accepts a connection can trip an assertion in NIO.
        let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw TestFailure("receiver did not start") }
            let receiver = TestReceiver(port: port, script: script)
            box.withLock { $0 = receiver }
            do {
                let result = try await body(receiver)
                await services.triggerGracefulShutdown()
                try await group.waitForAll()
                return result
            } catch {
                await services.triggerGracefulShutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}

/// A test precondition that did not hold.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A temporary directory removed when the value goes away.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init() {
        path = NSTemporaryDirectory() + "bankhooks-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Polls `condition` every 10 ms until it holds; throws after `timeout`.
public func eventually(
    _ what: String, timeout: Duration = .seconds(20), _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    throw TestFailure("timed out waiting for: \(what)")
}
