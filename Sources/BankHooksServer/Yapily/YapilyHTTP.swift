import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Foundation
import Hummingbird
import NIOCore

/// The request's Yapily `tracingId` (32 lower-case hex), set by `YapilyErrorMiddleware` for every
/// request under `/yapily`: `meta.tracingId` and `error.tracingId` carry it.
enum YapilyTracing {
    @TaskLocal static var id = ""

    static func newID() -> String {
        var rng = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef")
        return String((0..<32).map { _ in hex[Int.random(in: 0..<16, using: &rng)] })
    }
}

/// An error the facade answers in Yapily's v1 envelope, `ApiResponseError`:
/// `{"error":{"code":400,"status":"BAD_REQUEST","message":"…","tracingId":"…"}}`.
struct YapilyError: Error, Sendable, CustomStringConvertible {
    var status: HTTPResponse.Status
    var message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { "\(status.code) \(message)" }

    /// Yapily's (Spring's) name of an HTTP status: `BAD_REQUEST`, `NOT_FOUND`, …
    static func statusText(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "BAD_REQUEST"
        case 401: "UNAUTHORIZED"
        case 403: "FORBIDDEN"
        case 404: "NOT_FOUND"
        case 405: "METHOD_NOT_ALLOWED"
        case 406: "NOT_ACCEPTABLE"
        case 409: "CONFLICT"
        case 413: "PAYLOAD_TOO_LARGE"
        case 415: "UNSUPPORTED_MEDIA_TYPE"
        case 422: "UNPROCESSABLE_ENTITY"
        case 424: "FAILED_DEPENDENCY"
        case 429: "TOO_MANY_REQUESTS"
        case 503: "SERVICE_UNAVAILABLE"
        default: status.code >= 500 ? "INTERNAL_SERVER_ERROR" : status.reasonPhrase.uppercased().replacingOccurrences(of: " ", with: "_")
        }
    }

    /// Yapily's 401 for missing or wrong credentials (its documented example, plus the tracing id).
    static let unauthorised: YapilyError = {
        var error = YapilyError(.unauthorized, "Full authentication is required to access this resource")
        error.headers[.wwwAuthenticate] = #"Basic realm="BankHooks Yapily""#
        return error
    }()

    static func badRequest(_ message: String) -> YapilyError { YapilyError(.badRequest, message) }
    static func notFound(_ message: String) -> YapilyError { YapilyError(.notFound, message) }

    struct Envelope: Encodable {
        struct Body: Encodable {
            var code: Int
            var status: String
            var message: String
            var tracingId: String
        }
        var error: Body
    }

    func response() -> Response {
        let body = Envelope(error: .init(code: Int(status.code), status: Self.statusText(status), message: message, tracingId: YapilyTracing.id))
        var headers = self.headers
        headers[.contentType] = YapilyJSON.contentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: (try? YapilyJSON.encoder.encode(body)) ?? Data())))
    }

    /// What any error becomes under `/yapily`: a `YapilyError` as it is; a sandbox refusal by its
    /// meaning; a body that does not decode as a 400 naming the member (Yapily's names); everything
    /// the native API maps (JSON syntax, body size, an unavailable database, shutdown) with the
    /// same status and words; nil for an error nobody expected (a 500 that says nothing more).
    static func mapping(_ error: any Error, request: Request, maxUploadSize: Int) -> YapilyError? {
        switch error {
        case let error as YapilyError:
            return error
        case let error as SandboxError:
            return YapilyError(error)
        case let error as DecodingError:
            return YapilyError(error)
        case let error as StoreError where error.code == .limitReached:
            return YapilyError(.notAcceptable, "Maximum number of resources that can be created has been reached (\(error.message))")
        default:
            guard let problem = Problem.mapping(error, method: request.method, path: request.uri.path, maxUploadSize: maxUploadSize) else { return nil }
            var mapped = YapilyError(problem.status, problem.status == .notFound ? "Resource not found" : problem.detail)
            mapped.headers = problem.headers
            mapped.headers[.contentType] = nil
            return mapped
        }
    }

    /// The sandbox's member names in Yapily's spelling, for its messages.
    static let memberNames = [
        ("application_user_id", "applicationUserId"), ("institution_id", "institutionId"), ("user_uuid", "userUuid"),
        ("forward_parameters", "forwardParameters"), ("one_time_token", "oneTimeToken"),
    ]

    static func yapilyNames(_ text: String) -> String {
        memberNames.reduce(text) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }

    init(_ error: SandboxError) {
        let message = Self.yapilyNames(error.message)
        switch error.code {
        case .invalidField, .wrongPassword: self.init(.badRequest, message)
        case .notFound: self.init(.notFound, message)
        case .institutionUnavailable: self.init(.failedDependency, message)
        case .authorisationCompleted, .authorisationExpired: self.init(.conflict, message)
        case .invalidOneTimeToken: self.init(.badRequest, "Invalid or expired one time token")
        case .consentInvalid, .stateMismatch, .sandboxOnly: self.init(.forbidden, message)
        }
    }

    init(_ error: DecodingError) {
        func name(_ path: [any CodingKey]) -> String {
            let text = path.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(.badRequest, "\(name(context.codingPath + [key])) is required")
        case .typeMismatch(let type, let context):
            let member = name(context.codingPath)
            self.init(.badRequest, member.isEmpty ? "The body must be a JSON object" : "\(member) must be \(Problem.describe(type))")
        case .valueNotFound(let type, let context):
            self.init(.badRequest, "\(name(context.codingPath)) must be \(Problem.describe(type)), not null")
        case .dataCorrupted(let context):
            let member = name(context.codingPath)
            self.init(.badRequest, member.isEmpty ? context.debugDescription : "\(member): \(context.debugDescription)")
        @unknown default:
            self.init(.badRequest, "The body does not match the expected shape")
        }
    }
}

