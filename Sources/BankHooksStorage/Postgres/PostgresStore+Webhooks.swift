import BankHooksCore
import Foundation
import PostgresNIO

/// Webhooks: their rows and settings, secret rotation, and disabling (by hand, failing, gone) with
/// its announcement (`SQLiteStore+Webhooks.swift` is the reference for each method).
extension PostgresStore: WebhookStore {
    public func createWebhook(_ webhook: Webhook) async throws {
        let eventTypes = try webhook.eventTypes.map(SQLiteStore.json)
        let settings = try settingsColumns(webhook.settings)
        let secret = try sealer.seal(webhook.secret.text), previous = try sealer.seal(webhook.previousSecret?.text)
        let bearerToken = try sealer.seal(webhook.bearerToken)
        do {
            try await transaction { connection in
                if webhook.kind == .webhook {
                    try await Self.checkWebhookLimit(applicationID: webhook.applicationID, on: connection, logger: logger)
                }
                try await connection.run("""
                    INSERT INTO webhooks (id, application_id, url, name, event_types, format, secret, previous_secret,
                        previous_secret_expires_at, is_enabled, disabled_reason, created_at, updated_at, kind, bearer_token,
                        headers, retry_schedule, rate_limit)
                    VALUES (\(webhook.id), \(webhook.applicationID), \(webhook.url), \(webhook.name), \(eventTypes), \(webhook.format),
                        \(secret), \(previous), \(webhook.previousSecretExpiresAt?.milliseconds), \(webhook.isEnabled), \(webhook.disabledReason),
                        \(webhook.createdAt.milliseconds), \(webhook.updatedAt.milliseconds), \(webhook.kind.rawValue), \(bearerToken),
                        \(settings.headers), \(settings.retrySchedule), \(settings.rateLimit))
                    """, logger: logger)
            }
        } catch let error where Self.isForeignKeyViolation(error) {
            throw StoreError(.notFound, "no application \(webhook.applicationID)")
        } catch let error where Self.isUniqueViolation(error, constraint: "webhooks_one_callback_url") {
            // Two requests creating the callback URL at once: the second finds the first's.
            throw StoreError(.conflict, "the application already has a callback URL")
        } catch let error where Self.isUniqueViolation(error) {
            throw StoreError(.conflict, "webhook \(webhook.id) exists")
        }
    }

    /// Refuses a webhook beyond the application's webhook limit (`limitReached`). The application's
    /// row is locked first (`FOR NO KEY UPDATE`, as `checkQuota` does: concurrent creations wait for
    /// each other, a limit changed meanwhile is seen, publishes are not held up), and the count is a
    /// statement of its own so it sees every webhook committed while it waited.
    static func checkWebhookLimit(applicationID: String, on connection: PostgresConnection, logger: Logger) async throws {
        guard let limit = try await connection.row(
            "SELECT webhook_limit FROM applications WHERE id = \(applicationID) FOR NO KEY UPDATE", logger: logger)?("webhook_limit", as: Int.self)
        else { return }  // No application: the insert's foreign key says so.
        let count = try await connection.row(
            "SELECT COUNT(*) AS count FROM webhooks WHERE application_id = \(applicationID) AND kind = 'webhook'", logger: logger)?(
                "count", as: Int.self) ?? 0
        if count >= limit {
            throw StoreError(.limitReached, "the application has \(count) webhooks; its limit is \(limit)")
        }
    }

    public func webhooks(applicationID: String) async throws -> [Webhook] {
        try await rows("SELECT * FROM webhooks WHERE application_id = \(applicationID) ORDER BY id")
            .compactMap(webhook(from:))
    }

    public func webhook(id: String, applicationID: String) async throws -> Webhook? {
        try await rows("SELECT * FROM webhooks WHERE id = \(id) AND application_id = \(applicationID)").first.flatMap(webhook(from:))
    }

