import BankHooksCore
import BankHooksStorage
import Foundation

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

/// What an attempt got back: members shown in an attempt and in a send's answer alike (written
/// into the object of either).
struct AttemptResultView: Encodable {
    var durationMs: Double
    @Null var status: Int?
    @Null var responseExcerpt: String?
    @Null var error: String?
    @Null var errorMessage: String?

    init(_ attempt: Attempt) {
        durationMs = Double(attempt.durationMicroseconds) / 1000
        status = attempt.status
        responseExcerpt = attempt.responseExcerpt
        error = attempt.errorKind?.rawValue
        errorMessage = attempt.errorMessage
    }
}

/// An attempt in a delivery's list.
struct AttemptView: Encodable {
    struct Identity: Encodable {
        var id: Int64
        var number: Int
        var startedAt: Timestamp
    }

    var identity: Identity
    var result: AttemptResultView

    init(_ attempt: Attempt) {
        identity = Identity(id: attempt.id ?? 0, number: attempt.number, startedAt: attempt.startedAt)
        result = AttemptResultView(attempt)
    }

    /// One object with the members of both parts.
    func encode(to encoder: any Encoder) throws {
        try identity.encode(to: encoder)
        try result.encode(to: encoder)
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
