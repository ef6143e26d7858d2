import BankHooksCore
import Foundation
import GRDB

/// Publishing: events and their fan-out to deliveries, in one transaction per batch.
extension SQLiteStore {
    public func publish(_ requests: [PublishRequest], now: Timestamp) async throws -> [PublishResult] {
        try await pool.write { db in
            let findByID = try db.cachedStatement(sql: "SELECT seq, id, type, timestamp FROM events WHERE application_id = ? AND id = ?")
            let findByKey = try db.cachedStatement(
                sql: "SELECT seq, id, type, timestamp FROM events WHERE application_id = ? AND idempotency_key = ?")
            let countDeliveries = try db.cachedStatement(sql: "SELECT COUNT(*) FROM deliveries WHERE event_seq = ?")
            // Every webhook of the application: which of them get a delivery is `FanOut.reaches`, decided in Core.
            let subscribers = try db.cachedStatement(
                sql: "SELECT id, is_enabled, event_types, format FROM webhooks WHERE application_id = ?")
            let insertEvent = try db.cachedStatement(sql: """
                INSERT INTO events (application_id, id, idempotency_key, type, timestamp, data, created_at, timestamp_text, subject)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let insertDelivery = try db.cachedStatement(sql: """
                INSERT INTO deliveries (event_seq, webhook_id, application_id, state, attempts, next_attempt_at, created_at, lease_owner)
                VALUES (?, ?, ?, \(StoredDeliveryState.pending.rawValue), 0, ?, ?, ?)
                """)
            // Subscriptions per application, read once per transaction.
            var subscriptionsByApplication: [String: [FanOut.Subscriber]] = [:]
            // An event's receipt time is never before the application's latest one: with `seq`, assigned by
            // the one writer, the event list's key (created_at, seq) is then in commit order, so no commit
            // adds an event below a key a reader was already given (a `now` taken before the write lock
            // could be older than a batch that got the lock first). Read once per application per batch.
            let latestReceipt = try db.cachedStatement(sql: "SELECT MAX(created_at) FROM events WHERE application_id = ?")
            var receivedAt: [String: Int64] = [:]
            var results: [PublishResult] = []
            results.reserveCapacity(requests.count)
            for request in requests {
                var existing: Row?
                if let key = request.idempotencyKey {
                    existing = try Row.fetchOne(findByKey, arguments: [request.applicationID, key])
                }
                if existing == nil {
                    existing = try Row.fetchOne(findByID, arguments: [request.applicationID, request.eventID])
                }
                if let existing {
                    let seq: Int64 = existing["seq"]
                    results.append(PublishResult(
                        eventID: existing["id"], type: existing["type"], timestamp: Timestamp(milliseconds: existing["timestamp"]),
                        deliveryCount: try Int.fetchOne(countDeliveries, arguments: [seq]) ?? 0, isReplay: true))
                    continue
                }
                let subscriptions: [FanOut.Subscriber]
                if let cached = subscriptionsByApplication[request.applicationID] {
                    subscriptions = cached
                } else {
                    subscriptions = try Row.fetchAll(subscribers, arguments: [request.applicationID]).map { row in
                        let json: String? = row["event_types"]
                        let types = json.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }.map(Set.init)
                        return FanOut.Subscriber(id: row["id"], isEnabled: row["is_enabled"], eventTypes: types, format: row["format"])
                    }
                    subscriptionsByApplication[request.applicationID] = subscriptions
                }
                let latest: Int64
                if let cached = receivedAt[request.applicationID] {
                    latest = cached
                } else {
                    latest = try Int64.fetchOne(latestReceipt, arguments: [request.applicationID]) ?? .min
                }
                let createdAt = max(now.milliseconds, latest)
                receivedAt[request.applicationID] = createdAt
                do {
                    try insertEvent.execute(arguments: [
                        request.applicationID, request.eventID, request.idempotencyKey, request.type,
                        request.timestamp.milliseconds, Data(request.data), createdAt, request.timestampText, request.subject,
                    ])
                } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
                    // The only reference of an event is its application: deleted while the publish was on its way.
                    throw StoreError(.notFound, "application \(request.applicationID) no longer exists")
                }
                let seq = db.lastInsertedRowID
                var count = 0
                var deliveryIDs: [Int64] = []
                // Ids only for a targeted publish (a test reads its delivery); a fan-out needs the count.
                let wantsIDs = request.onlyWebhookID != nil
                let dueAt = request.lease?.until ?? now
                let fanOut = request.fanOut
                for subscription in subscriptions where fanOut.reaches(subscription) {
                    try insertDelivery.execute(arguments: [
                        seq, subscription.id, request.applicationID, dueAt.milliseconds, now.milliseconds, request.lease?.owner,
                    ])
                    count += 1
                    if wantsIDs { deliveryIDs.append(db.lastInsertedRowID) }
                }
                results.append(PublishResult(
                    eventID: request.eventID, type: request.type, timestamp: request.timestamp, deliveryCount: count,
                    isReplay: false, deliveryIDs: deliveryIDs))
            }
            return results
        }
    }
}
