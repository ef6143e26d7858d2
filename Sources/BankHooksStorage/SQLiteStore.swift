import BankHooksCore
import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode behind one GRDB `DatabasePool` (one writer,
/// many readers). SQLite allows a single writer, so every claim is naturally exclusive; leases
/// still matter for crashed processes and for several processes sharing a file.
public final class SQLiteStore: Store {
    /// How hard a commit waits for the disk.
    public enum Durability: String, Sendable, CaseIterable {
        /// fsync the WAL on every commit: an acknowledged publish survives power loss.
        case full
        /// fsync only at checkpoints: survives a process crash, may lose the last commits on power loss.
        case normal
    }

    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    /// Seals webhook secrets and bearer tokens before they are written; nil stores them as they are.
    let secretBox: SecretBox?

    public init(path: String, durability: Durability = .full, secretBox: SecretBox? = nil) throws {
        self.secretBox = secretBox
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.foreignKeysEnabled = true
        try Self.makePrivate(databasePath: path)
        pool = try DatabasePool(path: path, configuration: configuration)
        // DatabasePool sets synchronous=NORMAL after prepareDatabase; choose our level after opening.
        let level = durability == .full ? "FULL" : "NORMAL"
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(level)") }
        try Self.migrator.migrate(pool)
        if let secretBox {
            try Self.sealPlaintextSecrets(pool, box: secretBox)
            // A wrong master key would make every webhook unusable: refuse to start instead.
            let sample = try pool.read { db in try String.fetchOne(db, sql: "SELECT secret FROM webhooks WHERE secret LIKE 'enc:v1:%' LIMIT 1") }
            if let sample {
                do { _ = try secretBox.open(sample) } catch {
                    throw StoreError(.invalidValue, "the master key does not open the webhook secrets stored in \(path): start with the key they were sealed with")
                }
            }
        }
    }

    /// Seals secrets written before encryption at rest (or by a store without a box), in one transaction.
    static func sealPlaintextSecrets(_ pool: DatabasePool, box: SecretBox) throws {
        try pool.write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, secret, previous_secret, bearer_token FROM webhooks")
            for row in rows {
                var changed = false
                func sealed(_ value: String?) throws -> String? {
                    guard let value, !SecretBox.isSealed(value) else { return value }
                    changed = true
                    return try box.seal(value)
                }
                let secret = try sealed(row["secret"]), previous = try sealed(row["previous_secret"]), token = try sealed(row["bearer_token"])
                if changed {
                    try db.execute(sql: "UPDATE webhooks SET secret = ?, previous_secret = ?, bearer_token = ? WHERE id = ?",
                                   arguments: [secret, previous, token, row["id"] as String])
                }
            }
        }
    }

    /// A secret as stored: sealed when the store has a box.
    func seal(_ value: String?) throws -> String? {
        guard let value, let secretBox else { return value }
        return try secretBox.seal(value)
    }

    /// A stored secret's plaintext; nil when it cannot be opened.
    func unseal(_ value: String?) -> String? {
        guard let value else { return nil }
        guard let secretBox else { return value }
        return try? secretBox.open(value)
    }

    // MARK: Applications and keys

    public func createApplication(_ application: Application) async throws {
        let callbacks = try Self.json(application.redirectCallbacks)
        try await pool.write { db in
            do {
                try db.execute(
                    sql: """
                        INSERT INTO applications (id, name, environment, created_at, webhook_limit, redirect_callbacks, allows_plain_http)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        application.id, application.name, application.environment.rawValue, application.createdAt.milliseconds,
                        application.webhookLimit, callbacks, application.allowsPlainHTTP,
                    ])
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError(.conflict, "application \(application.id) exists")
            }
        }
    }

    public func application(id: String) async throws -> Application? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM applications WHERE id = ?", arguments: [id]).map(Self.application(from:))
        }
    }

    public func applications() async throws -> [Application] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM applications ORDER BY id").map(Self.application(from:))
        }
    }

    public func updateApplication(_ application: Application) async throws -> Application? {
        let callbacks = try Self.json(application.redirectCallbacks)
        return try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE applications SET name = ?, environment = ?, webhook_limit = ?, redirect_callbacks = ?, allows_plain_http = ?
                    WHERE id = ?
                    """,
                arguments: [
                    application.name, application.environment.rawValue, application.webhookLimit, callbacks,
                    application.allowsPlainHTTP, application.id,
                ])
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM applications WHERE id = ?", arguments: [application.id]).map(Self.application(from:))
        }
    }

    public func deleteApplication(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM applications WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    static func application(from row: Row) -> Application {
        let callbacks: String = row["redirect_callbacks"]
        return Application(
            id: row["id"], name: row["name"],
            environment: Application.Environment(rawValue: row["environment"]) ?? .sandbox,
            createdAt: Timestamp(milliseconds: row["created_at"]), webhookLimit: row["webhook_limit"],
            redirectCallbacks: (try? JSONDecoder().decode([String].self, from: Data(callbacks.utf8))) ?? [],
            allowsPlainHTTP: row["allows_plain_http"])
    }

    static func json(_ values: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
    }

    public func apiKeys(applicationID: String) async throws -> [APIKeyRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_keys WHERE application_id = ? ORDER BY created_at, id", arguments: [applicationID])
                .compactMap(Self.apiKey(from:))
        }
    }

    public func revokeAPIKey(id: String, applicationID: String, now: Timestamp) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND application_id = ?",
                arguments: [now.milliseconds, id, applicationID])
            return db.changesCount > 0
        }
    }

    public func createAPIKey(_ key: APIKeyRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO api_keys (id, application_id, role, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [key.id, key.applicationID, key.role.rawValue, Data(key.hash), key.createdAt.milliseconds, key.revokedAt?.milliseconds])
        }
    }

    public func apiKey(id: String) async throws -> APIKeyRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]).flatMap(Self.apiKey(from:))
        }
    }

    static func apiKey(from row: Row) -> APIKeyRecord? {
        guard let role = Role(rawValue: row["role"]) else { return nil }
        let hash: Data = row["hash"]
        let revoked: Int64? = row["revoked_at"]
        return APIKeyRecord(
            id: row["id"], applicationID: row["application_id"], role: role, hash: Array(hash),
            createdAt: Timestamp(milliseconds: row["created_at"]), revokedAt: revoked.map(Timestamp.init(milliseconds:)))
    }

    public func hasOperatorKey() async throws -> Bool {
        try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM api_keys WHERE role = 'operator' AND revoked_at IS NULL)") ?? false
        }
    }

    // MARK: Webhooks

    public func createWebhook(_ webhook: Webhook) async throws {
        let eventTypes = try webhook.eventTypes.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let settings = try settingsColumns(webhook.settings)
        try await pool.write { db in
            if webhook.kind == .webhook {
                let row = try Row.fetchOne(db, sql: """
                    SELECT webhook_limit, (SELECT COUNT(*) FROM webhooks WHERE application_id = ?1 AND kind = 'webhook') AS count
                    FROM applications WHERE id = ?1
                    """, arguments: [webhook.applicationID])
                if let row, let limit: Int = row["webhook_limit"], let count: Int = row["count"], count >= limit {
                    throw StoreError(.limitReached, "the application has \(count) webhooks; its limit is \(limit)")
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO webhooks (id, application_id, url, name, event_types, format, secret, previous_secret,
                        previous_secret_expires_at, is_enabled, disabled_reason, created_at, updated_at, kind, bearer_token,
                        headers, retry_schedule, rate_limit)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    webhook.id, webhook.applicationID, webhook.url, webhook.name, eventTypes, webhook.format,
                    try seal(webhook.secret.text), try seal(webhook.previousSecret?.text), webhook.previousSecretExpiresAt?.milliseconds,
                    webhook.isEnabled, webhook.disabledReason, webhook.createdAt.milliseconds, webhook.updatedAt.milliseconds,
                    webhook.kind.rawValue, try seal(webhook.bearerToken), settings.headers, settings.retrySchedule, settings.rateLimit,
                ])
        }
    }

    public func webhooks(applicationID: String) async throws -> [Webhook] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webhooks WHERE application_id = ? ORDER BY id", arguments: [applicationID])
                .compactMap(self.webhook(from:))
        }
    }

    public func webhook(id: String, applicationID: String) async throws -> Webhook? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM webhooks WHERE id = ? AND application_id = ?", arguments: [id, applicationID])
                .flatMap(self.webhook(from:))
        }
    }

    public func updateWebhook(id: String, applicationID: String, _ change: WebhookChange, now: Timestamp) async throws -> Webhook? {
        let eventTypesJSON: String?? = try change.eventTypes.map { types in
            try types.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        }
        return try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM webhooks WHERE id = ? AND application_id = ?", arguments: [id, applicationID]),
                  let current = self.webhook(from: row) else { return nil }
            if let url = change.url, url != current.url {
                // A new URL is a new receiver: its failing streak starts over.
                try db.execute(sql: "UPDATE webhooks SET url = ?, failing_since = NULL WHERE id = ?", arguments: [url, id])
            }
            if let name = change.name {
                try db.execute(sql: "UPDATE webhooks SET name = ? WHERE id = ?", arguments: [name, id])
            }
            if let eventTypesJSON {
                try db.execute(sql: "UPDATE webhooks SET event_types = ? WHERE id = ?", arguments: [eventTypesJSON, id])
            }
            if let bearerToken = change.bearerToken {
                try db.execute(sql: "UPDATE webhooks SET bearer_token = ? WHERE id = ?", arguments: [try seal(bearerToken), id])
            }
            if change.headers != nil || change.retryDelays != nil || change.rateLimit != nil {
                var settings = current.settings
                if let headers = change.headers { settings.headers = headers }
                if let delays = change.retryDelays { settings.retryDelays = delays }
                if let rate = change.rateLimit { settings.rateLimit = rate }
                let columns = try self.settingsColumns(settings)
                try db.execute(sql: "UPDATE webhooks SET headers = ?, retry_schedule = ?, rate_limit = ? WHERE id = ?",
                               arguments: [columns.headers, columns.retrySchedule, columns.rateLimit, id])
            }
            if let isEnabled = change.isEnabled, isEnabled != current.isEnabled {
                if isEnabled {
                    try db.execute(
                        sql: "UPDATE webhooks SET is_enabled = 1, disabled_reason = NULL, failing_since = NULL, disable_announced = 1 WHERE id = ?",
                        arguments: [id])
                    try db.execute(
                        sql: "UPDATE deliveries SET state = 0, next_attempt_at = ?, lease_owner = NULL WHERE webhook_id = ? AND state = 4",
                        arguments: [now.milliseconds, id])
                } else {
                    try Self.disable(webhookID: id, reason: "manual", now: now, db: db)
                }
            }
            try db.execute(sql: "UPDATE webhooks SET updated_at = ? WHERE id = ?", arguments: [now.milliseconds, id])
            return try Row.fetchOne(db, sql: "SELECT * FROM webhooks WHERE id = ?", arguments: [id]).flatMap(self.webhook(from:))
        }
    }

    public func deleteWebhook(id: String, applicationID: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM webhooks WHERE id = ? AND application_id = ?", arguments: [id, applicationID])
            return db.changesCount > 0
        }
    }

    public func rotateSecret(id: String, applicationID: String, newSecret: WebhookSecret, previousValidUntil: Timestamp, now: Timestamp) async throws -> Webhook? {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = ?, secret = ?, updated_at = ?
                    WHERE id = ? AND application_id = ?
                    """,
                arguments: [previousValidUntil.milliseconds, try seal(newSecret.text), now.milliseconds, id, applicationID])
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM webhooks WHERE id = ?", arguments: [id]).flatMap(self.webhook(from:))
        }
    }

    // MARK: Event types

    public func createEventType(_ type: CustomEventType) async throws {
        try await createEventType(type, limit: .max)
    }

    public func eventTypes(applicationID: String) async throws -> [CustomEventType] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM event_types WHERE application_id = ? ORDER BY name", arguments: [applicationID]).map { row in
                CustomEventType(
                    applicationID: row["application_id"], name: row["name"], description: row["description"], schema: row["schema"],
                    createdAt: Timestamp(milliseconds: row["created_at"]))
            }
        }
    }

    public func deleteEventType(name: String, applicationID: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM event_types WHERE application_id = ? AND name = ?", arguments: [applicationID, name])
            return db.changesCount > 0
        }
    }

    func webhook(from row: Row) -> Webhook? {
        guard let secret = unseal(row["secret"]).flatMap(WebhookSecret.init) else { return nil }
        let eventTypesJSON: String? = row["event_types"]
        let eventTypes = eventTypesJSON.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
        let previousText: String? = row["previous_secret"]
        let previousExpiry: Int64? = row["previous_secret_expires_at"]
        return Webhook(
            id: row["id"], applicationID: row["application_id"], url: row["url"], name: row["name"],
            eventTypes: eventTypes, format: row["format"], secret: secret,
            previousSecret: unseal(previousText).flatMap(WebhookSecret.init), previousSecretExpiresAt: previousExpiry.map(Timestamp.init(milliseconds:)),
            isEnabled: row["is_enabled"], disabledReason: row["disabled_reason"],
            createdAt: Timestamp(milliseconds: row["created_at"]), updatedAt: Timestamp(milliseconds: row["updated_at"]),
            kind: WebhookKind(rawValue: row["kind"]) ?? .webhook, bearerToken: unseal(row["bearer_token"]), settings: settings(from: row))
    }

    /// A webhook's delivery settings as stored: headers sealed like secrets (their values may be credentials).
    func settingsColumns(_ settings: DeliverySettings) throws -> (headers: String?, retrySchedule: String?, rateLimit: Double?) {
        var headers: String?
        if !settings.headers.isEmpty {
            let pairs = settings.headers.map { [$0.name, $0.value] }
            headers = try seal(String(decoding: try JSONEncoder().encode(pairs), as: UTF8.self))
        }
        let delays = try settings.retryDelays.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        return (headers, delays, settings.rateLimit)
    }

    /// The delivery settings of a row with `headers`, `retry_schedule` and `rate_limit`.
    func settings(from row: Row) -> DeliverySettings {
        let headersText: String? = row["headers"], delaysText: String? = row["retry_schedule"]
        guard headersText != nil || delaysText != nil || row["rate_limit"] != nil else { return DeliverySettings() }
        let pairs = unseal(headersText).flatMap { try? JSONDecoder().decode([[String]].self, from: Data($0.utf8)) } ?? []
        return DeliverySettings(
            headers: pairs.compactMap { $0.count == 2 ? HTTPHeader(name: $0[0], value: $0[1]) : nil },
            retryDelays: delaysText.flatMap { try? JSONDecoder().decode([Int].self, from: Data($0.utf8)) },
            rateLimit: row["rate_limit"])
    }

    // MARK: Publish

    public func publish(_ requests: [PublishRequest], now: Timestamp) async throws -> [PublishResult] {
        try await pool.write { db in
            let findByID = try db.cachedStatement(sql: "SELECT seq, id, type, timestamp FROM events WHERE application_id = ? AND id = ?")
            let findByKey = try db.cachedStatement(
                sql: "SELECT seq, id, type, timestamp FROM events WHERE application_id = ? AND idempotency_key = ?")
            let countDeliveries = try db.cachedStatement(sql: "SELECT COUNT(*) FROM deliveries WHERE event_seq = ?")
            let subscribers = try db.cachedStatement(
                sql: "SELECT id, event_types, format FROM webhooks WHERE application_id = ? AND is_enabled = 1")
            let insertEvent = try db.cachedStatement(sql: """
                INSERT INTO events (application_id, id, idempotency_key, type, timestamp, data, created_at, timestamp_text, subject)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let insertDelivery = try db.cachedStatement(sql: """
                INSERT INTO deliveries (event_seq, webhook_id, application_id, state, attempts, next_attempt_at, created_at, lease_owner)
                VALUES (?, ?, ?, 0, 0, ?, ?, ?)
                """)
            // Subscriptions per application, read once per transaction.
            var subscriptionsByApplication: [String: [(id: String, types: Set<String>?, format: String)]] = [:]
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
                let subscriptions: [(id: String, types: Set<String>?, format: String)]
                if let cached = subscriptionsByApplication[request.applicationID] {
                    subscriptions = cached
                } else {
                    subscriptions = try Row.fetchAll(subscribers, arguments: [request.applicationID]).map { row in
                        let json: String? = row["event_types"]
                        let types = json.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }.map(Set.init)
                        return (id: row["id"], types: types, format: row["format"])
                    }
                    subscriptionsByApplication[request.applicationID] = subscriptions
                }
                do {
                    try insertEvent.execute(arguments: [
                        request.applicationID, request.eventID, request.idempotencyKey, request.type,
                        request.timestamp.milliseconds, Data(request.data), now.milliseconds, request.timestampText, request.subject,
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
                for subscription in subscriptions {
                    let wanted: Bool
                    if let only = request.onlyWebhookID {
                        wanted = subscription.id == only
                    } else if let types = subscription.types {
                        wanted = types.contains(request.type) && request.formats?.contains(subscription.format) ?? true
                    } else {
                        wanted = !request.explicitOnly && request.formats?.contains(subscription.format) ?? true
                    }
                    guard wanted else { continue }
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

    // MARK: Dispatch

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
                    sql: "SELECT id FROM deliveries WHERE state = 0 AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?")
                ids = try Int64.fetchAll(scan, arguments: [now.milliseconds, limit])
            } else {
                // 1. The earliest due deliveries of webhooks and applications that are not busy, within a bounded window
                //    (the statement without the application test when none is busy: ?2 is then bound but unused).
                let scan = try db.cachedStatement(sql: excludingApplications.isEmpty ? """
                    SELECT id, webhook_id IN (SELECT value FROM json_each(?1))
                    FROM deliveries WHERE state = 0 AND next_attempt_at <= ?3 ORDER BY next_attempt_at LIMIT ?4
                    """ : """
                    SELECT id, webhook_id IN (SELECT value FROM json_each(?1)) OR application_id IN (SELECT value FROM json_each(?2))
                    FROM deliveries WHERE state = 0 AND next_attempt_at <= ?3 ORDER BY next_attempt_at LIMIT ?4
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
                        WHERE state = 0 AND webhook_id = ? AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?
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
                // A secret that cannot be read (never written by this code) skips the send; the row is
                // still leased below, so it cannot be claimed again at once.
                if let delivery = claimedDelivery(from: row, owner: owner) { claimed.append(delivery) }
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

    /// A delivery ready to send from a row of `claimColumns`; nil when its secret cannot be opened.
    func claimedDelivery(from row: Row, owner: String) -> ClaimedDelivery? {
        guard let secret = unseal(row["secret"]).flatMap(WebhookSecret.init) else { return nil }
        let data: Data = row["data"]
        let previousText: String? = row["previous_secret"]
        let previousExpiry: Int64? = row["previous_secret_expires_at"]
        return ClaimedDelivery(
            id: row["id"], leaseOwner: owner, attemptsMade: row["attempts"], dueAt: Timestamp(milliseconds: row["next_attempt_at"] ?? 0),
            eventKey: row["seq"],
            event: OutboundEvent(
                id: row["event_id"], type: row["type"], timestamp: Timestamp(milliseconds: row["timestamp"]),
                timestampText: row["timestamp_text"], data: Array(data)),
            webhook: ClaimedWebhook(
                id: row["webhook_id"], applicationID: row["application_id"], url: row["url"], format: row["format"], secret: secret,
                previousSecret: unseal(previousText).flatMap(WebhookSecret.init),
                previousSecretExpiresAt: previousExpiry.map(Timestamp.init(milliseconds:)), bearerToken: unseal(row["bearer_token"]),
                settings: settings(from: row)))
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
            // A retry of a delivery whose webhook was disabled meanwhile is held (4), not pending.
            let update = try db.cachedStatement(sql: """
                UPDATE deliveries SET
                    state = CASE WHEN ?1 = 0 AND (SELECT is_enabled FROM webhooks WHERE id = deliveries.webhook_id) = 0 THEN 4 ELSE ?1 END,
                    attempts = ?2, next_attempt_at = ?3, lease_owner = NULL, last_attempt_at = ?4, last_status = ?5
                WHERE id = ?6 AND lease_owner = ?7
                """)
            // A delivery given back after its webhook was disabled is held (4), not pending.
            let release = try db.cachedStatement(sql: """
                UPDATE deliveries SET lease_owner = NULL, next_attempt_at = ?1,
                    state = CASE WHEN (SELECT is_enabled FROM webhooks WHERE id = deliveries.webhook_id) = 0 THEN 4 ELSE 0 END
                WHERE id = ?2 AND lease_owner = ?3 AND state = 0
                """)
            // A webhook's failing streak: when its first failure since its last success happened.
            let succeeded = try db.cachedStatement(sql: "UPDATE webhooks SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL")
            let failed = try db.cachedStatement(sql: "UPDATE webhooks SET failing_since = ? WHERE id = ? AND failing_since IS NULL")
            var disabled: Set<String> = []
            // Each webhook's last outcome in this batch: one streak update per webhook, not per attempt.
            var lastOutcome: [String: (succeeded: Bool, at: Int64)] = [:]
            for record in records {
                let a = record.attempt
                try insertAttempt.execute(arguments: [
                    a.deliveryID, a.number, a.startedAt.milliseconds, a.durationMicroseconds, a.status,
                    a.responseExcerpt, a.errorKind?.rawValue, a.errorMessage, a.requestHeaders,
                ])
                ids.append(db.changesCount > 0 ? db.lastInsertedRowID : nil)
                let (state, next): (Int, Int64?) = switch record.outcome {
                case .succeeded: (1, nil)
                case .failed: (2, nil)
                case .retry(let at): (0, at.milliseconds)
                }
                try update.execute(arguments: [state, a.number, next, a.startedAt.milliseconds, a.status, a.deliveryID, record.leaseOwner])
                lastOutcome[record.webhookID] = (state == 1, a.startedAt.milliseconds)
                if record.disablesWebhook { disabled.insert(record.webhookID) }
            }
            for (webhookID, outcome) in lastOutcome {
                if outcome.succeeded {
                    try succeeded.execute(arguments: [webhookID])
                } else {
                    try failed.execute(arguments: [outcome.at, webhookID])
                }
            }
            for released in releasing {
                try release.execute(arguments: [released.dueAt.milliseconds, released.id, released.leaseOwner])
            }
            for webhookID in disabled {
                try Self.disable(webhookID: webhookID, reason: "gone", now: now, db: db)
            }
            return ids
        }
    }

    /// Disables a webhook and holds its pending deliveries until it is enabled again. Deliveries
    /// being sent right now keep their lease: their record holds them when it comes in.
    static func disable(webhookID: String, reason: String, now: Timestamp, db: Database) throws {
        // BankHooks' own reasons are announced with a `webhook.disabled` event; a manual disable is not.
        try db.execute(
            sql: "UPDATE webhooks SET is_enabled = 0, disabled_reason = ?, updated_at = ?, disabled_at = ?, disable_announced = ? WHERE id = ?",
            arguments: [reason, now.milliseconds, now.milliseconds, reason == "manual", webhookID])
        try db.execute(
            sql: """
                UPDATE deliveries SET state = 4, lease_owner = NULL
                WHERE webhook_id = ? AND state = 0 AND (lease_owner IS NULL OR next_attempt_at <= ?)
                """,
            arguments: [webhookID, now.milliseconds])
    }

    public func disableFailingWebhooks(failingSince cutoff: Timestamp, now: Timestamp) async throws -> [String] {
        try await pool.write { db in
            let ids = try String.fetchAll(db, sql: """
                SELECT id FROM webhooks WHERE is_enabled = 1 AND failing_since IS NOT NULL AND failing_since <= ?
                """, arguments: [cutoff.milliseconds])
            for id in ids { try Self.disable(webhookID: id, reason: "failing", now: now, db: db) }
            return ids
        }
    }

    public func unannouncedDisabledWebhooks() async throws -> [DisabledWebhook] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM webhooks WHERE is_enabled = 0 AND disable_announced = 0 ORDER BY disabled_at LIMIT 100
                """).compactMap { row in
                self.webhook(from: row).map { webhook in
                    let since: Int64? = row["failing_since"], at: Int64? = row["disabled_at"]
                    return DisabledWebhook(
                        webhook: webhook, disabledAt: Timestamp(milliseconds: at ?? 0), failingSince: since.map(Timestamp.init(milliseconds:)))
                }
            }
        }
    }

    public func markDisableAnnounced(webhookID: String, disabledAt: Timestamp) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE webhooks SET disable_announced = 1 WHERE id = ? AND disabled_at = ?",
                           arguments: [webhookID, disabledAt.milliseconds])
        }
    }

    public func releaseAll(process: String, now: Timestamp) async throws {
        let prefix = process + "/"
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE deliveries SET lease_owner = NULL, next_attempt_at = ?
                    WHERE state = 0 AND substr(lease_owner, 1, length(?)) = ? AND next_attempt_at > ?
                    """,
                arguments: [now.milliseconds, prefix, prefix, now.milliseconds])
        }
    }

    public func nextDueTime() async throws -> Timestamp? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 0").map(Timestamp.init(milliseconds:))
        }
    }

    // MARK: Reads

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
        let state = deliveryState(code: row["state"])
        let next: Int64? = row["next_attempt_at"]
        let last: Int64? = row["last_attempt_at"]
        return Delivery(
            id: row["id"], eventID: row["event_id"], webhookID: row["webhook_id"], applicationID: row["application_id"],
            state: state, attempts: row["attempts"], nextAttemptAt: state == .pending ? next.map(Timestamp.init(milliseconds:)) : nil,
            lastAttemptAt: last.map(Timestamp.init(milliseconds:)), lastStatus: row["last_status"],
            createdAt: Timestamp(milliseconds: row["created_at"]), eventType: row["event_type"])
    }

    /// The public state of a stored state code (4, held, shows as pending).
    static func deliveryState(code: Int) -> DeliveryState {
        switch code {
        case 1: .succeeded
        case 2: .failed
        case 3: .cancelled
        default: .pending
        }
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
                let state = Self.deliveryState(code: row["state"])
                counts[state, default: 0] += row["n"] as Int
            }
            return counts
        }
    }

    // MARK: Helpers

    /// A JSON array of strings, bound as one parameter and read with `json_each`.
    static func jsonArray(_ values: Set<String>) -> String {
        var out = [UInt8(ascii: "[")]
        for (i, value) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(value, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON array of integers, bound as one parameter and read with `json_each`.
    static func jsonArray(_ values: [Int64]) -> String {
        var out = "["
        out.reserveCapacity(values.count * 8 + 2)
        for (i, value) in values.enumerated() {
            if i > 0 { out.append(",") }
            out.append(String(value))
        }
        out.append("]")
        return out
    }
}
