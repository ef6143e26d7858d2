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
    let registry: EventTypeRegistry
    let publisher: Publisher
    let dispatcher: Dispatcher
    let clock: any WallClock
    /// Tells the dispatcher that deliveries may have become due (a webhook was enabled again).
    let wake: @Sendable () -> Void
    /// Bounds on a webhook's subscription and custom headers.
    var quotas = TenantQuotas()

    static let managers: Set<Role> = [.operator, .admin]
    /// How long a rotated-out secret keeps signing.
    static let rotationGracePeriod: Duration = .seconds(24 * 3600)

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

    struct ListView: Encodable {
        var data: [WebhookView]
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.managers, to: "create webhooks")
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

    static func validate(bearerToken: String?, format: String) throws {
        guard let bearerToken else { return }
        guard format == "okra" else {
            throw Problem.invalidField("/bearer_token", "`bearer_token` is an okra webhook setting; this webhook's format is `\(format)`")
        }
        guard (1...512).contains(bearerToken.utf8.count), bearerToken.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw Problem.invalidField("/bearer_token", "`bearer_token` must be 1 to 512 printable ASCII characters without spaces")
        }
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.managers, to: "change webhooks")
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

    /// Okra's `RECORD.WEBHOOK_UPDATE_ACKNOWLEDGED`, sent to the webhook's new URL. BankHooks has one
    /// callback per webhook rather than per record, so `record` is the webhook's id.
    func acknowledgeCallbackChange(_ webhook: Webhook) async throws {
        var data = Array(#"{"record":"#.utf8)
        JSONWriter.appendString(webhook.id, to: &data)
        data.append(contentsOf: #","error":null,"new_callback_url":"#.utf8)
        JSONWriter.appendString(webhook.url, to: &data)
        data.append(UInt8(ascii: "}"))
        let now = clock.now()
        _ = try await publisher.publish(PublishRequest(
            applicationID: webhook.applicationID, eventID: Identifier.make("evt", at: now), idempotencyKey: nil,
            type: "RECORD.WEBHOOK_UPDATE_ACKNOWLEDGED", timestamp: now, data: data, subject: webhook.id, onlyWebhookID: webhook.id))
    }

    // MARK: Secrets

    @Sendable func rotateSecret(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.managers, to: "rotate webhook secrets")
        let id = try context.pathParameter("id")
        let now = clock.now()
        guard let webhook = try await store.rotateSecret(
            id: id, applicationID: principal.applicationID, newSecret: .generate(),
            previousValidUntil: now.adding(Self.rotationGracePeriod), now: now) else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        dispatcher.webhookChanged(id: webhook.id)
        return try Response.json(WebhookView(webhook, showingSecret: true, now: now), status: .ok, context: context)
    }

    // MARK: Send a test

    /// Publishes the format's test event to this webhook only, already leased so no claim takes it,
    /// sends it at once, and answers with the attempt (recorded like any other; never retried).
    @Sendable func sendTest(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.managers, to: "send test events")
        let id = try context.pathParameter("id")
        guard let webhook = try await store.webhook(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        guard webhook.isEnabled else {
            throw Problem(.conflict, "webhook-disabled", title: "The webhook is disabled",
                          detail: "enable it (PATCH {\"enabled\": true}) before sending a test", field: "path:id")
        }
        // An in-flight slot before anything is published: a test counts against the webhook's bounds (429 when it stays full).
        let slot = try await dispatcher.reserveClientSlot(webhookID: webhook.id, applicationID: webhook.applicationID)
        let format = formats[webhook.format] ?? StandardWebhooksFormat()
        let now = clock.now()
        let data = format.testEventData(webhookID: webhook.id)
        let lease = PublishLease(owner: "test/" + Identifier.make("t", at: now), until: now.adding(format.timeout).adding(.seconds(60)))
        let event = OutboundEvent(id: Identifier.make("evt", at: now), type: format.testEventType, timestamp: now, data: data)
        let published = try await publisher.publish(PublishRequest(
            applicationID: webhook.applicationID, eventID: event.id, idempotencyKey: nil, type: event.type, timestamp: now,
            data: data, onlyWebhookID: webhook.id, lease: lease))
        guard let deliveryID = published.deliveryIDs.first else {
            throw Problem(.conflict, "webhook-disabled", title: "The webhook is disabled", detail: "it was disabled meanwhile", field: "path:id")
        }
        let attempt = try await dispatcher.sendNow(ClaimedDelivery(
            id: deliveryID, leaseOwner: lease.owner, attemptsMade: 0, dueAt: now, eventKey: 0, event: event,
            webhook: ClaimedWebhook(webhook)), slot: slot)
        let result = SendResultView(attempt, eventID: event.id, type: event.type, succeeded: dispatcher.succeeded(attempt, format: webhook.format))
        return try Response.json(result, status: .ok, context: context)
    }

    // MARK: Lean Callback URL

    /// `PUT /v1/callback-url` body.
    struct CallbackURLRequest: Decodable {
        var url: String
    }

    func callbackWebhook(applicationID: String) async throws -> Webhook? {
        try await store.webhooks(applicationID: applicationID).first { $0.kind == .callbackURL }
    }

    @Sendable func getCallbackURL(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(EventsController.readers, to: "read the callback URL")
        guard let webhook = try await callbackWebhook(applicationID: principal.applicationID) else {
            throw Problem.notFound("callback URL")
        }
        return try Response.json(WebhookView(webhook, now: clock.now()), status: .ok, context: context)
    }

    /// Sets the application's Lean Callback URL: a lean-format endpoint that receives every
    /// `bank_link.result` (seed 000). Created with its secret on first use, its URL changed after.
    @Sendable func putCallbackURL(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.managers, to: "set the callback URL")
        let body = try await decodeBody(CallbackURLRequest.self, from: request, context: context)
        try WebhookURL.validate(body.url, pointer: "/url")
        try await requireHTTPSIfProduction(body.url, applicationID: principal.applicationID)
        let now = clock.now()
        if let existing = try await callbackWebhook(applicationID: principal.applicationID) {
            guard let webhook = try await store.updateWebhook(
                id: existing.id, applicationID: principal.applicationID, WebhookChange(url: body.url, isEnabled: true), now: now) else {
                throw Problem.notFound("callback URL")
            }
            dispatcher.webhookChanged(id: webhook.id)
            return try Response.json(WebhookView(webhook, now: now), status: .ok, context: context)
        }
        let webhook = Webhook(
            id: Identifier.make("wh", at: now), applicationID: principal.applicationID, url: body.url, name: "Lean Callback URL",
            eventTypes: [LeanFormat.callbackEventType], format: "lean", secret: .generate(), createdAt: now, updatedAt: now,
            kind: .callbackURL)
        try await store.createWebhook(webhook)
        return try Response.json(WebhookView(webhook, showingSecret: true), status: .created, context: context)
    }

    @Sendable func deleteCallbackURL(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.managers, to: "remove the callback URL")
        guard let webhook = try await callbackWebhook(applicationID: principal.applicationID),
              try await store.deleteWebhook(id: webhook.id, applicationID: principal.applicationID) else {
            throw Problem.notFound("callback URL")
        }
        dispatcher.webhookChanged(id: webhook.id)
        return Response(status: .noContent)
    }

    /// Custom headers: at most 20, each an HTTP token name that is not reserved (signature, id and
    /// framing headers; okra's `Authorization`, which `bearer_token` sets) with a value of at most
    /// 1,024 printable characters, all names and values together at most `maxBytes`. Returned sorted by name.
    static func validate(headers: [String: String], format: String, maxBytes: Int) throws -> [HTTPHeader] {
        guard headers.count <= 20 else { throw Problem.invalidField("/headers", "at most 20 custom headers") }
        let size = headers.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        guard size <= maxBytes else {
            throw Problem.invalidField("/headers", "the custom headers are \(size.formatted()) bytes (names and values); the header_bytes_per_webhook quota is \(maxBytes.formatted()) bytes")
        }
        var result: [HTTPHeader] = []
        var seen: Set<String> = []
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            let pointer = "/headers/" + name.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
            let lower = name.lowercased()
            guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy(Self.isTokenCharacter) else {
                throw Problem.invalidField(pointer, "`\(name)` is not a header name (1 to 64 letters, digits and !#$%&'*+-.^_`|~)")
            }
            guard !RecordedHeaders.reserved.contains(lower), !(format == "okra" && lower == "authorization") else {
                throw Problem.invalidField(pointer, "`\(name)` is set by BankHooks itself and cannot be a custom header\(lower == "authorization" ? "; okra webhooks take `bearer_token`" : "")")
            }
            guard seen.insert(lower).inserted else { throw Problem.invalidField(pointer, "`\(name)` appears twice (header names are case-insensitive)") }
            guard value.utf8.count <= 1024, value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw Problem.invalidField(pointer, "a header value is at most 1,024 characters, without control characters or line breaks")
            }
            result.append(HTTPHeader(name: name, value: value))
        }
        return result
    }

    private static func isTokenCharacter(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || "!#$%&'*+-.^_`|~".utf8.contains(b)
    }

    /// A retry schedule: 1 to 20 delays of 1 to 86,400 seconds (nil: the format's schedule).
    static func validate(retrySchedule: [Int]?) throws -> [Int]? {
        guard let delays = retrySchedule else { return nil }
        guard (1...20).contains(delays.count) else {
            throw Problem.invalidField("/retry_schedule", "`retry_schedule` lists 1 to 20 delays in seconds (or is null for the format's schedule)")
        }
        for (i, delay) in delays.enumerated() where !(1...86_400).contains(delay) {
            throw Problem.invalidField("/retry_schedule/\(i)", "each delay is 1 to 86,400 seconds, not \(delay)")
        }
        return delays
    }

    /// A rate limit: 0.01 (one delivery every 100 s) to 10,000 deliveries per second (nil: unlimited).
    static func validate(rateLimit: Double?) throws -> Double? {
        guard let rate = rateLimit else { return nil }
        guard rate >= 0.01, rate <= 10_000 else {
            throw Problem.invalidField("/rate_limit", "`rate_limit` is deliveries per second, from 0.01 to 10,000 (or null for none)")
        }
        return rate
    }

    static func validate(name: String?) throws {
        if let name, name.utf8.count > 200 { throw Problem.invalidField("/name", "`name` is at most 200 bytes of UTF-8") }
    }

    /// A subscription: 1 to `limit` distinct valid names, or nil for every type.
    static func validate(eventTypes: [String]?, limit: Int) throws {
        guard let types = eventTypes else { return }
        guard !types.isEmpty else {
            throw Problem.invalidField("/event_types", "`event_types` must name at least one type, or be omitted (or null) for every type")
        }
        guard types.count <= limit else {
            throw Problem.invalidField(
                "/event_types", "`event_types` names \(types.count.formatted()) types; the event_types_per_webhook quota is \(limit.formatted()) (null subscribes to every type)")
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
        let id = try context.pathParameter("id")
        guard let webhook = try await store.webhook(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        return try Response.json(WebhookView(webhook, now: clock.now()), status: .ok, context: context)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.managers, to: "delete webhooks")
        let id = try context.pathParameter("id")
        guard try await store.deleteWebhook(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        dispatcher.webhookChanged(id: id)
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
    try decodeJSON(type, from: try await collectJSONBody(request, context: context), context: context)
}

/// The request body, checked to be well-formed JSON (a 400 naming the offset otherwise) without
/// NUL in any string: every text a JSON body can store (names, URLs, header values, descriptions,
/// callbacks, schemas) passes here, and NUL is refused rather than cut at some later layer.
func collectJSONBody(_ request: Request, context: AppRequestContext) async throws -> ByteBuffer {
    var request = request
    let buffer = try await request.collectBody(upTo: context.maxUploadSize)
    do {
        _ = try buffer.withUnsafeReadableBytes { try JSONScanner.validate($0) }
    } catch let error as JSONSyntaxError {
        throw Problem.malformedJSON(error)
    }
    if buffer.withUnsafeReadableBytes(JSONText.containsEscapedNUL) {
        throw Problem.invalidField(JSONText.pointerToNUL(in: Data(buffer: buffer)), "text must not contain NUL (U+0000)")
    }
    return buffer
}

/// Checks on the text of a well-formed JSON body.
enum JSONText {
    /// Whether a string (member name or value) holds a `\u0000` escape; a raw NUL byte is not valid JSON at all.
    static func containsEscapedNUL(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let backslash = UInt8(ascii: "\\"), quote = UInt8(ascii: "\""), zero = UInt8(ascii: "0")
        var i = 0
        var isInString = false
        while i < bytes.count {
            let byte = bytes[i]
            if isInString {
                if byte == backslash {
                    if i + 5 < bytes.count, bytes[i + 1] == UInt8(ascii: "u"), bytes[i + 2] == zero, bytes[i + 3] == zero,
                       bytes[i + 4] == zero, bytes[i + 5] == zero {
                        return true
                    }
                    i += 2
                    continue
                }
                if byte == quote { isInString = false }
            } else if byte == quote {
                isInString = true
            }
            i += 1
        }
        return false
    }

    /// The JSON pointer of the first member name or string value holding NUL ("/" if none is found).
    static func pointerToNUL(in data: Data) -> String {
        func escape(_ key: String) -> String { key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
        func find(_ value: Any, _ path: String) -> String? {
            if let text = value as? String { return text.contains("\u{0}") ? path : nil }
            if let array = value as? [Any] {
                for (index, item) in array.enumerated() { if let found = find(item, path + "/\(index)") { return found } }
            }
            if let object = value as? [String: Any] {
                for key in object.keys.sorted() {
                    if key.contains("\u{0}") { return path + "/" + escape(key) }
                    if let item = object[key], let found = find(item, path + "/" + escape(key)) { return found }
                }
            }
            return nil
        }
        guard let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return "/" }
        return find(value, "").map { $0.isEmpty ? "/" : $0 } ?? "/"
    }
}

/// Decodes a well-formed JSON body, turning every decoding failure into a problem that names the field.
func decodeJSON<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer, context: AppRequestContext) throws -> T {
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
