import BankHooksCore
import Foundation
import GRDB

/// An application's own event types. A registration counts against the quota in its insert's
/// transaction, so concurrent requests cannot overshoot it.
extension SQLiteStore {
    public func createEventType(_ type: CustomEventType) async throws {
        try await createEventType(type, limit: .max)
    }

    public func eventTypes(applicationID: String) async throws -> [CustomEventType] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM event_types WHERE application_id = ? ORDER BY name", arguments: [applicationID]).map { row in
                CustomEventType(
                    applicationID: row["application_id"], name: row["name"], description: row["description"], schema: row["schema"],
                    createdAt: Timestamp(milliseconds: row["created_at"]))
            }
        }
    }

    public func deleteEventType(name: String, applicationID: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM event_types WHERE application_id = ? AND name = ?", arguments: [applicationID, name])
            return db.changesCount > 0
        }
    }

    public func createEventType(_ type: CustomEventType, limit: Int) async throws {
        try await pool.write { db in
            try Self.checkQuota(db, count: "SELECT COUNT(*) FROM event_types WHERE application_id = ?", [type.applicationID], limit: limit) {
                "the application has registered \($0) event types"
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
}
