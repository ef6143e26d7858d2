import BankHooksCore

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

/// The delivery log: events, their deliveries and attempts, read by id or in keyset pages (newest first).
public protocol DeliveryLogStore: Sendable {
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
    /// How many deliveries are in each state (for tests, health and the benchmark).
    func deliveryCounts() async throws -> [DeliveryState: Int]
}
