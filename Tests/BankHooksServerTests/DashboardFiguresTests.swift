import BankHooksCore
@testable import BankHooksServer
@testable import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Testing

/// The webhook list's 24-hour figures (success rate, attempts, last attempt), from the hourly
/// attempt counters the record path keeps: true for a busy webhook and a quiet one, on both backends.
@Suite struct DashboardFiguresTests {
    /// 2026-12-03 12:30:00 UTC: the window is 2026-12-02 13:00 UTC (the current hour and the 23 before it) on.
    static let now = Timestamp(milliseconds: 1_796_301_000_000)
    static let windowStart = Timestamp(milliseconds: 1_796_301_000_000 - 30 * 60 * 1000 - 23 * AttemptHours.length)

    @Test func theWindowIsTheCurrentHourAndThe23Before() {
        #expect(AttemptHours.windowStart(now: Self.now) == Self.windowStart)
        #expect(Self.windowStart.iso8601.hasPrefix("2026-12-02T13:00:00"))
        #expect(AttemptHours.hour(of: Timestamp(milliseconds: 3_599_999)) == 0 && AttemptHours.hour(of: Timestamp(milliseconds: 3_600_000)) == 3_600_000)
        #expect(AttemptHours.hour(of: Timestamp(milliseconds: -1)) == -3_600_000)
        #expect(DashboardController.grouped(7) == "7" && DashboardController.grouped(1234) == "1,234" && DashboardController.grouped(1_234_567) == "1,234,567")
        #expect(DashboardController.figures(AttemptTally(succeeded: 999, failed: 1, lastAttemptAt: Self.now)).successRate == "99 %",
                "one failure in a thousand is not shown as 100 %")
        #expect(DashboardController.figures(nil) == ("—", "no attempts", "—"))
    }

    @Test(arguments: TestBackend.all) func aBusyWebhookShowsItsTrueRateAndOlderAttemptsAreNotCounted(_ backend: TestBackend) async throws {
        let f = try await APIFixture(clock: ManualClock(now: Self.now), backend: backend)
        let store = f.components.store
        try await f.test { client in
            let busy = try await Self.webhook(store, "wh_busy", name: "Busy", type: "a.b")
            let quiet = try await Self.webhook(store, "wh_quiet", name: "Quiet", type: "order.paid")
            // Busy: 150 attempts in the window (30 failed), more than one page of the delivery log; 40 failed
            // a millisecond before it. Recorded in batches of 40, as the pipeline records them.
            try await Self.attempt(store, type: "a.b", count: 100, failing: 10, at: Self.now.adding(.seconds(-30 * 60)), tag: "recent")
            try await Self.attempt(store, type: "a.b", count: 50, failing: 20, at: Self.windowStart, tag: "first-hour")
            try await Self.attempt(store, type: "a.b", count: 40, failing: 40, at: Timestamp(milliseconds: Self.windowStart.milliseconds - 1), tag: "too-old")
            // Quiet: its only attempts are 30 hours old.
            try await Self.attempt(store, type: "order.paid", count: 3, failing: 0, at: Self.now.adding(.seconds(-30 * 3600)), tag: "quiet")

            let tallies = try await store.attemptTallies(applicationID: defaultApplicationID, since: Self.windowStart)
            #expect(tallies[busy] == AttemptTally(succeeded: 120, failed: 30, lastAttemptAt: Self.now.adding(.seconds(-30 * 60))), "\(tallies)")
            #expect(tallies[quiet] == nil)
            let longer = try await store.attemptTallies(applicationID: defaultApplicationID, since: Self.now.adding(.seconds(-31 * 3600)))
            #expect(longer[busy]?.attempts == 190 && longer[quiet] == AttemptTally(succeeded: 3, failed: 0, lastAttemptAt: Self.now.adding(.seconds(-30 * 3600))))
            #expect(try await store.attemptTallies(applicationID: "app_other", since: Self.windowStart).isEmpty, "another application sees none of them")

            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(f.operatorKey)
            let list = try await browser.get("/dashboard/webhooks")
            #expect(list.status == .ok)
            let busyRow = try #require(Self.row(of: busy, in: list.text), "\(list.text)")
            #expect(busyRow.contains(">80 %<") && busyRow.contains("of 150 attempts") && busyRow.contains("2026-12-03 12:00:00 UTC"), "\(busyRow)")
            let quietRow = try #require(Self.row(of: quiet, in: list.text))
            #expect(quietRow.contains("no attempts") && !quietRow.contains("%"), "\(quietRow)")
            #expect(list.text.contains("the current hour and the 23 before it, in UTC"))
        }
    }

    @Test(arguments: TestBackend.all) func aDeletedWebhooksCountersGoWithIt(_ backend: TestBackend) async throws {
        let f = try await APIFixture(clock: ManualClock(now: Self.now), backend: backend)
        let store = f.components.store
        try await f.test { _ in
            let id = try await Self.webhook(store, "wh_gone", name: "Gone", type: "a.b")
            try await Self.attempt(store, type: "a.b", count: 5, failing: 1, at: Self.now, tag: "gone")
            #expect(try await store.attemptTallies(applicationID: defaultApplicationID, since: Self.windowStart)[id]?.attempts == 5)
            #expect(try await store.deleteWebhook(id: id, applicationID: defaultApplicationID))
            // A webhook made again with the same id starts from nothing: the counters went with the first.
            _ = try await Self.webhook(store, id, name: "Again", type: "a.b")
            #expect(try await store.attemptTallies(applicationID: defaultApplicationID, since: Timestamp(milliseconds: 0))[id] == nil)
            try await Self.attempt(store, type: "a.b", count: 2, failing: 0, at: Self.now, tag: "again")
            #expect(try await store.attemptTallies(applicationID: defaultApplicationID, since: Self.windowStart)[id]
                    == AttemptTally(succeeded: 2, failed: 0, lastAttemptAt: Self.now))
        }
    }

    @Test(arguments: TestBackend.all) func theMigrationCountsTheLast25HoursOfStoredAttempts(_ backend: TestBackend) async throws {
        // The migration reads the database's own clock: this test's times are the real ones.
        let now = SystemClock().now()
        let f = try await APIFixture(backend: backend)
        let store = f.components.store
        try await f.test { _ in
            let id = try await Self.webhook(store, "wh_before", name: "Before", type: "a.b")
            let lean = try await Self.webhook(store, "wh_lean", name: "Lean", type: "order.paid", format: "lean")
            let notDue = now.adding(.seconds(10 * 86400))
            try await Self.attempt(store, type: "a.b", count: 7, failing: 2, at: now.adding(.seconds(-3600)), tag: "hour", notDueUntil: notDue)
            try await Self.attempt(store, type: "a.b", count: 4, failing: 1, at: now.adding(.seconds(-20 * 3600)), tag: "day", notDueUntil: notDue)
            try await Self.attempt(store, type: "a.b", count: 5, failing: 5, at: now.adding(.seconds(-26 * 3600)), tag: "old", notDueUntil: notDue)
            // Lean counts only 200: a 204 is a failure there.
            try await Self.attempt(store, type: "order.paid", count: 3, failing: 0, at: now.adding(.seconds(-3600)), tag: "lean", notDueUntil: notDue, status: 204)
            // The store as it was before the counters, then migrated.
            switch backend.kind {
            case .sqlite:
                let sqlite = try #require(store as? SQLiteStore)
                try await sqlite.pool.write { db in
                    try db.execute(sql: "DROP TABLE webhook_attempt_hours; DELETE FROM grdb_migrations WHERE identifier = 'v12-attempt-hours'")
                }
                try SQLiteStore.migrator.migrate(sqlite.pool)
            case .postgres:
                let postgres = try #require(store as? PostgresStore)
                _ = try await postgres.client.query("DROP TABLE webhook_attempt_hours").collect()
                _ = try await postgres.client.query("DELETE FROM bankhooks_migrations WHERE name = 'v4-attempt-hours'").collect()
                #expect(try await postgres.migrate() == ["v4-attempt-hours"])
            }
            let tallies = try await store.attemptTallies(applicationID: defaultApplicationID, since: now.adding(.seconds(-30 * 3600)))
            #expect(tallies[id] == AttemptTally(succeeded: 8, failed: 3, lastAttemptAt: now.adding(.seconds(-3600))), "\(tallies)")
            #expect(tallies[lean] == AttemptTally(succeeded: 0, failed: 3, lastAttemptAt: now.adding(.seconds(-3600))), "\(tallies)")
        }
    }

    @Test func concurrentRecordBatchesOnTwoPostgreSQLNodesAddUpExactly() async throws {
        let url = try await TestPostgres.freshDatabase()
        let nodes = [try TestPostgres.store(url: url), try TestPostgres.store(url: url)]
        let app = "app_figures"
        try await nodes[0].createApplication(Application(id: app, name: app, environment: .sandbox, createdAt: Self.now))
        try await nodes[0].createEventType(CustomEventType(applicationID: app, name: "a.b", description: "A test type.", schema: nil, createdAt: Self.now))
        let webhooks = (0..<3).map { "wh_node\($0)" }
        for id in webhooks {
            try await nodes[0].createWebhook(Webhook(id: id, applicationID: app, url: "http://127.0.0.1:9/\(id)", secret: .generate(), createdAt: Self.now, updatedAt: Self.now))
        }
        _ = try await nodes[0].publish((0..<300).map {
            PublishRequest(applicationID: app, eventID: "evt_\($0)", idempotencyKey: nil, type: "a.b", timestamp: Self.now, data: Array("{}".utf8))
        }, now: Self.now)
        // Both nodes claim and record at once, 25 a batch; attempts fall in two hours, one in four fails.
        let recorded = try await withThrowingTaskGroup(of: [(webhookID: String, hour: Int64, succeeded: Bool)].self) { group in
            for (n, node) in nodes.enumerated() {
                group.addTask {
                    var mine: [(webhookID: String, hour: Int64, succeeded: Bool)] = []
                    for batch in 0... {
                        let claimed = try await node.claimDue(
                            owner: "node\(n)/\(batch)", now: Self.now, leaseUntil: Self.now.adding(.seconds(60)), limit: 25, excludingWebhooks: [])
                        if claimed.isEmpty { break }
                        let records = claimed.map { delivery in
                            let failed = delivery.id % 4 == 0
                            let at = Self.now.adding(.seconds(delivery.id % 2 == 0 ? 0 : -3600))
                            return AttemptRecord(
                                attempt: Attempt(deliveryID: delivery.id, number: 1, startedAt: at, durationMicroseconds: 10, status: failed ? 500 : 200,
                                                 responseExcerpt: nil, errorKind: nil, errorMessage: nil),
                                leaseOwner: delivery.leaseOwner, webhookID: delivery.webhook.id, outcome: failed ? .failed : .succeeded)
                        }
                        let ids = try await node.record(records, releasing: [], now: Self.now)
                        #expect(ids.allSatisfy { $0 != nil })
                        mine += records.map { ($0.webhookID, AttemptHours.hour(of: $0.attempt.startedAt), $0.outcome == .succeeded) }
                    }
                    return mine
                }
            }
            var all: [[(webhookID: String, hour: Int64, succeeded: Bool)]] = []
            for try await mine in group { all.append(mine) }
            return all
        }
        #expect(recorded.allSatisfy { !$0.isEmpty }, "both nodes recorded some of them (\(recorded.map(\.count)))")
        let attempts = recorded.flatMap { $0 }
        #expect(attempts.count == 900, "each delivery attempted once")
        let tallies = try await nodes[1].attemptTallies(applicationID: app, since: Self.windowStart)
        for id in webhooks {
            let own = attempts.filter { $0.webhookID == id }
            #expect(tallies[id]?.succeeded == own.filter(\.succeeded).count && tallies[id]?.failed == own.filter { !$0.succeeded }.count,
                    "\(id): \(String(describing: tallies[id])), expected \(own.count)")
        }
        #expect(tallies.values.map(\.attempts).reduce(0, +) == 900)
        // Per hour too: the two hours of each webhook, one row each.
        let rows = try await nodes[0].client.query("SELECT webhook_id, hour, succeeded, failed FROM webhook_attempt_hours ORDER BY 1, 2").collect()
        #expect(rows.count == 6)
        for row in rows {
            let (id, hour, succeeded, failed) = try row.decode((String, Int64, Int64, Int64).self)
            let own = attempts.filter { $0.webhookID == id && $0.hour == hour }
            #expect(Int(succeeded) == own.filter(\.succeeded).count && Int(failed) == own.filter { !$0.succeeded }.count, "\(id) at \(hour)")
        }
        for node in nodes { await node.close() }
    }

    // MARK: Helpers

    /// A webhook of the default application receiving `type` only.
    static func webhook(_ store: any Store, _ id: String, name: String, type: String, format: String = "standard") async throws -> String {
        try await store.createWebhook(Webhook(
            id: id, applicationID: defaultApplicationID, url: "http://127.0.0.1:9/\(id)", name: name, eventTypes: [type], format: format,
            secret: .generate(), createdAt: now, updatedAt: now))
        return id
    }

    /// `count` events of `type`, each delivery claimed and recorded with one attempt started at `at`, 40
    /// records a batch: the first `failing` answered 500 (failed), the rest `status` (succeeded unless
    /// `failing` says so). Published at `notDueUntil` (10 days after the fixture's manual clock), so the
    /// running dispatcher never finds them due.
    static func attempt(
        _ store: any Store, type: String, count: Int, failing: Int, at: Timestamp, tag: String,
        notDueUntil: Timestamp = now.adding(.seconds(10 * 86400)), status: Int = 200
    ) async throws {
        let later = notDueUntil
        _ = try await store.publish((0..<count).map {
            PublishRequest(applicationID: defaultApplicationID, eventID: "evt_\(tag)_\($0)", idempotencyKey: nil, type: type, timestamp: at, data: Array("{}".utf8))
        }, now: later)
        var failed = 0
        for batch in 0... {
            let claimed = try await store.claimDue(owner: "test/\(tag)/\(batch)", now: later, leaseUntil: later.adding(.seconds(60)), limit: 40, excludingWebhooks: [])
            if claimed.isEmpty { break }
            let records = claimed.map { delivery in
                let fails = failed < failing
                if fails { failed += 1 }
                return AttemptRecord(
                    attempt: Attempt(deliveryID: delivery.id, number: 1, startedAt: at, durationMicroseconds: 1000, status: fails ? 500 : status,
                                     responseExcerpt: nil, errorKind: nil, errorMessage: nil),
                    leaseOwner: delivery.leaseOwner, webhookID: delivery.webhook.id, outcome: fails ? .failed : .succeeded)
            }
            try await store.record(records, releasing: [], now: at)
        }
    }

    /// The list's row of webhook `id`.
    static func row(of id: String, in html: String) -> String? {
        guard let link = html.range(of: "href=\"/dashboard/webhooks/\(id)\""),
              let start = html.range(of: "<tr>", options: .backwards, range: html.startIndex..<link.lowerBound),
              let end = html.range(of: "</tr>", range: link.upperBound..<html.endIndex) else { return nil }
        return String(html[start.lowerBound..<end.upperBound])
    }
}
