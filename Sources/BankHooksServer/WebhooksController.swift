import BankHooksCore
import BankHooksStorage
import Foundation
import Hummingbird
import NIOCore

/// `/v1/webhooks`: create, list, get, delete.
struct WebhooksController {
    let store: any Store
    let formats: WireFormats
    let clock: any WallClock
    /// Tells the dispatcher that deliveries may have become due (a webhook was enabled again).
    let wake: @Sendable () -> Void

    static let managers: Set<Role> = [.operator, .admin]

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("webhooks", use: create)
        group.get("webhooks", use: list)
        group.get("webhooks/:id", use: get)
        group.patch("webhooks/:id", use: update)
        group.delete("webhooks/:id", use: delete)
    }

    /// `PATCH /v1/webhooks/{id}` body: members present are changed; `event_types: null` means every type.
    struct UpdateRequest: Decodable {
        var url: String?
        var name: String??
        var eventTypes: [String]??
        var enabled: Bool?

        enum CodingKeys: String, CodingKey { case url, name, eventTypes, enabled }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            url = try c.decodeIfPresent(String.self, forKey: .url)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled)
            if c.contains(.name) { name = .some(try c.decodeNil(forKey: .name) ? nil : try c.decode(String.self, forKey: .name)) }
            if c.contains(.eventTypes) {
                eventTypes = .some(try c.decodeNil(forKey: .eventTypes) ? nil : try c.decode([String].self, forKey: .eventTypes))
            }
        }
    }

    /// `POST /v1/webhooks` body.
    struct CreateRequest: Decodable {
        var url: String
        var name: String?
        var eventTypes: [String]?
        var format: String?
    }

    /// A webhook as the API shows it; `secret` only in the create response.
    struct WebhookView: Encodable {
        var id: String
        var url: String
        var name: String?
        var eventTypes: [String]?
        var format: String
        var enabled: Bool
        var disabledReason: String?
        var createdAt: Timestamp
        var updatedAt: Timestamp
        var secret: String?

        init(_ webhook: Webhook, showingSecret: Bool = false) {
            id = webhook.id
            url = webhook.url
            name = webhook.name
            eventTypes = webhook.eventTypes
            format = webhook.format
            enabled = webhook.isEnabled
            disabledReason = webhook.disabledReason
            createdAt = webhook.createdAt
            updatedAt = webhook.updatedAt
            secret = showingSecret ? webhook.secret.text : nil
        }

        // Absent optionals are written as null so every field is always present.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(url, forKey: .url)
            try c.encode(name, forKey: .name)
            try c.encode(eventTypes, forKey: .eventTypes)
            try c.encode(format, forKey: .format)
            try c.encode(enabled, forKey: .enabled)
            try c.encode(disabledReason, forKey: .disabledReason)
            try c.encode(createdAt, forKey: .createdAt)
            try c.encode(updatedAt, forKey: .updatedAt)
            try c.encodeIfPresent(secret, forKey: .secret)
        }

        enum CodingKeys: String, CodingKey {
            case id, url, name, eventTypes, format, enabled, disabledReason, createdAt, updatedAt, secret
        }
    }

    struct ListView: Encodable {
        var data: [WebhookView]
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.managers, to: "create webhooks")
        let body = try await decodeBody(CreateRequest.self, from: request, context: context)
        try WebhookURL.validate(body.url, pointer: "/url")
        try Self.validate(name: body.name)
        let format = body.format ?? "standard"
        guard formats[format] != nil else {
            throw Problem.invalidField("/format", "unknown format `\(format)`; known formats: \(formats.names.joined(separator: ", "))")
        }
        try Self.validate(eventTypes: body.eventTypes)
        let now = clock.now()
        let webhook = Webhook(
            id: Identifier.make("wh", at: now), applicationID: principal.applicationID, url: body.url, name: body.name,
            eventTypes: body.eventTypes, format: format, secret: .generate(), createdAt: now, updatedAt: now)
        try await store.createWebhook(webhook)
        return try Response.json(WebhookView(webhook, showingSecret: true), status: .created, context: context)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.managers, to: "change webhooks")
        let id = try context.parameters.require("id")
        let body = try await decodeBody(UpdateRequest.self, from: request, context: context)
        if let url = body.url { try WebhookURL.validate(url, pointer: "/url") }
        if let name = body.name { try Self.validate(name: name) }
        if let eventTypes = body.eventTypes { try Self.validate(eventTypes: eventTypes) }
        let change = WebhookChange(url: body.url, name: body.name, eventTypes: body.eventTypes, isEnabled: body.enabled)
        guard let webhook = try await store.updateWebhook(id: id, applicationID: principal.applicationID, change, now: clock.now()) else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        if body.enabled == true { wake() }
        return try Response.json(WebhookView(webhook), status: .ok, context: context)
    }

    static func validate(name: String?) throws {
        if let name, name.count > 200 { throw Problem.invalidField("/name", "`name` is at most 200 characters") }
    }

    static func validate(eventTypes: [String]?) throws {
        guard let types = eventTypes else { return }
        guard !types.isEmpty else {
            throw Problem.invalidField("/event_types", "`event_types` must name at least one type, or be omitted (or null) for every type")
        }
        for (i, type) in types.enumerated() where !EventTypeName.isValid(type) {
            throw Problem.invalidField("/event_types/\(i)", "`\(type)` is not a valid event type name")
        }
        guard Set(types).count == types.count else { throw Problem.invalidField("/event_types", "`event_types` lists a type twice") }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(EventsController.readers, to: "list webhooks")
        let webhooks = try await store.webhooks(applicationID: principal.applicationID)
        return try Response.json(ListView(data: webhooks.map { WebhookView($0) }), status: .ok, context: context)
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(EventsController.readers, to: "read webhooks")
        let id = try context.parameters.require("id")
        guard let webhook = try await store.webhook(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        return try Response.json(WebhookView(webhook), status: .ok, context: context)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.managers, to: "delete webhooks")
        let id = try context.parameters.require("id")
        guard try await store.deleteWebhook(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        return Response(status: .noContent)
    }
}

