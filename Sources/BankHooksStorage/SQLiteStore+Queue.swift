import BankHooksCore
import Foundation
import GRDB

/// The queue: claiming due deliveries with a lease, recording attempts, giving leases back, and leasing
/// one delivery for a send now.
extension SQLiteStore {
    public func claimDue(
        owner: String, now: Timestamp, leaseUntil: Timestamp, limit: Int, excludingWebhooks: Set<String>, excludingApplications: Set<String>
    ) async throws -> [ClaimedDelivery] {
        // How far into the due index one claim looks before asking webhook by webhook.
        let window = max(limit * 10, 1000)
        let busy = Self.jsonArray(excludingWebhooks)
        let busyApplications = Self.jsonArray(excludingApplications)
        return try await pool.write { db in
            var ids: [Int64] = []
            if excludingWebhooks.isEmpty && excludingApplications.isEmpty {
                // Nothing is busy: the earliest due deliveries, straight from the due index.
                let scan = try db.cachedStatement(
                    sql: "SELECT id FROM deliveries WHERE state = \(Self.pending) AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?")
                ids = try Int64.fetchAll(scan, arguments: [now.milliseconds, limit])
            } else {
                // 1. The earliest due deliveries of webhooks and applications that are not busy, within a bounded window
                //    (the statement without the application test when none is busy: ?2 is then bound but unused).
                let scan = try db.cachedStatement(sql: excludingApplications.isEmpty ? """
                    SELECT id, webhook_id IN (SELECT value FROM json_each(?1))
                    FROM deliveries WHERE state = \(Self.pending) AND next_attempt_at <= ?3 ORDER BY next_attempt_at LIMIT ?4
                    """ : """
                    SELECT id, webhook_id IN (SELECT value FROM json_each(?1)) OR application_id IN (SELECT value FROM json_each(?2))
                    FROM deliveries WHERE state = \(Self.pending) AND next_attempt_at <= ?3 ORDER BY next_attempt_at LIMIT ?4
                    """)
                var scanned = 0
                let cursor = try Row.fetchCursor(scan, arguments: [busy, busyApplications, now.milliseconds, window])
                while let row = try cursor.next() {
                    scanned += 1
                    if !(row[1] as Bool) {
                        ids.append(row[0])
                        if ids.count == limit { break }
                    }
                }
                // 2. The window held only busy webhooks' rows (one slow receiver with a large backlog):
                //    look at each other webhook directly, so the busy one cannot hide their work.
                if ids.count < limit, scanned == window {
                    let probe = try db.cachedStatement(sql: """
                        SELECT id FROM deliveries INDEXED BY deliveries_webhook_due
                        WHERE state = \(Self.pending) AND webhook_id = ? AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?
                        """)
                    let candidates = try String.fetchAll(db, sql: """
                        SELECT id FROM webhooks WHERE is_enabled = 1 AND application_id NOT IN (SELECT value FROM json_each(?))
                        """, arguments: [busyApplications])
                        .filter { !excludingWebhooks.contains($0) }.shuffled()
                    for webhookID in candidates where ids.count < limit {
                        ids += try Int64.fetchAll(probe, arguments: [webhookID, now.milliseconds, limit - ids.count])
                    }
                }
            }
            guard !ids.isEmpty else { return [] }
            // 3. What it takes to send them, and the lease.
            let details = try db.cachedStatement(sql: """
                SELECT \(Self.claimColumns)
                FROM deliveries d
                JOIN events e ON e.seq = d.event_seq
                JOIN webhooks w ON w.id = d.webhook_id
                WHERE d.id IN (SELECT value FROM json_each(?)) AND w.is_enabled = 1
                ORDER BY d.next_attempt_at
                """)
            let lease = try db.cachedStatement(sql: "UPDATE deliveries SET lease_owner = ?, next_attempt_at = ? WHERE id = ?")
            var claimed: [ClaimedDelivery] = []
            claimed.reserveCapacity(ids.count)
            let rows = try Row.fetchCursor(details, arguments: [Self.jsonArray(ids)])
            while let row = try rows.next() {
                claimed.append(claimedDelivery(from: row, owner: owner))
            }
            for id in ids {
                try lease.execute(arguments: [owner, leaseUntil.milliseconds, id])
            }
            return claimed
        }
    }

