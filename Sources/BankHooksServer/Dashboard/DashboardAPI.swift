import BankHooksCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The /v1 API called in process, as the signed-in key: the dashboard's pages read and change
/// everything through the very routes the API serves (the same controllers, validation, roles and
/// services), so no rule is written twice. A refusal comes back as the `Problem` the API would
/// have answered, for the page to show.
struct DashboardAPI: Sendable {
    /// The /v1 routes without authentication: the principal is the session's.
    let responder: RouterResponder<AppRequestContext>

    /// What a call answered: its status and JSON (an object, or nil for an empty body).
    struct Answer: @unchecked Sendable {
        // @unchecked: the JSON is made by JSONSerialization for this answer only and never shared.
        var status: HTTPResponse.Status
        var object: [String: Any]
        /// The body as sent (for members whose text matters, such as an event's `data`).
        var bytes: [UInt8] = []

        /// `data` of a list answer.
        var items: [[String: Any]] { object["data"] as? [[String: Any]] ?? [] }
    }

    /// Calls `method path` (a /v1 path with its query) with `body` as JSON, as `principal`, at
    /// `authority` (the browser's Host, which links such as an authorisation's URL are built on).
    /// Throws the API's `Problem` for any answer that is not a 2xx (thrown by a handler, or
    /// answered by the router: a path no route has is a 404).
    func call(
        _ method: HTTPRequest.Method, _ path: String, body: [String: Any]? = nil, as principal: Principal, authority: String? = nil,
        context: AppRequestContext
    ) async throws -> Answer {
        var context = context
        context.principal = principal
        var head = HTTPRequest(method: method, scheme: nil, authority: authority, path: path)
        var buffer = ByteBuffer()
        if let body {
            head.headerFields[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))
        }
        let request = Request(head: head, body: RequestBody(buffer: buffer))
        let response: Response
        do {
            response = try await responder.respond(to: request, context: context)
        } catch {
            // The API's one mapping; an error it does not know stays as it is (the page logs it, a 500).
            throw Problem.mapping(error, method: method, path: path, maxUploadSize: context.maxUploadSize) ?? error
        }
        let collector = Collector()
        try await response.body.write(collector)
        let bytes = collector.box.bytes.withLock { $0 }
        let object = bytes.isEmpty ? [:] : ((try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:])
        guard (200..<300).contains(response.status.code) else {
            // The router answers a thrown `Problem` itself (it is an HTTPResponseError): read it back.
            let slug = (object["type"] as? String)?.split(separator: ":").last.map(String.init) ?? "http-\(response.status.code)"
            var problem = Problem(
                response.status, slug, title: object["title"] as? String ?? response.status.reasonPhrase,
                detail: object["detail"] as? String ?? response.status.reasonPhrase, field: object["field"] as? String)
            if let retryAfter = response.headers[.retryAfter] { problem.headers[.retryAfter] = retryAfter }
            throw problem
        }
        return Answer(status: response.status, object: object, bytes: bytes)
    }

    /// Collects a response body (the API's answers are single small buffers).
    private struct Collector: ResponseBodyWriter {
        final class Box: Sendable {
            let bytes = Mutex<[UInt8]>([])
        }

        let box = Box()

        func write(_ buffer: ByteBuffer) async throws {
            box.bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
        }

        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}

/// Path segments and query values for the API's URLs, percent-encoded.
enum DashboardURL {
    /// `text` as one path segment (an id with `/` stays one segment).
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// `text` as a query value.
    static func query(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+#%")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
