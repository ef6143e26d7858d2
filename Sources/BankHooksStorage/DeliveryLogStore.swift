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

/// Where an event page ends: the last event's key, (receipt time, sequence number). The store
/// keeps that key in commit order (see `DeliveryLogStore`); callers only carry it from one page to the next.
public struct EventCursor: Hashable, Sendable {
    public var createdAt: Int64
    public var seq: Int64

    public init(createdAt: Int64, seq: Int64) {
        self.createdAt = createdAt
        self.seq = seq
    }

    /// The cursor that continues after `event` (the last item of a page).
    public init(after event: EventSummary) {
        self.init(createdAt: event.createdAt.milliseconds, seq: event.seq)
    }

    /// The cursor as text, for the API to hand out inside its opaque page token: `<created_at ms>.<seq>`.
    /// The store owns this form, so a backend that needs more in a cursor (a visibility horizon) can put it here.
    public var key: String { "\(createdAt).\(seq)" }

    /// A cursor from its `key`; nil for any other text (only the canonical form is accepted).
    public init?(key: String) {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let created = Identifier.canonicalDecimal(parts[0]), let seq = Identifier.canonicalDecimal(parts[1]) else { return nil }
        self.init(createdAt: created, seq: seq)
    }
}

/// Whose deliveries a list shows.
public enum DeliveryOwner: Hashable, Sendable {
    case webhook(String)
    case event(String)
}

/// The delivery log: events, their deliveries and attempts, read by id or in keyset pages (newest first).
///
/// What a page guarantees, under concurrent commits: a list's key (an event's `(createdAt, seq)`, a
/// delivery's id) is in commit order, so a row committed after a page was read sorts above every row
/// that page could show. Paging on from a cursor therefore shows every row below it that was committed
/// before that page was read, each once; a client that re-reads the first page until it meets the newest
/// key it saw misses nothing. A backend whose keys are not assigned in commit order (PostgreSQL
/// sequences) must show a row only once every row with a lower key has committed or rolled back.
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