    /// The claim query's columns (deliveries d, events e, webhooks w) for a send.
    static let claimColumns = """
        d.id, d.application_id, d.attempts, d.next_attempt_at, d.state, e.seq, e.id AS event_id, e.type, e.timestamp, e.data, e.timestamp_text,
        w.id AS webhook_id, w.url, w.format, w.secret, w.previous_secret, w.previous_secret_expires_at, w.bearer_token,
        w.headers, w.retry_schedule, w.rate_limit
        """

    /// A delivery ready to send from a row of `claimColumns`, its credentials as stored (the send path opens them).
    func claimedDelivery(from row: Row, owner: String) -> ClaimedDelivery {
        let data: Data = row["data"]
        let previousExpiry: Int64? = row["previous_secret_expires_at"]
        return ClaimedDelivery(
            id: row["id"], leaseOwner: owner, attemptsMade: row["attempts"], dueAt: Timestamp(milliseconds: row["next_attempt_at"] ?? 0),
            eventKey: row["seq"],
            event: OutboundEvent(
                id: row["event_id"], type: row["type"], timestamp: Timestamp(milliseconds: row["timestamp"]),
                timestampText: row["timestamp_text"], data: Array(data)),
            webhook: ClaimedWebhook(
                id: row["webhook_id"], applicationID: row["application_id"], url: row["url"], format: row["format"],
                credentials: StoredCredentials(
                    secret: row["secret"], previousSecret: row["previous_secret"],
                    previousSecretExpiresAt: previousExpiry.map(Timestamp.init(milliseconds:)), bearerToken: row["bearer_token"],
                    headers: row["headers"]),
                settings: settings(from: row, openingHeaders: false)))
    }

    @discardableResult
    public func record(_ records: [AttemptRecord], releasing: [ReleasedDelivery], now: Timestamp) async throws -> [Int64?] {
        guard !records.isEmpty || !releasing.isEmpty else { return [] }
        return try await pool.write { db in
            // A delivery deleted while its attempt was in flight (its webhook was deleted) gets no attempt row.
            let insertAttempt = try db.cachedStatement(sql: """
                INSERT INTO attempts (delivery_id, number, started_at, duration_us, status, response_excerpt, error_kind, error_message, request_headers)
                SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE EXISTS (SELECT 1 FROM deliveries WHERE id = ?1)
                """)
            var ids: [Int64?] = []
            ids.reserveCapacity(records.count)
            // Which of these deliveries' webhooks are disabled, read once per batch (usually none): their
            // retries and releases are held (DeliveryPolicy.waitingState), decided here rather than in SQL.
            let disabledWebhook = try db.cachedStatement(sql: """
                SELECT d.id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
                WHERE d.id IN (SELECT value FROM json_each(?)) AND w.is_enabled = 0
                """)
            let heldCandidates = Self.jsonArray(records.map(\.attempt.deliveryID) + releasing.map(\.id))
            let ofDisabledWebhooks = Set(try Int64.fetchAll(disabledWebhook, arguments: [heldCandidates]))
            let update = try db.cachedStatement(sql: """
                UPDATE deliveries SET state = ?1, attempts = ?2, next_attempt_at = ?3, lease_owner = NULL, last_attempt_at = ?4, last_status = ?5
                WHERE id = ?6 AND lease_owner = ?7
                """)
            let release = try db.cachedStatement(sql: """
                UPDATE deliveries SET lease_owner = NULL, next_attempt_at = ?1, state = ?2
                WHERE id = ?3 AND lease_owner = ?4 AND state = ?5
                """)
            let succeeded = try db.cachedStatement(sql: "UPDATE webhooks SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL")
            let failed = try db.cachedStatement(sql: "UPDATE webhooks SET failing_since = ? WHERE id = ? AND failing_since IS NULL")
            var disabled: Set<String> = []
            var streaks = FailingStreaks()
            var hours = AttemptHours.Batch()
            for record in records {
                let a = record.attempt
                try insertAttempt.execute(arguments: [
                    a.deliveryID, a.number, a.startedAt.milliseconds, a.durationMicroseconds, a.status,
                    a.responseExcerpt, a.errorKind?.rawValue, a.errorMessage, a.requestHeaders,
                ])
                let isStored = db.changesCount > 0
                ids.append(isStored ? db.lastInsertedRowID : nil)
                if isStored { hours.add(webhookID: record.webhookID, startedAt: a.startedAt, succeeded: record.outcome == .succeeded) }
                let next: Int64? = if case .retry(let at) = record.outcome { at.milliseconds } else { nil }
                let state = DeliveryPolicy.waitingState(
                    record.outcome.storedState, webhookEnabled: !ofDisabledWebhooks.contains(a.deliveryID))
                try update.execute(arguments: [
                    state.rawValue, a.number, next, a.startedAt.milliseconds, a.status, a.deliveryID, record.leaseOwner,
                ])
                streaks.note(webhookID: record.webhookID, succeeded: record.outcome == .succeeded, at: a.startedAt)
                if record.disablesWebhook { disabled.insert(record.webhookID) }
            }
            try Self.addAttemptHours(hours, db: db)
            for (webhookID, change) in streaks.changes {
                switch change {
                case .cleared: try succeeded.execute(arguments: [webhookID])
                case .failing(let since): try failed.execute(arguments: [since.milliseconds, webhookID])
                }
            }
            for released in releasing {
                let state = DeliveryPolicy.waitingState(.pending, webhookEnabled: !ofDisabledWebhooks.contains(released.id))
                try release.execute(arguments: [
                    released.dueAt.milliseconds, state.rawValue, released.id, released.leaseOwner, StoredDeliveryState.pending.rawValue,
                ])
            }
            // The 410 was decided by the attempt pipeline (`disablesWebhook`); the store carries it out.
            for webhookID in disabled {
                try Self.disable(webhookID: webhookID, reason: .gone, now: now, db: db)
            }
            return ids
        }
    }

