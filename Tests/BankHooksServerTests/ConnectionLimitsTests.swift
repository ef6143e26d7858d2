import BankHooksCore
import BankHooksServer
import BankHooksTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain TCP connection to 127.0.0.1, non-blocking, for sending exactly the bytes a hostile
/// client would (half a head, a head a byte at a time, nothing at all).
final class RawConnection: Sendable {
    let fd: Int32

    init(port: Int) throws {
        #if canImport(Glibc)
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw TestFailure("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw TestFailure("connect() failed: errno \(errno)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(fd) }

    /// Sends `text`; false when the server has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        #if canImport(Glibc)
        let sent = Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL))
        #else
        let sent = Darwin.send(fd, bytes, bytes.count, 0)
        #endif
        return sent == bytes.count
    }

    enum ReadState { case open, closed }

    /// Reads what is there without waiting; `.closed` once the server closed or reset the connection.
    func drain(into text: inout String) -> ReadState {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n > 0 {
                text += String(decoding: buffer[0..<n], as: UTF8.self)
            } else if n == 0 {
                return .closed
            } else if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                return .open
            } else {
                return .closed
            }
        }
    }

    /// Everything the server sent until it closed the connection; nil if it was still open after `timeout`.
    func readUntilClosed(timeout: Duration = .seconds(20)) async throws -> String? {
        var text = ""
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if drain(into: &text) == .closed { return text }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// One response (head and `content-length` body) on a connection that stays open; nil if none came
    /// within `timeout` or the connection closed first.
    func readResponse(timeout: Duration = .seconds(20)) async throws -> String? {
        var text = ""
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            let state = drain(into: &text)
            if let end = text.range(of: "\r\n\r\n") {
                let head = text[..<end.lowerBound].lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if text.utf8.count - text[..<end.upperBound].utf8.count >= length { return text }
            }
            if state == .closed { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }
}

/// Runs the whole server (`buildApplication`) on a free port under `limits` for the duration of `body`.
func withLiveServer(_ limits: ConnectionLimits, _ body: @Sendable (Int) async throws -> Void) async throws {
    let dir = TemporaryDirectory()
    var configuration = ServerConfiguration()
    configuration.storage = .sqlite(path: dir.file("live.sqlite"))
    configuration.port = 0
    configuration.adminKey = liveOperatorKey
    configuration.connections = limits
    var logger = Logger(label: "connection-limits-test")
    logger.logLevel = .critical
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let app = try await buildApplication(configuration, logger: logger, announce: { _ in }, onListening: { address in
        portContinuation.yield(address?.port ?? 0)
        portContinuation.finish()
    })
    let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await services.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw TestFailure("the server did not start") }
        do {
            try await body(port)
        } catch {
            await services.triggerGracefulShutdown()
            try? await group.waitForAll()
            throw error
        }
        await services.triggerGracefulShutdown()
        try await group.waitForAll()
    }
}

/// The operator key of `withLiveServer`.
let liveOperatorKey = "bhk_operator1_" + String(repeating: "x", count: 32)

let healthzRequest = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

/// Server-side timeouts and the connection cap, against a live server over real sockets.
/// Limits are short (1 to 2 s) and waits generous (20 s), so a loaded machine cannot fail them.
@Suite struct ConnectionLimitsTests {
    static func limits(
        maxConnections: Int = 512, idle: Duration = .seconds(600), head: Duration = .seconds(600), body: Duration = .seconds(600)
    ) -> ConnectionLimits {
        var limits = ConnectionLimits()
        limits.maxConnections = maxConnections
        limits.idleTimeout = idle
        limits.requestHeadTimeout = head
        limits.requestBodyTimeout = body
        return limits
    }

    @Test func anIdleConnectionIsClosedAfterTheIdleTimeout() async throws {
        try await withLiveServer(Self.limits(idle: .seconds(1))) { port in
            // One that never sends a byte.
            let silent = try RawConnection(port: port)
            // One that made a request and then sits on the kept-alive connection.
            let keptAlive = try RawConnection(port: port)
            #expect(keptAlive.send(healthzRequest))
            let response = try await keptAlive.readResponse()
            #expect(response?.hasPrefix("HTTP/1.1 200") == true)
            #expect(try await silent.readUntilClosed() != nil, "a connection that sent nothing was never closed")
            #expect(try await keptAlive.readUntilClosed() != nil, "an idle kept-alive connection was never closed")
        }
    }

    @Test func aHalfSentHeadIsAnswered408AndClosedAfterTheHeadTimeout() async throws {
        try await withLiveServer(Self.limits(head: .seconds(1))) { port in
            let connection = try RawConnection(port: port)
            #expect(connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: "))
            let answer = try await connection.readUntilClosed()
            #expect(answer != nil, "a half-sent head held its connection open")
            #expect(answer?.hasPrefix("HTTP/1.1 408") == true)
            #expect(answer?.contains("urn:bankhooks:problem:request-head-timeout") == true)
        }
    }

