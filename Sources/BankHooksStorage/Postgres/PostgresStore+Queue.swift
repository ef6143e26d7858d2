import BankHooksCore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The queue: claiming due deliveries with a lease, recording attempts, giving leases back, and leasing
/// one delivery for a send now (the semantics of `SQLiteStore+Queue.swift`).
///
/// Locks, with several nodes at READ COMMITTED: a claim locks the rows it takes `FOR NO KEY UPDATE SKIP
/// LOCKED` (two claims never take the same delivery, and neither waits for the other); whoever writes
/// a webhook's deliveries' rows locks the webhook first, in id order (record, `leaseForSend`, and
/// `PostgresStore+Webhooks`' disable and delete), so no two of them wait for each other in a circle.
/// Who only needs the webhook to stay as it is (a publish, a record that leaves the webhook's row alone,
/// `leaseForSend`) locks it `FOR SHARE`, so they do not wait for each other; who changes it (a disable,
/// a delete, a settings change, a record that starts or ends a failing streak) `FOR NO KEY UPDATE`.
extension PostgresStore: DeliveryQueue {
    public func claimDue(
        owner: String, now: Timestamp, leaseUntil: Timestamp, limit: Int, excludingWebhooks: Set<String>, excludingApplications: Set<String>
    ) async throws -> [ClaimedDelivery] {
        guard limit > 0 else { return [] }
        // One statement, so no BEGIN/COMMIT round trips: pick, lock and lease the due rows and read what
        // the send needs. A delivery whose webhook is disabled is leased but not returned, as on SQLite
        // (a record that raced with the disable can leave one pending): its lease brings it back.
        let query: PostgresQuery
        if excludingWebhooks.isEmpty && excludingApplications.isEmpty {
            // Nothing is busy: the earliest due deliveries, straight from the due index.
            query = """
                WITH lease (owner, until) AS (VALUES (\(owner), \(leaseUntil.milliseconds))), due AS (
                    SELECT id, next_attempt_at FROM deliveries
                    WHERE state = \(unescaped: Self.pending) AND next_attempt_at <= \(now.milliseconds)
                    ORDER BY next_attempt_at LIMIT \(limit)
                    FOR NO KEY UPDATE SKIP LOCKED
                ), \(unescaped: Self.leaseAndRead)
                """
        } else {
            // 1. The earliest due deliveries of webhooks and applications that are not busy, within a
            //    bounded window of the due index (`windowed`).
            // 2. When that window held only busy webhooks' rows (one slow receiver with a large backlog),
            //    each other enabled webhook is asked directly through `deliveries_webhook_due`
            //    (`probed`, in random order), so the busy one cannot hide their work. Its one-time filter
            //    runs it only then. The webhook and the due time are bounds of one row comparison, ordered
            //    by both: only that index's key serves it. With `webhook_id = w.id` (a parameter, so the
            //    planner assumes each webhook holds an even share of the due rows) PostgreSQL walked the
            //    whole due index instead, in due order, skipping the busy webhooks' backlog row by row
            //    (106 ms a claim behind 1,000,000, against 4 ms). Rows `windowed` locked are excluded by id: SKIP LOCKED does not skip
            //    a transaction's own locks.
            let window = max(limit * 10, 1000)
            let busy = Array(excludingWebhooks), busyApplications = Array(excludingApplications)
            query = """
                WITH lease (owner, until) AS (VALUES (\(owner), \(leaseUntil.milliseconds))), scan AS MATERIALIZED (
                    SELECT id, next_attempt_at, webhook_id <> ALL(\(busy)) AND application_id <> ALL(\(busyApplications)) AS open
                    FROM deliveries WHERE state = \(unescaped: Self.pending) AND next_attempt_at <= \(now.milliseconds)
                    ORDER BY next_attempt_at LIMIT \(window)
                ), windowed AS MATERIALIZED (
                    SELECT d.id, d.next_attempt_at FROM scan s JOIN deliveries d ON d.id = s.id
                    WHERE s.open AND d.state = \(unescaped: Self.pending) AND d.next_attempt_at <= \(now.milliseconds)
                    ORDER BY s.next_attempt_at LIMIT \(limit)
                    FOR NO KEY UPDATE OF d SKIP LOCKED
                ), probed AS (
                    SELECT p.id, p.next_attempt_at FROM (
                        SELECT id FROM webhooks
                        WHERE is_enabled AND id <> ALL(\(busy)) AND application_id <> ALL(\(busyApplications))
                          AND (SELECT count(*) FROM scan) = \(window) AND (SELECT count(*) FROM windowed) < \(limit)
                        ORDER BY random()
                    ) w CROSS JOIN LATERAL (
                        SELECT d.id, d.next_attempt_at FROM deliveries d
                        WHERE d.state = \(unescaped: Self.pending)
                          AND (d.webhook_id, d.next_attempt_at) >= (w.id, \(Int64.min)) AND (d.webhook_id, d.next_attempt_at) <= (w.id, \(now.milliseconds))
                          AND d.id NOT IN (SELECT id FROM windowed)
                        ORDER BY d.webhook_id, d.next_attempt_at LIMIT \(limit)
                        FOR NO KEY UPDATE OF d SKIP LOCKED
                    ) p
                    LIMIT \(limit) - (SELECT count(*) FROM windowed)
                ), due AS (
                    SELECT id, next_attempt_at FROM windowed UNION ALL SELECT id, next_attempt_at FROM probed
                ), \(unescaped: Self.leaseAndRead)
                """
        }
        let rows = try await client.result(query, logger: logger)
        var claimed: [ClaimedDelivery] = []
        claimed.reserveCapacity(limit)
        for row in rows {
            claimed.append(try claimedDelivery(from: row, owner: owner))
        }
        return claimed
    }

