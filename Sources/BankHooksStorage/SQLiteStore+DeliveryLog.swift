import BankHooksCore
import Foundation
import GRDB

/// The delivery log: events, deliveries and attempts, by id and in keyset pages.
/// Every page is one index range read newest first from the cursor: no OFFSET, no sort.
extension SQLiteStore {
    // MARK: Delivery log

    public func events(applicationID: String, filter: EventFilter, after cursor: EventCursor?, limit: Int) async throws -> Page<EventSummary> {
        var conditions = ["application_id = ?"]
        var arguments: StatementArguments = [applicationID]
        if let type = filter.type {
            conditions.append("type = ?")
            _ = arguments.append(contentsOf: [type])
        }
        if let since = filter.since {
            conditions.append("created_at >= ?")
            _ = arguments.append(contentsOf: [since.milliseconds])
        }
        if let until = filter.until {
            conditions.append("created_at < ?")
            _ = arguments.append(contentsOf: [until.milliseconds])
        }
        let index = filter.type == nil ? "events_application_created" : "events_application_type_created"
        func sql(_ extra: String) -> String {
            """
            SELECT seq, id, type, timestamp, created_at FROM events INDEXED BY \(index)
            WHERE \(conditions.joined(separator: " AND "))\(extra)
            ORDER BY created_at DESC, seq DESC LIMIT ?
            """
        }
        // After a cursor, two index range reads: the rest of the cursor's millisecond, then the
        // older ones. (One row-value condition `(created_at, seq) < (?, ?)` would seek on
        // created_at only and walk every row of that millisecond.)
        let queries: [(String, StatementArguments)]
        if let cursor {
            queries = [
                (sql(" AND created_at = ? AND seq < ?"), arguments + [cursor.createdAt, cursor.seq]),
                (sql(" AND created_at < ?"), arguments + [cursor.createdAt]),
            ]
        } else {
            queries = [(sql(""), arguments)]
        }
        return try await pool.read { db in
            var rows: [EventSummary] = []
            for (text, bound) in queries where rows.count <= limit {
                rows += try Row.fetchAll(db, sql: text, arguments: bound + [limit + 1 - rows.count]).map { row in
                    EventSummary(
                        seq: row["seq"], id: row["id"], type: row["type"], timestamp: Timestamp(milliseconds: row["timestamp"]),
                        createdAt: Timestamp(milliseconds: row["created_at"]))
                }
            }
            return Page(rows: rows, limit: limit)
        }
    }

    public func deliveries(applicationID: String, of owner: DeliveryOwner, state: DeliveryState?, before: Int64?, limit: Int) async throws -> Page<Delivery>? {
        try await pool.read { db in
            let ownerCondition: String
            let ownerKey: DatabaseValueConvertible
            switch owner {
            case .webhook(let id):
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM webhooks WHERE id = ? AND application_id = ?", arguments: [id, applicationID]) != nil
                else { return nil }
                ownerCondition = "d.webhook_id = ?"
                ownerKey = id
            case .event(let id):
                guard let seq = try Int64.fetchOne(db, sql: "SELECT seq FROM events WHERE application_id = ? AND id = ?", arguments: [applicationID, id])
                else { return nil }
                ownerCondition = "d.event_seq = ?"
                ownerKey = seq
            }
            let bound = before ?? Int64.max
            // One index range per stored state code (pending is two: due and held), merged newest first.
            let codes: [StoredDeliveryState?] = state.map { StoredDeliveryState.covering($0).map(Optional.some) } ?? [nil]
            var rows: [Delivery] = []
            for code in codes {
                let stateCondition = code.map { " AND d.state = \($0.sqlLiteral)" } ?? ""
                rows += try Row.fetchAll(db, sql: """
                    SELECT d.*, e.id AS event_id, e.type AS event_type FROM deliveries d JOIN events e ON e.seq = d.event_seq
                    WHERE \(ownerCondition)\(stateCondition) AND d.id < ?
                    ORDER BY d.id DESC LIMIT ?
                    """, arguments: [ownerKey, bound, limit + 1]).map(Self.delivery(from:))
            }
            if codes.count > 1 { rows.sort { $0.id > $1.id } }
            return Page(rows: rows, limit: limit)
        }
    }