    @Test func aHeadTrickledByteByByteIsClosedAtTheDeadlineForTheWholeHead() async throws {
        try await withLiveServer(Self.limits(head: .seconds(2))) { port in
            let connection = try RawConnection(port: port)
            // 600 bytes, one every 50 ms: 30 s to send in full, each byte well within any per-byte timer.
            let head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + String(repeating: "a", count: 550) + "\r\n\r\n"
            let started = ContinuousClock.now
            var sent = 0
            var received = ""
            var closed = false
            for byte in head {
                guard connection.send(String(byte)), connection.drain(into: &received) == .open else { closed = true; break }
                sent += 1
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(closed, "the trickled head was read in full (\(sent) bytes); the deadline must be for the whole head")
            #expect(sent < head.utf8.count)
            #expect(ContinuousClock.now - started < .seconds(25))
        }
    }

    @Test func aHalfSentBodyIsClosedAfterTheBodyTimeout() async throws {
        try await withLiveServer(Self.limits(body: .seconds(1))) { port in
            let connection = try RawConnection(port: port)
            let started = ContinuousClock.now
            #expect(connection.send("POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(liveOperatorKey)\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"type\""))
            #expect(try await connection.readUntilClosed() != nil, "a half-sent body held its connection open")
            // Closed by the 1 s body deadline (every other timeout here is 600 s), not by anything else.
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(10), "closed after \(elapsed)")
        }
    }

    @Test func aBodyTrickledByteByByteIsClosedAtTheDeadlineForTheWholeBody() async throws {
        try await withLiveServer(Self.limits(body: .seconds(2))) { port in
            let connection = try RawConnection(port: port)
            let body = "{\"type\": \"a.b\", \"data\": {\"padding\": \"" + String(repeating: "a", count: 560) + "\"}}"
            #expect(connection.send("POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(liveOperatorKey)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"))
            // 600 bytes, one every 50 ms: 30 s in full, each byte well within any per-byte timer.
            var sent = 0
            var received = ""
            var closed = false
            for byte in body {
                guard connection.send(String(byte)), connection.drain(into: &received) == .open else { closed = true; break }
                sent += 1
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(closed, "the trickled body was read in full (\(sent) bytes); the deadline must be for the whole body")
        }
    }

    @Test func aRequestThatArrivesWholeIsServedAndItsConnectionKeptAlive() async throws {
        try await withLiveServer(Self.limits(head: .seconds(1), body: .seconds(1))) { port in
            let connection = try RawConnection(port: port)
            for _ in 0..<3 {
                #expect(connection.send(healthzRequest))
                #expect(try await connection.readResponse()?.hasPrefix("HTTP/1.1 200") == true)
                // Longer than both deadlines between requests: neither applies to an idle kept-alive connection.
                try await Task.sleep(for: .milliseconds(1500))
            }
        }
    }

    @Test func beyondTheCapNewConnectionsAreRefusedUntilASlotIsFree() async throws {
        try await withLiveServer(Self.limits(maxConnections: 4)) { port in
            // Four connections hold every slot, as an attacker's idle connections would.
            var held = try (0..<4).map { _ in try RawConnection(port: port) }
            // Each one is known to the server once it answers a request on it.
            for connection in held {
                #expect(connection.send(healthzRequest))
                #expect(try await connection.readResponse()?.hasPrefix("HTTP/1.1 200") == true)
            }
            let extra = try RawConnection(port: port)
            extra.send(healthzRequest)
            let refused = try await extra.readUntilClosed()
            #expect(refused != nil, "a connection beyond the cap was kept open")
            #expect(refused?.hasPrefix("HTTP/1.1 200") != true, "a connection beyond the cap was served")
            #expect(refused.map { $0.isEmpty || $0.hasPrefix("HTTP/1.1 503") } == true)

            // A freed slot serves /healthz again.
            held.removeLast()
            try await eventually("a freed slot serves /healthz") {
                let connection = try RawConnection(port: port)
                guard connection.send(healthzRequest) else { return false }
                return try await connection.readResponse(timeout: .seconds(5))?.hasPrefix("HTTP/1.1 200") == true
            }
            // After the attack, the server serves normally.
            held.removeAll()
            for _ in 0..<8 {
                try await eventually("the server serves after the attack") {
                    let connection = try RawConnection(port: port)
                    guard connection.send(healthzRequest) else { return false }
                    return try await connection.readResponse(timeout: .seconds(5))?.hasPrefix("HTTP/1.1 200") == true
                }
            }
        }
    }
}
