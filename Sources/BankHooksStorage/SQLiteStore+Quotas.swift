import BankHooksCore
import Foundation
import GRDB

/// Inserts that count against an application's quota in the same transaction (so concurrent
/// requests cannot overshoot it), and the event type reads that stay small whatever the count.
extension SQLiteStore {
    public func createEventType(_ type: CustomEventType, limit: Int) async throws {
        try await pool.write { db in
            let count = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM event_types WHERE application_id = ?", arguments: [type.applicationID]) ?? 0
            guard count < limit else {
                throw StoreError(.limitReached, "the application has registered \(count) event types")
            }
            do {
                try db.execute(
                    sql: "INSERT INTO event_types (application_id, name, description, schema, created_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [type.applicationID, type.name, type.description, type.schema, type.createdAt.milliseconds])
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError(.conflict, "event type \(type.name) exists")
            }
        }
    }

    public func eventTypes(applicationID: String, after name: String?, limit: Int) async throws -> Page<CustomEventType> {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM event_types WHERE application_id = ? AND name > ? ORDER BY name LIMIT ?",
                arguments: [applicationID, name ?? "", limit + 1])
            return Page(rows: rows.map(Self.eventType(from:)), limit: limit)
        }
    }

    public func eventType(name: String, applicationID: String) async throws -> CustomEventType? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM event_types WHERE application_id = ? AND name = ?", arguments: [applicationID, name])
                .map(Self.eventType(from:))
        }
    }

    static func eventType(from row: Row) -> CustomEventType {
        CustomEventType(
            applicationID: row["application_id"], name: row["name"], description: row["description"], schema: row["schema"],
            createdAt: Timestamp(milliseconds: row["created_at"]))
    }

    public func createAPIKey(_ key: APIKeyRecord, limit: Int) async throws {
        try await pool.write { db in
            let count = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM api_keys WHERE application_id = ? AND revoked_at IS NULL", arguments: [key.applicationID]) ?? 0
            guard count < limit else {
                throw StoreError(.limitReached, "the application holds \(count) API keys that are not revoked")
            }
            try db.execute(
                sql: "INSERT INTO api_keys (id, application_id, role, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [key.id, key.applicationID, key.role.rawValue, Data(key.hash), key.createdAt.milliseconds, key.revokedAt?.milliseconds])
        }
    }
}