    public func updateWebhook(id: String, applicationID: String, _ change: WebhookChange, now: Timestamp) async throws -> Webhook? {
        let eventTypesJSON: String?? = try change.eventTypes.map { types in try types.map(SQLiteStore.json) }
        let bearerToken: String?? = try change.bearerToken.map { try sealer.seal($0) }
        return try await transaction { connection in
            // The row is locked for the read-merge-write of the settings (and against a concurrent disable);
            // NO KEY UPDATE leaves the deliveries' foreign keys (KEY SHARE) free, but a publish reads the
            // row FOR SHARE, so publishes in flight commit first and the next ones see this change.
            guard let row = try await connection.row(
                "SELECT * FROM webhooks WHERE id = \(id) AND application_id = \(applicationID) FOR NO KEY UPDATE", logger: logger),
                let current = try webhook(from: row)
            else { return nil }
            let urlChanged = change.url.map { $0 != current.url } ?? false
            var settings: (headers: String?, retrySchedule: String?, rateLimit: Double?)?
            if change.headers != nil || change.retryDelays != nil || change.rateLimit != nil {
                var merged = current.settings
                if let headers = change.headers { merged.headers = headers }
                if let delays = change.retryDelays { merged.retryDelays = delays }
                if let rate = change.rateLimit { merged.rateLimit = rate }
                settings = try settingsColumns(merged)
            }
            let enabledAgain = change.isEnabled == true && !current.isEnabled
            let disabling = change.isEnabled == false && current.isEnabled
            // One statement for every column the change names; a column it does not name keeps its stored text.
            try await connection.run("""
                UPDATE webhooks SET
                    url = CASE WHEN \(urlChanged) THEN \(change.url) ELSE url END,
                    name = CASE WHEN \(change.name != nil) THEN \(change.name ?? nil) ELSE name END,
                    event_types = CASE WHEN \(eventTypesJSON != nil) THEN \(eventTypesJSON ?? nil) ELSE event_types END,
                    bearer_token = CASE WHEN \(bearerToken != nil) THEN \(bearerToken ?? nil) ELSE bearer_token END,
                    headers = CASE WHEN \(settings != nil) THEN \(settings?.headers) ELSE headers END,
                    retry_schedule = CASE WHEN \(settings != nil) THEN \(settings?.retrySchedule) ELSE retry_schedule END,
                    rate_limit = CASE WHEN \(settings != nil) THEN \(settings?.rateLimit) ELSE rate_limit END,
                    is_enabled = is_enabled OR \(enabledAgain),
                    disabled_reason = CASE WHEN \(enabledAgain) THEN NULL ELSE disabled_reason END,
                    disable_announced = disable_announced OR \(enabledAgain),
                    failing_since = CASE WHEN \(FailingStreaks.startsOver(urlChanged: urlChanged, enabledAgain: enabledAgain)) THEN NULL
                        ELSE failing_since END,
                    updated_at = \(now.milliseconds)
                WHERE id = \(id)
                """, logger: logger)
            if enabledAgain {
                try await connection.run("""
                    UPDATE deliveries SET state = \(DeliveryPolicy.stateOnEnable.rawValue), next_attempt_at = \(now.milliseconds), lease_owner = NULL
                    WHERE webhook_id = \(id) AND state = \(StoredDeliveryState.held.rawValue)
                    """, logger: logger)
            } else if disabling {
                try await Self.disable(webhookIDs: [id], reason: .manual, now: now, on: connection, logger: logger)
            }
            return try await connection.row("SELECT * FROM webhooks WHERE id = \(id)", logger: logger).flatMap(webhook(from:))
        }
    }

    public func deleteWebhook(id: String, applicationID: String) async throws -> Bool {
        try await rows("DELETE FROM webhooks WHERE id = \(id) AND application_id = \(applicationID) RETURNING id").isEmpty == false
    }

    public func rotateSecret(id: String, applicationID: String, newSecret: WebhookSecret, previousValidUntil: Timestamp, now: Timestamp) async throws -> Webhook? {
        // One statement: its SET reads the row's old secret, so the replaced secret becomes the previous one.
        try await rows("""
            UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = \(previousValidUntil.milliseconds),
                secret = \(try sealer.seal(newSecret.text)), updated_at = \(now.milliseconds)
            WHERE id = \(id) AND application_id = \(applicationID)
            RETURNING *
            """).first.flatMap(webhook(from:))
    }

    /// A webhook row as a `Webhook`; nil when its secret does not open (another master key).
    func webhook(from row: StoredRow) throws -> Webhook? {
        guard let secret = sealer.openSecret(try row("secret")) else { return nil }
        let eventTypes = try row("event_types", as: String?.self).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
        return Webhook(
            id: try row("id"), applicationID: try row("application_id"), url: try row("url"), name: try row("name"),
            eventTypes: eventTypes, format: try row("format"), secret: secret,
            previousSecret: try row("previous_secret", as: String?.self).flatMap(sealer.openSecret),
            previousSecretExpiresAt: try row.timestampIfPresent("previous_secret_expires_at"),
            isEnabled: try row("is_enabled"), disabledReason: try row("disabled_reason"),
            createdAt: try row.timestamp("created_at"), updatedAt: try row.timestamp("updated_at"),
            kind: WebhookKind(rawValue: try row("kind")) ?? .webhook, bearerToken: sealer.open(try row("bearer_token", as: String?.self)),
            settings: try settings(from: row))
    }

    /// A webhook's delivery settings as stored: headers sealed like secrets (their values may be credentials).
    func settingsColumns(_ settings: DeliverySettings) throws -> (headers: String?, retrySchedule: String?, rateLimit: Double?) {
        let headers = try sealer.sealHeaders(settings.headers)
        let delays = try settings.retryDelays.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        return (headers, delays, settings.rateLimit)
    }

