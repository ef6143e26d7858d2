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
        let published = Locked(false)
        let (held, release) = AsyncStream<Void>.makeStream()
        let (releasedHolder, holderReleased) = AsyncStream<Void>.makeStream()
        let logger = store.logger, t0 = self.t0
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await holder.transaction { (connection: PostgresConnection) async throws -> Void in
                    try await connection.run("SELECT pg_advisory_xact_lock(hashtext('publish:app'))", logger: logger)
                    holderReleased.yield()
                    for await _ in held { break }
                }
            }
            for await _ in releasedHolder { break }
            group.addTask {
                _ = try await store.publish([PublishRequest(
                    applicationID: "app", eventID: "e1", idempotencyKey: nil, type: "payment.updated", timestamp: t0, data: Array("{}".utf8))], now: t0)
                published.withLock { $0 = true }
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(published.withLock { $0 } == false, "the publish went on while another session held its application's lock")
            release.yield()
            release.finish()
            try await group.waitForAll()
        }
        #expect(published.withLock { $0 })
        #expect(try await store.deliveries(eventID: "e1", applicationID: "app").count == (withWebhook ? 1 : 0))
    }
}
