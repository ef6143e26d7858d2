import BankHooksCore
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

extension PostgresStore: SharedBackend {
    /// This node's session with the other nodes on the database (run its service beside the server).
    public func makeCoordination(nodeName: String) -> any NodeCoordination {
        PostgresNodeSession(client: client, nodeName: nodeName, logger: logger)
    }
}

/// One node's session with the others on one PostgreSQL database, on one pooled connection it
/// holds for the node's life:
/// - it LISTENs on `bankhooks_due`, `bankhooks_recoveries` and `bankhooks_webhooks` (what other
///   nodes announce: work due after a publish, a recovery job, a changed webhook), and wakes this
///   node's parts;
/// - it sends this node's announcements, outside any other transaction and coalesced (the same
///   announcement made many times while one is being sent is sent once): a `pg_notify` inside the
///   publish transaction would take PostgreSQL's one notification lock at every commit, which
///   serialises the commits of every node;
/// - it holds a shared advisory lock that says "a node is alive here": the number of holders,
///   read from `pg_locks` every heartbeat, is `liveNodes`;
/// - for each job a local part wants to lead, it tries `pg_try_advisory_lock` every heartbeat;
///   a session lock, so PostgreSQL frees it when the node dies or its connection drops, and another
///   node's next heartbeat takes it.
/// Every query runs on that connection, at most one at a time. When a heartbeat does not answer
/// within `deadline`, or the connection fails, the node stops leading at once, closes the
/// connection (so the server frees its locks too) and reconnects with backoff; after each
/// (re)connect it wakes its parts once, for what was announced while it was away.
/// Advisory keys are the two-int form (`namespace`, key), a key space apart from the one-bigint
/// form other locks use (e.g. a migration's `pg_advisory_xact_lock`).
final class PostgresNodeSession: NodeCoordination, Service {
    /// "BHKS": the first half of every advisory key BankHooks holds for a session.
    static let namespace: Int32 = 0x4248_4B53
    /// The second half of the shared "a node is alive" lock; jobs use their `LeaderJob` raw value.
    static let membership: Int32 = 1

    enum Channel {
        static let due = "bankhooks_due"
        static let recoveries = "bankhooks_recoveries"
        static let webhooks = "bankhooks_webhooks"
    }

    /// How often the session looks (leads, counts nodes, sends announcements) with nothing to do.
    static let heartbeat: Duration = .seconds(1)
    /// A heartbeat not answered within this means the connection is gone.
    static let deadline: Duration = .seconds(5)

    private struct State {
        var handlers = NodeEventHandlers.none
        /// Jobs a local part waits to lead or leads.
        var wanted: Set<LeaderJob> = []
        /// Jobs this node leads, each with the generation it started leading in.
        var held: [LeaderJob: Int] = [:]
        var generation = 0
        /// Announcements not yet sent (a set: the same change twice is one message).
        var outbox: Set<NodeEvent> = []
    }

    let client: PostgresClient
    let logger: Logger
    /// Prefixes this node's announcements, so it ignores its own when they come back.
    let nodeID: String
    private let state = Mutex(State())
    private let nodes = Atomic<Int>(1)
    /// Wakes the session's loop (a job wanted or given up, an announcement to send).
    private let tick = Signal()
    /// One per job: its lead was taken or lost.
    private let jobSignals: [LeaderJob: Signal]
    /// When the last heartbeat answered, for the dead-connection check.
    private let lastBeat = Mutex(ContinuousClock.now)
    /// When a clock skew was last logged.
    private let lastSkewReport = Mutex<ContinuousClock.Instant?>(nil)

    init(client: PostgresClient, nodeName: String, logger: Logger) {
        self.client = client
        var logger = logger
        logger[metadataKey: "node"] = "\(nodeName)"
        self.logger = logger
        // Letters and digits only: it starts a NOTIFY payload, split at the first space.
        nodeID = String(UInt64.random(in: 1...UInt64.max), radix: 36)
        jobSignals = Dictionary(uniqueKeysWithValues: LeaderJob.allCases.map { ($0, Signal()) })
    }

    // MARK: NodeCoordination

    var liveNodes: Int { max(1, nodes.load(ordering: .relaxed)) }

    var services: [any Service] { [self] }

    func setHandlers(_ handlers: NodeEventHandlers) {
        state.withLock { $0.handlers = handlers }
    }

    func announce(_ event: NodeEvent) {
        let added = state.withLock { state -> Bool in
            // Bounded while the database is unreachable: the others' re-checks cover what is dropped.
            guard state.outbox.count < 10_000 else { return false }
            return state.outbox.insert(event).inserted
        }
        if added { tick.signal() }
    }