    /// The delivery settings of a row with `headers`, `retry_schedule` and `rate_limit`.
    func settings(from row: StoredRow) throws -> DeliverySettings {
        settings(
            headers: try row("headers", as: String?.self), retrySchedule: try row("retry_schedule", as: String?.self),
            rateLimit: try row("rate_limit", as: Double?.self))
    }

    /// The delivery settings of the stored `headers`, `retry_schedule` and `rate_limit` (a claim reads
    /// them positionally). The headers are opened only when `openingHeaders` (a claim carries them sealed instead).
    func settings(headers: String?, retrySchedule: String?, rateLimit: Double?, openingHeaders: Bool = true) -> DeliverySettings {
        guard headers != nil || retrySchedule != nil || rateLimit != nil else { return DeliverySettings() }
        return DeliverySettings(
            headers: openingHeaders ? sealer.openHeaders(headers) : [],
            retryDelays: retrySchedule.flatMap { try? JSONDecoder().decode([Int].self, from: Data($0.utf8)) },
            rateLimit: rateLimit)
    }

    /// Disables webhooks and holds their pending deliveries until they are enabled again. Deliveries
    /// being sent right now keep their lease: their record holds them when it comes in. Which
    /// deliveries are held is `DeliveryPolicy.disableHolds`, applied to each pending one.
    ///
    /// Several nodes claim at once, so the pending deliveries are read `FOR UPDATE`: a claim that
    /// leased one meanwhile is waited for and its lease seen, and no claim (`SKIP LOCKED`) takes one
    /// between this read and the hold. Three statements, whatever the number of webhooks.
    static func disable(webhookIDs: [String], reason: DisableReason, now: Timestamp, on connection: PostgresConnection, logger: Logger) async throws {
        guard !webhookIDs.isEmpty else { return }
        try await connection.run("""
            UPDATE webhooks SET is_enabled = FALSE, disabled_reason = \(reason.rawValue), updated_at = \(now.milliseconds),
                disabled_at = \(now.milliseconds), disable_announced = \(!reason.isAnnounced)
            WHERE id = ANY(\(webhookIDs))
            """, logger: logger)
        let pending = try await connection.result("""
            SELECT id, lease_owner IS NOT NULL, COALESCE(next_attempt_at <= \(now.milliseconds), FALSE) FROM deliveries
            WHERE webhook_id = ANY(\(webhookIDs)) AND state = \(unescaped: Self.pending)
            FOR UPDATE
            """, logger: logger)
        var held: [Int64] = []
        for (id, isLeased, leaseExpired) in try pending.decode((Int64, Bool, Bool).self)
        where DeliveryPolicy.disableHolds(.pending, isLeased: isLeased, leaseExpired: leaseExpired) {
            held.append(id)
        }
        guard !held.isEmpty else { return }
        try await connection.run("""
            UPDATE deliveries SET state = \(StoredDeliveryState.held.rawValue), lease_owner = NULL WHERE id = ANY(\(held))
            """, logger: logger)
    }

    public func disableFailingWebhooks(failingSince cutoff: Timestamp, now: Timestamp) async throws -> [String] {
        try await transaction { connection in
            // Locked, so two nodes never disable (and announce) the same webhook twice: the second waits,
            // then finds it disabled (READ COMMITTED re-checks a locked row's WHERE) and skips it. In id
            // order, as record() locks its batch's webhooks, so the two never wait for each other in a circle.
            let ids = try await connection.rows("""
                SELECT id FROM webhooks WHERE is_enabled AND failing_since IS NOT NULL AND failing_since <= \(cutoff.milliseconds)
                ORDER BY id FOR NO KEY UPDATE
                """, logger: logger).map { try $0("id", as: String.self) }
            try await Self.disable(webhookIDs: ids, reason: .failing, now: now, on: connection, logger: logger)
            return ids
        }
    }

    public func unannouncedDisabledWebhooks() async throws -> [DisabledWebhook] {
        try await rows("""
            SELECT * FROM webhooks WHERE NOT is_enabled AND NOT disable_announced ORDER BY disabled_at, id LIMIT 100
            """).compactMap { row in
            try webhook(from: row).map { webhook in
                DisabledWebhook(
                    webhook: webhook, disabledAt: try row.timestampIfPresent("disabled_at") ?? Timestamp(milliseconds: 0),
                    failingSince: try row.timestampIfPresent("failing_since"))
            }
        }
    }

    public func markDisableAnnounced(webhookID: String, disabledAt: Timestamp) async throws {
        _ = try await rows("UPDATE webhooks SET disable_announced = TRUE WHERE id = \(webhookID) AND disabled_at = \(disabledAt.milliseconds)")
    }
}