    /// The end of every claim statement, after the CTEs `lease (owner, until)` and `due (id,
    /// next_attempt_at)` of locked rows: lease them and read `claimColumns`, earliest first. `due_at` is
    /// the due time before the lease, which a release puts back.
    private static let leaseAndRead = """
        leased AS (
            UPDATE deliveries d SET lease_owner = lease.owner, next_attempt_at = lease.until
            FROM due, lease WHERE d.id = due.id
            RETURNING d.id, d.application_id, d.attempts, due.next_attempt_at AS due_at, d.event_seq, d.webhook_id
        )
        SELECT \(claimColumns)
        FROM leased d JOIN events e ON e.seq = d.event_seq JOIN webhooks w ON w.id = d.webhook_id
        WHERE w.is_enabled
        ORDER BY d.due_at
        """
    /// The columns of a claim (`d` has `id, application_id, attempts, due_at`; events `e`, webhooks `w`),
    /// in the order `claimedDelivery(from:owner:)` decodes them.
    static let claimColumns = """
        d.id, d.application_id, d.attempts, d.due_at, e.seq, e.id, e.type, e.timestamp, e.data, e.timestamp_text,
        w.id, w.url, w.format, w.secret, w.previous_secret, w.previous_secret_expires_at, w.bearer_token,
        w.headers, w.retry_schedule, w.rate_limit
        """

    /// A delivery ready to send from a row starting with `claimColumns`, decoded by position (no by-name
    /// table per row on the hot path), its credentials as stored (the send path opens them).
    func claimedDelivery(from row: PostgresRow, owner: String) throws -> ClaimedDelivery {
        let (
            id, applicationID, attempts, dueAt, seq, eventID, type, timestamp, data, timestampText,
            webhookID, url, format, secret, previousSecret, previousExpiry, bearerToken, headers, retrySchedule, rateLimit
        ) = try row.decode((
            Int64, String, Int, Int64, Int64, String, String, Int64, ByteBuffer, String?,
            String, String, String, String, String?, Int64?, String?, String?, String?, Double?
        ).self)
        return ClaimedDelivery(
            id: id, leaseOwner: owner, attemptsMade: attempts, dueAt: Timestamp(milliseconds: dueAt), eventKey: seq,
            event: OutboundEvent(
                id: eventID, type: type, timestamp: Timestamp(milliseconds: timestamp), timestampText: timestampText,
                data: Array(data.readableBytesView)),
            webhook: ClaimedWebhook(
                id: webhookID, applicationID: applicationID, url: url, format: format,
                credentials: StoredCredentials(
                    secret: secret, previousSecret: previousSecret, previousSecretExpiresAt: previousExpiry.map(Timestamp.init(milliseconds:)),
                    bearerToken: bearerToken, headers: headers),
                settings: settings(headers: headers, retrySchedule: retrySchedule, rateLimit: rateLimit, openingHeaders: false)))
    }

    // MARK: Recording attempts

