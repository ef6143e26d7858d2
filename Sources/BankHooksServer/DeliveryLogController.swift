import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import Foundation
import Hummingbird
import NIOCore

/// The delivery log and recovery: event lists, deliveries per webhook and per event, a delivery
/// with its attempts, an attempt's request and response, resending one delivery, and recovery
/// jobs. Lists are keyset pages, newest first: `limit` (1–100, default 50) and `cursor` (the
/// previous page's `next_cursor`). New rows never shift a page being read.
struct DeliveryLogController {
    let store: any Store
    let dispatcher: Dispatcher
    let recoveries: RecoveryRunner
    let clock: any WallClock

    static let readers = EventsController.readers
    static let senders = EventsController.publishers

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("events", use: listEvents)
        group.get("events/:id/deliveries", use: eventDeliveries)
        group.get("webhooks/:id/deliveries", use: webhookDeliveries)
        group.get("deliveries/:id", use: getDelivery)
        group.post("deliveries/:id/resend", use: resend)
        group.get("attempts/:id", use: getAttempt)
        group.post("webhooks/:id/recover", use: recover)
        group.get("recoveries/:id", use: getRecovery)
    }

    // MARK: Views

    struct ListView<Item: Encodable & Sendable>: Encodable {
        var data: [Item]
        @Null var nextCursor: String?
    }

    struct EventSummaryView: Encodable {
        var id: String
        var type: String
        var timestamp: Timestamp
        var createdAt: Timestamp
    }

    // MARK: Events

    @Sendable func listEvents(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.readers, to: "read events")
        let query = request.uri.queryParameters
        let limit = try PageQuery.limit(query)
        var filter = EventFilter()
        if let type = query.get("type") {
            guard EventTypeName.isValid(type) else { throw PageQuery.invalid("type", "`type` is not a valid event type name") }
            filter.type = type
        }
        filter.since = try PageQuery.time(query, "since")
        filter.until = try PageQuery.time(query, "until")
        var after: EventCursor?
        if let text = query.get("cursor") { after = try PageQuery.eventCursor(text) }
        let page = try await store.events(applicationID: principal.applicationID, filter: filter, after: after, limit: limit)
        let next = page.hasMore ? page.items.last.map { PageQuery.encodeCursor(EventCursor(createdAt: $0.createdAt.milliseconds, seq: $0.seq)) } : nil
        let view = ListView(
            data: page.items.map { EventSummaryView(id: $0.id, type: $0.type, timestamp: $0.timestamp, createdAt: $0.createdAt) },
            nextCursor: next)
        return try Response.json(view, status: .ok, context: context)
    }

    // MARK: Deliveries

    @Sendable func eventDeliveries(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.readers, to: "read deliveries")
        let id = try context.pathParameter("id")
        return try await deliveries(of: .event(id), what: "event \(id)", principal: principal, request: request, context: context)
    }

    @Sendable func webhookDeliveries(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.readers, to: "read deliveries")
        let id = try context.pathParameter("id")
        return try await deliveries(of: .webhook(id), what: "webhook \(id)", principal: principal, request: request, context: context)
    }

    private func deliveries(of owner: DeliveryOwner, what: String, principal: Principal, request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let limit = try PageQuery.limit(query)
        var state: DeliveryState?
        if let text = query.get("status") {
            guard let value = DeliveryState(rawValue: text) else {
                throw PageQuery.invalid("status", "`status` must be one of pending, succeeded, failed, cancelled")
            }
            state = value
        }
        var before: Int64?
        if let text = query.get("cursor") {
            before = try PageQuery.deliveryCursor(text)
        }
        guard let page = try await store.deliveries(applicationID: principal.applicationID, of: owner, state: state, before: before, limit: limit) else {
            throw Problem.notFound(what, field: "path:id")
        }
        let next = page.hasMore ? page.items.last.map { PageQuery.encodeCursor(String($0.id)) } : nil
        return try Response.json(ListView(data: page.items.map { DeliveryView($0) }, nextCursor: next), status: .ok, context: context)
    }

    @Sendable func getDelivery(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.readers, to: "read deliveries")
        let id = try Self.integerID(context)
        guard let delivery = try await store.delivery(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("delivery \(id)", field: "path:id")
        }
        return try Response.json(DeliveryView(delivery, attempts: try await store.attempts(deliveryID: id)), status: .ok, context: context)
    }

    @Sendable func getAttempt(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.readers, to: "read attempts")
        let id = try Self.integerID(context)
        guard let (attempt, webhookID) = try await store.attempt(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("attempt \(id)", field: "path:id")
        }
        return try Response.json(AttemptDetailView(attempt, webhookID: webhookID), status: .ok, context: context)
    }

    /// A path id that must be a positive integer; anything else names nothing (404).
    static func integerID(_ context: AppRequestContext) throws -> Int64 {
        let text = try context.pathParameter("id")
        guard let id = Int64(text), id > 0 else { throw Problem.notFound("`\(text)`", field: "path:id") }
        return id
    }

    // MARK: Resend

    /// Sends one delivery again now, whatever its state: one new attempt, recorded, answered like a
    /// test. A pending delivery that fails again keeps its place in its retry schedule.
    @Sendable func resend(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.senders, to: "resend deliveries")
        let id = try Self.integerID(context)
        guard let target = try await store.delivery(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("delivery \(id)", field: "path:id")
        }
        // The in-flight slot first (a 429 when the webhook stays full), then the lease: a refused resend changes nothing.
        let slot = try await dispatcher.reserveClientSlot(webhookID: target.webhookID, applicationID: principal.applicationID)
        let now = clock.now()
        let owner = "resend/" + Identifier.make("r", at: now)
        let leased: (delivery: ClaimedDelivery, previous: DeliveryState)?
        do {
            leased = try await store.leaseForSend(
                deliveryID: id, applicationID: principal.applicationID, owner: owner, until: now.adding(.seconds(120)), now: now,
                expecting: nil, attemptedBefore: nil)
        } catch let error as StoreError where error.code == .conflict {
            slot.release()
            throw Problem(.conflict, "delivery-busy", title: "The delivery cannot be sent now", detail: error.message, field: "path:id")
        }
        guard let (delivery, previous) = leased else {
            slot.release()
            throw Problem.notFound("delivery \(id)", field: "path:id")
        }
        let failure: DeliveryOutcome = previous == .pending ? .retry(at: delivery.dueAt) : .failed
        let attempt = try await dispatcher.sendNow(delivery, slot: slot, failure: failure)
        // A pending delivery that failed again is due at its old (perhaps past) time.
        if previous == .pending { dispatcher.wake() }
        let view = SendResultView(
            attempt, eventID: delivery.event.id, type: delivery.event.type, succeeded: dispatcher.succeeded(attempt, format: delivery.webhook.format))
        return try Response.json(view, status: .ok, context: context)
    }

    // MARK: Recovery

    struct RecoverRequest: Decodable {
        var since: Timestamp
        var until: Timestamp?

        enum CodingKeys: String, CodingKey { case since, until }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownMembers(["since", "until"])
            let c = try decoder.container(keyedBy: CodingKeys.self)
            since = try c.decode(Timestamp.self, forKey: .since)
            until = try c.decodeIfPresent(Timestamp.self, forKey: .until)
        }
    }

    struct RecoveryView: Encodable {
        var id: String
        var webhookId: String
        var since: Timestamp
        @Null var until: Timestamp?
        var state: Recovery.State
        var total: Int
        var processed: Int
        var succeeded: Int
        var failed: Int
        var createdAt: Timestamp
        @Null var finishedAt: Timestamp?

        init(_ r: Recovery) {
            (id, webhookId, since, until, state) = (r.id, r.webhookID, r.since, r.until, r.state)
            (total, processed, succeeded, failed, createdAt, finishedAt) = (r.total, r.processed, r.succeeded, r.failed, r.createdAt, r.finishedAt)
        }
    }

    /// Starts re-sending every failed delivery of the webhook created in `[since, until)`, in the
    /// background: one new attempt each. Answers 202 with the job; `GET /v1/recoveries/{id}` shows progress.
    /// While a recovery of the webhook is running, no second one starts: the answer is 200 with the
    /// running job (whatever window it covers), so a repeated request never sends anything twice.
    @Sendable func recover(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(WebhooksController.managers, to: "recover deliveries")
        let id = try context.pathParameter("id")
        let body = try await decodeBody(RecoverRequest.self, from: request, context: context)
        if let until = body.until, until <= body.since {
            throw Problem.invalidField("/until", "`until` must be after `since`")
        }
        let now = clock.now()
        guard let (job, created) = try await store.createRecovery(Recovery(
            id: Identifier.make("rcv", at: now), applicationID: principal.applicationID, webhookID: id, since: body.since,
            until: body.until, createdAt: now)) else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        if created { recoveries.wake() }
        var response = try Response.json(RecoveryView(job), status: created ? .accepted : .ok, context: context)
        response.headers[.location] = "/v1/recoveries/\(job.id)"
        return response
    }

    @Sendable func getRecovery(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.readers, to: "read recoveries")
        let id = try context.pathParameter("id")
        guard let job = try await store.recovery(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("recovery \(id)", field: "path:id")
        }
        return try Response.json(RecoveryView(job), status: .ok, context: context)
    }
}

