import BankHooksLoopback
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The demo's stand-in for a client application's callback page: a tiny HTTP server on
/// 127.0.0.1 (a free port) that records every query it is sent to and shows its parameters in
/// a table (like https://display-parameters.com, which Yapily suggests for trying callbacks).
public final class CallbackPage: Sendable {
    /// One visit: the path and the query's parameters in order.
    public struct Visit: Sendable {
        public var path: String
        public var parameters: [(name: String, value: String)]
        public var receivedAt: ContinuousClock.Instant

        /// The first value of the parameter called `name`.
        public func value(_ name: String) -> String? { parameters.first { $0.name == name }?.value }
        /// Every value of the parameter called `name` (repeated ones, e.g. `consent` for `multi`).
        public func values(_ name: String) -> [String] { parameters.filter { $0.name == name }.map(\.value) }
    }

    private let recorded = Mutex<[Visit]>([])
    private let boundPort = Atomic<Int>(0)

    private init() {}

    /// The port it listens on.
    public var port: Int { boundPort.load(ordering: .acquiring) }

    /// The URL of a path on this page.
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Every visit so far.
    public var visits: [Visit] { recorded.withLock { $0 } }

    private func handle(_ request: Request) -> Response {
        let parameters = FormEncoding.parameters(ofQuery: request.uri.query ?? "")
        recorded.withLock { $0.append(Visit(path: request.uri.path, parameters: parameters, receivedAt: .now)) }
        let rows = parameters.map { "<tr><th>\(Self.escape($0.name))</th><td>\(Self.escape($0.value))</td></tr>" }.joined(separator: "\n")
        let html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Back at the app</title>
            <style>body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2733}table{border-collapse:collapse}
            th,td{border:1px solid #c8d0d8;padding:.4rem .7rem;text-align:left;vertical-align:top}td{word-break:break-all;font-family:monospace}</style>
            </head><body><h1>Back at the app</h1><p>The bank sent the user here with these query parameters:</p>
            <table>\(rows)</table></body></html>
            """
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// Runs the page for the duration of `body`.
    public static func run<T: Sendable>(_ body: @Sendable (CallbackPage) async throws -> T) async throws -> T {
        let page = CallbackPage()
        let router = Router()
        router.get("**") { request, _ -> Response in page.handle(request) }
        router.get("/") { request, _ -> Response in page.handle(request) }
        var logger = Logger(label: "CallbackPage")
        logger.logLevel = .critical
        return try await LoopbackService.run(logger: logger, notStarted: DemoFailure("the callback page did not start")) { listening in
            Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "DemoCallbackPage"),
                onServerRunning: { channel in listening(channel.localAddress?.port ?? 0) },
                logger: logger)
        } _: { port in
            page.boundPort.store(port, ordering: .releasing)
            return try await body(page)
        }
    }
}

/// Something the demo expected did not happen: the message says what, and the demo exits non-zero.
public struct DemoFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
