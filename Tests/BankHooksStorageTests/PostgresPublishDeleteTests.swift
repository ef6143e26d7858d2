import BankHooksCore
@testable import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Testing

/// An application deleted on one node while another publishes to it: the publish is refused
/// (`notFound`) or committed before the delete, the delete goes through, and neither is a
/// deadlock (a server failure). Publish locks the application's row before its webhooks', in the
/// order a delete's cascade takes them.
@Suite struct PostgresPublishDeleteTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    @Test func aPublishRacingItsApplicationsDeletionIsRefusedOrCommittedNeverDeadlocked() async throws {
        let url = try await TestPostgres.freshDatabase()
        let publisher = try TestPostgres.store(url: url), deleter = try TestPostgres.store(url: url)
        let t0 = self.t0
        for round in 0..<40 {
            let app = "app_\(round)"
            try await publisher.createApplication(Application(id: app, name: app, environment: .sandbox, createdAt: t0, webhookLimit: 10))
            for hook in 0..<3 {
                try await publisher.createWebhook(Webhook(
                    id: "wh_\(round)_\(hook)", applicationID: app, url: "http://127.0.0.1:9/\(hook)", eventTypes: nil, secret: .generate(),
                    createdAt: t0, updatedAt: t0))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        for n in 0..<6 {
                            let requests = (0..<8).map {
                                PublishRequest(
                                    applicationID: app, eventID: "e_\(worker)_\(n)_\($0)", idempotencyKey: nil, type: "payment.updated", timestamp: t0,
                                    data: Array(#"{"n": 1}"#.utf8))
                            }
                            do {
                                _ = try await publisher.publish(requests, now: t0)
                            } catch let error as StoreError where error.code == .notFound {
                                return
                            }
                        }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...6)))
                    _ = try await deleter.deleteApplication(id: app)
                }
                try await group.waitForAll()
            }
            #expect(try await deleter.application(id: app) == nil, "round \(round): the delete went through")
        }
    }
}

/// A webhook disabled on one node while another publishes to it: each publish is wholly before
/// the disable (its deliveries are then held) or after it (no delivery), as on SQLite's one
/// writer; never a pending delivery of a disabled webhook, which no node would claim and the
/// delivery log would show as waiting to be sent.
@Suite struct PostgresPublishDisableTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    @Test func aPublishRacingItsWebhooksDisableLeavesNoPendingDelivery() async throws {
        let url = try await TestPostgres.freshDatabase()
        let publisher = try TestPostgres.store(url: url), disabler = try TestPostgres.store(url: url)
        let t0 = self.t0
        try await publisher.createApplication(Application(id: "app_d", name: "D", environment: .sandbox, createdAt: t0, webhookLimit: 100))
        var pendingOfDisabled = 0
        for round in 0..<30 {
            let webhookID = "wh_d_\(round)"
            try await publisher.createWebhook(Webhook(
                id: webhookID, applicationID: "app_d", url: "http://127.0.0.1:9/\(round)", eventTypes: nil, secret: .generate(),
                createdAt: t0, updatedAt: t0))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        for n in 0..<5 {
                            _ = try await publisher.publish((0..<8).map {
                                PublishRequest(
                                    applicationID: "app_d", eventID: "e_\(round)_\(worker)_\(n)_\($0)", idempotencyKey: nil, type: "payment.updated",
                                    timestamp: t0, data: Array(#"{"n": 1}"#.utf8))
                            }, now: t0)
                        }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...8)))
                    _ = try await disabler.updateWebhook(id: webhookID, applicationID: "app_d", WebhookChange(isEnabled: false), now: t0)
                }
                try await group.waitForAll()
            }
            let rows = try await disabler.client.query("""
                SELECT count(*)::int8 FROM deliveries WHERE webhook_id = \(webhookID) AND state = \(StoredDeliveryState.pending.rawValue)
                """, logger: TestPostgres.logger)
            for try await count in rows.decode(Int64.self) { pendingOfDisabled += Int(count) }
        }
        #expect(pendingOfDisabled == 0, "deliveries left pending for a disabled webhook")
    }
}