extension Dispatcher {
    /// An in-flight slot for a send a client waits for ("Send a test", a resend), counted against the
    /// same bounds as every delivery. When the webhook (or its application, or the whole dispatcher)
    /// stays full for the wait, a 429 problem with `Retry-After`: a flood of tests or resends cannot
    /// open more connections to a receiver than its bound.
    func reserveClientSlot(webhookID: String, applicationID: String) async throws -> SendSlot {
        do {
            return try await reserveSendSlot(webhookID: webhookID, applicationID: applicationID, waitingAtMost: sendSlotWait)
        } catch let error as DispatcherBusyError {
            var problem = Problem(.tooManyRequests, "webhook-busy", title: "The webhook has no free in-flight slot", detail: "\(error); try again shortly")
            problem.headers[.retryAfter] = "1"
            throw problem
        }
    }
}

/// Page parameters and cursors. A cursor is opaque to clients: base64url of the last row's key.
enum PageQuery {
    static let defaultLimit = 50
    static let maxLimit = 100

    static func invalid(_ name: String, _ detail: String) -> Problem {
        Problem(.badRequest, "invalid-query", title: "A query parameter is invalid", detail: detail, field: "query:\(name)")
    }

    static let badCursor = invalid("cursor", "`cursor` is not a cursor this list gave out (use `next_cursor` as it is)")