    public func releaseAll(process: String, now: Timestamp) async throws {
        let prefix = process + "/"
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE deliveries SET lease_owner = NULL, next_attempt_at = ?
                    WHERE state = \(Self.pending) AND substr(lease_owner, 1, length(?)) = ? AND next_attempt_at > ?
                    """,
                arguments: [now.milliseconds, prefix, prefix, now.milliseconds])
        }
    }

    public func nextDueTime() async throws -> Timestamp? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = \(Self.pending)").map(Timestamp.init(milliseconds:))
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
            let stored = StoredDeliveryState(code: row["state"])
            let leaseOwner: String? = row["lease_owner"]
            let due: Int64? = row["next_attempt_at"]
            if stored == .pending, leaseOwner != nil, let due, due > now.milliseconds {
                throw StoreError(.conflict, "delivery \(deliveryID) is being sent right now")
            }
            if let expecting, stored.state != expecting {
                throw StoreError(.stateChanged, "delivery \(deliveryID) is no longer \(expecting.rawValue)")
            }
            let lastAttempt: Int64? = row["last_attempt_at"]
            if let attemptedBefore, let lastAttempt, lastAttempt >= attemptedBefore.milliseconds {
                throw StoreError(.stateChanged, "delivery \(deliveryID) was attempted again meanwhile")
            }
            // A secret sealed under another master key could not be sent: refuse before the delivery
            // changes (the send path opens it, after this lease, and would fail with it leased).
            guard sealer.openSecret(row["secret"]) != nil else {
                throw StoreError(.invalidValue, "the webhook's secret cannot be opened with this master key")
            }
            var delivery = claimedDelivery(from: row, owner: owner)
            // A pending delivery keeps its place in its schedule: a failed resend puts it back there.
            delivery.dueAt = stored.state == .pending ? Timestamp(milliseconds: due ?? now.milliseconds) : now
            try db.execute(sql: "UPDATE deliveries SET state = ?, lease_owner = ?, next_attempt_at = ? WHERE id = ?",
                           arguments: [StoredDeliveryState.pending.rawValue, owner, until.milliseconds, deliveryID])
            return (delivery, stored.state)
        }
    }
}
