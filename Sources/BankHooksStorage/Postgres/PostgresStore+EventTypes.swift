import BankHooksCore
import PostgresNIO

/// An application's own event types (`SQLiteStore+EventTypes.swift` is the reference). A
/// registration counts against the quota after locking its application's row, so concurrent
/// requests on any number of nodes cannot overshoot it (`checkQuota`).
extension PostgresStore: EventTypeStore {
    public func createEventType(_ type: CustomEventType) async throws {
        try await createEventType(type, limit: .max)
    }

    public func eventTypes(applicationID: String) async throws -> [CustomEventType] {
        try await rows("SELECT * FROM event_types WHERE application_id = \(applicationID) ORDER BY name").map(Self.eventType(from:))
    }

    public func deleteEventType(name: String, applicationID: String) async throws -> Bool {
        try await rows("DELETE FROM event_types WHERE application_id = \(applicationID) AND name = \(name) RETURNING name").isEmpty == false
    }

    public func createEventType(_ type: CustomEventType, limit: Int) async throws {
        do {
            try await transaction { connection in
                try await Self.checkQuota(
                    applicationID: type.applicationID, limit: limit,
                    count: "SELECT COUNT(*) AS count FROM event_types WHERE application_id = \(type.applicationID)",
                    on: connection, logger: logger
                ) { "the application has registered \($0) event types" }
                try await connection.run("""
                    INSERT INTO event_types (application_id, name, description, schema, created_at)
                    VALUES (\(type.applicationID), \(type.name), \(type.description), \(type.schema), \(type.createdAt.milliseconds))
                    """, logger: logger)
            }
        } catch let error where Self.isUniqueViolation(error) {
            throw StoreError(.conflict, "event type \(type.name) exists")
        } catch let error where Self.isForeignKeyViolation(error) {
            throw StoreError(.notFound, "no application \(type.applicationID)")
        }
    }

    public func eventTypes(applicationID: String, after name: String?, limit: Int) async throws -> Page<CustomEventType> {
        // Names order bytewise (`COLLATE "C"` in the schema), as on SQLite, so `name >` continues the page exactly.
        let rows = try await rows("""
            SELECT * FROM event_types WHERE application_id = \(applicationID) AND name > \(name ?? "") ORDER BY name LIMIT \(limit + 1)
            """)
        return Page(rows: try rows.map(Self.eventType(from:)), limit: limit)
    }

    public func eventType(name: String, applicationID: String) async throws -> CustomEventType? {
        try await rows("SELECT * FROM event_types WHERE application_id = \(applicationID) AND name = \(name)").first.map(Self.eventType(from:))
    }

    static func eventType(from row: StoredRow) throws -> CustomEventType {
        CustomEventType(
            applicationID: try row("application_id"), name: try row("name"), description: try row("description"), schema: try row("schema"),
            createdAt: try row.timestamp("created_at"))
    }
}
