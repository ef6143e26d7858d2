import BankHooksCore

/// What a webhook update changes; nil fields stay as they are.
public struct WebhookChange: Sendable {
    public var url: String?
    public var name: String??
    /// `.some(nil)` subscribes to every type.
    public var eventTypes: [String]??
    public var isEnabled: Bool?
    /// `.some(nil)` removes the bearer token.
    public var bearerToken: String??
    /// Replaces the custom headers.
    public var headers: [HTTPHeader]?
    /// `.some(nil)` goes back to the format's schedule.
    public var retryDelays: [Int]??
    /// `.some(nil)` removes the limit.
    public var rateLimit: Double??

    public init(
        url: String? = nil, name: String?? = nil, eventTypes: [String]?? = nil, isEnabled: Bool? = nil, bearerToken: String?? = nil,
        headers: [HTTPHeader]? = nil, retryDelays: [Int]?? = nil, rateLimit: Double?? = nil
    ) {
        self.headers = headers
        self.retryDelays = retryDelays
        self.rateLimit = rateLimit
        self.bearerToken = bearerToken
        self.url = url
        self.name = name
        self.eventTypes = eventTypes
        self.isEnabled = isEnabled
    }
}

/// What an event list is filtered by.
public struct EventFilter: Hashable, Sendable {
    public var type: String?
    /// Events received at or after this time.
    public var since: Timestamp?
    /// Events received before this time.
    public var until: Timestamp?

    public init(type: String? = nil, since: Timestamp? = nil, until: Timestamp? = nil) {
        self.type = type
        self.since = since
        self.until = until
    }
}

/// Where an event page ends: the last event's receipt time and sequence number.
public struct EventCursor: Hashable, Sendable {
    public var createdAt: Int64
    public var seq: Int64

    public init(createdAt: Int64, seq: Int64) {
        self.createdAt = createdAt
        self.seq = seq
    }
}

/// Whose deliveries a list shows.
public enum DeliveryOwner: Hashable, Sendable {
    case webhook(String)
    case event(String)
}

/// One page of a list; `hasMore` says whether another page follows the last item.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var hasMore: Bool

    public init(items: [Item], hasMore: Bool) {
        self.items = items
        self.hasMore = hasMore
    }

    /// A page of at most `limit` items from `rows`, read with `limit + 1`.
    public init(rows: [Item], limit: Int) {
        hasMore = rows.count > limit
        items = hasMore ? Array(rows.prefix(limit)) : rows
    }
}

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
    public var secret: WebhookSecret
    public var previousSecret: WebhookSecret?
    public var previousSecretExpiresAt: Timestamp?
    public var bearerToken: String?
    public var settings: DeliverySettings

    public init(
        id: String, applicationID: String, url: String, format: String, secret: WebhookSecret, previousSecret: WebhookSecret?,
        previousSecretExpiresAt: Timestamp?, bearerToken: String? = nil, settings: DeliverySettings = DeliverySettings()
    ) {
        self.applicationID = applicationID
        self.settings = settings
        self.bearerToken = bearerToken
        self.id = id
        self.url = url
        self.format = format
        self.secret = secret
        self.previousSecret = previousSecret
        self.previousSecretExpiresAt = previousSecretExpiresAt
    }

    /// The fields of a stored webhook a send needs.
    public init(_ webhook: Webhook) {
        self.init(
            id: webhook.id, applicationID: webhook.applicationID, url: webhook.url, format: webhook.format, secret: webhook.secret,
            previousSecret: webhook.previousSecret,
            previousSecretExpiresAt: webhook.previousSecretExpiresAt, bearerToken: webhook.bearerToken, settings: webhook.settings)
    }

    /// The secrets that sign at `now`.
    public func validSecrets(at now: Timestamp) -> [WebhookSecret] {
        WebhookSecret.signing(current: secret, previous: previousSecret, previousExpiresAt: previousSecretExpiresAt, at: now)
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

/// A webhook BankHooks disabled, for its `webhook.disabled` announcement.
public struct DisabledWebhook: Sendable {
    public var webhook: Webhook
    public var disabledAt: Timestamp
    public var failingSince: Timestamp?

    public init(webhook: Webhook, disabledAt: Timestamp, failingSince: Timestamp?) {
        self.webhook = webhook
        self.disabledAt = disabledAt
        self.failingSince = failingSince
    }
}

/// Errors a store reports to its callers.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        case notFound
        case conflict
        case invalidValue
        /// A limit (such as the application's webhook limit) would be exceeded.
        case limitReached
        /// The row is no longer in the state the caller expected.
        case stateChanged
    }
    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// The storage seam. The store is also the queue: due deliveries are claimed in batches with a
