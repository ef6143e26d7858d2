import BankHooksCore
import BankHooksDelivery
import Foundation
import Hummingbird
import Logging
import NIOCore

/// An error answered as `application/problem+json` (RFC 9457): what was wrong and where.
public struct Problem: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// A short, stable slug; the `type` member is `urn:bankhooks:problem:<slug>`.
    public var slug: String
    public var title: String
    public var detail: String
    /// Where the problem is: a JSON pointer into the body (`/data`), or `header:Name`, `query:name`, `path:name`.
    public var field: String?
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ slug: String, title: String, detail: String, field: String? = nil) {
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.field = field
    }

    public var description: String { "\(status.code) \(title): \(detail)" }

    struct Body: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String
        var field: String?
        var instance: String?
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(type: "urn:bankhooks:problem:\(slug)", title: title, status: Int(status.code), detail: detail, field: field, instance: request.uri.path)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(body)) ?? Data()
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: Common problems

    static func invalidField(_ pointer: String, _ detail: String) -> Problem {
        Problem(.unprocessableContent, "invalid-field", title: "A field is invalid", detail: detail, field: pointer)
    }

    /// A body the JSON scanner refused: a 400, or, for a repeated member name (well-formed JSON
    /// whose meaning depends on the reader), a 422 naming the member on every route.
    static func malformedJSON(_ error: JSONSyntaxError) -> Problem {
        guard error.isDuplicateMember else {
            return Problem(.badRequest, "malformed-json", title: "The body is not valid JSON", detail: "\(error.reason) at byte \(error.offset)", field: "/")
        }
        let name = error.pointer.split(separator: "/", omittingEmptySubsequences: false).last
            .map { $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~") } ?? ""
        return invalidField(error.pointer, "`\(name)` appears more than once in its object (at byte \(error.offset))")
    }

    static func notFound(_ what: String, field: String? = nil) -> Problem {
        Problem(.notFound, "not-found", title: "Not found", detail: "\(what) does not exist", field: field)
    }

    static func forbidden(_ detail: String) -> Problem {
        Problem(.forbidden, "forbidden", title: "Not allowed for this key", detail: detail)
    }
}
