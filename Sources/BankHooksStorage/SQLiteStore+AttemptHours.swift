import BankHooksCore
import GRDB

/// Each webhook's attempts per hour (`webhook_attempt_hours`): added to by `record`, read by the dashboard's list.
extension SQLiteStore {
    /// Adds a record batch's counts, one row per webhook and hour (not per attempt), inside `record`'s transaction.
    static func addAttemptHours(_ batch: AttemptHours.Batch, db: Database) throws {
        guard !batch.counts.isEmpty else { return }
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO webhook_attempt_hours (webhook_id, hour, succeeded, failed, last_attempt_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (webhook_id, hour) DO UPDATE SET
                succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,
                last_attempt_at = max(last_attempt_at, excluded.last_attempt_at)
            """)
        for (key, tally) in batch.counts {
            try upsert.execute(arguments: [key.webhookID, key.hour, tally.succeeded, tally.failed, tally.lastAttemptAt.milliseconds])
        }
    }

    public func attemptTallies(applicationID: String, since: Timestamp) async throws -> [String: AttemptTally] {
        try await pool.read { db in
            // The application's webhooks by their index, then each one's hours by the primary key's range.
            let rows = try Row.fetchCursor(db, sql: """
                SELECT h.webhook_id, sum(h.succeeded), sum(h.failed), max(h.last_attempt_at)
                FROM webhooks w JOIN webhook_attempt_hours h ON h.webhook_id = w.id AND h.hour >= ?
                WHERE w.application_id = ?
                GROUP BY h.webhook_id
                """, arguments: [AttemptHours.hour(of: since), applicationID])
            var tallies: [String: AttemptTally] = [:]
            while let row = try rows.next() {
                tallies[row[0]] = AttemptTally(succeeded: row[1], failed: row[2], lastAttemptAt: Timestamp(milliseconds: row[3]))
            }
            return tallies
        }
    }
}