    func lead(_ job: LeaderJob, _ body: @escaping @Sendable () async -> Void) async {
        guard let signal = jobSignals[job] else { return }
        state.withLock { _ = $0.wanted.insert(job) }
        tick.signal()
        defer {
            // The session gives the lock back at its next look.
            state.withLock { _ = $0.wanted.remove(job) }
            tick.signal()
        }
        while !Task.isCancelled {
            var leading: Int?
            while leading == nil, !Task.isCancelled {
                leading = state.withLock { $0.held[job] }
                if leading == nil { await signal.wait() }
            }
            guard let generation = leading, !Task.isCancelled else { return }
            logger.notice("this node leads a job", metadata: ["job": "\(job)"])
            let finished = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    await body()
                    return true
                }
                group.addTask {
                    while !Task.isCancelled, self.state.withLock({ $0.held[job] }) == generation { await signal.wait() }
                    return false
                }
                let first = await group.next() ?? true
                group.cancelAll()
                return first
            }
            if finished || Task.isCancelled { return }
            logger.warning("this node lost the lead of a job; another node takes it", metadata: ["job": "\(job)"])
        }
    }

    // MARK: Service

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.connectLoop() }
    }

    /// Holds a connection for the session, reconnecting with backoff (100 ms doubling to 5 s).
    private func connectLoop() async {
        var backoff: Duration = .milliseconds(100)
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                try await client.withConnection { connection in
                    var failure: (any Error)?
                    do { try await self.session(on: connection) } catch { failure = error }
                    // Closed whatever happened: PostgreSQL then frees the session's locks and LISTENs,
                    // and the pool never hands out a connection that still holds them.
                    try? await connection.close()
                    if let failure { throw failure }
                }
            } catch {
                if !Task.isCancelled {
                    logger.warning("the node session's connection failed; reconnecting", metadata: [
                        "error": "\(String(reflecting: error))", "retry.in": "\(backoff)",
                    ])
                }
            }
            loseAll()
            guard !Task.isCancelled else { return }
            if ContinuousClock.now - started > .seconds(30) { backoff = .milliseconds(100) }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    /// The session on one connection, until it fails or the node stops.
    private func session(on connection: PostgresConnection) async throws {
        lastBeat.withLock { $0 = .now }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for channel in [Channel.due, Channel.recoveries, Channel.webhooks] {
                group.addTask {
                    try await connection.listen(on: channel) { notifications in
                        for try await notification in notifications { self.received(notification.payload, on: channel) }
                    }
                    try Task.checkCancellation()
                    throw SessionEnded(reason: "the LISTEN on \(channel) ended")
                }
            }
            group.addTask { try await self.beat(on: connection) }
            group.addTask {
                // A heartbeat stuck on a dead connection (no answer, no error) ends the session:
                // PostgresNIO's queries wait for a reply or a channel error, so stop leading now and
                // close the channel, which fails the stuck query and the LISTENs at once.
                while !Task.isCancelled {
                    try await Task.sleep(for: Self.heartbeat)
                    if ContinuousClock.now - self.lastBeat.withLock({ $0 }) > Self.deadline {
                        self.loseAll()
                        try? await connection.close()
                        throw SessionEnded(reason: "no heartbeat answer for \(Self.deadline)")
                    }
                }
            }
            do {
                try await group.next()
                group.cancelAll()
            } catch {
                // Whichever part failed, the others may wait on the connection: end it before the group waits for them.
                loseAll()
                group.cancelAll()
                try? await connection.close()
                throw error
            }
        }
    }

    /// Every `heartbeat` (or when woken): take or give back leads, count the nodes, send announcements.
    private func beat(on connection: PostgresConnection) async throws {
        try await connection.run("SELECT pg_advisory_lock_shared(\(Self.namespace), \(Self.membership))", logger: logger)
        var caughtUp = false
        var lastCount: ContinuousClock.Instant?
        var lastWanted: Set<LeaderJob> = []
        while !Task.isCancelled {
            let (wanted, held, outbox) = state.withLock { state in
                defer { state.outbox.removeAll() }
                return (state.wanted, Set(state.held.keys), state.outbox)
            }
            // Woken for an announcement (after every publish), the session only sends it: the leads it
            // lacks are tried, the nodes counted and the clock checked once a heartbeat (or at once for
            // a job newly wanted).
            let sinceCount = lastCount.map { ContinuousClock.now - $0 } ?? Self.heartbeat
            let beatDue = sinceCount >= Self.heartbeat
            let tryLeads = beatDue || !wanted.isSubset(of: lastWanted)
            lastWanted = wanted
            for job in wanted.subtracting(held) where tryLeads {
                let rows = try await connection.result("SELECT pg_try_advisory_lock(\(Self.namespace), \(job.rawValue))", logger: logger)
                var taken = false
                for value in try rows.decode(Bool.self) { taken = value }
                if taken {
                    // Should the part have stopped wanting it meanwhile, the next look gives it back.
                    state.withLock { state in
                        state.generation += 1
                        state.held[job] = state.generation
                    }
                    jobSignals[job]?.signal()
                }
            }
            for job in held.subtracting(wanted) {
                state.withLock { _ = $0.held.removeValue(forKey: job) }
                try await connection.run("SELECT pg_advisory_unlock(\(Self.namespace), \(job.rawValue))", logger: logger)
            }
            for event in outbox {
                let (channel, payload) = message(event)
                try await connection.run("SELECT pg_notify(\(channel), \(payload))", logger: logger)
            }
            guard beatDue else {
                await wait(upTo: Self.heartbeat - sinceCount)
                continue
            }
            lastCount = .now
            let asked = Self.wallMilliseconds()
            let rows = try await connection.result("""
                SELECT (SELECT count(*)::int4 FROM pg_locks
                        WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = \(unescaped: String(Self.namespace))
                          AND objid = \(unescaped: String(Self.membership))
                          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())),
                       (extract(epoch FROM clock_timestamp()) * 1000)::int8
                """, logger: logger)
            for (count, serverTime) in try rows.decode((Int32, Int64).self) {
                nodes.store(Int(count), ordering: .relaxed)
                checkClock(server: serverTime, asked: asked, answered: Self.wallMilliseconds())
            }
            lastBeat.withLock { $0 = .now }
            if !caughtUp {
                // Whatever was announced while this node was away (or before it started).
                caughtUp = true
                let handlers = state.withLock { $0.handlers }
                handlers.due()
                handlers.recoveries()
            }
            await wait(upTo: Self.heartbeat)
        }
    }

    /// Until the loop is woken (a job wanted or given up, an announcement to send) or `duration` passes.
    private func wait(upTo duration: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: duration) }
            group.addTask { await self.tick.wait() }
            await group.next()
            group.cancelAll()
        }
    }

    /// Leases compare the clocks of different nodes (a claim's `now` against the expiry another node
    /// wrote), so a node whose clock is off by more than a second from the database's says so, at
    /// most once a minute.
    private func checkClock(server: Int64, asked: Int64, answered: Int64) {
        let slack = max(0, answered - asked) / 2 + 1000
        let skew = (asked + answered) / 2 - server
        guard abs(skew) > slack else { return }
        let now = ContinuousClock.now
        let due = lastSkewReport.withLock { last -> Bool in
            guard last.map({ now - $0 > .seconds(60) }) ?? true else { return false }
            last = now
            return true
        }
        if due {
            logger.error("this node's clock differs from the database server's: leases compare clocks, keep every node on NTP", metadata: [
                "clock.skew_ms": "\(skew)",
            ])
        }
    }

    static func wallMilliseconds() -> Int64 { SystemClock().now().milliseconds }

    /// The channel and payload of an announcement: `<node>` or `<node> <webhook id>`.
    private func message(_ event: NodeEvent) -> (String, String) {
        switch event {
        case .due: (Channel.due, nodeID)
        case .recoveries: (Channel.recoveries, nodeID)
        case .webhookChanged(let id): (Channel.webhooks, nodeID + " " + id)
        }
    }

    /// A notification from another node (or a publish anywhere) wakes the part it concerns.
    private func received(_ payload: String, on channel: String) {
        let handlers = state.withLock { $0.handlers }
        let sender = payload.prefix { $0 != " " }
        switch channel {
        case Channel.due:
            // Not this node's own: its dispatcher was woken when the publish committed. (An empty
            // payload is anybody's, e.g. a node of an earlier version that notified in its publish.)
            if sender != nodeID { handlers.due() }
        case Channel.recoveries:
            if sender != nodeID { handlers.recoveries() }
        case Channel.webhooks:
            let webhookID = payload.dropFirst(sender.count + 1)
            if sender != nodeID, !webhookID.isEmpty { handlers.webhookChanged(String(webhookID)) }
        default:
            break
        }
    }

    /// The connection is gone: this node leads nothing until it has a new one.
    private func loseAll() {
        let lost = state.withLock { state in
            defer { state.held.removeAll() }
            return Array(state.held.keys)
        }
        for job in lost { jobSignals[job]?.signal() }
    }
}

/// Why a node session ended (it reconnects).
struct SessionEnded: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
