import ServiceLifecycle

// How the nodes that share one database work together: a node tells the others what it changed
// (work due, a recovery job, a changed webhook), one node at a time runs each singleton job, and
// each node knows how many are alive (to split per-webhook rate limits). SQLite has one node, so
// its coordination is `SoleNode`; PostgreSQL's is a node session on one connection
// (`Postgres/PostgresWakeups.swift`).

/// The jobs only one node at a time may run.
public enum LeaderJob: Int32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `RecoveryRunner`: runs every recovery job.
    case recoveries = 2
    /// `WebhookWatchdog`: auto-disables failing webhooks and announces disables.
    case watchdog = 3

    public var description: String {
        switch self {
        case .recoveries: "recoveries"
        case .watchdog: "watchdog"
        }
    }
}

/// What one node tells the others.
public enum NodeEvent: Sendable, Hashable {
    /// Deliveries may be due now (a publish, a release).
    case due
    /// A recovery job was created: the node leading recoveries starts it.
    case recoveries
    /// A webhook changed (settings, disabled, deleted): every node gives back what it claimed for it.
    case webhookChanged(String)
}

/// What a node does when another node announces something (set once by the server when it wires
/// its dispatcher and recovery runner).
public struct NodeEventHandlers: Sendable {
    public var due: @Sendable () -> Void
    public var recoveries: @Sendable () -> Void
    public var webhookChanged: @Sendable (String) -> Void

    public init(
        due: @escaping @Sendable () -> Void, recoveries: @escaping @Sendable () -> Void, webhookChanged: @escaping @Sendable (String) -> Void
    ) {
        self.due = due
        self.recoveries = recoveries
        self.webhookChanged = webhookChanged
    }

    /// Handlers that do nothing (before the server wires its own).
    public static let none = NodeEventHandlers(due: {}, recoveries: {}, webhookChanged: { _ in })
}

/// How this node works with the others on the same database.
public protocol NodeCoordination: Sendable {
    /// Nodes alive on the database, this one included: at least 1. Read on the send path (a load, no query).
    var liveNodes: Int { get }

    /// What must run beside the server for the coordination to work (a node session), started
    /// before the dispatcher and stopped after it.
    var services: [any Service] { get }

    /// Runs `body` whenever this node leads `job`, cancelling it when the lead is lost (the node
    /// then waits to lead again). Returns when `body` returns while leading, or when the calling
    /// task is cancelled. Leadership is exclusive, except for the seconds a node cut off from the
    /// database takes to notice: jobs must tolerate a short overlap (each send is leased).
    func lead(_ job: LeaderJob, _ body: @escaping @Sendable () async -> Void) async

    /// Tells the other nodes (not this one), best effort: a node that misses it finds the work at
    /// its next look (the dispatcher's idle re-check, a reconnect's catch-up).
    func announce(_ event: NodeEvent)

    /// Sets what this node does when another node announces something.
    func setHandlers(_ handlers: NodeEventHandlers)
}

/// The only node of its database (SQLite): always the leader, nobody to tell.
public struct SoleNode: NodeCoordination {
    public init() {}
    public var liveNodes: Int { 1 }
    public var services: [any Service] { [] }
    public func lead(_ job: LeaderJob, _ body: @escaping @Sendable () async -> Void) async { await body() }
    public func announce(_ event: NodeEvent) {}
    public func setHandlers(_ handlers: NodeEventHandlers) {}
}

/// A backend that several nodes can share: it makes each node's coordination.
public protocol SharedBackend: Sendable {
    /// A new coordination for this node (its services must be run for it to work).
    func makeCoordination(nodeName: String) -> any NodeCoordination
}

extension OpenedStorage {
    /// This node's coordination: the backend's when several nodes can share it, else `SoleNode`.
    public func makeCoordination(nodeName: String) -> any NodeCoordination {
        (store as? any SharedBackend)?.makeCoordination(nodeName: nodeName) ?? SoleNode()
    }
}
