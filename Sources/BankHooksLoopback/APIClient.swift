import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A small JSON-over-HTTP client for the BankHooks API, shared by the tests that talk to a live
/// server and the benchmark's publishers.
public struct APIClient: Sendable {
    public var baseURL: String
    public var key: String?
    public var http: HTTPClient

    /// The shared client for tests: it fails at once when nothing listens, instead of retrying the
    /// connection until the deadline.
    public static let client = makeHTTPClient(connections: 32, retryConnectionEstablishment: false)

    public init(baseURL: String, key: String?, http: HTTPClient = APIClient.client) {
        self.baseURL = baseURL
        self.key = key
        self.http = http
    }

    /// An HTTP client with up to `connections` HTTP/1 connections per host (the caller shuts it down).
    public static func makeHTTPClient(connections: Int, retryConnectionEstablishment: Bool = true) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        var pool = HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        pool.retryConnectionEstablishment = retryConnectionEstablishment
        configuration.connectionPool = pool
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// One response.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: Data
        public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Sends one request (JSON when there is a body) with the key as a bearer token.
    public func call(_ method: HTTPMethod, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
    }
}
