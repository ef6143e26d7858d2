import BankHooksCore

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

/// The storage seam: every aggregate's store in one, so a caller that needs several holds one value.
/// A backend implements each small protocol (in its own files) and conforms to this one.
public protocol Store: TenantStore, WebhookStore, EventTypeStore, DeliveryQueue, DeliveryLogStore, AttemptHoursStore, RecoveryStore, SandboxStore,
    YapilyStore {}
