import BankHooksCore
import Foundation
import GRDB

/// The sandbox's rows: inserts shared by several writes, and decoding (a row the schema's checks
/// would not allow is an `invalidValue` error, never a guessed value).
extension SQLiteStore {
    // MARK: Writes

    /// Runs an insert whose row references its application: a duplicate key is `conflict`, a
    /// missing reference `notFound` (the application deleted meanwhile, or `missing`'s row).
    static func referencingApplication(
        _ applicationID: String, conflict: String = "the row exists", missing: String? = nil, _ insert: () throws -> Void
    ) throws {
        do {
            try insert()
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
            throw StoreError(.notFound, missing.map { "application \(applicationID) or \($0)" } ?? "application \(applicationID) does not exist")
        } catch let error as DatabaseError
            where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY || error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw StoreError(.conflict, conflict)
        }
    }

    /// Schedules events inside the caller's transaction.
    static func insert(_ events: [ScheduledEvent], _ db: Database) throws {
        guard !events.isEmpty else { return }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO scheduled_events (id, application_id, due_at, type, data, webhook_id) VALUES (?, ?, ?, ?, ?, ?)
            """)
        for event in events {
            try referencingApplication(event.applicationID, conflict: "scheduled event \(event.id) exists") {
                try statement.execute(arguments: [
                    event.id, event.applicationID, event.dueAt.milliseconds, event.type, Data(event.data), event.webhookID,
                ])
            }
        }
    }

    /// Inserts one consent (its permissions already JSON) inside the caller's transaction.
    static func insert(_ consent: Consent, permissions: String, _ db: Database) throws {
        try referencingApplication(
            consent.applicationID, conflict: "consent \(consent.id) exists", missing: "authorisation \(consent.authorisationID) does not exist"
        ) {
            try db.execute(sql: """
                INSERT INTO consents (id, application_id, authorisation_id, institution_id, application_user_id, user_uuid, login,
                    permissions, status, created_at, authorized_at, expires_at, revoked_at, lean_entity_id, okra_record_id, bridge_item_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                    consent.id, consent.applicationID, consent.authorisationID, consent.institutionID, consent.applicationUserID,
                    consent.userUUID, consent.login, permissions, consent.status.rawValue, consent.createdAt.milliseconds,
                    consent.authorizedAt.milliseconds, consent.expiresAt.milliseconds, consent.revokedAt?.milliseconds,
                    consent.leanEntityID, consent.okraRecordID, consent.bridgeItemID,
                ])
        }
    }

    static func consent(id: String, applicationID: String, _ db: Database) throws -> Consent? {
        try Row.fetchOne(db, sql: "SELECT * FROM consents WHERE id = ? AND application_id = ?", arguments: [id, applicationID])
            .map(consent(from:))
    }

    // MARK: Decoding

    static func authorisation(from row: Row) throws -> Authorisation {
        let status: String = row["status"]
        guard let decoded = Authorisation.Status(rawValue: status) else {
            throw StoreError(.invalidValue, "authorisation \(row["id"] as String) has the unknown status \(status)")
        }
        let completed: Int64? = row["completed_at"]
        return Authorisation(
            id: row["id"], applicationID: row["application_id"], institutionID: row["institution_id"],
            applicationUserID: row["application_user_id"], userUUID: row["user_uuid"], callback: row["callback"],
            oneTimeToken: row["one_time_token"], permissions: try strings(row, "permissions"),
            forwardParameters: try strings(row, "forward_parameters"), state: row["state"], status: decoded,
            createdAt: Timestamp(milliseconds: row["created_at"]), expiresAt: Timestamp(milliseconds: row["expires_at"]),
            completedAt: completed.map(Timestamp.init(milliseconds:)), redirectURL: row["redirect_url"],
            reauthorisesConsentID: row["reauthorises_consent_id"])
    }

    static func consent(from row: Row) throws -> Consent {
        let status: String = row["status"]
        guard let decoded = Consent.Status(rawValue: status) else {
            throw StoreError(.invalidValue, "consent \(row["id"] as String) has the unknown status \(status)")
        }
        let revoked: Int64? = row["revoked_at"]
        return Consent(
            id: row["id"], applicationID: row["application_id"], authorisationID: row["authorisation_id"],
            institutionID: row["institution_id"], applicationUserID: row["application_user_id"], userUUID: row["user_uuid"],
            login: row["login"], permissions: try strings(row, "permissions"), status: decoded,
            createdAt: Timestamp(milliseconds: row["created_at"]), authorizedAt: Timestamp(milliseconds: row["authorized_at"]),
            expiresAt: Timestamp(milliseconds: row["expires_at"]), revokedAt: revoked.map(Timestamp.init(milliseconds:)),
            leanEntityID: row["lean_entity_id"], okraRecordID: row["okra_record_id"], bridgeItemID: row["bridge_item_id"])
    }

    static func paymentSource(from row: Row) -> SandboxPaymentSource {
        let document: Data = row["document"]
        return SandboxPaymentSource(
            id: row["id"], applicationID: row["application_id"], customerID: row["customer_id"], beneficiaryID: row["beneficiary_id"],
            createdAt: Timestamp(milliseconds: row["created_at"]), beneficiaryActiveAt: Timestamp(milliseconds: row["beneficiary_active_at"]),
            document: Array(document))
    }

    static func payment(from row: Row) -> SandboxPayment {
        let document: Data = row["document"]
        return SandboxPayment(
            id: row["id"], applicationID: row["application_id"], paymentSourceID: row["payment_source_id"], amount: row["amount"],
            currency: row["currency"], reference: row["reference"], initialStatus: row["initial_status"], finalStatus: row["final_status"],
            createdAt: Timestamp(milliseconds: row["created_at"]), settlesAt: Timestamp(milliseconds: row["settles_at"]),
            document: Array(document))
    }

    static func scheduledEvent(from row: Row) -> ScheduledEvent {
        let data: Data = row["data"]
        return ScheduledEvent(
            id: row["id"], applicationID: row["application_id"], dueAt: Timestamp(milliseconds: row["due_at"]), type: row["type"],
            data: Array(data), webhookID: row["webhook_id"])
    }

    /// A JSON array of strings stored in `column`.
    private static func strings(_ row: Row, _ column: String) throws -> [String] {
        let text: String = row[column]
        do {
            return try JSONDecoder().decode([String].self, from: Data(text.utf8))
        } catch {
            throw StoreError(.invalidValue, "\(column) is not a JSON array of strings: \(text)")
        }
    }
}