    @discardableResult
    public func record(_ records: [AttemptRecord], releasing: [ReleasedDelivery], now: Timestamp) async throws -> [Int64?] {
        guard !records.isEmpty || !releasing.isEmpty else { return [] }
        // Everything but the database's answers is worked out first, outside the transaction.
        var streaks = FailingStreaks()
        var gone: Set<String> = []
        var webhookIDs: Set<String> = []
        var deliveryIDs: [Int64] = [], numbers: [Int64] = [], started: [Int64] = [], durations: [Int64] = []
        var statuses: [Int64?] = [], excerpts: [String?] = [], kinds: [String?] = [], messages: [String?] = [], headers: [String?] = []
        var owners: [String] = [], ifEnabled: [Int64] = [], ifDisabled: [Int64] = [], nexts: [Int64?] = [], applies: [Bool] = []
        var attemptWebhooks: [String] = [], successes: [Bool] = []
        deliveryIDs.reserveCapacity(records.count)
        // Only the first record of a (delivery, lease) changes the delivery, as on SQLite, where it clears the
        // lease the next one would need; in one UPDATE two rows for one delivery would apply in no set order.
        var leases = Set<ReleasedKey>(minimumCapacity: records.count)
        for record in records {
            let a = record.attempt
            deliveryIDs.append(a.deliveryID)
            numbers.append(Int64(a.number))
            started.append(a.startedAt.milliseconds)
            durations.append(a.durationMicroseconds)
            statuses.append(a.status.map(Int64.init))
            excerpts.append(a.responseExcerpt.map(Self.storableText))
            kinds.append(a.errorKind?.rawValue)
            messages.append(a.errorMessage.map(Self.storableText))
            headers.append(a.requestHeaders.map(Self.storableText))
            owners.append(record.leaseOwner)
            // The held rule for both answers the webhook's row can give (it is read under its lock, below).
            let state = record.outcome.storedState
            ifEnabled.append(Int64(DeliveryPolicy.waitingState(state, webhookEnabled: true).rawValue))
            ifDisabled.append(Int64(DeliveryPolicy.waitingState(state, webhookEnabled: false).rawValue))
            let next: Int64? = if case .retry(let at) = record.outcome { at.milliseconds } else { nil }
            nexts.append(next)
            applies.append(leases.insert(ReleasedKey(id: a.deliveryID, owner: record.leaseOwner)).inserted)
            streaks.note(webhookID: record.webhookID, succeeded: record.outcome == .succeeded, at: a.startedAt)
            webhookIDs.insert(record.webhookID)
            attemptWebhooks.append(record.webhookID)
            successes.append(record.outcome == .succeeded)
            if record.disablesWebhook { gone.insert(record.webhookID) }
        }
        // A release of a lease a record in this batch ends is moot (on SQLite the record cleared it first).
        let releases = releasing.filter { !leases.contains(ReleasedKey(id: $0.id, owner: $0.leaseOwner)) }
        var cleared: [String] = [], failingIDs: [String] = [], failingSince: [Int64] = []
        for (webhookID, change) in streaks.changes {
            switch change {
            case .cleared: cleared.append(webhookID)
            case .failing(let since):
                failingIDs.append(webhookID)
                failingSince.append(since.milliseconds)
            }
        }
        let pendingWaiting = Int64(DeliveryPolicy.waitingState(.pending, webhookEnabled: true).rawValue)
        let heldWaiting = Int64(DeliveryPolicy.waitingState(.pending, webhookEnabled: false).rawValue)
        let releaseIDs = releases.map(\.id), releaseOwners = releases.map(\.leaseOwner), releaseDue = releases.map(\.dueAt.milliseconds)

        return try await transaction { connection in
            // 1. The batch's webhooks, locked in id order before any of their deliveries (see the type's
            //    comment): a disable committed meanwhile is then seen by step 2, and a disable or delete
            //    starting now waits for this commit. The webhooks of released deliveries come through them.
            //    One array of ids, so the primary key finds them (an `OR id IN (…)` was planned as a scan
            //    of every webhook, per record batch).
            //    Each row in the weakest mode this batch needs: `FOR SHARE`, which publishes hold too, so a
            //    record and a publish of the same webhooks run side by side (an exclusive lock here made
            //    every publish wait for the record in flight, its commit included, and every record for the
            //    publish); `FOR NO KEY UPDATE` only where this batch writes the webhook's row (a 410's
            //    disable, a failing streak that starts or ends, judged from the row as the statement starts).
            //    Both modes in one pass in id order (the lateral subqueries run per row of the ordered
            //    `batch`), so nothing that locks webhooks in id order can wait for this in a circle, and no
            //    lock is ever raised from one mode to the other later (two holders of `FOR SHARE` raising
            //    theirs would deadlock). Every row is returned: a filter on `writes` here would be pushed
            //    below the lateral scans and skip the shared locks.
            let written = try await connection.result("""
                WITH batch AS MATERIALIZED (
                    SELECT id, id = ANY(\(Array(gone))) OR (id = ANY(\(cleared)) AND failing_since IS NOT NULL)
                               OR (id = ANY(\(failingIDs)) AND failing_since IS NULL) AS writes
                    FROM webhooks
                    WHERE id = ANY(ARRAY(SELECT unnest(\(Array(webhookIDs))::text[]) UNION SELECT webhook_id FROM deliveries WHERE id = ANY(\(releaseIDs))))
                    ORDER BY id
                )
                SELECT b.id, b.writes FROM batch b
                LEFT JOIN LATERAL (SELECT 1 FROM webhooks w WHERE w.id = b.id AND b.writes FOR NO KEY UPDATE) AS exclusive ON TRUE
                LEFT JOIN LATERAL (SELECT 1 FROM webhooks w WHERE w.id = b.id AND NOT b.writes FOR SHARE) AS shared ON TRUE
                ORDER BY b.id
                """, logger: logger)
            var writable: Set<String> = []
            for (id, writes) in try written.decode((String, Bool).self) where writes { writable.insert(id) }
            // A streak another node started or ended after the statement's snapshot is left as that node
            // left it (its attempt and this one ran side by side): only rows locked for writing are written.
            let clearing = cleared.filter(writable.contains)
            var failingNow: [String] = [], failingNowSince: [Int64] = []
            for (id, since) in zip(failingIDs, failingSince) where writable.contains(id) {
                failingNow.append(id)
                failingNowSince.append(since)
            }
            // 2. One statement for the rest. Attempts only for deliveries that still exist (a delivery deleted
            //    while in flight, with its webhook, gets none; its webhook row is gone, so none is deleted
            //    now), found by the primary key from the batch's ids (`= ANY` of the array: an `EXISTS` per
            //    row was planned as a hash join over a scan of every delivery, per batch), with ids drawn
            //    in the batch's order; each delivery's new state where its lease is
            //    still the record's, held when its webhook is disabled; the stored attempts' hourly counts;
            //    releases; the failing streaks.
            let rows = try await connection.result("""
                WITH r AS (
                    SELECT * FROM unnest(
                        \(deliveryIDs)::int8[], \(numbers)::int8[], \(started)::int8[], \(durations)::int8[],
                        \(PostgresArrayBind(statuses))::int8[], \(PostgresArrayBind(excerpts))::text[], \(PostgresArrayBind(kinds))::text[],
                        \(PostgresArrayBind(messages))::text[], \(PostgresArrayBind(headers))::text[], \(owners)::text[],
                        \(ifEnabled)::int8[], \(ifDisabled)::int8[], \(PostgresArrayBind(nexts))::int8[], \(applies)::bool[],
                        \(attemptWebhooks)::text[], \(successes)::bool[]
                    ) WITH ORDINALITY AS r(delivery_id, number, started_at, duration_us, status, excerpt, kind, message, headers,
                                           owner, if_enabled, if_disabled, next, applies, webhook_id, succeeded, ord)
                ), numbered AS MATERIALIZED (
                    SELECT r.ord, nextval(pg_get_serial_sequence('attempts', 'id')) AS id FROM r
                    WHERE r.delivery_id IN (SELECT id FROM deliveries WHERE id = ANY(\(deliveryIDs)))
                    ORDER BY r.ord
                ), inserted AS (
                    INSERT INTO attempts (id, delivery_id, number, started_at, duration_us, status, response_excerpt, error_kind, error_message, request_headers)
                    SELECT n.id, r.delivery_id, r.number, r.started_at, r.duration_us, r.status, r.excerpt, r.kind, r.message, r.headers
                    FROM numbered n JOIN r ON r.ord = n.ord
                ), \(unescaped: Self.addAttemptHours), updated AS (
                    UPDATE deliveries d
                    SET state = CASE WHEN w.is_enabled THEN r.if_enabled ELSE r.if_disabled END, attempts = r.number,
                        next_attempt_at = r.next, lease_owner = NULL, last_attempt_at = r.started_at, last_status = r.status
                    FROM r, webhooks w
                    WHERE d.id = r.delivery_id AND d.lease_owner = r.owner AND r.applies AND w.id = d.webhook_id
                ), released AS (
                    UPDATE deliveries d
                    SET lease_owner = NULL, next_attempt_at = x.due, state = CASE WHEN w.is_enabled THEN \(pendingWaiting) ELSE \(heldWaiting) END
                    FROM unnest(\(releaseIDs)::int8[], \(releaseOwners)::text[], \(releaseDue)::int8[]) AS x(id, owner, due), webhooks w
                    WHERE d.id = x.id AND d.lease_owner = x.owner AND d.state = \(unescaped: Self.pending) AND w.id = d.webhook_id
                ), succeeded AS (
                    UPDATE webhooks SET failing_since = NULL WHERE id = ANY(\(clearing)) AND failing_since IS NOT NULL
                ), failing AS (
                    UPDATE webhooks w SET failing_since = f.since
                    FROM unnest(\(failingNow)::text[], \(failingNowSince)::int8[]) AS f(id, since)
                    WHERE w.id = f.id AND w.failing_since IS NULL
                )
                SELECT ord, id FROM numbered
                """, logger: logger)
            var ids = [Int64?](repeating: nil, count: records.count)
            for (ordinal, id) in try rows.decode((Int64, Int64).self) {
                ids[Int(ordinal) - 1] = id
            }
            // 3. The 410s were decided by the attempt pipeline (`disablesWebhook`); the store carries them out.
            if !gone.isEmpty {
                try await Self.disable(webhookIDs: gone.sorted(), reason: .gone, now: now, on: connection, logger: logger)
            }
            return ids
        }
    }

