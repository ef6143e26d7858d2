import BankHooksCore
import Foundation
import GRDB

/// Webhooks: their rows and settings, secret rotation, and disabling (by hand, failing, gone) with its announcement.
extension SQLiteStore {
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
                    try sealer.seal(webhook.secret.text), try sealer.seal(webhook.previousSecret?.text), webhook.previousSecretExpiresAt?.milliseconds,
                    webhook.isEnabled, webhook.disabledReason, webhook.createdAt.milliseconds, webhook.updatedAt.milliseconds,
                    webhook.kind.rawValue, try sealer.seal(webhook.bearerToken), settings.headers, settings.retrySchedule, settings.rateLimit,
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
            let urlChanged = change.url.map { $0 != current.url } ?? false
            if let url = change.url, urlChanged {
                try db.execute(sql: "UPDATE webhooks SET url = ? WHERE id = ?", arguments: [url, id])
            }
            if let name = change.name {
                try db.execute(sql: "UPDATE webhooks SET name = ? WHERE id = ?", arguments: [name, id])
            }
            if let eventTypesJSON {
                try db.execute(sql: "UPDATE webhooks SET event_types = ? WHERE id = ?", arguments: [eventTypesJSON, id])
            }
            if let bearerToken = change.bearerToken {
                try db.execute(sql: "UPDATE webhooks SET bearer_token = ? WHERE id = ?", arguments: [try sealer.seal(bearerToken), id])
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
            let enabledAgain = change.isEnabled == true && !current.isEnabled
            if let isEnabled = change.isEnabled, isEnabled != current.isEnabled {
                if isEnabled {
                    try db.execute(
                        sql: "UPDATE webhooks SET is_enabled = 1, disabled_reason = NULL, disable_announced = 1 WHERE id = ?", arguments: [id])
                    try db.execute(
                        sql: "UPDATE deliveries SET state = ?, next_attempt_at = ?, lease_owner = NULL WHERE webhook_id = ? AND state = ?",
                        arguments: [DeliveryPolicy.stateOnEnable.rawValue, now.milliseconds, id, StoredDeliveryState.held.rawValue])
                } else {
                    try Self.disable(webhookID: id, reason: .manual, now: now, db: db)
                }
            }
            if FailingStreaks.startsOver(urlChanged: urlChanged, enabledAgain: enabledAgain) {
                try db.execute(sql: "UPDATE webhooks SET failing_since = NULL WHERE id = ?", arguments: [id])
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
                arguments: [previousValidUntil.milliseconds, try sealer.seal(newSecret.text), now.milliseconds, id, applicationID])
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM webhooks WHERE id = ?", arguments: [id]).flatMap(self.webhook(from:))
        }
    }

    func webhook(from row: Row) -> Webhook? {
        guard let secret = sealer.openSecret(row["secret"]) else { return nil }
        let eventTypesJSON: String? = row["event_types"]
        let eventTypes = eventTypesJSON.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
        let previousText: String? = row["previous_secret"]
        let previousExpiry: Int64? = row["previous_secret_expires_at"]
        return Webhook(
            id: row["id"], applicationID: row["application_id"], url: row["url"], name: row["name"],
            eventTypes: eventTypes, format: row["format"], secret: secret,
            previousSecret: previousText.flatMap(sealer.openSecret), previousSecretExpiresAt: previousExpiry.map(Timestamp.init(milliseconds:)),
            isEnabled: row["is_enabled"], disabledReason: row["disabled_reason"],
            createdAt: Timestamp(milliseconds: row["created_at"]), updatedAt: Timestamp(milliseconds: row["updated_at"]),
            kind: WebhookKind(rawValue: row["kind"]) ?? .webhook, bearerToken: sealer.open(row["bearer_token"] as String?), settings: settings(from: row))
    }

    /// A webhook's delivery settings as stored: headers sealed like secrets (their values may be credentials).
    func settingsColumns(_ settings: DeliverySettings) throws -> (headers: String?, retrySchedule: String?, rateLimit: Double?) {
        let headers = try sealer.sealHeaders(settings.headers)
        let delays = try settings.retryDelays.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        return (headers, delays, settings.rateLimit)
    }

    /// The delivery settings of a row with `headers`, `retry_schedule` and `rate_limit`.
    /// The headers are opened only when `openingHeaders` (a claim carries them sealed instead).
    func settings(from row: Row, openingHeaders: Bool = true) -> DeliverySettings {
        let headersText: String? = row["headers"], delaysText: String? = row["retry_schedule"]
        guard headersText != nil || delaysText != nil || row["rate_limit"] != nil else { return DeliverySettings() }
        return DeliverySettings(
            headers: openingHeaders ? sealer.openHeaders(headersText) : [],
            retryDelays: delaysText.flatMap { try? JSONDecoder().decode([Int].self, from: Data($0.utf8)) },
            rateLimit: row["rate_limit"])
    }

    /// Disables a webhook and holds its pending deliveries until it is enabled again. Deliveries
    /// being sent right now keep their lease: their record holds them when it comes in.
    /// Which deliveries are held is `DeliveryPolicy.disableHolds`, applied to each pending one.
    static func disable(webhookID: String, reason: DisableReason, now: Timestamp, db: Database) throws {
        try db.execute(
            sql: "UPDATE webhooks SET is_enabled = 0, disabled_reason = ?, updated_at = ?, disabled_at = ?, disable_announced = ? WHERE id = ?",
            arguments: [reason.rawValue, now.milliseconds, now.milliseconds, !reason.isAnnounced, webhookID])
        // Read first, then update: the pending rows come from the partial index the update changes.
        let pending = try Row.fetchAll(db, sql: """
            SELECT id, lease_owner IS NOT NULL AS leased, next_attempt_at <= ? AS expired FROM deliveries INDEXED BY deliveries_webhook_due
            WHERE webhook_id = ? AND state = \(Self.pending)
            """, arguments: [now.milliseconds, webhookID])
        let hold = try db.cachedStatement(sql: "UPDATE deliveries SET state = ?, lease_owner = NULL WHERE id = ?")
        for row in pending where DeliveryPolicy.disableHolds(.pending, isLeased: row["leased"] as Bool, leaseExpired: (row["expired"] as Bool?) ?? false) {
            try hold.execute(arguments: [StoredDeliveryState.held.rawValue, row["id"] as Int64])
        }
    }

    public func disableFailingWebhooks(failingSince cutoff: Timestamp, now: Timestamp) async throws -> [String] {
        try await pool.write { db in
            let ids = try String.fetchAll(db, sql: """
                SELECT id FROM webhooks WHERE is_enabled = 1 AND failing_since IS NOT NULL AND failing_since <= ?
                """, arguments: [cutoff.milliseconds])
            for id in ids { try Self.disable(webhookID: id, reason: .failing, now: now, db: db) }
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
}
