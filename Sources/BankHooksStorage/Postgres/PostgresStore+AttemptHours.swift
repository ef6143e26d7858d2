import BankHooksCore
import PostgresNIO

/// Each webhook's attempts per hour (`webhook_attempt_hours`): added to by `record`, read by the dashboard's list.
extension PostgresStore: AttemptHoursStore {
    /// `record`'s common table expression that adds the stored attempts (`numbered`, the batch's rows that
    /// got an attempt, joined with `r`) to their webhooks' hours: one upsert per batch, grouped by webhook
    /// and hour. Batches on several nodes add to one row in turn (`ON CONFLICT DO UPDATE` waits for the
    /// row and adds to its newest version), so every attempt is counted once; in one order, webhook then
    /// hour, so two batches never wait for each other's rows in a circle.
    static let addAttemptHours = """
        hours AS (
            INSERT INTO webhook_attempt_hours AS h (webhook_id, hour, succeeded, failed, last_attempt_at)
            SELECT r.webhook_id, r.started_at - r.started_at % \(AttemptHours.length),
                   count(*) FILTER (WHERE r.succeeded), count(*) FILTER (WHERE NOT r.succeeded), max(r.started_at)
            FROM numbered n JOIN r ON r.ord = n.ord
            GROUP BY 1, 2
            ORDER BY 1, 2
            ON CONFLICT (webhook_id, hour) DO UPDATE SET
                succeeded = h.succeeded + excluded.succeeded, failed = h.failed + excluded.failed,
                last_attempt_at = GREATEST(h.last_attempt_at, excluded.last_attempt_at)
        )
        """

    public func attemptTallies(applicationID: String, since: Timestamp) async throws -> [String: AttemptTally] {
        // The application's webhooks by their index, then each one's hours by the primary key's range.
        let rows = try await client.result("""
            SELECT h.webhook_id, sum(h.succeeded)::int8, sum(h.failed)::int8, max(h.last_attempt_at)
            FROM webhooks w JOIN webhook_attempt_hours h ON h.webhook_id = w.id AND h.hour >= \(AttemptHours.hour(of: since))
            WHERE w.application_id = \(applicationID)
            GROUP BY h.webhook_id
            """, logger: logger)
        var tallies: [String: AttemptTally] = [:]
        for (webhookID, succeeded, failed, last) in try rows.decode((String, Int64, Int64, Int64).self) {
            tallies[webhookID] = AttemptTally(succeeded: Int(succeeded), failed: Int(failed), lastAttemptAt: Timestamp(milliseconds: last))
        }
        return tallies
    }
}
