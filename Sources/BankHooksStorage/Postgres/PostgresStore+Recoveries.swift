import BankHooksCore
import PostgresNIO

/// Recovery jobs (`SQLiteStore+Recoveries.swift` is the reference): what a job covers is fixed at
/// creation; it walks its failed deliveries in id order.
extension PostgresStore: RecoveryStore {
    public func createRecovery(_ recovery: Recovery) async throws -> (recovery: Recovery, created: Bool)? {
        try await transaction { connection in
            // The application's row first (`FOR KEY SHARE`, the lock the insert's foreign key takes anyway),
            // as every writer that then locks a child row does: deleting the application locks it first
            // and cascades into the webhook, so taking the webhook first would deadlock with that delete.
            guard try await Self.lockApplication(recovery.applicationID, connection, logger) else { return nil }
            // The webhook's row, locked (`FOR NO KEY UPDATE`, which publishes' foreign keys do not wait
            // for): concurrent requests for one webhook, on any node, decide one after the other.
            guard try await connection.row("""
                SELECT 1 FROM webhooks WHERE id = \(recovery.webhookID) AND application_id = \(recovery.applicationID) FOR NO KEY UPDATE
                """, logger: logger) != nil else { return nil }
            if let running = try await Self.runningRecovery(webhookID: recovery.webhookID, on: connection, logger: logger) {
                return (running, false)
            }
            var job = recovery
            // Strictly before the job: an attempt made in the job's own millisecond (by the job) is not its work.
            guard let row = try await connection.row("""
                SELECT COUNT(*) AS total, COALESCE(MAX(id), 0) AS last FROM deliveries
                WHERE webhook_id = \(job.webhookID) AND state = \(unescaped: Self.failed) AND created_at >= \(job.since.milliseconds)
                  AND created_at < \(job.until?.milliseconds ?? Int64.max) AND last_attempt_at < \(job.createdAt.milliseconds)
                """, logger: logger)
            else { return nil }
            job.total = try row("total")
            job.lastDeliveryID = try row("last")
            if job.total == 0 {
                job.state = .completed
                job.finishedAt = job.createdAt
            }
            // The partial unique index `recoveries_one_running` is the invariant itself: should a running
            // job exist all the same (a writer without the lock above), nothing is inserted and that one is returned.
            let inserted = try await connection.row("""
                INSERT INTO recoveries (id, application_id, webhook_id, since, until, state, last_delivery_id, cursor, total,
                    processed, succeeded, failed, created_at, finished_at)
                VALUES (\(job.id), \(job.applicationID), \(job.webhookID), \(job.since.milliseconds), \(job.until?.milliseconds),
                    \(job.state.rawValue), \(job.lastDeliveryID), 0, \(job.total), 0, 0, 0, \(job.createdAt.milliseconds),
                    \(job.finishedAt?.milliseconds))
                ON CONFLICT (webhook_id) WHERE state = 'running' DO NOTHING
                RETURNING id
                """, logger: logger)
            if inserted == nil, let running = try await Self.runningRecovery(webhookID: recovery.webhookID, on: connection, logger: logger) {
                return (running, false)
            }
            return (job, true)
        }
    }

    /// The webhook's running job, if any.
    static func runningRecovery(webhookID: String, on connection: PostgresConnection, logger: Logger) async throws -> Recovery? {
        try await connection.row("SELECT * FROM recoveries WHERE webhook_id = \(webhookID) AND state = 'running'", logger: logger)
            .map(Self.recovery(from:))
    }

    public func recovery(id: String, applicationID: String) async throws -> Recovery? {
        try await rows("SELECT * FROM recoveries WHERE id = \(id) AND application_id = \(applicationID)").first.map(Self.recovery(from:))
    }

    public func runningRecoveries() async throws -> [Recovery] {
        try await rows("SELECT * FROM recoveries WHERE state = 'running' ORDER BY created_at, id").map(Self.recovery(from:))
    }

    public func nextRecoveryDeliveries(_ recovery: Recovery, limit: Int) async throws -> [Int64] {
        try await rows("""
            SELECT id FROM deliveries
            WHERE webhook_id = \(recovery.webhookID) AND state = \(unescaped: Self.failed) AND id > \(recovery.cursor)
              AND id <= \(recovery.lastDeliveryID) AND created_at >= \(recovery.since.milliseconds)
              AND created_at < \(recovery.until?.milliseconds ?? Int64.max) AND last_attempt_at < \(recovery.createdAt.milliseconds)
            ORDER BY id LIMIT \(limit)
            """).map { try $0("id", as: Int64.self) }
    }

    public func updateRecovery(_ recovery: Recovery) async throws {
        // Only forward: a finished job stays finished and a cursor never goes back, so a second runner
        // of the same job (two nodes leading at once for a moment) cannot undo the first one's progress.
        _ = try await rows("""
            UPDATE recoveries SET state = \(recovery.state.rawValue), cursor = \(recovery.cursor), processed = \(recovery.processed),
                succeeded = \(recovery.succeeded), failed = \(recovery.failed), finished_at = \(recovery.finishedAt?.milliseconds)
            WHERE id = \(recovery.id) AND state = 'running' AND cursor <= \(recovery.cursor)
            """)
    }

    static func recovery(from row: StoredRow) throws -> Recovery {
        Recovery(
            id: try row("id"), applicationID: try row("application_id"), webhookID: try row("webhook_id"),
            since: try row.timestamp("since"), until: try row.timestampIfPresent("until"),
            state: Recovery.State(rawValue: try row("state")) ?? .running, lastDeliveryID: try row("last_delivery_id"),
            cursor: try row("cursor"), total: try row("total"), processed: try row("processed"), succeeded: try row("succeeded"),
            failed: try row("failed"), createdAt: try row.timestamp("created_at"), finishedAt: try row.timestampIfPresent("finished_at"))
    }
}