/// lease (owner and expiry), the shape `SELECT … FOR UPDATE SKIP LOCKED` serves on PostgreSQL.
/// Every method that changes several rows does so in one transaction.
public protocol Store: Sendable {
    // MARK: Applications and keys

    /// Creates an application.
    func createApplication(_ application: Application) async throws
    /// An application by id.
    func application(id: String) async throws -> Application?
    /// Every application, by id.
    func applications() async throws -> [Application]
    /// Replaces an application's name, environment, webhook limit, callbacks and HTTP flag; nil when there is none.
    func updateApplication(_ application: Application) async throws -> Application?
    /// Deletes an application with everything it owns; false when there was none.
    func deleteApplication(id: String) async throws -> Bool
    /// The application's API keys, revoked ones included, oldest first.
    func apiKeys(applicationID: String) async throws -> [APIKeyRecord]
    /// Revokes a key of the application; false when it has no such key.
    func revokeAPIKey(id: String, applicationID: String, now: Timestamp) async throws -> Bool
    /// Stores an API key (its hash only).
    func createAPIKey(_ key: APIKeyRecord) async throws
    /// An API key by id, revoked or not.
    func apiKey(id: String) async throws -> APIKeyRecord?
    /// Whether any unrevoked operator key exists.
    func hasOperatorKey() async throws -> Bool

    // MARK: Webhooks

    /// Stores a webhook. A `webhook` kind beyond its application's webhook limit is refused with
    /// `limitReached`, checked in the same transaction as the insert.
    func createWebhook(_ webhook: Webhook) async throws
    func webhooks(applicationID: String) async throws -> [Webhook]
    func webhook(id: String, applicationID: String) async throws -> Webhook?
    /// Changes a webhook's URL, name, event types or enabled flag in one transaction, and returns it
    /// (nil when there is none). Disabling holds its pending deliveries; enabling again makes the
    /// held ones due at `now` and clears `disabledReason`.
    func updateWebhook(id: String, applicationID: String, _ change: WebhookChange, now: Timestamp) async throws -> Webhook?
    /// Deletes a webhook with its deliveries and attempts; false when there was none.
    func deleteWebhook(id: String, applicationID: String) async throws -> Bool
    /// Makes `newSecret` the webhook's secret; the one it replaces keeps signing until
    /// `previousValidUntil` (an older previous secret stops at once: at most two are valid).
    func rotateSecret(id: String, applicationID: String, newSecret: WebhookSecret, previousValidUntil: Timestamp, now: Timestamp) async throws -> Webhook?

    // MARK: Event types

    /// Registers an application's own event type; `conflict` when it exists.
    func createEventType(_ type: CustomEventType) async throws
    func eventTypes(applicationID: String) async throws -> [CustomEventType]
    func deleteEventType(name: String, applicationID: String) async throws -> Bool

    // MARK: Quotas (SQLiteStore+Quotas.swift)

    /// Registers an application's own event type unless it already has `limit` of them
    /// (`limitReached`, counted in the insert's transaction); `conflict` when it exists.
    func createEventType(_ type: CustomEventType, limit: Int) async throws
    /// A page of the application's event types by name, after `name` (exclusive).
    func eventTypes(applicationID: String, after name: String?, limit: Int) async throws -> Page<CustomEventType>
    /// One of the application's event types.
    func eventType(name: String, applicationID: String) async throws -> CustomEventType?
    /// Stores an API key unless its application already holds `limit` unrevoked keys
    /// (`limitReached`, counted in the insert's transaction).
    func createAPIKey(_ key: APIKeyRecord, limit: Int) async throws

    // MARK: Publish

    /// Commits each event with one pending delivery per enabled webhook that subscribes to its
    /// type, all in one transaction. A request whose id or idempotency key was seen before in its
    /// application returns the first result and creates nothing.
    func publish(_ requests: [PublishRequest], now: Timestamp) async throws -> [PublishResult]

