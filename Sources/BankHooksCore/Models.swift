/// A tenant: one customer of the platform. Every other row belongs to one.
public struct Application: Hashable, Sendable {
    public enum Environment: String, Sendable, Codable, CaseIterable { case sandbox, production }

    public var id: String
    public var name: String
    public var environment: Environment
    public var createdAt: Timestamp
    /// Most webhooks it may have (the Lean Callback URL does not count).
    public var webhookLimit: Int
    /// Callback URLs registered for bank-authorisation redirects.
    public var redirectCallbacks: [String]
    /// Whether a `production` application may use plain `http://` webhook URLs (sandbox always may).
    public var allowsPlainHTTP: Bool

    /// Webhooks per application unless the operator sets another limit (Bridge seed).
    public static let defaultWebhookLimit = 10

    public init(
        id: String, name: String, environment: Environment, createdAt: Timestamp,
        webhookLimit: Int = Application.defaultWebhookLimit, redirectCallbacks: [String] = [], allowsPlainHTTP: Bool = false
    ) {
        self.id = id
        self.name = name
        self.environment = environment
        self.createdAt = createdAt
        self.webhookLimit = webhookLimit
        self.redirectCallbacks = redirectCallbacks
        self.allowsPlainHTTP = allowsPlainHTTP
    }

    /// Whether webhooks of this application may use `http://` URLs.
    public var acceptsPlainHTTP: Bool { environment == .sandbox || allowsPlainHTTP }
}

/// What an API key may do.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// The platform operator: manages applications, and acts as admin of the default application.
    case `operator`
    /// Everything within its application.
    case admin
    /// Publish and read.
    case developer
    /// Read only.
    case viewer
}

/// The caller a request was authenticated as.
public struct Principal: Hashable, Sendable {
    public var keyID: String
    public var applicationID: String
    public var role: Role

    public init(keyID: String, applicationID: String, role: Role) {
        self.keyID = keyID
        self.applicationID = applicationID
        self.role = role
    }
}

/// A stored API key: only a hash of the secret part is kept.
public struct APIKeyRecord: Hashable, Sendable {
    public var id: String
    public var applicationID: String
    public var role: Role
    /// SHA-256 of the whole key text.
    public var hash: [UInt8]
    public var createdAt: Timestamp
    public var revokedAt: Timestamp?

