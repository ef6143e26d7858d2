import BankHooksCore
@testable import BankHooksStorage
import BankHooksTestSupport
import Foundation
import PostgresNIO
import Testing

/// A record locks its webhooks in the weakest mode it needs: `FOR SHARE` (what a publish holds) when it
/// leaves the webhook's row alone, so a publish in flight does not hold it up; `FOR NO KEY UPDATE` when
/// it starts or ends the webhook's failing streak. Another session holds the webhook `FOR SHARE`, as a
/// publish does from its first statement to its commit.
@Suite struct PostgresRecordLockTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    /// `store` and `holder` on one fresh database with `app`, the webhook `wh` and one claimed delivery.
    func claimedDelivery() async throws -> (store: PostgresStore, holder: PostgresStore, claimed: ClaimedDelivery) {
        let url = try await TestPostgres.freshDatabase()
        let store = try TestPostgres.store(url: url), holder = try TestPostgres.store(url: url)
        try await store.createApplication(Application(id: "app", name: "app", environment: .sandbox, createdAt: t0, webhookLimit: 10))
        try await store.createWebhook(Webhook(
            id: "wh", applicationID: "app", url: "http://127.0.0.1:9/", eventTypes: nil, secret: .generate(), createdAt: t0, updatedAt: t0))
        _ = try await store.publish([PublishRequest(
            applicationID: "app", eventID: "e1", idempotencyKey: nil, type: "payment.updated", timestamp: t0, data: Array("{}".utf8))], now: t0)
        let claimed = try await store.claimDue(
            owner: "n/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 10, excludingWebhooks: [], excludingApplications: [])
        return (store, holder, try #require(claimed.first))
    }

    func record(_ claimed: ClaimedDelivery, status: Int, outcome: DeliveryOutcome) -> AttemptRecord {
        AttemptRecord(
            attempt: Attempt(deliveryID: claimed.id, number: 1, startedAt: t0, durationMicroseconds: 1, status: status,
                             responseExcerpt: nil, errorKind: nil, errorMessage: nil),
            leaseOwner: claimed.leaseOwner, webhookID: "wh", outcome: outcome)
    }

    /// What a publish holds from its first statement to its commit.
    static let publishLocks: PostgresQuery = "SELECT id FROM webhooks WHERE id = 'wh' FOR SHARE"

    @Test func aRecordThatLeavesTheWebhookAloneDoesNotWaitForAPublishHoldingIt() async throws {
        let (store, holder, claimed) = try await claimedDelivery()
        let attempt = record(claimed, status: 200, outcome: .succeeded), t0 = self.t0
        let (whileHeld, afterwards) = try await whileLocked(by: holder, Self.publishLocks, patience: .seconds(5)) {
            _ = try await store.record([attempt], releasing: [], now: t0)
        }
        #expect(whileHeld, "the record waited for a transaction that held its webhook FOR SHARE, as a publish does")
        #expect(afterwards)
        #expect(try await store.deliveries(eventID: "e1", applicationID: "app").map(\.state) == [.succeeded])
    }

    @Test func aRecordThatStartsAFailingStreakWaitsForTheWebhookAndWritesIt() async throws {
        let (store, holder, claimed) = try await claimedDelivery()
        let attempt = record(claimed, status: 500, outcome: .failed), t0 = self.t0
        let (whileHeld, afterwards) = try await whileLocked(by: holder, Self.publishLocks, patience: .milliseconds(500)) {
            _ = try await store.record([attempt], releasing: [], now: t0)
        }
        #expect(!whileHeld, "writing the streak needs the webhook's row to itself")
        #expect(afterwards)
        // The streak was written: a watchdog with a cutoff after its start disables the webhook.
        #expect(try await store.disableFailingWebhooks(failingSince: t0, now: t0.adding(.seconds(1))) == ["wh"])
    }

    /// Two nodes record attempts on the same webhooks at once, successes and failures mixed (so failing
    /// streaks start and end on both, and both add to the same hourly counters), while a third publishes
    /// to those webhooks: no batch fails (a deadlock would fail one after a second), and every attempt is
    /// counted once.
    @Test func twoNodesRecordingTheSameWebhooksBesideAPublisherNeverDeadlockAndCountEveryAttempt() async throws {
        let url = try await TestPostgres.freshDatabase()
        let nodes = [try TestPostgres.store(url: url), try TestPostgres.store(url: url)], publisher = try TestPostgres.store(url: url)
        try await publisher.createApplication(Application(id: "app", name: "app", environment: .sandbox, createdAt: t0, webhookLimit: 10))
        let webhooks = ["wh_1", "wh_2", "wh_3", "wh_4"], t0 = self.t0
        for id in webhooks {
            try await publisher.createWebhook(Webhook(
                id: id, applicationID: "app", url: "http://127.0.0.1:9/\(id)", eventTypes: nil, secret: .generate(), createdAt: t0, updatedAt: t0))
        }
        func request(_ id: String) -> PublishRequest {
            PublishRequest(applicationID: "app", eventID: id, idempotencyKey: nil, type: "payment.updated", timestamp: t0, data: Array("{}".utf8))
        }
        _ = try await publisher.publish((0..<200).map { request("e\($0)") }, now: t0)
        let recorded = try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, node) in nodes.enumerated() {
                group.addTask {
                    var count = 0, round = 0
                    while true {
                        round += 1
                        let claimed = try await node.claimDue(
                            owner: "n\(index)/\(round)", now: t0, leaseUntil: t0.adding(.seconds(600)), limit: 8,
                            excludingWebhooks: [], excludingApplications: [])
                        if claimed.isEmpty { return count }
                        // Alternating outcomes per node and round: streaks start on one node while they end on the other.
                        let records = claimed.enumerated().map { offset, delivery in
                            let succeeded = (offset + round + index) % 2 == 0
                            return AttemptRecord(
                                attempt: Attempt(deliveryID: delivery.id, number: 1, startedAt: t0.adding(.milliseconds(Int64(round))),
                                                 durationMicroseconds: 1, status: succeeded ? 200 : 500,
                                                 responseExcerpt: nil, errorKind: nil, errorMessage: nil),
                                leaseOwner: delivery.leaseOwner, webhookID: delivery.webhook.id, outcome: succeeded ? .succeeded : .failed)
                        }
                        _ = try await node.record(records, releasing: [], now: t0)
                        count += records.count
                    }
                }
            }
            group.addTask {
                for batch in 0..<40 { _ = try await publisher.publish((0..<5).map { request("late\(batch)-\($0)") }, now: t0) }
                return 0
            }
            var total = 0
            for try await count in group { total += count }
            return total
        }
        let tallies = try await publisher.attemptTallies(applicationID: "app", since: t0)
        let counted = tallies.values.reduce(0) { $0 + $1.succeeded + $1.failed }
        #expect(recorded >= 800, "both nodes recorded every delivery published before they started")
        #expect(counted == recorded, "every attempt is counted once in the webhooks' hours")
    }
}
