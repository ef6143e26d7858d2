import BankHooksCore
@testable import BankHooksStorage
import BankHooksTestSupport
import Foundation
import PostgresNIO
import Testing

/// A publish takes its application's publish lock before anything else, whether or not the
/// application (or the whole database) has a webhook: the lock is what keeps `events.seq` in commit
/// order within an application. Held here from another session, the publish must wait for it.
@Suite struct PostgresPublishLockTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    @Test(arguments: [false, true])
    func aPublishWaitsForItsApplicationsPublishLock(withWebhook: Bool) async throws {
        let url = try await TestPostgres.freshDatabase()
        let store = try TestPostgres.store(url: url), holder = try TestPostgres.store(url: url)
        try await store.createApplication(Application(id: "app", name: "app", environment: .sandbox, createdAt: t0, webhookLimit: 10))
        if withWebhook {
            try await store.createWebhook(Webhook(
                id: "wh", applicationID: "app", url: "http://127.0.0.1:9/", eventTypes: nil, secret: .generate(), createdAt: t0, updatedAt: t0))
        }
        let t0 = self.t0
        let (whileHeld, afterwards) = try await whileLocked(
            by: holder, "SELECT pg_advisory_xact_lock(hashtext('publish:app'))", patience: .milliseconds(500)
        ) {
            _ = try await store.publish([PublishRequest(
                applicationID: "app", eventID: "e1", idempotencyKey: nil, type: "payment.updated", timestamp: t0, data: Array("{}".utf8))], now: t0)
        }
        #expect(!whileHeld, "the publish went on while another session held its application's lock")
        #expect(afterwards)
        #expect(try await store.deliveries(eventID: "e1", applicationID: "app").count == (withWebhook ? 1 : 0))
    }
}