    public init(id: String, applicationID: String, role: Role, hash: [UInt8], createdAt: Timestamp, revokedAt: Timestamp? = nil) {
        self.id = id
        self.applicationID = applicationID
        self.role = role
        self.hash = hash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// What a webhook row is: an ordinary webhook, or the application's Lean Callback URL.
public enum WebhookKind: String, Hashable, Sendable, Codable {
    case webhook
    /// The application-level Lean Callback URL (seed 000): one per application, receives
    /// `bank_link.result` only, and does not count toward the webhook limit.
    case callbackURL = "callback_url"
}

/// An endpoint that receives events.
public struct Webhook: Hashable, Sendable {
    public var id: String
    public var applicationID: String
    public var url: String
    public var name: String?
    /// The event types it receives; nil means every type.
    public var eventTypes: [String]?
    /// The wire format's name.
    public var format: String
    /// The current secret.
    public var secret: WebhookSecret
    /// The secret before the last rotation, and until when it still signs.
    public var previousSecret: WebhookSecret?
    public var previousSecretExpiresAt: Timestamp?
    public var isEnabled: Bool
    /// Why it was disabled, when it was disabled by BankHooks (e.g. `gone`).
    public var disabledReason: String?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var kind: WebhookKind
    /// Okra: the token sent as `Authorization: Bearer <token>`.
    public var bearerToken: String?
    /// Custom headers, retry schedule and rate limit.
    public var settings: DeliverySettings

    public init(
        id: String, applicationID: String, url: String, name: String? = nil, eventTypes: [String]? = nil,
        format: String = "standard", secret: WebhookSecret, previousSecret: WebhookSecret? = nil,
        previousSecretExpiresAt: Timestamp? = nil, isEnabled: Bool = true, disabledReason: String? = nil,
        createdAt: Timestamp, updatedAt: Timestamp, kind: WebhookKind = .webhook, bearerToken: String? = nil,
        settings: DeliverySettings = DeliverySettings()
    ) {
        self.settings = settings
        self.kind = kind
        self.bearerToken = bearerToken
        self.id = id
        self.applicationID = applicationID
        self.url = url
        self.name = name
        self.eventTypes = eventTypes
        self.format = format
        self.secret = secret
        self.previousSecret = previousSecret
        self.previousSecretExpiresAt = previousSecretExpiresAt
        self.isEnabled = isEnabled
        self.disabledReason = disabledReason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The secrets that sign at `now`: the current one, and the previous one inside its grace period.
    public func validSecrets(at now: Timestamp) -> [WebhookSecret] {
        WebhookSecret.signing(current: secret, previous: previousSecret, previousExpiresAt: previousSecretExpiresAt, at: now)
    }
}

/// A published event.
public struct Event: Hashable, Sendable {
    public var id: String
    public var applicationID: String
    public var type: String
    public var timestamp: Timestamp
    /// The timestamp as the publisher wrote it (UTC only), when it gave one.
    public var timestampText: String?
    /// The data object exactly as published.
    public var data: [UInt8]
    public var createdAt: Timestamp

    public init(id: String, applicationID: String, type: String, timestamp: Timestamp, timestampText: String? = nil, data: [UInt8], createdAt: Timestamp) {
        self.timestampText = timestampText
        self.id = id
        self.applicationID = applicationID
        self.type = type
        self.timestamp = timestamp
        self.data = data
        self.createdAt = createdAt
    }
}

/// Where a delivery stands.
public enum DeliveryState: String, Sendable, Codable, CaseIterable {
    case pending, succeeded, failed, cancelled
}

/// One event to one webhook.
public struct Delivery: Hashable, Sendable {
    public var id: Int64
    public var eventID: String
    public var webhookID: String
    public var applicationID: String
    public var state: DeliveryState
    public var attempts: Int
    /// When the next attempt is due (pending deliveries only).
    public var nextAttemptAt: Timestamp?
    public var lastAttemptAt: Timestamp?
    public var lastStatus: Int?
    public var createdAt: Timestamp
    /// The event's type.
    public var eventType: String

    public init(
        id: Int64, eventID: String, webhookID: String, applicationID: String, state: DeliveryState, attempts: Int,
        nextAttemptAt: Timestamp?, lastAttemptAt: Timestamp?, lastStatus: Int?, createdAt: Timestamp, eventType: String = ""
    ) {
        self.eventType = eventType
        self.id = id
        self.eventID = eventID
        self.webhookID = webhookID
        self.applicationID = applicationID
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastAttemptAt = lastAttemptAt
        self.lastStatus = lastStatus
        self.createdAt = createdAt
    }
}

/// Why an attempt got no HTTP response.
public enum TransportErrorKind: String, Sendable, Codable, CaseIterable {
    /// The destination address is not allowed; no connection was made.
    case blocked
    case timeout
    /// The connection was refused or reset.
    case refused
    /// The host name did not resolve.
    case dns
    case tls
    /// The URL could not be used (bad scheme, host or port).
    case invalidURL = "invalid_url"
    /// Any other network failure.
    case network
}

/// How one webhook's deliveries are sent, beyond its format: extra headers, its own retry
/// schedule, and a rate limit. The default sends with the format's schedule, unlimited.
public struct DeliverySettings: Hashable, Sendable {
    /// Extra request headers, in order (never a format's signature headers).
    public var headers: [HTTPHeader]
    /// Seconds between attempts (the first attempt is immediate); nil uses the format's schedule.
    public var retryDelays: [Int]?
    /// Most deliveries per second; nil is unlimited. A limited delivery waits for its turn.
    public var rateLimit: Double?

    public init(headers: [HTTPHeader] = [], retryDelays: [Int]? = nil, rateLimit: Double? = nil) {
        self.headers = headers
        self.retryDelays = retryDelays
        self.rateLimit = rateLimit
    }

    /// The schedule these settings ask for, or nil for the format's own. Exact delays, no jitter.
    public var retrySchedule: RetrySchedule? {
        retryDelays.map { RetrySchedule(delays: [.zero] + $0.map { .seconds($0) }, jitter: 0) }
    }
}

/// One request header.
public struct HTTPHeader: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// One HTTP request of a delivery, as recorded.
public struct Attempt: Hashable, Sendable {
    /// The stored attempt's id (nil before it is recorded).
    public var id: Int64?
    /// The request headers sent, as JSON text with secrets redacted.
    public var requestHeaders: String?
    public var deliveryID: Int64
    /// 1 for the first attempt of the delivery.
    public var number: Int
    public var startedAt: Timestamp
    public var durationMicroseconds: Int64
    public var status: Int?
    /// The first bytes of the response body (up to 4 KiB).
    public var responseExcerpt: String?
    public var errorKind: TransportErrorKind?
    public var errorMessage: String?

    public init(
        deliveryID: Int64, number: Int, startedAt: Timestamp, durationMicroseconds: Int64, status: Int?,
        responseExcerpt: String?, errorKind: TransportErrorKind?, errorMessage: String?, requestHeaders: String? = nil, id: Int64? = nil
    ) {
        self.id = id
        self.requestHeaders = requestHeaders
        self.deliveryID = deliveryID
        self.number = number
        self.startedAt = startedAt
        self.durationMicroseconds = durationMicroseconds
        self.status = status
        self.responseExcerpt = responseExcerpt
        self.errorKind = errorKind
        self.errorMessage = errorMessage
    }
}

/// An event type an application registered itself (family `custom`).
public struct CustomEventType: Hashable, Sendable {
    public var applicationID: String
    public var name: String
    public var description: String
    /// A JSON Schema of its data, kept for documentation only.
    public var schema: String?
    public var createdAt: Timestamp

    public init(applicationID: String, name: String, description: String, schema: String?, createdAt: Timestamp) {
        self.applicationID = applicationID
        self.name = name
        self.description = description
        self.schema = schema
        self.createdAt = createdAt
    }
}

/// Background work that re-sends a webhook's failed deliveries created in `[since, until)`: those
/// already failed when the job was created (a delivery that fails later is not its work).
public struct Recovery: Hashable, Sendable {
    public enum State: String, Sendable, Codable { case running, completed }

    public var id: String
    public var applicationID: String
    public var webhookID: String
    public var since: Timestamp
    public var until: Timestamp?
    public var state: State
    /// The newest delivery it covers (fixed at creation: later failures are not its work).
    public var lastDeliveryID: Int64
    /// The last delivery id handled; the job resumes after it.
    public var cursor: Int64
    /// Failed deliveries it covers, counted at creation.
    public var total: Int
    public var processed: Int
    public var succeeded: Int
    public var failed: Int
    public var createdAt: Timestamp
    public var finishedAt: Timestamp?

    public init(
        id: String, applicationID: String, webhookID: String, since: Timestamp, until: Timestamp?, state: State = .running,
        lastDeliveryID: Int64 = 0, cursor: Int64 = 0, total: Int = 0, processed: Int = 0, succeeded: Int = 0, failed: Int = 0,
        createdAt: Timestamp, finishedAt: Timestamp? = nil
    ) {
        self.id = id
        self.applicationID = applicationID
        self.webhookID = webhookID
        self.since = since
        self.until = until
        self.state = state
        self.lastDeliveryID = lastDeliveryID
        self.cursor = cursor
        self.total = total
        self.processed = processed
        self.succeeded = succeeded
        self.failed = failed
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }
}

/// An event as an event list shows it (without its data).
public struct EventSummary: Hashable, Sendable {
    public var seq: Int64
    public var id: String
    public var type: String
    public var timestamp: Timestamp
    public var createdAt: Timestamp

    public init(seq: Int64, id: String, type: String, timestamp: Timestamp, createdAt: Timestamp) {
        self.seq = seq
        self.id = id
        self.type = type
        self.timestamp = timestamp
        self.createdAt = createdAt
    }
}