    static func limit(_ query: Parameters) throws -> Int {
        guard let text = query.get("limit") else { return defaultLimit }
        guard let limit = Int(text), (1...maxLimit).contains(limit) else {
            throw invalid("limit", "`limit` must be an integer from 1 to \(maxLimit)")
        }
        return limit
    }

    static func time(_ query: Parameters, _ name: String) throws -> Timestamp? {
        guard let text = query.get(name) else { return nil }
        guard let time = Timestamp(iso8601: text) else {
            throw invalid(name, "`\(name)` must be an RFC 3339 date-time such as 2026-11-24T09:00:00Z")
        }
        return time
    }

    static func encodeCursor(_ key: String) -> String {
        Data(key.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The key inside a cursor: only one this list could have given out (base64url without
    /// padding, written exactly as `encodeCursor` writes it), so no two texts name one page.
    static func cursor(_ text: String, maxLength: Int = 64) throws -> String {
        // Checked before any work on the text (a query can be kilobytes long).
        guard text.utf8.count <= maxLength else { throw badCursor }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64.append("=") }
        guard let data = Data(base64Encoded: base64), let key = String(data: data, encoding: .utf8), encodeCursor(key) == text else { throw badCursor }
        return key
    }

    /// An event list's cursor: `<created_at ms>.<seq>` of the last event of the page before.
    static func eventCursor(_ text: String) throws -> EventCursor {
        let parts = try cursor(text).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let created = decimal(parts[0]), let seq = decimal(parts[1]) else { throw badCursor }
        return EventCursor(createdAt: created, seq: seq)
    }

    static func encodeCursor(_ cursor: EventCursor) -> String { encodeCursor("\(cursor.createdAt).\(cursor.seq)") }

    /// A delivery list's cursor: the id of the last delivery of the page before.
    static func deliveryCursor(_ text: String) throws -> Int64 {
        guard let id = decimal(Substring(try cursor(text))), id > 0 else { throw badCursor }
        return id
    }

    /// A number as keys are written: decimal digits without sign or leading zeros, within Int64.
    static func decimal(_ text: Substring) -> Int64? {
        guard let first = text.utf8.first, first != UInt8(ascii: "0") || text.utf8.count == 1,
              text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(text)
    }
}

/// A delivery as the API shows it; with its attempts when `attempts` is given.
struct DeliveryView: Encodable {
    var id: Int64
    var eventId: String
    var eventType: String
    var webhookId: String
    var state: DeliveryState
    var attemptCount: Int
    @Null var nextAttemptAt: Timestamp?
    @Null var lastAttemptAt: Timestamp?
    @Null var lastStatus: Int?
    var createdAt: Timestamp
    var attempts: [AttemptView]?

    init(_ delivery: Delivery, attempts: [Attempt]? = nil) {
        id = delivery.id
        eventId = delivery.eventID
        eventType = delivery.eventType
        webhookId = delivery.webhookID
        state = delivery.state
        attemptCount = delivery.attempts
        nextAttemptAt = delivery.nextAttemptAt
        lastAttemptAt = delivery.lastAttemptAt
        lastStatus = delivery.lastStatus
        createdAt = delivery.createdAt
        self.attempts = attempts?.map(AttemptView.init)
    }
}

/// An attempt in a delivery's list.
struct AttemptView: Encodable {
    var id: Int64
    var number: Int
    var startedAt: Timestamp
    var durationMs: Double
    @Null var status: Int?
    @Null var responseExcerpt: String?
    @Null var error: String?
    @Null var errorMessage: String?

    init(_ attempt: Attempt) {
        id = attempt.id ?? 0
        number = attempt.number
        startedAt = attempt.startedAt
        durationMs = Double(attempt.durationMicroseconds) / 1000
        status = attempt.status
        responseExcerpt = attempt.responseExcerpt
        error = attempt.errorKind?.rawValue
        errorMessage = attempt.errorMessage
    }
}

/// One attempt in full: what was sent (headers, secrets redacted) and what came back.
struct AttemptDetailView: Encodable {
    var attempt: AttemptView
    var deliveryId: Int64
    var webhookId: String
    /// Raw JSON object text, spliced in as it was recorded.
    var requestHeaders: String

    init(_ attempt: Attempt, webhookID: String) {
        self.attempt = AttemptView(attempt)
        deliveryId = attempt.deliveryID
        webhookId = webhookID
        requestHeaders = attempt.requestHeaders ?? "{}"
    }

    func encode(to encoder: any Encoder) throws {
        try attempt.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(deliveryId, forKey: .deliveryId)
        try c.encode(webhookId, forKey: .webhookId)
        let headers = (try? JSONDecoder().decode([String: String].self, from: Data(requestHeaders.utf8))) ?? [:]
        try c.encode(headers, forKey: .requestHeaders)
    }

    enum CodingKeys: String, CodingKey { case deliveryId, webhookId, requestHeaders }
}

/// The answer of a send outside the schedule ("Send a test", a resend): the attempt's result.
struct SendResultView: Encodable {
    var eventId: String
    var deliveryId: Int64
    @Null var attemptId: Int64?
    var type: String
    var succeeded: Bool
    @Null var status: Int?
    var durationMs: Double
    @Null var responseExcerpt: String?
    @Null var error: String?
    @Null var errorMessage: String?

    init(_ attempt: Attempt, eventID: String, type: String, succeeded: Bool) {
        eventId = eventID
        deliveryId = attempt.deliveryID
        attemptId = attempt.id
        self.type = type
        self.succeeded = succeeded
        status = attempt.status
        durationMs = Double(attempt.durationMicroseconds) / 1000
        responseExcerpt = attempt.responseExcerpt
        error = attempt.errorKind?.rawValue
        errorMessage = attempt.errorMessage
    }
}

/// Any member name, for finding the ones a body may not have.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// Refuses an object member outside `allowed` (names as decoded), naming it.
    func rejectUnknownMembers(_ allowed: Set<String>) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        if let unknown = container.allKeys.first(where: { !allowed.contains($0.stringValue) }) {
            throw DecodingError.dataCorruptedError(
                forKey: unknown, in: container,
                debugDescription: "unknown member; expected \(allowed.sorted().map(Problem.snakeCase).joined(separator: ", "))")
        }
    }
}
