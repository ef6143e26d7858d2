import BankHooksCore
@testable import BankHooksStorage
import BankHooksTestSupport
import Foundation
import PostgresNIO
import Testing

/// A PostgreSQL store's start-up, as `SQLiteStore.init` does it, with several nodes starting at
/// once: migrations once, plaintext credentials sealed once, a wrong master key refused.
@Suite struct PostgresStartupTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    /// An application and a webhook whose secret and bearer token are stored as they are (no key).
    func seedPlaintext(url: String) async throws -> Webhook {
        let keyless = try TestPostgres.store(url: url)
        try await keyless.prepare(database: "test")
        try await keyless.createApplication(Application(id: "app", name: "A", environment: .sandbox, createdAt: t0))
        let webhook = Webhook(
            id: "wh", applicationID: "app", url: "http://127.0.0.1:9/", format: "okra", secret: .generate(), createdAt: t0, updatedAt: t0,
            bearerToken: "tok")
        try await keyless.createWebhook(webhook)
        await keyless.close()
        return webhook
    }

    /// The stored secret and bearer token, as the database holds them.
    func stored(_ store: PostgresStore) async throws -> (secret: String, token: String?) {
        let row = try #require(try await store.client.query("SELECT secret, bearer_token FROM webhooks WHERE id = 'wh'").collect().first)
        return try row.decode((String, String?).self)
    }

    @Test func aKeySealsPlaintextCredentialsAtStartAndAnotherKeyIsRefused() async throws {
        let url = try await TestPostgres.freshDatabase()
        let webhook = try await seedPlaintext(url: url)
        let box = try #require(SecretBox(base64: SecretBox.generateKey()))
        let store = try TestPostgres.store(url: url, secretBox: box)
        #expect(try await stored(store).secret == webhook.secret.text, "stored as given before a key exists")

        try await store.prepare(database: "test")
        let sealed = try await stored(store)
        #expect(SecretBox.isSealed(sealed.secret) && SecretBox.isSealed(sealed.token ?? ""))
        #expect(try await store.webhook(id: "wh", applicationID: "app")?.secret == webhook.secret)
        #expect(try await store.webhook(id: "wh", applicationID: "app")?.bearerToken == "tok")

        let other = try TestPostgres.store(url: url, secretBox: try #require(SecretBox(base64: SecretBox.generateKey())))
        let error = await #expect(throws: StoreError.self) { try await other.prepare(database: "postgres://u@h/db") }
        #expect(error?.code == .invalidValue)
        #expect(error?.message == "the master key does not open the webhook secrets stored in postgres://u@h/db: start with the key they were sealed with")
        #expect(try await stored(store) == sealed, "a refused start changes nothing")
    }

    @Test func nodesStartingTogetherMigrateOnceAndSealOnce() async throws {
        let url = try await TestPostgres.freshDatabase(migrated: false)
        let box = try #require(SecretBox(base64: SecretBox.generateKey()))
        // Four nodes on an empty database at once: one migrates, the others wait and find it done.
        let nodes = try (0..<4).map { _ in try TestPostgres.store(url: url, secretBox: box, maximumConnections: 2) }
        let applied = try await withThrowingTaskGroup(of: [String].self) { group in
            for node in nodes { group.addTask { try await node.migrate() } }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        // Each node applies them in order, one lock per migration, so one node may apply the first and
        // another the next: together, each exactly once.
        #expect(applied.sorted() == PostgresStore.migrations.map(\.name).sorted(), "each migration applied by exactly one node (\(applied))")
        let ledger = try await nodes[0].client.query("SELECT count(*) FROM bankhooks_migrations").collect()
        #expect(try ledger.first?.decode(Int.self) == PostgresStore.migrations.count)

        // Plaintext credentials, then four nodes with the key starting at once: sealed exactly once
        // (a second seal over the first would open to a sealed text, not the secret).
        let webhook = try await seedPlaintext(url: url)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { try await node.prepare(database: "test") } }
            try await group.waitForAll()
        }
        let sealed = try await stored(nodes[0])
        #expect(try box.open(sealed.secret) == webhook.secret.text)
        #expect(try box.open(sealed.token ?? "") == "tok")
        for node in nodes { await node.close() }
    }

    @Test func withoutMigratingADatabaseMissingMigrationsIsRefused() async throws {
        let url = try await TestPostgres.freshDatabase(migrated: false)
        let store = try TestPostgres.store(url: url)
        let error = await #expect(throws: StoreError.self) { try await store.prepare(migrates: false, database: "postgres://u@h/db") }
        #expect(error?.message.contains("the database postgres://u@h/db needs migrations (v1-sqlite-v10, v2-deliveries-webhook-state-id, v3-yapily, v4-attempt-hours, v5-reauthorisations)") == true)
        #expect(error?.message.contains("bankhooks migrate") == true)
        // Once migrated (by `bankhooks migrate`, say), the same start goes ahead.
        #expect(try await store.migrate() == PostgresStore.migrations.map(\.name))
        try await store.prepare(migrates: false, database: "postgres://u@h/db")
        #expect(try await store.migrate().isEmpty, "up to date: nothing applied twice")
    }
}
