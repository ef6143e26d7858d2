import BankHooksCore

/// One event to publish, as the store receives it.
public struct PublishRequest: Sendable {
    public var applicationID: String
    /// The event id: the client's, or a generated one.
    public var eventID: String
    /// The client's `Idempotency-Key`, when it sent one.
    public var idempotencyKey: String?
    public var type: String
    public var timestamp: Timestamp
    /// The timestamp text as the publisher wrote it (UTC only).
    public var timestampText: String?
    /// The data object exactly as published.
    public var data: [UInt8]
    /// What the event is about, for lookups (an Okra record id).
    public var subject: String?
    /// The webhook formats that can carry the type; nil means every format.
    public var formats: Set<String>?
    /// Deliver only to webhooks that list the type by name (not to "every type" subscriptions).
    public var explicitOnly: Bool
    /// Deliver only to this webhook (a test, an acknowledgement of its own change).
    public var onlyWebhookID: String?
    /// Create the delivery already leased to this claim (a test sent at once by the caller).
    public var lease: PublishLease?

    public init(
        applicationID: String, eventID: String, idempotencyKey: String?, type: String, timestamp: Timestamp,
        timestampText: String? = nil, data: [UInt8], subject: String? = nil, formats: Set<String>? = nil,
        explicitOnly: Bool = false, onlyWebhookID: String? = nil, lease: PublishLease? = nil
    ) {
        self.timestampText = timestampText
        self.subject = subject
        self.formats = formats
        self.explicitOnly = explicitOnly
        self.onlyWebhookID = onlyWebhookID
        self.lease = lease
        self.applicationID = applicationID
        self.eventID = eventID
        self.idempotencyKey = idempotencyKey
        self.type = type
        self.timestamp = timestamp
        self.data = data
    }
}

extension PublishRequest {
    /// Which webhooks the event goes to, as Core's fan-out rule reads it.
    public var fanOut: FanOut {
        FanOut(type: type, formats: formats, explicitOnly: explicitOnly, onlyWebhookID: onlyWebhookID)
    }
}

/// A lease a publish gives its delivery at once, so no dispatcher claims it.
public struct PublishLease: Hashable, Sendable {
    public var owner: String
    public var until: Timestamp

    public init(owner: String, until: Timestamp) {
        self.owner = owner
        self.until = until
    }
}

/// What a publish committed (or, for a repeat, what the first one committed).
public struct PublishResult: Hashable, Sendable {
    public var eventID: String
    public var type: String
    public var timestamp: Timestamp
    /// How many deliveries the event fanned out to.
    public var deliveryCount: Int
    /// True when this answers a repeat of an earlier publish and created nothing.
    public var isReplay: Bool
    /// The ids of the deliveries created, for a publish to one webhook (`onlyWebhookID`); empty otherwise.
    public var deliveryIDs: [Int64] = []

    public init(eventID: String, type: String, timestamp: Timestamp, deliveryCount: Int, isReplay: Bool, deliveryIDs: [Int64] = []) {
        self.deliveryIDs = deliveryIDs
        self.eventID = eventID
        self.type = type
        self.timestamp = timestamp
        self.deliveryCount = deliveryCount
        self.isReplay = isReplay
    }
}

/// The webhook fields a send needs, read with the claim.
public struct ClaimedWebhook: Hashable, Sendable {
    public var id: String
    /// The application it belongs to (for the per-application in-flight bound).
    public var applicationID: String
    public var url: String
    public var format: String
    /// Its secrets, bearer token and custom headers as stored (sealed): the send path opens them.
    public var credentials: StoredCredentials
    /// Retry schedule and rate limit (the custom headers are in `credentials`).
    public var settings: DeliverySettings

    public init(id: String, applicationID: String, url: String, format: String, credentials: StoredCredentials, settings: DeliverySettings = DeliverySettings()) {
        self.id = id
        self.applicationID = applicationID
        self.url = url
        self.format = format
        self.credentials = credentials
        self.settings = settings
    }

    /// The fields of a webhook a send needs, its credentials sealed as a backend stores them.
    public init(_ webhook: Webhook, sealer: SecretSealer) throws {
        var settings = webhook.settings
        let headers = try sealer.sealHeaders(settings.headers)
        settings.headers = []
        self.init(
            id: webhook.id, applicationID: webhook.applicationID, url: webhook.url, format: webhook.format,
            credentials: StoredCredentials(
                secret: try sealer.seal(webhook.secret.text), previousSecret: try sealer.seal(webhook.previousSecret?.text),
                previousSecretExpiresAt: webhook.previousSecretExpiresAt, bearerToken: try sealer.seal(webhook.bearerToken), headers: headers),
            settings: settings)
    }
}

/// A delivery leased to one claim until `leaseUntil`, with what it takes to send it.
public struct ClaimedDelivery: Sendable {
    public var id: Int64
    /// The claim's lease token: recording and releasing only act while the delivery still carries it.
    public var leaseOwner: String
    /// Attempts made before this claim.
    public var attemptsMade: Int
    /// When it was due before the claim; a release puts this back.
    public var dueAt: Timestamp
    /// The store's internal key of the event (to render one body per event and format).
    public var eventKey: Int64
    public var event: OutboundEvent
    public var webhook: ClaimedWebhook

