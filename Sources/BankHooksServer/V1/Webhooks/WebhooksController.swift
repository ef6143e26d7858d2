import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import BankHooksVerify
import Foundation
import Hummingbird
import NIOCore

/// `/v1/webhooks`: create, list, get, change, delete, rotate the secret, send a test; and the
/// application's Lean Callback URL (`/v1/callback-url`).
struct WebhooksController {
    let store: any Store
    let formats: WireFormats
    let events: EventService
    var registry: EventTypeRegistry { events.registry }
    let dispatcher: Dispatcher
    let clock: any WallClock
    /// Tells the dispatcher that deliveries may have become due (a webhook was enabled again).
    let wake: @Sendable () -> Void
    /// Bounds on a webhook's subscription and custom headers.
    var quotas = TenantQuotas()

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("webhooks", use: create)
        group.get("webhooks", use: list)
        group.get("webhooks/:id", use: get)
        group.patch("webhooks/:id", use: update)
        group.delete("webhooks/:id", use: delete)
        group.post("webhooks/:id/rotate-secret", use: rotateSecret)
        group.post("webhooks/:id/test", use: sendTest)
        group.get("callback-url", use: getCallbackURL)
        group.put("callback-url", use: putCallbackURL)
        group.delete("callback-url", use: deleteCallbackURL)
    }

    /// `PATCH /v1/webhooks/{id}` body: members present are changed; `event_types: null` means every type.
    struct UpdateRequest: Decodable {
        var url: String?
        var name: String??
        var eventTypes: [String]??
        var enabled: Bool?
        var bearerToken: String??
        var headers: [String: String]?
        var retrySchedule: [Int]??
        var rateLimit: Double??

        enum CodingKeys: String, CodingKey { case url, name, eventTypes, enabled, bearerToken, headers, retrySchedule, rateLimit }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            headers = try c.decodeIfPresent([String: String].self, forKey: .headers)
            if c.contains(.retrySchedule) {
                retrySchedule = .some(try c.decodeNil(forKey: .retrySchedule) ? nil : try c.decode([Int].self, forKey: .retrySchedule))
            }
            if c.contains(.rateLimit) {
                rateLimit = .some(try c.decodeNil(forKey: .rateLimit) ? nil : try c.decode(Double.self, forKey: .rateLimit))
            }
            url = try c.decodeIfPresent(String.self, forKey: .url)
            if c.contains(.bearerToken) {
                bearerToken = .some(try c.decodeNil(forKey: .bearerToken) ? nil : try c.decode(String.self, forKey: .bearerToken))
            }
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
        /// Okra only: sent as `Authorization: Bearer <token>`.
        var bearerToken: String?
        var headers: [String: String]?
        var retrySchedule: [Int]?
        var rateLimit: Double?
    }

    /// A webhook as the API shows it; `secret` only in the create response.
    struct WebhookView: Encodable {
        var id: String
        var url: String
        @Null var name: String?
        @Null var eventTypes: [String]?
        var format: String
        var enabled: Bool
        @Null var disabledReason: String?
        var createdAt: Timestamp
        var updatedAt: Timestamp
        var kind: WebhookKind
        var hasBearerToken: Bool
        @Null var previousSecretExpiresAt: Timestamp?
        var secret: String?
        /// Custom header names; their values are never shown (any of them may be a credential).
        var headers: [String: String]
        @Null var retrySchedule: [Int]?
        @Null var rateLimit: Double?

        init(_ webhook: Webhook, showingSecret: Bool = false, now: Timestamp? = nil) {
            headers = Dictionary(webhook.settings.headers.map { ($0.name, RecordedHeaders.redacted) }, uniquingKeysWith: { a, _ in a })
            retrySchedule = webhook.settings.retryDelays
            rateLimit = webhook.settings.rateLimit
            kind = webhook.kind
            hasBearerToken = webhook.bearerToken != nil
            // Shown only while the previous secret still signs.
            previousSecretExpiresAt = webhook.previousSecretExpiresAt.flatMap { until in now.map { $0 < until } ?? true ? until : nil }
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
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.managers, to: "create webhooks")
        let body = try await decodeBody(CreateRequest.self, from: request, context: context)
        try WebhookURL.validate(body.url, pointer: "/url")
        try await requireHTTPSIfProduction(body.url, applicationID: principal.applicationID)
        try Self.validate(name: body.name)
        let format = body.format ?? "standard"
        guard formats[format] != nil else {
            throw Problem.invalidField("/format", "unknown format `\(format)`; known formats: \(formats.names.joined(separator: ", "))")
        }
        try Self.validate(eventTypes: body.eventTypes, limit: quotas.eventTypesPerWebhook)
        try await registry.validateSubscription(body.eventTypes, format: formats[format]!, kind: .webhook, applicationID: principal.applicationID)
        try Self.validate(bearerToken: body.bearerToken, format: format)
        let settings = DeliverySettings(
            headers: try Self.validate(headers: body.headers ?? [:], format: format, maxBytes: quotas.headerBytesPerWebhook),
            retryDelays: try Self.validate(retrySchedule: body.retrySchedule), rateLimit: try Self.validate(rateLimit: body.rateLimit))
        let now = clock.now()
        let webhook = Webhook(
            id: Identifier.make("wh", at: now), applicationID: principal.applicationID, url: body.url, name: body.name,
            eventTypes: body.eventTypes, format: format, secret: .generate(), createdAt: now, updatedAt: now,
            bearerToken: body.bearerToken, settings: settings)
        do {
            try await store.createWebhook(webhook)
        } catch let error as StoreError where error.code == .limitReached {
            throw Problem(.conflict, "webhook-limit-reached", title: "The application's webhook limit is reached",
                          detail: "\(error.message); delete a webhook or ask the operator to raise the limit (webhook_limit)", field: "/")
        }
        return try Response.json(WebhookView(webhook, showingSecret: true), status: .created, context: context)
    }

    /// A `production` application's webhooks must use https, unless the operator allowed plain http for it.
    func requireHTTPSIfProduction(_ url: String, applicationID: String, pointer: String = "/url") async throws {
        guard url.lowercased().hasPrefix("http:") else { return }
        guard let application = try await store.application(id: applicationID), !application.acceptsPlainHTTP else { return }
        throw Problem.invalidField(pointer, "`\(application.name)` is a production application: webhook URLs must use https (the operator can allow plain http with allow_plain_http)")
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.managers, to: "change webhooks")
        let id = try context.pathParameter("id")
        let body = try await decodeBody(UpdateRequest.self, from: request, context: context)
        guard let current = try await store.webhook(id: id, applicationID: principal.applicationID), current.kind == .webhook else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        if let url = body.url {
            try WebhookURL.validate(url, pointer: "/url")
            try await requireHTTPSIfProduction(url, applicationID: principal.applicationID)
        }
        if let name = body.name { try Self.validate(name: name) }
        if let eventTypes = body.eventTypes {
            try Self.validate(eventTypes: eventTypes, limit: quotas.eventTypesPerWebhook)
            try await registry.validateSubscription(
                eventTypes, format: formats[current.format] ?? StandardWebhooksFormat(), kind: current.kind, applicationID: principal.applicationID)
        }
        if let bearerToken = body.bearerToken { try Self.validate(bearerToken: bearerToken, format: current.format) }
        let change = WebhookChange(
            url: body.url, name: body.name, eventTypes: body.eventTypes, isEnabled: body.enabled, bearerToken: body.bearerToken,
            headers: try body.headers.map { try Self.validate(headers: $0, format: current.format, maxBytes: quotas.headerBytesPerWebhook) },
            retryDelays: try body.retrySchedule.map { try Self.validate(retrySchedule: $0) },
            rateLimit: try body.rateLimit.map { try Self.validate(rateLimit: $0) })
        guard let webhook = try await store.updateWebhook(id: id, applicationID: principal.applicationID, change, now: clock.now()) else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        // Deliveries already claimed or queued in memory take the change at once (limit, enabled, URL, headers...).
        dispatcher.webhookChanged(id: webhook.id)
        if body.enabled == true { wake() }
        if webhook.format == "okra", let url = body.url, url != current.url {
            // The change is committed; a failed acknowledgement must not turn it into an error.
            do {
                try await acknowledgeCallbackChange(webhook)
            } catch {
                context.logger.error("publishing WEBHOOK_UPDATE_ACKNOWLEDGED failed", metadata: ["webhook.id": "\(webhook.id)", "error": "\(error)"])
            }
        }
        return try Response.json(WebhookView(webhook, now: clock.now()), status: .ok, context: context)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.readers, to: "list webhooks")
        let webhooks = try await store.webhooks(applicationID: principal.applicationID)
        return try Response.json(ListView(all: webhooks.map { WebhookView($0) }), status: .ok, context: context)
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.readers, to: "read webhooks")
        let id = try context.pathParameter("id")
        guard let webhook = try await store.webhook(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        return try Response.json(WebhookView(webhook, now: clock.now()), status: .ok, context: context)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.managers, to: "delete webhooks")
        let id = try context.pathParameter("id")
        guard try await store.deleteWebhook(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        dispatcher.webhookChanged(id: id)
        return Response(status: .noContent)
    }
}
