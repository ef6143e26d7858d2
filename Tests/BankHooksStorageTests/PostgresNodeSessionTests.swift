import BankHooksCore
@testable import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// The node session on a real PostgreSQL: several sessions on one database (nodes), one leader per
/// job, a takeover when the leader's session ends or its connection is killed, the live-node count,
/// and announcements reaching the other nodes (never the sender).
@Suite struct PostgresNodeSessionTests {
    static let logger = { var logger = Logger(label: "node-session-test"); logger.logLevel = .error; return logger }()

    /// A node: a store on `url` that runs its own client, its coordination, and the task running the session.
    final class Node: Sendable {
        let store: PostgresStore
        let session: PostgresNodeSession
        let task: Task<Void, Never>
        let events = Locked<[String]>([])

        init(url: String, name: String) throws {
            store = try TestPostgres.store(url: url)
            guard let session = store.makeCoordination(nodeName: name) as? PostgresNodeSession else { throw TestFailure("not a node session") }
            self.session = session
            task = Task { try? await session.run() }
            let events = events
            session.setHandlers(NodeEventHandlers(
                due: { events.withLock { $0.append("due") } }, recoveries: { events.withLock { $0.append("recoveries") } },
                webhookChanged: { id in events.withLock { $0.append("webhook " + id) } }))
        }

        func stop() { task.cancel() }
        deinit { task.cancel() }
    }

    /// Who leads: each node's body records it starts and stops.
    final class Leads: Sendable {
        let running = Locked<Set<String>>([])
        let started = Locked<[String]>([])
        let stopped = Locked<[String]>([])

        func lead(_ node: Node, _ name: String, job: LeaderJob = .watchdog) -> Task<Void, Never> {
            Task {
                await node.session.lead(job) {
                    self.started.withLock { $0.append(name) }
                    self.running.withLock { _ = $0.insert(name) }
                    while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
                    self.running.withLock { _ = $0.remove(name) }
                    self.stopped.withLock { $0.append(name) }
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func oneNodeLeadsAtATimeAndAnotherTakesOverWhenItStops() async throws {
        let url = try await TestPostgres.freshDatabase()
        let a = try Node(url: url, name: "a"), b = try Node(url: url, name: "b")
        let leads = Leads()
        let leadA = leads.lead(a, "a"), leadB = leads.lead(b, "b")
        defer { leadA.cancel(); leadB.cancel() }
        try await eventually("one node leads", timeout: .seconds(10)) { leads.running.value.count == 1 }
        try await eventually("both count two nodes", timeout: .seconds(10)) { a.session.liveNodes == 2 && b.session.liveNodes == 2 }
        // Several heartbeats later, still exactly one.
        try await Task.sleep(for: .seconds(2.5))
        #expect(leads.running.value.count == 1)
        #expect(leads.started.value.count == 1)
        let first = try #require(leads.running.value.first)
        let (leader, other) = first == "a" ? (a, "b") : (b, "a")
        leader.stop()
        try await eventually("the other node takes over", timeout: .seconds(10)) { leads.running.value == [other] }
        #expect(leads.stopped.value == [first], "the stopped node's job was cancelled")
        try await eventually("one node counted", timeout: .seconds(10)) { (first == "a" ? b : a).session.liveNodes == 1 }
    }

    @Test(.timeLimit(.minutes(2)))
    func aKilledConnectionEndsTheLeadAndTheSessionReconnects() async throws {
        let url = try await TestPostgres.freshDatabase()
        let a = try Node(url: url, name: "a")
        let leads = Leads()
        let lead = leads.lead(a, "a", job: .recoveries)
        defer { lead.cancel() }
        try await eventually("it leads", timeout: .seconds(10)) { leads.running.value == ["a"] }
        // The server ends the session's backend, as a failover or an operator's pg_terminate_backend would.
        let killed = try await a.store.client.query("""
            SELECT count(pg_terminate_backend(pid))::int4 FROM pg_locks
            WHERE locktype = 'advisory' AND objsubid = 2 AND classid = \(unescaped: String(PostgresNodeSession.namespace)) AND objid = 1
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, logger: Self.logger).collect().first?.decode(Int32.self)
        #expect(killed == 1)
        try await eventually("the lead was lost", timeout: .seconds(10)) { leads.stopped.value == ["a"] }
        try await eventually("it leads again after reconnecting", timeout: .seconds(15)) { leads.started.value == ["a", "a"] }
        // The reconnect catches up on what it may have missed while away (in the look that took the lead back, just after).
        try await eventually("it caught up again", timeout: .seconds(5)) { a.events.value.filter { $0 == "due" }.count >= 2 }
    }

    @Test(.timeLimit(.minutes(2)))
    func announcementsReachTheOtherNodesNotTheSender() async throws {
        let url = try await TestPostgres.freshDatabase()
        let a = try Node(url: url, name: "a"), b = try Node(url: url, name: "b")
        try await eventually("both count two nodes", timeout: .seconds(10)) { a.session.liveNodes == 2 && b.session.liveNodes == 2 }
        // Each has caught up once at connect; start clean.
        try await Task.sleep(for: .milliseconds(200))
        a.events.withLock { $0.removeAll() }
        b.events.withLock { $0.removeAll() }
        a.session.announce(.webhookChanged("wh_1"))
        a.session.announce(.recoveries)
        try await eventually("b hears a", timeout: .seconds(5)) { Set(b.events.value) == ["webhook wh_1", "recoveries"] }
        // A publish's NOTIFY (from any connection, empty payload) wakes every node.
        try await a.store.client.query("SELECT pg_notify('bankhooks_due', '')", logger: Self.logger)
        try await eventually("both are woken", timeout: .seconds(5)) { a.events.value.contains("due") && b.events.value.contains("due") }
        try await Task.sleep(for: .milliseconds(300))
        #expect(!a.events.value.contains { $0.hasPrefix("webhook") || $0 == "recoveries" }, "a never hears itself: \(a.events.value)")
    }
}