/// Webhook URL rules: absolute http(s) with a host, no credentials, at most 2,048 characters.
/// Whether the host may be reached is decided at send time, on the resolved address.
enum WebhookURL {
    static func validate(_ text: String, pointer: String) throws {
        guard text.utf8.count <= 2048 else { throw Problem.invalidField(pointer, "the URL is longer than 2,048 characters") }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw Problem.invalidField(pointer, "`\(text)` is not a URL")
        }
        guard scheme == "http" || scheme == "https" else {
            throw Problem.invalidField(pointer, "the URL scheme must be http or https, not \(scheme)")
        }
        guard let host = components.host, !host.isEmpty else { throw Problem.invalidField(pointer, "the URL has no host") }
        guard components.user == nil, components.password == nil else {
            throw Problem.invalidField(pointer, "the URL must not carry credentials")
        }
        if let port = components.port, !(1...65535).contains(port) { throw Problem.invalidField(pointer, "the URL's port is out of range") }
    }
}

extension Response {
    /// A JSON response encoded with the context's encoder.
    static func json(_ value: some Encodable, status: HTTPResponse.Status, context: AppRequestContext) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: try context.responseEncoder.encode(value))))
    }
}

/// Decodes a JSON body, turning every decoding failure into a problem that names the field.
func decodeBody<T: Decodable>(_ type: T.Type, from request: Request, context: AppRequestContext) async throws -> T {
    var request = request
    let buffer = try await request.collectBody(upTo: context.maxUploadSize)
    do {
        _ = try buffer.withUnsafeReadableBytes { try JSONScanner.validate($0) }
    } catch let error as JSONSyntaxError {
        throw Problem.malformedJSON(error)
    }
    do {
        return try context.requestDecoder.decode(T.self, from: buffer)
    } catch let error as DecodingError {
        throw Problem.decoding(error)
    }
}

extension Problem {
    /// A problem naming the field a `DecodingError` points at (snake_case JSON pointer).
    static func decoding(_ error: DecodingError) -> Problem {
        func pointer(_ path: [any CodingKey]) -> String {
            "/" + path.map { key in key.intValue.map(String.init) ?? snakeCase(key.stringValue) }.joined(separator: "/")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let path = pointer(context.codingPath + [key])
            return .invalidField(path, "`\(snakeCase(key.stringValue))` is required")
        case .typeMismatch(let type, let context):
            return .invalidField(pointer(context.codingPath), "expected \(describe(type))")
        case .valueNotFound(let type, let context):
            return .invalidField(pointer(context.codingPath), "expected \(describe(type)), found null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return Problem(.badRequest, "malformed-json", title: "The body is not valid JSON", detail: context.debugDescription, field: "/")
            }
            return .invalidField(pointer(context.codingPath), context.debugDescription)
        @unknown default:
            return .invalidField("/", "the body does not match the expected shape")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Double.Type: "a number"
        case is [String].Type, is [Any].Type: "an array"
        default: "a value of type \(type)"
        }
    }

    static func snakeCase(_ text: String) -> String {
        var out = ""
        for ch in text {
            if ch.isUppercase { out.append("_"); out.append(contentsOf: ch.lowercased()) } else { out.append(ch) }
        }
        return out
    }
}
