import BankHooksCore
import GRDB

/// The delivery log (events, deliveries and attempts, in keyset pages) and recovery work.
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
            let codes: [Int?] = state.map { Self.stateCodes($0).map(Optional.some) } ?? [nil]
            var rows: [Delivery] = []
            for code in codes {
                let stateCondition = code == nil ? "" : " AND d.state = \(code!)"
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

    /// The stored state codes of a public state: pending is both due (0) and held (4).
    static func stateCodes(_ state: DeliveryState) -> [Int] {
        switch state {
        case .pending: [0, 4]
        case .succeeded: [1]
        case .failed: [2]
        case .cancelled: [3]
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

    // MARK: Sends outside the claim loop

    public func leaseForSend(
        deliveryID: Int64, applicationID: String, owner: String, until: Timestamp, now: Timestamp, expecting: DeliveryState?,
        attemptedBefore: Timestamp?
    ) async throws -> (delivery: ClaimedDelivery, previous: DeliveryState)? {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT \(Self.claimColumns), d.lease_owner, d.last_attempt_at, w.is_enabled
                FROM deliveries d JOIN events e ON e.seq = d.event_seq JOIN webhooks w ON w.id = d.webhook_id
                WHERE d.id = ? AND d.application_id = ?
                """, arguments: [deliveryID, applicationID]) else { return nil }
            guard row["is_enabled"] as Bool else {
                throw StoreError(.conflict, "webhook \(row["webhook_id"] as String) is disabled; enable it first")
            }
            let code: Int = row["state"]
            let leaseOwner: String? = row["lease_owner"]
            let due: Int64? = row["next_attempt_at"]
            if code == 0, leaseOwner != nil, let due, due > now.milliseconds {
                throw StoreError(.conflict, "delivery \(deliveryID) is being sent right now")
            }
            if let expecting, Self.deliveryState(code: code) != expecting {
                throw StoreError(.stateChanged, "delivery \(deliveryID) is no longer \(expecting.rawValue)")
            }
            let lastAttempt: Int64? = row["last_attempt_at"]
            if let attemptedBefore, let lastAttempt, lastAttempt >= attemptedBefore.milliseconds {
                throw StoreError(.stateChanged, "delivery \(deliveryID) was attempted again meanwhile")
            }
            guard var delivery = claimedDelivery(from: row, owner: owner) else {
                throw StoreError(.invalidValue, "the webhook's secret cannot be opened with this master key")
            }
            // A pending delivery keeps its place in its schedule: a failed resend puts it back there.
            delivery.dueAt = code == 0 || code == 4 ? Timestamp(milliseconds: due ?? now.milliseconds) : now
            try db.execute(sql: "UPDATE deliveries SET state = 0, lease_owner = ?, next_attempt_at = ? WHERE id = ?",
                           arguments: [owner, until.milliseconds, deliveryID])
            return (delivery, Self.deliveryState(code: code))
        }
    }

    // MARK: Recovery jobs

    public func createRecovery(_ recovery: Recovery) async throws -> (recovery: Recovery, created: Bool)? {
        try await pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM webhooks WHERE id = ? AND application_id = ?",
                                    arguments: [recovery.webhookID, recovery.applicationID]) != nil else { return nil }
            // One running job per webhook (the unique index `recoveries_one_running` says so too).
            if let running = try Row.fetchOne(db, sql: "SELECT * FROM recoveries WHERE webhook_id = ? AND state = 'running'",
                                              arguments: [recovery.webhookID]) {
                return (Self.recovery(from: running), false)
            }
            var job = recovery
            // Strictly before the job: an attempt made in the job's own millisecond (by the job) is not its work.
            guard let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS total, COALESCE(MAX(id), 0) AS last FROM deliveries INDEXED BY deliveries_webhook
                WHERE webhook_id = ? AND state = 2 AND created_at >= ? AND created_at < ? AND last_attempt_at < ?
                """, arguments: [job.webhookID, job.since.milliseconds, job.until?.milliseconds ?? Int64.max, job.createdAt.milliseconds])
            else { return nil }
            job.total = row["total"]
            job.lastDeliveryID = row["last"]
            if job.total == 0 {
                job.state = .completed
                job.finishedAt = job.createdAt
            }
            try db.execute(sql: """
                INSERT INTO recoveries (id, application_id, webhook_id, since, until, state, last_delivery_id, cursor, total,
                    processed, succeeded, failed, created_at, finished_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, 0, 0, 0, ?, ?)
                """, arguments: [
                    job.id, job.applicationID, job.webhookID, job.since.milliseconds, job.until?.milliseconds, job.state.rawValue,
                    job.lastDeliveryID, job.total, job.createdAt.milliseconds, job.finishedAt?.milliseconds,
                ])
            return (job, true)
        }
    }

    public func recovery(id: String, applicationID: String) async throws -> Recovery? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM recoveries WHERE id = ? AND application_id = ?", arguments: [id, applicationID])
                .map(Self.recovery(from:))
        }
    }

    public func runningRecoveries() async throws -> [Recovery] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM recoveries WHERE state = 'running' ORDER BY created_at").map(Self.recovery(from:))
        }
    }

    public func nextRecoveryDeliveries(_ recovery: Recovery, limit: Int) async throws -> [Int64] {
        try await pool.read { db in
            try Int64.fetchAll(db, sql: """
                SELECT id FROM deliveries INDEXED BY deliveries_webhook
                WHERE webhook_id = ? AND state = 2 AND id > ? AND id <= ? AND created_at >= ? AND created_at < ?
                  AND last_attempt_at < ?
                ORDER BY id LIMIT ?
                """, arguments: [
                    recovery.webhookID, recovery.cursor, recovery.lastDeliveryID, recovery.since.milliseconds,
                    recovery.until?.milliseconds ?? Int64.max, recovery.createdAt.milliseconds, limit,
                ])
        }
    }

    public func updateRecovery(_ recovery: Recovery) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE recoveries SET state = ?, cursor = ?, processed = ?, succeeded = ?, failed = ?, finished_at = ? WHERE id = ?
                """, arguments: [
                    recovery.state.rawValue, recovery.cursor, recovery.processed, recovery.succeeded, recovery.failed,
                    recovery.finishedAt?.milliseconds, recovery.id,
                ])
        }
    }

    static func recovery(from row: Row) -> Recovery {
        let until: Int64? = row["until"], finished: Int64? = row["finished_at"]
        return Recovery(
            id: row["id"], applicationID: row["application_id"], webhookID: row["webhook_id"],
            since: Timestamp(milliseconds: row["since"]), until: until.map(Timestamp.init(milliseconds:)),
            state: Recovery.State(rawValue: row["state"]) ?? .running, lastDeliveryID: row["last_delivery_id"], cursor: row["cursor"],
            total: row["total"], processed: row["processed"], succeeded: row["succeeded"], failed: row["failed"],
            createdAt: Timestamp(milliseconds: row["created_at"]), finishedAt: finished.map(Timestamp.init(milliseconds:)))
    }
}
