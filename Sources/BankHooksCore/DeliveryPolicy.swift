/// A delivery's state as a store keeps it: the public states, and `held` (pending while its webhook
/// is disabled, shown as pending). The raw values are the stored codes, fixed by the schema's history.
public enum StoredDeliveryState: Int, Hashable, Sendable, CaseIterable {
    case pending = 0
    case succeeded = 1
    case failed = 2
    case cancelled = 3
    /// Pending, but not due while its webhook is disabled; enabling the webhook makes it pending again.
    case held = 4

    /// The stored state of a code; an unknown code reads as pending (a row is never hidden).
    public init(code: Int) {
        self = StoredDeliveryState(rawValue: code) ?? .pending
    }

    /// The state the API shows.
    public var state: DeliveryState {
        switch self {
        case .pending, .held: .pending
        case .succeeded: .succeeded
        case .failed: .failed
        case .cancelled: .cancelled
        }
    }

    /// The stored states a public state covers: pending is both due and held.
    public static func covering(_ state: DeliveryState) -> [StoredDeliveryState] {
        switch state {
        case .pending: [.pending, .held]
        case .succeeded: [.succeeded]
        case .failed: [.failed]
        case .cancelled: [.cancelled]
        }
    }
}

/// Why a webhook was disabled.
public enum DisableReason: String, Hashable, Sendable, CaseIterable {
    /// Someone disabled it through the API.
    case manual
    /// No success for the auto-disable period.
    case failing
    /// The receiver answered 410 Gone.
    case gone

    /// BankHooks' own reasons are announced with a `webhook.disabled` event; a manual disable is not
    /// (whoever disabled it knows).
    public var isAnnounced: Bool { self != .manual }
}

/// The rules of a delivery's state that every store applies (the store persists, it does not decide).
public enum DeliveryPolicy {
    /// The state a delivery takes when it goes back to waiting (a retry, or a lease given back): a
    /// delivery whose webhook was disabled meanwhile is held, not pending, so no claim picks it up.
    public static func waitingState(_ state: StoredDeliveryState, webhookEnabled: Bool) -> StoredDeliveryState {
        state == .pending && !webhookEnabled ? .held : state
    }

    /// Whether disabling its webhook holds this delivery: every pending one, except one being sent
    /// right now (leased, lease not expired), whose record holds it when it comes in.
    public static func disableHolds(_ state: StoredDeliveryState, isLeased: Bool, leaseExpired: Bool) -> Bool {
        state == .pending && (!isLeased || leaseExpired)
    }

    /// The state enabling a webhook again moves its held deliveries to (due at once).
    public static let stateOnEnable: StoredDeliveryState = .pending
}

/// Which webhooks get a delivery of one published event.
public struct FanOut: Sendable {
    public var type: String
    /// The webhook formats that can carry the type (its family); nil means every format.
    public var formats: Set<String>?
    /// Only webhooks that list the type by name (not "every type" subscriptions).
    public var explicitOnly: Bool
    /// Only this webhook (a test, an acknowledgement of its own change).
    public var onlyWebhookID: String?

    public init(type: String, formats: Set<String>? = nil, explicitOnly: Bool = false, onlyWebhookID: String? = nil) {
        self.type = type
        self.formats = formats
        self.explicitOnly = explicitOnly
        self.onlyWebhookID = onlyWebhookID
    }

    /// What fan-out needs of a webhook, read once per application per publish batch.
    public struct Subscriber: Sendable {
        public var id: String
        public var isEnabled: Bool
        /// The types it subscribes to; nil means every type.
        public var eventTypes: Set<String>?
        public var format: String

        public init(id: String, isEnabled: Bool, eventTypes: Set<String>?, format: String) {
            self.id = id
            self.isEnabled = isEnabled
            self.eventTypes = eventTypes
            self.format = format
        }
    }

    /// Whether `subscriber` gets a delivery: it is enabled and, unless the event is for one webhook
    /// only, subscribes to the type (by name, or to every type unless `explicitOnly`) in a format
    /// that can carry it.
    public func reaches(_ subscriber: Subscriber) -> Bool {
        guard subscriber.isEnabled else { return false }
        if let onlyWebhookID { return subscriber.id == onlyWebhookID }
        guard formats?.contains(subscriber.format) ?? true else { return false }
        if let types = subscriber.eventTypes { return types.contains(type) }
        return !explicitOnly
    }
}

/// A webhook's failing streak: since when its deliveries have failed without a success (the
/// auto-disable clock). Collects one batch of outcomes and says how each webhook's streak changes.
public struct FailingStreaks: Sendable {
    /// How one webhook's streak changes.
    public enum Change: Hashable, Sendable {
        /// A success: the streak ends.
        case cleared
        /// A failure: the streak starts at this time, unless one is already running (which keeps its start).
        case failing(since: Timestamp)
    }

    /// Each webhook's last outcome in the batch: one streak update per webhook, not per attempt.
    public private(set) var changes: [String: Change] = [:]

    public init() {}

    /// Notes an attempt's outcome; a later outcome of the same webhook replaces an earlier one.
    public mutating func note(webhookID: String, succeeded: Bool, at time: Timestamp) {
        changes[webhookID] = succeeded ? .cleared : .failing(since: time)
    }

    /// Whether a webhook change starts its streak over: a new URL is a new receiver, and enabling it
    /// again gives it a fresh period.
    public static func startsOver(urlChanged: Bool, enabledAgain: Bool) -> Bool {
        urlChanged || enabledAgain
    }
}