    /// A delivery and a lease on it.
    private struct ReleasedKey: Hashable {
        var id: Int64
        var owner: String
    }

    /// `text` as PostgreSQL `text` can hold it: it has no NUL character, which a receiver's response
    /// may contain; U+FFFD stands in for each (a SQLite store keeps them).
    static func storableText(_ text: String) -> String {
        guard text.utf8.contains(0) else { return text }
        return text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
    }

    public func releaseAll(process: String, now: Timestamp) async throws {
        try await client.result("""
            UPDATE deliveries SET lease_owner = NULL, next_attempt_at = \(now.milliseconds)
            WHERE state = \(unescaped: Self.pending) AND next_attempt_at > \(now.milliseconds) AND starts_with(lease_owner, \(process + "/"))
            """, logger: logger)
    }

    public func nextDueTime() async throws -> Timestamp? {
        let rows = try await client.result(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = \(unescaped: Self.pending)", logger: logger)
        for next in try rows.decode(Int64?.self) {
            return next.map(Timestamp.init(milliseconds:))
        }
        return nil
    }

    // MARK: Sends outside the claim loop

    public func leaseForSend(
        deliveryID: Int64, applicationID: String, owner: String, until: Timestamp, now: Timestamp, expecting: DeliveryState?,
        attemptedBefore: Timestamp?
    ) async throws -> (delivery: ClaimedDelivery, previous: DeliveryState)? {
        try await transaction { connection in
            // The webhook's row first, then the delivery's (see the type's comment): a disable cannot slip
            // between the check below and the lease, and a claim of this delivery in flight on another node
            // is waited for (it holds the row) and then seen as "being sent".
            try await connection.run("""
                SELECT id FROM webhooks WHERE id = (SELECT webhook_id FROM deliveries WHERE id = \(deliveryID) AND application_id = \(applicationID))
                FOR SHARE
                """, logger: logger)
            let rows = try await connection.result("""
                SELECT \(unescaped: Self.claimColumns), d.state, d.lease_owner, d.next_attempt_at, d.last_attempt_at, w.is_enabled
                FROM (SELECT *, COALESCE(next_attempt_at, \(now.milliseconds)) AS due_at FROM deliveries
                      WHERE id = \(deliveryID) AND application_id = \(applicationID) FOR NO KEY UPDATE) d
                JOIN events e ON e.seq = d.event_seq JOIN webhooks w ON w.id = d.webhook_id
                """, logger: logger)
            guard let row = rows.first else { return nil }
            var delivery = try claimedDelivery(from: row, owner: owner)
            let extra = row.makeRandomAccess()
            guard try extra["is_enabled"].decode(Bool.self) else {
                throw StoreError(.conflict, "webhook \(delivery.webhook.id) is disabled; enable it first")
            }
            let stored = StoredDeliveryState(code: try extra["state"].decode(Int.self))
            let leaseOwner = try extra["lease_owner"].decode(String?.self)
            let due = try extra["next_attempt_at"].decode(Int64?.self)
            if stored == .pending, leaseOwner != nil, let due, due > now.milliseconds {
                throw StoreError(.conflict, "delivery \(deliveryID) is being sent right now")
            }
            if let expecting, stored.state != expecting {
                throw StoreError(.stateChanged, "delivery \(deliveryID) is no longer \(expecting.rawValue)")
            }
            if let attemptedBefore, let lastAttempt = try extra["last_attempt_at"].decode(Int64?.self), lastAttempt >= attemptedBefore.milliseconds {
                throw StoreError(.stateChanged, "delivery \(deliveryID) was attempted again meanwhile")
            }
            // A secret sealed under another master key could not be sent: refuse before the delivery
            // changes (the send path opens it, after this lease, and would fail with it leased).
            guard sealer.openSecret(delivery.webhook.credentials.secret) != nil else {
                throw StoreError(.invalidValue, "the webhook's secret cannot be opened with this master key")
            }
            // A pending delivery keeps its place in its schedule: a failed resend puts it back there.
            delivery.dueAt = stored.state == .pending ? Timestamp(milliseconds: due ?? now.milliseconds) : now
            try await connection.run("""
                UPDATE deliveries SET state = \(StoredDeliveryState.pending.rawValue), lease_owner = \(owner), next_attempt_at = \(until.milliseconds)
                WHERE id = \(deliveryID)
                """, logger: logger)
            return (delivery, stored.state)
        }
    }
}

// MARK: Array binds

/// An array parameter PostgresNIO cannot bind by itself: one whose elements may be NULL (its own
/// arrays have no NULL element), or of byte strings (`bytea[]`: it binds `[UInt8]` as `"char"[]`).
/// Written straight into the bind buffer, in PostgreSQL's binary array format. Cast it in SQL as usual
/// (`\(PostgresArrayBind(statuses))::int8[]`).
struct PostgresArrayBind<Element: PostgresArrayBindElement>: PostgresNonThrowingEncodable {
    var elements: [Element?]

