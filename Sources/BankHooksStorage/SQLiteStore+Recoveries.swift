import BankHooksCore
import GRDB

/// Recovery jobs: what a job covers is fixed at creation; it walks its failed deliveries in id order.
extension SQLiteStore {
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
                WHERE webhook_id = ? AND state = \(Self.failed) AND created_at >= ? AND created_at < ? AND last_attempt_at < ?
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
                WHERE webhook_id = ? AND state = \(Self.failed) AND id > ? AND id <= ? AND created_at >= ? AND created_at < ?
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
