import BankHooksCore
import Foundation
import GRDB

/// Applications and their API keys.
extension SQLiteStore {
    public func createApplication(_ application: Application) async throws {
        let callbacks = try Self.json(application.redirectCallbacks)
        try await pool.write { db in
            do {
                try db.execute(
                    sql: """
                        INSERT INTO applications (id, name, environment, created_at, webhook_limit, redirect_callbacks, allows_plain_http)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        application.id, application.name, application.environment.rawValue, application.createdAt.milliseconds,
                        application.webhookLimit, callbacks, application.allowsPlainHTTP,
                    ])
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError(.conflict, "application \(application.id) exists")
            }
        }
    }

    public func application(id: String) async throws -> Application? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM applications WHERE id = ?", arguments: [id]).map(Self.application(from:))
        }
    }

    public func applications() async throws -> [Application] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM applications ORDER BY id").map(Self.application(from:))
        }
    }

    public func updateApplication(_ application: Application) async throws -> Application? {
        let callbacks = try Self.json(application.redirectCallbacks)
        return try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE applications SET name = ?, environment = ?, webhook_limit = ?, redirect_callbacks = ?, allows_plain_http = ?
                    WHERE id = ?
                    """,
                arguments: [
                    application.name, application.environment.rawValue, application.webhookLimit, callbacks,
                    application.allowsPlainHTTP, application.id,
                ])
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM applications WHERE id = ?", arguments: [application.id]).map(Self.application(from:))
        }
    }

    public func deleteApplication(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM applications WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    static func application(from row: Row) -> Application {
        let callbacks: String = row["redirect_callbacks"]
        return Application(
            id: row["id"], name: row["name"],
            environment: Application.Environment(rawValue: row["environment"]) ?? .sandbox,
            createdAt: Timestamp(milliseconds: row["created_at"]), webhookLimit: row["webhook_limit"],
            redirectCallbacks: (try? JSONDecoder().decode([String].self, from: Data(callbacks.utf8))) ?? [],
            allowsPlainHTTP: row["allows_plain_http"])
    }

    static func json(_ values: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
    }

    public func apiKeys(applicationID: String) async throws -> [APIKeyRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_keys WHERE application_id = ? ORDER BY created_at, id", arguments: [applicationID])
                .compactMap(Self.apiKey(from:))
        }
    }

    public func revokeAPIKey(id: String, applicationID: String, now: Timestamp) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND application_id = ?",
                arguments: [now.milliseconds, id, applicationID])
            return db.changesCount > 0
        }
    }

    /// A key without a quota is the quota insert with no limit (one insert, not two copies).
    public func createAPIKey(_ key: APIKeyRecord) async throws {
        try await createAPIKey(key, limit: .max)
    }

    public func apiKey(id: String) async throws -> APIKeyRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]).flatMap(Self.apiKey(from:))
        }
    }

    static func apiKey(from row: Row) -> APIKeyRecord? {
        guard let role = Role(rawValue: row["role"]) else { return nil }
        let hash: Data = row["hash"]
        let revoked: Int64? = row["revoked_at"]
        return APIKeyRecord(
            id: row["id"], applicationID: row["application_id"], role: role, hash: Array(hash),
            createdAt: Timestamp(milliseconds: row["created_at"]), revokedAt: revoked.map(Timestamp.init(milliseconds:)))
    }

    public func hasOperatorKey() async throws -> Bool {
        try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM api_keys WHERE role = 'operator' AND revoked_at IS NULL)") ?? false
        }
    }

    public func createAPIKey(_ key: APIKeyRecord, limit: Int) async throws {
        try await pool.write { db in
            try Self.checkQuota(
                db, count: "SELECT COUNT(*) FROM api_keys WHERE application_id = ? AND revoked_at IS NULL", [key.applicationID], limit: limit
            ) { "the application holds \($0) API keys that are not revoked" }
            try db.execute(
                sql: "INSERT INTO api_keys (id, application_id, role, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [key.id, key.applicationID, key.role.rawValue, Data(key.hash), key.createdAt.milliseconds, key.revokedAt?.milliseconds])
        }
    }
}