    // MARK: Dispatch

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
    /// Disables every enabled webhook whose deliveries have failed without a success since
    /// `failingSince` or earlier (reason `failing`), holding their pending deliveries; returns their ids.
    func disableFailingWebhooks(failingSince: Timestamp, now: Timestamp) async throws -> [String]
    /// Webhooks BankHooks disabled (failing, gone) whose `webhook.disabled` event is not yet published.
    func unannouncedDisabledWebhooks() async throws -> [DisabledWebhook]
    /// Records that the disable of `disabledAt` was announced.
    func markDisableAnnounced(webhookID: String, disabledAt: Timestamp) async throws
    /// Gives back every delivery still leased to a claim of `process` (tokens `<process>/…`), due at `now`.
    func releaseAll(process: String, now: Timestamp) async throws
    /// The earliest time a pending delivery is due (or its lease expires), if any.
    func nextDueTime() async throws -> Timestamp?

    // MARK: Reads

    func event(id: String, applicationID: String) async throws -> Event?
    /// The latest event about `subject` whose type starts with `typePrefix`.
    func latestEvent(applicationID: String, subject: String, typePrefix: String) async throws -> Event?
    func deliveries(eventID: String, applicationID: String) async throws -> [Delivery]
    func delivery(id: Int64, applicationID: String) async throws -> Delivery?
    func attempts(deliveryID: Int64) async throws -> [Attempt]

    // MARK: Delivery log (keyset pages, newest first; `limit + 1` rows are read to know whether more follow)

    /// The application's events matching `filter`, after `cursor` (exclusive).
    func events(applicationID: String, filter: EventFilter, after cursor: EventCursor?, limit: Int) async throws -> Page<EventSummary>
    /// The deliveries of one webhook or one event of the application, optionally in one state, with
    /// ids below `before`; nil when the webhook or event does not exist in the application.
    func deliveries(applicationID: String, of owner: DeliveryOwner, state: DeliveryState?, before: Int64?, limit: Int) async throws -> Page<Delivery>?
    /// One attempt of the application's deliveries, with the webhook it went to.
    func attempt(id: Int64, applicationID: String) async throws -> (attempt: Attempt, webhookID: String)?

    // MARK: Recovery

    /// Leases one delivery for a send now (resend, recovery), whatever its state, and returns it with
    /// the state it had. `conflict` when its webhook is disabled or another claim is sending it;
    /// `stateChanged` when (with `expecting`) it is no longer in that state, or (with
    /// `attemptedBefore`) it has been attempted at or after that time.
    func leaseForSend(
        deliveryID: Int64, applicationID: String, owner: String, until: Timestamp, now: Timestamp, expecting: DeliveryState?,
        attemptedBefore: Timestamp?
    ) async throws -> (delivery: ClaimedDelivery, previous: DeliveryState)?
    /// Creates a recovery job for the webhook, counting what it covers (failed deliveries last
    /// attempted before the job's `createdAt`); nil when there is no such webhook. At most one job
    /// per webhook runs: while one does, that one is returned with `created` false and nothing is created.
    func createRecovery(_ recovery: Recovery) async throws -> (recovery: Recovery, created: Bool)?
    func recovery(id: String, applicationID: String) async throws -> Recovery?
    /// Jobs still running, oldest first.
    func runningRecoveries() async throws -> [Recovery]
    /// The next failed deliveries a job covers, after its cursor, in id order.
    func nextRecoveryDeliveries(_ recovery: Recovery, limit: Int) async throws -> [Int64]
    /// Records a job's progress: the new cursor and counts; `finishedAt` completes it.
    func updateRecovery(_ recovery: Recovery) async throws
    /// How many deliveries are in each state (for tests, health and the benchmark).
    func deliveryCounts() async throws -> [DeliveryState: Int]
}

extension Store {
    /// A claim that skips only the given webhooks.
    public func claimDue(owner: String, now: Timestamp, leaseUntil: Timestamp, limit: Int, excludingWebhooks: Set<String>) async throws -> [ClaimedDelivery] {
        try await claimDue(owner: owner, now: now, leaseUntil: leaseUntil, limit: limit, excludingWebhooks: excludingWebhooks, excludingApplications: [])
    }
}