    init(_ elements: [Element?]) { self.elements = elements }

    static var psqlType: PostgresDataType { Element.arrayType }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        // Dimensions (0 for an empty array), whether any element is NULL, the element type; then for the
        // one dimension its length and lower bound; then each element as its length (-1 for NULL) and bytes.
        buffer.writeInteger(elements.isEmpty ? 0 : 1, as: Int32.self)
        buffer.writeInteger(elements.contains { $0 == nil } ? 1 : 0, as: Int32.self)
        buffer.writeInteger(Element.elementType.rawValue)
        guard !elements.isEmpty else { return }
        buffer.writeInteger(Int32(elements.count))
        buffer.writeInteger(1, as: Int32.self)
        for element in elements {
            guard let element else {
                buffer.writeInteger(-1, as: Int32.self)
                continue
            }
            let lengthIndex = buffer.writerIndex
            buffer.writeInteger(0, as: Int32.self)
            let start = buffer.writerIndex
            element.write(into: &buffer)
            buffer.setInteger(Int32(buffer.writerIndex - start), at: lengthIndex)
        }
    }
}

/// An element type of `PostgresArrayBind`: its PostgreSQL type and binary form.
protocol PostgresArrayBindElement {
    static var elementType: PostgresDataType { get }
    static var arrayType: PostgresDataType { get }
    func write(into buffer: inout ByteBuffer)
}

extension String: PostgresArrayBindElement {
    static var elementType: PostgresDataType { .text }
    static var arrayType: PostgresDataType { .textArray }
    func write(into buffer: inout ByteBuffer) { buffer.writeString(self) }
}

extension Int64: PostgresArrayBindElement {
    static var elementType: PostgresDataType { .int8 }
    static var arrayType: PostgresDataType { .int8Array }
    func write(into buffer: inout ByteBuffer) { buffer.writeInteger(self) }
}

extension Array: PostgresArrayBindElement where Element == UInt8 {
    static var elementType: PostgresDataType { .bytea }
    static var arrayType: PostgresDataType { .byteaArray }
    func write(into buffer: inout ByteBuffer) { buffer.writeBytes(self) }
}
