import BankHooksCore
@testable import BankHooksStorage
import BankHooksTestSupport
import Testing

/// PostgreSQL text cannot hold a NUL character (SQLite's can): a client's text with one is a
/// `StoreError(.invalidValue)` from the store, never PostgresNIO's server error.
@Suite struct PostgresTextTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    @Test func aNULInABoundTextIsAnInvalidValueThroughEveryHelper() async throws {
        let store = try await TestPostgres.freshStore()
        let nul = "a\u{0}b"
        let viaTransaction = await #expect(throws: StoreError.self) {
            try await store.transaction { connection in
                try await connection.run("SELECT 1 FROM applications WHERE id = \(nul)", logger: store.logger)
            }
        }
        #expect(viaTransaction?.code == .invalidValue)
        #expect(viaTransaction?.message == "text may not contain a NUL character")
        let viaRows = await #expect(throws: StoreError.self) {
            try await store.client.withConnection { connection in
                _ = try await connection.rows("SELECT id FROM applications WHERE name = \(nul)", logger: store.logger)
            }
        }
        #expect(viaRows?.code == .invalidValue)
        // A valid text on the same store still works: nothing was left half done.
        #expect(try await store.transaction { connection in
            try await connection.row("SELECT 1 AS one WHERE \("ab") = 'ab'", logger: store.logger)?("one", as: Int.self)
        } == 1)
    }

    @Test func anIndexedTextPastABtreeEntryIsAnInvalidValue() async throws {
        let store = try await TestPostgres.freshStore()
        // Random hex does not compress: 3,200 bytes are past the 2,704 a btree entry holds.
        var generator = SystemRandomNumberGenerator()
        let id = String((0..<3200).map { _ in "0123456789abcdef".randomElement(using: &generator) ?? "0" })
        let error = await #expect(throws: StoreError.self) {
            try await store.transaction { connection in
                try await connection.run("INSERT INTO applications (id, name, environment, created_at) VALUES (\(id), 'A', 'sandbox', 0)", logger: store.logger)
            }
        }
        #expect(error?.code == .invalidValue)
        #expect(try await store.applications().isEmpty)
    }

    @Test func aSessionIdleInATransactionIsEndedByTheServer() async throws {
        let store = try await TestPostgres.freshStore()
        let settings = try await store.transaction { connection in
            try await connection.row("""
                SELECT current_setting('idle_in_transaction_session_timeout') AS idle, current_setting('tcp_keepalives_idle') AS keepalive
                """, logger: store.logger).map { row in (try row("idle", as: String.self), try row("keepalive", as: String.self)) }
        }
        #expect(settings?.0 == "15s", "a node frozen mid-transaction frees its locks within 15 s")
        #expect(settings?.1 == "10", "a vanished client is found in seconds, not hours")
    }

    @Test func anApplicationOrWebhookNamedWithANULIsRefusedAndNothingIsStored() async throws {
        let store = try await TestPostgres.freshStore()
        let refused = await #expect(throws: StoreError.self) {
            try await store.createApplication(Application(id: "app", name: "a\u{0}b", environment: .sandbox, createdAt: t0))
        }
        #expect(refused?.code == .invalidValue)
        #expect(try await store.applications().isEmpty)
        try await store.createApplication(Application(id: "app", name: "A", environment: .sandbox, createdAt: t0))
        let webhook = await #expect(throws: StoreError.self) {
            try await store.createWebhook(Webhook(
                id: "wh", applicationID: "app", url: "http://127.0.0.1:9/", name: "x\u{0}", secret: .generate(), createdAt: t0, updatedAt: t0))
        }
        #expect(webhook?.code == .invalidValue)
        #expect(try await store.webhooks(applicationID: "app").isEmpty)
    }
}
