import BankHooksCore
import Foundation
import PostgresNIO

/// Applications and their API keys (`SQLiteStore+Tenants.swift` is the reference for each method).
extension PostgresStore: TenantStore {
    public func createApplication(_ application: Application) async throws {
        let callbacks = try SQLiteStore.json(application.redirectCallbacks)
        do {
            _ = try await rows("""
                INSERT INTO applications (id, name, environment, created_at, webhook_limit, redirect_callbacks, allows_plain_http)
                VALUES (\(application.id), \(application.name), \(application.environment.rawValue), \(application.createdAt.milliseconds),
                    \(application.webhookLimit), \(callbacks), \(application.allowsPlainHTTP))
                """)
        } catch let error where Self.isUniqueViolation(error) || Self.isCheckViolation(error) {
            // As SQLite's, which reports any constraint of this insert as a conflict.
            throw StoreError(.conflict, "application \(application.id) exists")
        }
    }

    public func application(id: String) async throws -> Application? {
        try await rows("SELECT * FROM applications WHERE id = \(id)").first.map(Self.application(from:))
    }

    public func applications() async throws -> [Application] {
        // Byte order, as on SQLite: the schema declares ids `COLLATE "C"`.
        try await rows("SELECT * FROM applications ORDER BY id").map(Self.application(from:))
    }

    public func updateApplication(_ application: Application) async throws -> Application? {
        let callbacks = try SQLiteStore.json(application.redirectCallbacks)
        return try await rows("""
            UPDATE applications SET name = \(application.name), environment = \(application.environment.rawValue),
                webhook_limit = \(application.webhookLimit), redirect_callbacks = \(callbacks), allows_plain_http = \(application.allowsPlainHTTP)
            WHERE id = \(application.id)
            RETURNING *
            """).first.map(Self.application(from:))
    }

    public func deleteApplication(id: String) async throws -> Bool {
        try await rows("DELETE FROM applications WHERE id = \(id) RETURNING id").isEmpty == false
    }

    static func application(from row: StoredRow) throws -> Application {
        let callbacks = try row("redirect_callbacks", as: String.self)
        return Application(
            id: try row("id"), name: try row("name"),
            environment: Application.Environment(rawValue: try row("environment")) ?? .sandbox,
            createdAt: try row.timestamp("created_at"), webhookLimit: try row("webhook_limit"),
            redirectCallbacks: (try? JSONDecoder().decode([String].self, from: Data(callbacks.utf8))) ?? [],
            allowsPlainHTTP: try row("allows_plain_http"))
    }

    public func apiKeys(applicationID: String) async throws -> [APIKeyRecord] {
        try await rows("SELECT * FROM api_keys WHERE application_id = \(applicationID) ORDER BY created_at, id")
            .compactMap(Self.apiKey(from:))
    }

    public func revokeAPIKey(id: String, applicationID: String, now: Timestamp) async throws -> Bool {
        try await rows("""
            UPDATE api_keys SET revoked_at = COALESCE(revoked_at, \(now.milliseconds)) WHERE id = \(id) AND application_id = \(applicationID)
            RETURNING id
            """).isEmpty == false
    }

    /// A key without a quota is the quota insert with no limit (one insert, not two copies).
    public func createAPIKey(_ key: APIKeyRecord) async throws {
        try await createAPIKey(key, limit: .max)
    }

    public func apiKey(id: String) async throws -> APIKeyRecord? {
        try await rows("SELECT * FROM api_keys WHERE id = \(id)").first.flatMap(Self.apiKey(from:))
    }

    static func apiKey(from row: StoredRow) throws -> APIKeyRecord? {
        guard let role = Role(rawValue: try row("role")) else { return nil }
        return APIKeyRecord(
            id: try row("id"), applicationID: try row("application_id"), role: role, hash: Array(try row.data("hash")),
            createdAt: try row.timestamp("created_at"), revokedAt: try row.timestampIfPresent("revoked_at"))
    }

    public func hasOperatorKey() async throws -> Bool {
        try await rows("SELECT EXISTS (SELECT 1 FROM api_keys WHERE role = 'operator' AND revoked_at IS NULL) AS found")
            .first?("found", as: Bool.self) ?? false
    }

    public func createAPIKey(_ key: APIKeyRecord, limit: Int) async throws {
        do {
            try await transaction { connection in
                try await Self.checkQuota(
                    applicationID: key.applicationID, limit: limit,
                    count: "SELECT COUNT(*) AS count FROM api_keys WHERE application_id = \(key.applicationID) AND revoked_at IS NULL",
                    on: connection, logger: logger
                ) { "the application holds \($0) API keys that are not revoked" }
                try await connection.run("""
                    INSERT INTO api_keys (id, application_id, role, hash, created_at, revoked_at)
                    VALUES (\(key.id), \(key.applicationID), \(key.role.rawValue), \(Data(key.hash)), \(key.createdAt.milliseconds),
                        \(key.revokedAt?.milliseconds))
                    """, logger: logger)
            }
        } catch let error where Self.isForeignKeyViolation(error) {
            throw StoreError(.notFound, "no application \(key.applicationID)")
        } catch let error where Self.isUniqueViolation(error) {
            throw StoreError(.conflict, "API key \(key.id) exists")
        }
    }

    // MARK: Helpers

    /// Refuses an insert past a quota (`limitReached`). Several nodes insert at once, so the count
    /// is taken after locking the application's row (`FOR NO KEY UPDATE`: concurrent quota inserts
    /// of one application wait for each other, while publishes, whose foreign keys take only
    /// `KEY SHARE`, go on), in a statement of its own so it sees what the lock waited for. A missing
    /// application counts nothing: the insert's foreign key reports it. No limit (`.max`) counts nothing.
    static func checkQuota(
        applicationID: String, limit: Int, count: PostgresQuery, on connection: PostgresConnection, logger: Logger,
        message: (Int) -> String
    ) async throws {
        guard limit < .max else { return }
        try await connection.run("SELECT 1 FROM applications WHERE id = \(applicationID) FOR NO KEY UPDATE", logger: logger)
        let count = try await connection.row(count, logger: logger)?("count", as: Int.self) ?? 0
        guard count < limit else { throw StoreError(.limitReached, message(count)) }
    }

    /// The rows of one statement run on its own (its own implicit transaction on a pooled connection):
    /// a read, or a write that is one statement.
    func rows(_ query: PostgresQuery) async throws -> [StoredRow] {
        do {
            return try await client.result(query, logger: logger).map(StoredRow.init)
        } catch {
            throw Self.mapped(error)
        }
    }
}
