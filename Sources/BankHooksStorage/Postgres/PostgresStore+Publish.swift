import BankHooksCore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Publishing: events and their fan-out to deliveries, in one transaction per batch (the semantics of
/// `SQLiteStore+Publish.swift`), in four round trips whatever the batch's size: BEGIN; the locks and
/// the subscribers; all events with all their deliveries; COMMIT (and, only when a request repeats an
/// earlier one, one read of the first results).
extension PostgresStore {
    public func publish(_ requests: [PublishRequest], now: Timestamp) async throws -> [PublishResult] {
        guard !requests.isEmpty else { return [] }
        let applicationIDs = Array(Set(requests.map(\.applicationID))).sorted()
        return try await transaction { connection in
            // 1. The locks, then every webhook of the applications, in one statement whose parts run in
            //    this order because each needs the one before: the applications' scan and the webhooks'
            //    are each gated by an uncommon-looking `(SELECT …) >= 0`, a one-time filter PostgreSQL
            //    evaluates before the scan's first row, even when the table has none (a plain reference
            //    in a filter or join would be evaluated at the first row only, and never on an empty
            //    table, and the lock would not be taken):
            //  - One publish at a time per application, held to the commit, so that within an application
            //    `events.seq` and `deliveries.id` (sequences, taken at insert) are in commit order, and the
            //    receipt times below are read after every earlier publish committed: the keys of the event
            //    and delivery lists never gain a row below a key a reader was already given. Each distinct
            //    key once, in the order of the keys themselves (not of the ids: two ids may share a hash),
            //    so two batches never wait for each other in a circle. (`ORDER BY` runs a volatile function
            //    of the select list after sorting; the unused column of a volatile function is kept.)
            //  - The applications' rows before their webhooks': deleting an application locks its row and
            //    then cascades to the webhooks, so a publish that took the webhooks first and then met the
            //    row in its events' foreign key would deadlock with it. `FOR KEY SHARE` is the foreign
            //    key's own lock, taken earlier: a delete waits for this commit, or this publish waits for
            //    the delete and then finds the application gone (the foreign key below says so).
            //  - Every webhook of the applications: which of them get a delivery is `FanOut.reaches`,
            //    decided in Core. `FOR SHARE` (publishes share it): a webhook deleted, disabled or changed
            //    now waits for this commit, and this publish waits for a change being committed and then
            //    reads the changed row. So, as on SQLite's one writer, a disable either comes first (no
            //    delivery) or after (it holds the deliveries this publish made): never a pending delivery
            //    of a disabled webhook, or one fanned out by settings a committed change had replaced.
            //    Webhook rows change rarely (settings, rotation, a failing streak's start or end), so
            //    publishes seldom wait.
            let subscriberRows = try await connection.result("""
                WITH locked AS MATERIALIZED (
                    SELECT count(*) AS n FROM (
                        SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtext('publish:' || a) AS k FROM unnest(\(applicationIDs)::text[]) AS a) AS keys ORDER BY k
                    ) AS taken
                ), present AS MATERIALIZED (
                    SELECT id FROM applications WHERE (SELECT n FROM locked) >= 0 AND id = ANY(\(applicationIDs)) ORDER BY id FOR KEY SHARE
                )
                SELECT application_id, id, is_enabled, event_types, format FROM webhooks
                WHERE (SELECT count(*) FROM present) >= 0 AND application_id = ANY(ARRAY(SELECT id FROM present)) ORDER BY id FOR SHARE OF webhooks
                """, logger: logger)
            var subscriptions: [String: [FanOut.Subscriber]] = [:]
            for (applicationID, id, isEnabled, eventTypes, format) in try subscriberRows.decode((String, String, Bool, String?, String).self) {
                let types = eventTypes.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }.map(Set.init)
                subscriptions[applicationID, default: []].append(FanOut.Subscriber(id: id, isEnabled: isEnabled, eventTypes: types, format: format))
            }
            // 2. The fan-out of every request, decided before the insert (it depends on the request and
            //    the webhooks only); the deliveries of a request that turns out to be a repeat are not made.
            var fanOut = FanOutRows()
            var counts = [Int](repeating: 0, count: requests.count)
            var targeted: [Int64] = []
            for (index, request) in requests.enumerated() {
                let reach = request.fanOut
                let dueAt = (request.lease?.until ?? now).milliseconds
                for subscription in subscriptions[request.applicationID] ?? [] where reach.reaches(subscription) {
                    fanOut.append(request: Int64(index + 1), webhook: subscription.id, application: request.applicationID, due: dueAt, owner: request.lease?.owner)
                    counts[index] += 1
                }
                // Ids only for a targeted publish (a test reads its delivery); a fan-out needs the count.
                if request.onlyWebhookID != nil, counts[index] > 0 { targeted.append(Int64(index + 1)) }
            }
            // 3. Every event and every delivery in one statement. A request whose id or idempotency key an
            //    event of its application already has (committed, or earlier in this batch) inserts nothing
            //    (`ON CONFLICT DO NOTHING` covers both unique indexes), and so gets no deliveries. Receipt
            //    time: never before the application's latest, read after the lock (SQLite's clamp, one
            //    value per application and batch). The other nodes' dispatchers are woken after the commit,
            //    by this node's session (`NodeEvent.due`, PostgresWakeups), not by a `pg_notify` here: that
            //    would hold PostgreSQL's notification lock from here to the commit, one publish at a time.
            let inserted: [Int64: (seq: Int64, deliveryIDs: [Int64])]
            do {
                inserted = try await insertEvents(requests, applicationIDs: applicationIDs, fanOut: fanOut, targeted: targeted, now: now, on: connection)
            } catch let error where Self.isForeignKeyViolation(error) {
                // The only reference of an event is its application: deleted while the publish was on its way.
                let named = applicationIDs.count == 1 ? "application \(applicationIDs[0])" : "an application of \(applicationIDs.joined(separator: ", "))"
                throw StoreError(.notFound, "\(named) no longer exists")
            }
            // 4. Repeats: the first result, by idempotency key first, then by id (as SQLite looks them up).
            var results: [PublishResult?] = requests.indices.map { index in
                guard let stored = inserted[Int64(index + 1)] else { return nil }
                let request = requests[index]
                return PublishResult(
                    eventID: request.eventID, type: request.type, timestamp: request.timestamp, deliveryCount: counts[index],
                    isReplay: false, deliveryIDs: stored.deliveryIDs)
            }
            let repeats = requests.indices.filter { inserted[Int64($0 + 1)] == nil }
            if !repeats.isEmpty {
                let rows = try await connection.result("""
                    SELECT r.ord, e.id, e.type, e.timestamp, (SELECT count(*) FROM deliveries d WHERE d.event_seq = e.seq)
                    FROM unnest(\(repeats.map { Int64($0) })::int8[], \(repeats.map { requests[$0].applicationID })::text[],
                                \(repeats.map { requests[$0].eventID })::text[], \(PostgresArrayBind(repeats.map { requests[$0].idempotencyKey }))::text[])
                         AS r(ord, application, id, key)
                    CROSS JOIN LATERAL (
                        SELECT seq, id, type, timestamp FROM events
                        WHERE application_id = r.application AND (idempotency_key = r.key OR id = r.id)
                        ORDER BY (idempotency_key = r.key) IS TRUE DESC LIMIT 1
                    ) e
                    """, logger: logger)
                for (index, eventID, type, timestamp, count) in try rows.decode((Int64, String, String, Int64, Int64).self) {
                    results[Int(index)] = PublishResult(
                        eventID: eventID, type: type, timestamp: Timestamp(milliseconds: timestamp), deliveryCount: Int(count), isReplay: true)
                }
            }
            return try results.enumerated().map { index, result in
                guard let result else {
                    // Nothing was inserted because a row conflicted, so that row exists: only a broken database gets here.
                    throw StoreError(.stateChanged, "event \(requests[index].eventID) was neither stored nor found")
                }
                return result
            }
        }
    }

    /// Inserts the batch's events and their deliveries (step 3 of `publish`) and returns, by request
    /// (numbered from 1), the `seq` of each request that inserted an event, with the ids of its
    /// deliveries for a request in `targeted`. A repeat is absent.
    ///
    /// `RETURNING` gives rows, not requests: the request a row came from is the first one with its
    /// application, id and idempotency key (`DISTINCT ON`; of requests with equal ones, only the first
    /// can have been inserted: a later one conflicts with it, or with whatever the first conflicted
    /// with). The deliveries follow the fan-out's order, so within a request they are in webhook order.
    private func insertEvents(
        _ requests: [PublishRequest], applicationIDs: [String], fanOut: FanOutRows, targeted: [Int64], now: Timestamp,
        on connection: PostgresConnection
    ) async throws -> [Int64: (seq: Int64, deliveryIDs: [Int64])] {
        let rows = try await connection.result("""
            WITH received AS (
                SELECT a, GREATEST(\(now.milliseconds), (SELECT max(created_at) FROM events WHERE application_id = a)) AS created_at
                FROM unnest(\(applicationIDs)::text[]) AS a
            ), requested AS (
                SELECT * FROM unnest(
                    \(requests.map(\.applicationID))::text[], \(requests.map(\.eventID))::text[],
                    \(PostgresArrayBind(requests.map(\.idempotencyKey)))::text[], \(requests.map(\.type))::text[],
                    \(requests.map(\.timestamp.milliseconds))::int8[], \(PostgresArrayBind(requests.map { Optional($0.data) }))::bytea[],
                    \(PostgresArrayBind(requests.map(\.timestampText)))::text[], \(PostgresArrayBind(requests.map { $0.subject.map(Self.storableText) }))::text[]
                ) WITH ORDINALITY AS r(application, id, key, type, timestamp, data, timestamp_text, subject, ord)
            ), stored AS (
                INSERT INTO events (application_id, id, idempotency_key, type, timestamp, data, created_at, timestamp_text, subject)
                SELECT r.application, r.id, r.key, r.type, r.timestamp, r.data, received.created_at, r.timestamp_text, r.subject
                FROM requested r JOIN received ON received.a = r.application
                ORDER BY r.ord
                ON CONFLICT DO NOTHING
                RETURNING seq, application_id, id, idempotency_key
            ), owned AS (
                SELECT DISTINCT ON (s.seq) s.seq, r.ord FROM stored s
                JOIN requested r ON r.application = s.application_id AND r.id = s.id AND r.key IS NOT DISTINCT FROM s.idempotency_key
                ORDER BY s.seq, r.ord
            ), created AS (
                INSERT INTO deliveries (event_seq, webhook_id, application_id, state, attempts, next_attempt_at, created_at, lease_owner)
                SELECT o.seq, f.webhook, f.application, \(unescaped: Self.pending), 0, f.due, \(now.milliseconds), f.owner
                FROM unnest(\(fanOut.requests)::int8[], \(fanOut.webhooks)::text[], \(fanOut.applications)::text[], \(fanOut.due)::int8[],
                            \(PostgresArrayBind(fanOut.owners))::text[]) WITH ORDINALITY AS f(request, webhook, application, due, owner, ord)
                JOIN owned o ON o.ord = f.request
                ORDER BY f.ord
                RETURNING id, event_seq
            )
            SELECT o.ord, o.seq,
                   CASE WHEN o.ord = ANY(\(targeted)::int8[]) THEN ARRAY(SELECT id FROM created WHERE event_seq = o.seq ORDER BY id) ELSE '{}'::int8[] END
            FROM owned o
            """, logger: logger)
        var inserted: [Int64: (seq: Int64, deliveryIDs: [Int64])] = [:]
        inserted.reserveCapacity(requests.count)
        for (ord, seq, ids) in try rows.decode((Int64, Int64, [Int64]).self) {
            inserted[ord] = (seq, ids)
        }
        return inserted
    }

    /// The deliveries a batch would make, as the columns the insert unnests: the request (numbered
    /// from 1) each is for, its webhook, application, due time and lease owner.
    private struct FanOutRows {
        var requests: [Int64] = [], webhooks: [String] = [], applications: [String] = [], due: [Int64] = [], owners: [String?] = []

        mutating func append(request: Int64, webhook: String, application: String, due: Int64, owner: String?) {
            requests.append(request)
            webhooks.append(webhook)
            applications.append(application)
            self.due.append(due)
            owners.append(owner)
        }
    }
}
