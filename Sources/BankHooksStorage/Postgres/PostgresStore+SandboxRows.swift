import BankHooksCore
import Foundation
import PostgresNIO

/// The sandbox's rows on PostgreSQL: inserts shared by several writes, and decoding by explicit
/// column lists (a row the schema's checks would not allow is an `invalidValue` error, never a
/// guessed value), as SQLiteStore+SandboxRows.swift does.
extension PostgresStore {
    // MARK: Writes

    /// Runs an insert whose row references its application: a duplicate key is `conflict`, a
    /// missing reference `notFound` (the application deleted meanwhile, or `missing`'s row).
    static func referencingApplication(
        _ applicationID: String, conflict: String = "the row exists", missing: String? = nil, _ insert: () async throws -> Void
    ) async throws {
        do {
            try await insert()
        } catch where isForeignKeyViolation(error) {
            throw StoreError(.notFound, missing.map { "application \(applicationID) or \($0)" } ?? "application \(applicationID) does not exist")
        } catch where isUniqueViolation(error) {
            throw StoreError(.conflict, conflict)
        }
    }

    /// Locks the application's row `FOR KEY SHARE`; false when it does not exist (deleted meanwhile
    /// too). Lock order: a transaction that changes an application's rows and then inserts rows
    /// referencing the application takes this first. Deleting an application locks its row
    /// `FOR UPDATE` and then its rows (ON DELETE CASCADE); without this, such a transaction would
    /// hold a row the cascade waits for while its insert's foreign-key check waits for the
    /// application row: a deadlock (40P01). With it, one waits for the other. KEY SHARE conflicts
    /// with nothing else (not with quotas' `FOR NO KEY UPDATE`, nor other inserts' FK checks).
    static func lockApplication(_ applicationID: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> Bool {
        try await firstRow(connection.result("SELECT 1 FROM applications WHERE id = \(applicationID) FOR KEY SHARE", logger: logger)) != nil
    }

    /// Inserts one row that references its application (`referencingApplication`'s errors) with
    /// the events it sets off, in one transaction (one statement, without a transaction, when there are none).
    func insert(
        _ row: PostgresQuery, referencing applicationID: String, conflict: String, missing: String? = nil, events: [ScheduledEvent]
    ) async throws {
        guard !events.isEmpty else {
            return try await Self.referencingApplication(applicationID, conflict: conflict, missing: missing) {
                try await client.result(row, logger: logger)
            }
        }
        try await transaction { connection in
            try await Self.referencingApplication(applicationID, conflict: conflict, missing: missing) {
                try await connection.run(row, logger: logger)
            }
            try await Self.insert(events, connection, logger)
        }
    }

    /// Schedules events inside the caller's transaction.
    static func insert(_ events: [ScheduledEvent], _ connection: PostgresConnection, _ logger: Logger) async throws {
        for event in events {
            try await referencingApplication(event.applicationID, conflict: "scheduled event \(event.id) exists") {
                try await connection.run("""
                    INSERT INTO scheduled_events (id, application_id, due_at, type, data, webhook_id)
                    VALUES (\(event.id), \(event.applicationID), \(event.dueAt.milliseconds), \(event.type), \(ByteBuffer(bytes: event.data)),
                        \(event.webhookID))
                    """, logger: logger)
            }
        }
    }

    /// Inserts one consent (its permissions already JSON) inside the caller's transaction.
    static func insert(_ consent: Consent, permissions: String, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await referencingApplication(
            consent.applicationID, conflict: "consent \(consent.id) exists", missing: "authorisation \(consent.authorisationID) does not exist"
        ) {
            try await connection.run("""
                INSERT INTO consents (id, application_id, authorisation_id, institution_id, application_user_id, user_uuid, login,
                    permissions, status, created_at, authorized_at, expires_at, revoked_at, lean_entity_id, okra_record_id, bridge_item_id)
                VALUES (\(consent.id), \(consent.applicationID), \(consent.authorisationID), \(consent.institutionID),
                    \(consent.applicationUserID), \(consent.userUUID), \(consent.login), \(permissions), \(consent.status.rawValue),
                    \(consent.createdAt.milliseconds), \(consent.authorizedAt.milliseconds), \(consent.expiresAt.milliseconds),
                    \(consent.revokedAt?.milliseconds), \(consent.leanEntityID), \(consent.okraRecordID), \(consent.bridgeItemID))
                """, logger: logger)
        }
    }

    /// Stores one institution's availability document inside the caller's transaction.
    static func upsertAvailability(
        applicationID: String, institutionID: String, document: [UInt8], _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await referencingApplication(applicationID) {
            try await connection.run("""
                INSERT INTO institution_availability (application_id, institution_id, document, updated_at)
                VALUES (\(applicationID), \(institutionID), \(ByteBuffer(bytes: document)), (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                ON CONFLICT (application_id, institution_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at
                """, logger: logger)
        }
    }

    // MARK: Decoding

    static let authorisationColumns = """
        id, application_id, institution_id, application_user_id, user_uuid, callback, one_time_token, permissions, forward_parameters,
        state, status, created_at, expires_at, completed_at, redirect_url, reauthorises_consent_id
        """

    static func authorisation(from row: PostgresRow) throws -> Authorisation {
        let (id, applicationID, institutionID, applicationUserID, userUUID, callback, oneTimeToken, permissions, forward,
             state, status, createdAt, expiresAt, completedAt, redirectURL, reauthorises) = try row.decode(
            (String, String, String, String?, String, String, Bool, String, String, String, String, Int64, Int64, Int64?, String?, String?).self)
        guard let decoded = Authorisation.Status(rawValue: status) else {
            throw StoreError(.invalidValue, "authorisation \(id) has the unknown status \(status)")
        }
        return Authorisation(
            id: id, applicationID: applicationID, institutionID: institutionID, applicationUserID: applicationUserID, userUUID: userUUID,
            callback: callback, oneTimeToken: oneTimeToken, permissions: try strings(permissions, "permissions"),
            forwardParameters: try strings(forward, "forward_parameters"), state: state, status: decoded,
            createdAt: Timestamp(milliseconds: createdAt), expiresAt: Timestamp(milliseconds: expiresAt),
            completedAt: completedAt.map(Timestamp.init(milliseconds:)), redirectURL: redirectURL, reauthorisesConsentID: reauthorises)
    }

    static let consentColumns = """
        id, application_id, authorisation_id, institution_id, application_user_id, user_uuid, login, permissions, status,
        created_at, authorized_at, expires_at, revoked_at, lean_entity_id, okra_record_id, bridge_item_id
        """

    static func consent(from row: PostgresRow) throws -> Consent {
        let (id, applicationID, authorisationID, institutionID, applicationUserID, userUUID, login, permissions, status,
             createdAt, authorizedAt, expiresAt, revokedAt, leanEntityID, okraRecordID, bridgeItemID) = try row.decode(
            (String, String, String, String, String?, String, String, String, String, Int64, Int64, Int64, Int64?, String, String, Int64).self)
        guard let decoded = Consent.Status(rawValue: status) else {
            throw StoreError(.invalidValue, "consent \(id) has the unknown status \(status)")
        }
        return Consent(
            id: id, applicationID: applicationID, authorisationID: authorisationID, institutionID: institutionID,
            applicationUserID: applicationUserID, userUUID: userUUID, login: login, permissions: try strings(permissions, "permissions"),
            status: decoded, createdAt: Timestamp(milliseconds: createdAt), authorizedAt: Timestamp(milliseconds: authorizedAt),
            expiresAt: Timestamp(milliseconds: expiresAt), revokedAt: revokedAt.map(Timestamp.init(milliseconds:)),
            leanEntityID: leanEntityID, okraRecordID: okraRecordID, bridgeItemID: bridgeItemID)
    }

    static let paymentSourceColumns = "id, application_id, customer_id, beneficiary_id, created_at, beneficiary_active_at, document"

    static func paymentSource(from row: PostgresRow) throws -> SandboxPaymentSource {
        let (id, applicationID, customerID, beneficiaryID, createdAt, beneficiaryActiveAt, document) = try row.decode(
            (String, String, String, String, Int64, Int64, ByteBuffer).self)
        return SandboxPaymentSource(
            id: id, applicationID: applicationID, customerID: customerID, beneficiaryID: beneficiaryID,
            createdAt: Timestamp(milliseconds: createdAt), beneficiaryActiveAt: Timestamp(milliseconds: beneficiaryActiveAt),
            document: Array(document.readableBytesView))
    }

    static let paymentColumns = """
        id, application_id, payment_source_id, amount, currency, reference, initial_status, final_status, created_at, settles_at, document
        """

    static func payment(from row: PostgresRow) throws -> SandboxPayment {
        let (id, applicationID, paymentSourceID, amount, currency, reference, initialStatus, finalStatus, createdAt, settlesAt, document) =
            try row.decode((String, String, String?, String, String, String, String, String, Int64, Int64, ByteBuffer).self)
        return SandboxPayment(
            id: id, applicationID: applicationID, paymentSourceID: paymentSourceID, amount: amount, currency: currency, reference: reference,
            initialStatus: initialStatus, finalStatus: finalStatus, createdAt: Timestamp(milliseconds: createdAt),
            settlesAt: Timestamp(milliseconds: settlesAt), document: Array(document.readableBytesView))
    }

    static let scheduledEventColumns = "id, application_id, due_at, type, data, webhook_id"

    static func scheduledEvent(from row: PostgresRow) throws -> ScheduledEvent {
        let (id, applicationID, dueAt, type, data, webhookID) = try row.decode((String, String, Int64, String, ByteBuffer, String?).self)
        return ScheduledEvent(
            id: id, applicationID: applicationID, dueAt: Timestamp(milliseconds: dueAt), type: type, data: Array(data.readableBytesView),
            webhookID: webhookID)
    }

    // MARK: Helpers

    /// The first row of a result that has at most one.
    static func firstRow(_ rows: [PostgresRow]) -> PostgresRow? {
        rows.first
    }

    /// The first row's only column.
    static func firstRow<Value: PostgresDecodable>(_ rows: [PostgresRow], as type: Value.Type) throws -> Value? {
        try rows.first.map { try $0.decode(Value.self) }
    }

    static func sandboxJSON(_ values: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
    }

    /// A JSON array of strings stored in `column`.
    private static func strings(_ text: String, _ column: String) throws -> [String] {
        do {
            return try JSONDecoder().decode([String].self, from: Data(text.utf8))
        } catch {
            throw StoreError(.invalidValue, "\(column) is not a JSON array of strings: \(text)")
        }
    }
}