    public func attempt(id: Int64, applicationID: String) async throws -> (attempt: Attempt, webhookID: String)? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT a.*, d.webhook_id FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
                WHERE a.id = ? AND d.application_id = ?
                """, arguments: [id, applicationID]).map { row in (Self.attempt(from: row), row["webhook_id"]) }
        }
    }

    // MARK: Reads by id

    public func event(id: String, applicationID: String) async throws -> Event? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM events WHERE application_id = ? AND id = ?", arguments: [applicationID, id])
                .map(Self.event(from:))
        }
    }

    public func latestEvent(applicationID: String, subject: String, typePrefix: String) async throws -> Event? {
        try await pool.read { db in
            // The subject index gives this record's events newest first; the type filter runs on those rows only.
            try Row.fetchOne(db, sql: """
                SELECT * FROM events INDEXED BY events_subject
                WHERE application_id = ? AND subject = ? AND substr(type, 1, ?) = ?
                ORDER BY seq DESC LIMIT 1
                """, arguments: [applicationID, subject, typePrefix.utf8.count, typePrefix]).map(Self.event(from:))
        }
    }

    static func event(from row: Row) -> Event {
        let data: Data = row["data"]
        return Event(
            id: row["id"], applicationID: row["application_id"], type: row["type"],
            timestamp: Timestamp(milliseconds: row["timestamp"]), timestampText: row["timestamp_text"], data: Array(data),
            createdAt: Timestamp(milliseconds: row["created_at"]))
    }

    public func deliveries(eventID: String, applicationID: String) async throws -> [Delivery] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT d.*, e.id AS event_id, e.type AS event_type FROM deliveries d JOIN events e ON e.seq = d.event_seq
                WHERE e.application_id = ? AND e.id = ? ORDER BY d.id
                """, arguments: [applicationID, eventID]).map(Self.delivery(from:))
        }
    }

    public func delivery(id: Int64, applicationID: String) async throws -> Delivery? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT d.*, e.id AS event_id, e.type AS event_type FROM deliveries d JOIN events e ON e.seq = d.event_seq
                WHERE d.id = ? AND d.application_id = ?
                """, arguments: [id, applicationID]).map(Self.delivery(from:))
        }
    }

    static func delivery(from row: Row) -> Delivery {
        let state = StoredDeliveryState(code: row["state"]).state
        let next: Int64? = row["next_attempt_at"]
        let last: Int64? = row["last_attempt_at"]
        return Delivery(
            id: row["id"], eventID: row["event_id"], webhookID: row["webhook_id"], applicationID: row["application_id"],
            state: state, attempts: row["attempts"], nextAttemptAt: state == .pending ? next.map(Timestamp.init(milliseconds:)) : nil,
            lastAttemptAt: last.map(Timestamp.init(milliseconds:)), lastStatus: row["last_status"],
            createdAt: Timestamp(milliseconds: row["created_at"]), eventType: row["event_type"])
    }

    public func attempts(deliveryID: Int64) async throws -> [Attempt] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM attempts WHERE delivery_id = ? ORDER BY number, id", arguments: [deliveryID])
                .map(Self.attempt(from:))
        }
    }

    static func attempt(from row: Row) -> Attempt {
        let kind: String? = row["error_kind"]
        return Attempt(
            deliveryID: row["delivery_id"], number: row["number"], startedAt: Timestamp(milliseconds: row["started_at"]),
            durationMicroseconds: row["duration_us"], status: row["status"], responseExcerpt: row["response_excerpt"],
            errorKind: kind.flatMap(TransportErrorKind.init(rawValue:)), errorMessage: row["error_message"],
            requestHeaders: row["request_headers"], id: row["id"])
    }

    public func deliveryCounts() async throws -> [DeliveryState: Int] {
        try await pool.read { db in
            var counts: [DeliveryState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state") {
                let state = StoredDeliveryState(code: row["state"]).state
                counts[state, default: 0] += row["n"] as Int
            }
            return counts
        }
    }
}