    public init(id: Int64, leaseOwner: String, attemptsMade: Int, dueAt: Timestamp, eventKey: Int64, event: OutboundEvent, webhook: ClaimedWebhook) {
        self.id = id
        self.leaseOwner = leaseOwner
        self.attemptsMade = attemptsMade
        self.dueAt = dueAt
        self.eventKey = eventKey
        self.event = event
        self.webhook = webhook
    }
}

/// What became of a delivery after one attempt.
public enum DeliveryOutcome: Hashable, Sendable {
    case succeeded
    case retry(at: Timestamp)
    case failed

    /// The stored state the outcome leads to, before the held rule (`DeliveryPolicy.waitingState`).
    public var storedState: StoredDeliveryState {
        switch self {
        case .succeeded: .succeeded
        case .retry: .pending
        case .failed: .failed
        }
    }
}

/// One finished attempt for the store to record, with the delivery's new state.
public struct AttemptRecord: Sendable {
    public var attempt: Attempt
    /// The lease token of the claim that made the attempt.
    public var leaseOwner: String
    public var webhookID: String
    public var outcome: DeliveryOutcome
    /// The receiver answered 410 Gone: disable the webhook and hold its pending deliveries.
    public var disablesWebhook: Bool

    public init(attempt: Attempt, leaseOwner: String, webhookID: String, outcome: DeliveryOutcome, disablesWebhook: Bool = false) {
        self.attempt = attempt
        self.leaseOwner = leaseOwner
        self.webhookID = webhookID
        self.outcome = outcome
        self.disablesWebhook = disablesWebhook
    }
}

/// A delivery given back unsent, due again at `dueAt`.
public struct ReleasedDelivery: Hashable, Sendable {
    public var id: Int64
    public var leaseOwner: String
    public var dueAt: Timestamp

    public init(id: Int64, leaseOwner: String, dueAt: Timestamp) {
        self.id = id
        self.leaseOwner = leaseOwner
        self.dueAt = dueAt
    }
}

/// The queue: publishing fans events out to deliveries; due deliveries are claimed in batches with a
/// lease (owner and expiry), the shape `SELECT … FOR UPDATE SKIP LOCKED` serves on PostgreSQL; attempts are
/// recorded with the deliveries' new state. Every method that changes several rows does so in one transaction.
public protocol DeliveryQueue: Sendable {
    /// Commits each event with one pending delivery per enabled webhook that subscribes to its
    /// type, all in one transaction. A request whose id or idempotency key was seen before in its
    /// application returns the first result and creates nothing.
    func publish(_ requests: [PublishRequest], now: Timestamp) async throws -> [PublishResult]

    /// Leases up to `limit` due deliveries until `leaseUntil`, earliest first, skipping deliveries of
    /// the webhooks in `excludingWebhooks`. A delivery whose lease has expired is due. `owner` is
    /// this claim's lease token, unique per claim (`<process>/<sequence>`), so a late record from
    /// an expired claim cannot touch a newer one, even in the same process.
    /// Deliveries of the applications in `excludingApplications` are skipped too (they are at their
    /// in-flight bound), so their backlog neither fills the batch nor hides other applications' work.
    func claimDue(
        owner: String, now: Timestamp, leaseUntil: Timestamp, limit: Int, excludingWebhooks: Set<String>, excludingApplications: Set<String>
    ) async throws -> [ClaimedDelivery]
    /// Records attempts and their deliveries' new state, all in one transaction. A record for a
    /// delivery no longer leased to its claim keeps its attempt but leaves the delivery alone; a
    /// record for a delivery deleted meanwhile (its webhook was deleted) is dropped.
    /// Returns the recorded attempts' ids, in order (nil for a dropped one).
    @discardableResult
    func record(_ records: [AttemptRecord], releasing: [ReleasedDelivery], now: Timestamp) async throws -> [Int64?]
    /// Gives back every delivery still leased to a claim of `process` (tokens `<process>/…`), due at `now`.
    func releaseAll(process: String, now: Timestamp) async throws
    /// The earliest time a pending delivery is due (or its lease expires), if any.
    func nextDueTime() async throws -> Timestamp?
    /// Leases one delivery for a send now (resend, recovery), whatever its state, and returns it with
    /// the state it had. `conflict` when its webhook is disabled or another claim is sending it;
    /// `stateChanged` when (with `expecting`) it is no longer in that state, or (with
    /// `attemptedBefore`) it has been attempted at or after that time.
    func leaseForSend(
        deliveryID: Int64, applicationID: String, owner: String, until: Timestamp, now: Timestamp, expecting: DeliveryState?,
        attemptedBefore: Timestamp?
    ) async throws -> (delivery: ClaimedDelivery, previous: DeliveryState)?
}

extension DeliveryQueue {
    /// A claim that skips only the given webhooks.
    public func claimDue(owner: String, now: Timestamp, leaseUntil: Timestamp, limit: Int, excludingWebhooks: Set<String>) async throws -> [ClaimedDelivery] {
        try await claimDue(owner: owner, now: now, leaseUntil: leaseUntil, limit: limit, excludingWebhooks: excludingWebhooks, excludingApplications: [])
    }
}
