import BankHooksCore
import Foundation
import Hummingbird

/// The request context: the authenticated principal and the body limit.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who the request was authenticated as (nil before authentication and on open routes).
    public var principal: Principal?
    /// Largest request body accepted.
    public var maxUploadSize: Int

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
        maxUploadSize = 256 * 1024
    }

    public var requestDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    public var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A path parameter, percent-decoded (an event id may hold `/`, sent as `%2F`).
    func pathParameter(_ name: String) throws -> String {
        let raw = try parameters.require(name)
        guard raw.contains("%") else { return raw }
        // No id has a NUL character (and PostgreSQL's text cannot hold one).
        guard let decoded = raw.removingPercentEncoding, !decoded.utf8.contains(0) else {
            throw Problem(.notFound, "not-found", title: "Not found", detail: "`\(raw)` is not a valid path segment", field: "path:\(name)")
        }
        return decoded
    }

    /// The principal, if it holds one of `roles`; 403 otherwise.
    func require(_ roles: Set<Role>, to action: String) throws -> Principal {
        guard let principal else {
            throw Problem(.unauthorized, "unauthorized", title: "Authentication required", detail: "send Authorization: Bearer <API key>", field: "header:Authorization")
        }
        guard roles.contains(principal.role) else {
            throw Problem.forbidden("a \(principal.role.rawValue) key cannot \(action)")
        }
        return principal
    }
}

extension Timestamp: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Timestamp(iso8601: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected an RFC 3339 timestamp"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso8601)
    }
}

/// An optional member an API answer always carries, as `null` when it has no value (synthesized
/// encoding would leave it out). The OpenAPI document lists these members as required.
@propertyWrapper
struct Null<Value: Encodable & Sendable>: Encodable, Sendable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// Sets the body limit on the context.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let maxBodySize: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.maxUploadSize = maxBodySize
        return try await next(request, context)
    }
}