extension HTTPResponse.Status {
    static let failedDependency = HTTPResponse.Status(code: 424, reasonPhrase: "Failed Dependency")
}

/// Sets the request's tracing id and answers every error in Yapily's envelope; an unexpected
/// error is logged and answered as a 500 that names nothing internal.
struct YapilyErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await YapilyTracing.$id.withValue(YapilyTracing.newID()) {
            do {
                return try await next(request, context)
            } catch {
                guard let mapped = YapilyError.mapping(error, request: request, maxUploadSize: context.maxUploadSize) else {
                    context.logger.error("unhandled error", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
                    return YapilyError(.internalServerError, "Unexpected server error").response()
                }
                return mapped.response()
            }
        }
    }
}

/// Requests under `/yapily` that no route matched: Yapily's 404 envelope (no credentials needed).
struct YapilyUnmatchedPathMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path == "/yapily" || path.hasPrefix("/yapily/") else { return try await next(request, context) }
        return try await YapilyErrorMiddleware().handle(request, context: context) { request, context in
            _ = try await next(request, context)
            throw YapilyError.notFound("Resource not found")
        }
    }
}

/// Yapily's JSON: camelCase members as declared, absent optionals left out (never `null`),
/// `application/json;charset=UTF-8`.
enum YapilyJSON {
    static let contentType = "application/json;charset=UTF-8"

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// A Yapily request body: well-formed JSON (the native API's checks: syntax, no NUL, the size
    /// limit), decoded with Yapily's member names; members Yapily added that BankHooks does not read are ignored.
    static func body<T: Decodable>(_ type: T.Type, from request: Request, context: AppRequestContext) async throws -> T {
        let buffer = try await collectJSONBody(request, context: context)
        guard buffer.readableBytes > 0 else { throw YapilyError.badRequest("Required request body is missing") }
        return try JSONDecoder().decode(T.self, from: buffer)
    }
}

/// `{meta: {tracingId}, data}`: Yapily's `ApiResponseOf…`.
struct YapilyEnvelope<Payload: Encodable>: Encodable {
    struct Meta: Encodable { var tracingId: String }
    var meta: Meta
    var data: Payload

    init(_ data: Payload) {
        meta = Meta(tracingId: YapilyTracing.id)
        self.data = data
    }
}

/// `{meta: {tracingId, count, pagination}, data: […]}`: Yapily's `ApiListResponseOf…`.
struct YapilyListEnvelope<Item: Encodable>: Encodable {
    struct Meta: Encodable {
        var tracingId: String
        var count: Int
        var pagination: Pagination?
    }
    struct Pagination: Encodable {
        struct FilterAndSort: Encodable {
            var limit: Int?
            var sort: String?
            var offset: Int
        }
        var totalCount: Int
        var `self`: FilterAndSort
    }
    var meta: Meta
    var data: [Item]

    init(_ data: [Item], pagination: Pagination? = nil) {
        meta = Meta(tracingId: YapilyTracing.id, count: data.count, pagination: pagination)
        self.data = data
    }
}
