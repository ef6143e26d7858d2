import BankHooksCore
import Foundation
import GRDB

/// The sandbox bank (`SandboxStore`): institution availability, authorisations and their one
/// completion, consents, one-time tokens, payments, and the scheduled events each change commits
/// in its own transaction. Rows are decoded in SQLiteStore+SandboxRows.swift.
extension SQLiteStore {
    // MARK: Institutions

    public func institutionAvailability(applicationID: String) async throws -> [String: [UInt8]] {
        try await pool.read { db in
            var documents: [String: [UInt8]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT institution_id, document FROM institution_availability WHERE application_id = ?",
                                        arguments: [applicationID]) {
                let document: Data = row["document"]
                documents[row["institution_id"]] = Array(document)
            }
            return documents
        }
    }

    /// `updated_at` is informational (the protocol carries no time): SQLite's clock, in milliseconds.
    public func setInstitutionAvailability(applicationID: String, institutionID: String, document: [UInt8], events: [ScheduledEvent]) async throws {
        try await pool.write { db in
            try Self.referencingApplication(applicationID) {
                try db.execute(sql: """
                    INSERT INTO institution_availability (application_id, institution_id, document, updated_at)
                    VALUES (?, ?, ?, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
                    ON CONFLICT (application_id, institution_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at
                    """, arguments: [applicationID, institutionID, Data(document)])
            }
            try Self.insert(events, db)
        }
    }

    /// The read, `update` and the write in one `pool.write`: a concurrent change waits for this
    /// one and then sees its document (no change is lost, and the events follow what is stored).
    public func updateInstitutionAvailability(
        applicationID: String, institutionID: String,
        update: @escaping @Sendable (_ current: [UInt8]?) throws -> (document: [UInt8], events: [ScheduledEvent])?
    ) async throws -> (document: [UInt8]?, changed: Bool) {
        try await pool.write { db in
            let current = try Data.fetchOne(
                db, sql: "SELECT document FROM institution_availability WHERE application_id = ? AND institution_id = ?",
                arguments: [applicationID, institutionID]).map(Array.init)
            if current == nil, try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM applications WHERE id = ?)", arguments: [applicationID]) != true {
                throw StoreError(.notFound, "application \(applicationID) does not exist")
            }
            guard let (document, events) = try update(current) else { return (current, false) }
            try db.execute(sql: """
                INSERT INTO institution_availability (application_id, institution_id, document, updated_at)
                VALUES (?, ?, ?, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
                ON CONFLICT (application_id, institution_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at
                """, arguments: [applicationID, institutionID, Data(document)])
            try Self.insert(events, db)
            return (document, true)
        }
    }

    // MARK: Authorisations

    public func createAuthorisation(_ authorisation: Authorisation) async throws {
        let permissions = try Self.json(authorisation.permissions), forward = try Self.json(authorisation.forwardParameters)
        try await pool.write { db in
            try Self.referencingApplication(authorisation.applicationID, conflict: "authorisation \(authorisation.id) exists") {
                try db.execute(sql: """
                    INSERT INTO authorisations (id, application_id, institution_id, application_user_id, user_uuid, callback,
                        one_time_token, permissions, forward_parameters, state, status, created_at, expires_at, completed_at, redirect_url)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [
                        authorisation.id, authorisation.applicationID, authorisation.institutionID, authorisation.applicationUserID,
                        authorisation.userUUID, authorisation.callback, authorisation.oneTimeToken, permissions, forward, authorisation.state,
                        authorisation.status.rawValue, authorisation.createdAt.milliseconds, authorisation.expiresAt.milliseconds,
                        authorisation.completedAt?.milliseconds, authorisation.redirectURL,
                    ])
            }
        }
    }

    public func authorisation(id: String) async throws -> Authorisation? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM authorisations WHERE id = ?", arguments: [id]).map(Self.authorisation(from:))
        }
    }

    /// One transaction: the guarded status change first, and only when it changed the row, the inserts.
    /// An authorisation past its expiry at `completedAt` is no longer awaiting either; a
    /// re-authorisation succeeds only while its consent is authorised (the one writer orders it
    /// with a revoke).
    public func completeAuthorisation(
        _ completion: Authorisation, consents: [Consent], oneTimeTokens: [OneTimeTokenRecord], events: [ScheduledEvent]
    ) async throws -> Bool {
        guard let completedAt = completion.completedAt else {
            throw StoreError(.invalidValue, "the completion of authorisation \(completion.id) has no completion time")
        }
        let consentRows = try consents.map { consent in (consent, try Self.json(consent.permissions)) }
        return try await pool.write { db in
            try db.execute(sql: """
                UPDATE authorisations SET status = ?, completed_at = ?, redirect_url = ?
                WHERE id = ? AND application_id = ? AND status = 'AWAITING_AUTHORIZATION' AND expires_at > ?
                    AND (reauthorises_consent_id IS NULL OR ? <> 'AUTHORIZED' OR EXISTS (
                        SELECT 1 FROM consents c WHERE c.id = authorisations.reauthorises_consent_id
                            AND c.application_id = authorisations.application_id AND c.status = 'AUTHORIZED' AND c.expires_at > ?))
                """, arguments: [
                    completion.status.rawValue, completedAt.milliseconds, completion.redirectURL, completion.id, completion.applicationID,
                    completedAt.milliseconds, completion.status.rawValue, completedAt.milliseconds,
                ])
            guard db.changesCount == 1 else { return false }
            for (consent, permissions) in consentRows {
                try Self.insert(consent, permissions: permissions, db)
            }
            for token in oneTimeTokens {
                try Self.referencingApplication(
                    token.applicationID, conflict: "the one-time token exists", missing: "consent \(token.consentID) does not exist"
                ) {
                    try db.execute(sql: """
                        INSERT INTO one_time_tokens (token_hash, application_id, consent_id, expires_at, used_at) VALUES (?, ?, ?, ?, NULL)
                        """, arguments: [token.tokenHash, token.applicationID, token.consentID, token.expiresAt.milliseconds])
                }
            }
            try Self.insert(events, db)
            return true
        }
    }

    /// Two guarded `UPDATE`s in one write: the count (below the limit), else the lockout (at it).
    public func recordWrongPassword(
        authorisationID: String, applicationID: String, at: Timestamp, limit: Int, events: [ScheduledEvent],
        lockout: Authorisation, lockoutEvents: [ScheduledEvent]
    ) async throws -> WrongPasswordOutcome {
        try await pool.write { db in
            let awaiting = "id = ? AND application_id = ? AND status = 'AWAITING_AUTHORIZATION' AND expires_at > ?"
            try db.execute(
                sql: "UPDATE authorisations SET wrong_passwords = wrong_passwords + 1 WHERE \(awaiting) AND wrong_passwords < ?",
                arguments: [authorisationID, applicationID, at.milliseconds, limit])
            if db.changesCount == 1 {
                let count = try Int.fetchOne(db, sql: "SELECT wrong_passwords FROM authorisations WHERE id = ?", arguments: [authorisationID]) ?? limit
                try Self.insert(events, db)
                return .counted(count)
            }
            try db.execute(
                sql: "UPDATE authorisations SET status = ?, completed_at = ?, redirect_url = ?, wrong_passwords = wrong_passwords + 1 WHERE \(awaiting)",
                arguments: [
                    lockout.status.rawValue, (lockout.completedAt ?? at).milliseconds, lockout.redirectURL, authorisationID, applicationID,
                    at.milliseconds,
                ])
            guard db.changesCount == 1 else { return .notAwaiting }
            try Self.insert(lockoutEvents, db)
            return .lockedOut
        }
    }

    // MARK: Consents and one-time tokens

    public func consent(id: String, applicationID: String) async throws -> Consent? {
        try await pool.read { db in try Self.consent(id: id, applicationID: applicationID, db) }
    }

    /// Newest first by (created_at, seq). After a cursor, two index range reads (the rest of the
    /// cursor's millisecond, then the older ones), as the event log does. A cursor that names no
    /// consent of the application gives an empty page.
    public func consents(
        applicationID: String, applicationUserID: String?, userUUID: String?, institutionID: String?, status: Consent.Status?,
        now: Timestamp, before: String?, limit: Int
    ) async throws -> Page<Consent> {
        var conditions = ["application_id = ?"]
        var arguments: StatementArguments = [applicationID]
        for (column, value) in [("application_user_id", applicationUserID), ("user_uuid", userUUID), ("institution_id", institutionID)] {
            guard let value else { continue }
            conditions.append("\(column) = ?")
            _ = arguments.append(contentsOf: [value])
        }
        // Statuses as they read at `now`: an authorised consent past its expiry is expired.
        switch status {
        case .authorized?:
            conditions.append("status = 'AUTHORIZED' AND expires_at > ?")
            _ = arguments.append(contentsOf: [now.milliseconds])
        case .expired?:
            conditions.append("(status = 'EXPIRED' OR (status = 'AUTHORIZED' AND expires_at <= ?))")
            _ = arguments.append(contentsOf: [now.milliseconds])
        case .revoked?:
            conditions.append("status = 'REVOKED'")
        case nil:
            break
        }
        let filter = conditions.joined(separator: " AND "), filterArguments = arguments, limit = max(limit, 0)
        @Sendable func sql(_ extra: String) -> String {
            "SELECT * FROM consents WHERE \(filter)\(extra) ORDER BY created_at DESC, seq DESC LIMIT ?"
        }
        return try await pool.read { db in
            let arguments = filterArguments
            let queries: [(String, StatementArguments)]
            if let before {
                guard let cursor = try Row.fetchOne(db, sql: "SELECT created_at, seq FROM consents WHERE id = ? AND application_id = ?",
                                                    arguments: [before, applicationID])
                else { return Page(items: [], hasMore: false) }
                let createdAt: Int64 = cursor["created_at"], seq: Int64 = cursor["seq"]
                queries = [
                    (sql(" AND created_at = ? AND seq < ?"), arguments + [createdAt, seq]),
                    (sql(" AND created_at < ?"), arguments + [createdAt]),
                ]
            } else {
                queries = [(sql(""), arguments)]
            }
            var rows: [Consent] = []
            for (text, bound) in queries where rows.count <= limit {
                rows += try Row.fetchAll(db, sql: text, arguments: bound + [limit + 1 - rows.count]).map(Self.consent(from:))
            }
            return Page(rows: rows, limit: limit)
        }
    }

    public func revokeConsent(id: String, applicationID: String, at: Timestamp, events: [ScheduledEvent]) async throws -> Consent? {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE consents SET status = 'REVOKED', revoked_at = ? WHERE id = ? AND application_id = ? AND status = 'AUTHORIZED'
                """, arguments: [at.milliseconds, id, applicationID])
            if db.changesCount == 1 {
                try Self.insert(events, db)
                // A revoked consent's unused one-time tokens can no longer be exchanged.
                try db.execute(sql: "UPDATE one_time_tokens SET used_at = ? WHERE consent_id = ? AND application_id = ? AND used_at IS NULL",
                               arguments: [at.milliseconds, id, applicationID])
            }
            return try Self.consent(id: id, applicationID: applicationID, db)
        }
    }

    /// The guarded `UPDATE` is the burn: of two concurrent redeems only one changes the row.
    public func redeemOneTimeToken(hash: String, applicationID: String, now: Timestamp) async throws -> Consent? {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE one_time_tokens SET used_at = ? WHERE token_hash = ? AND application_id = ? AND used_at IS NULL AND expires_at > ?
                """, arguments: [now.milliseconds, hash, applicationID, now.milliseconds])
            guard db.changesCount == 1,
                  let consentID = try String.fetchOne(db, sql: "SELECT consent_id FROM one_time_tokens WHERE token_hash = ?", arguments: [hash])
            else { return nil }
            return try Self.consent(id: consentID, applicationID: applicationID, db)
        }
    }

    // MARK: Payments

    public func createPaymentSource(_ source: SandboxPaymentSource, events: [ScheduledEvent]) async throws {
        try await pool.write { db in
            try Self.referencingApplication(source.applicationID, conflict: "payment source \(source.id) exists") {
                try db.execute(sql: """
                    INSERT INTO sandbox_payment_sources (id, application_id, customer_id, beneficiary_id, created_at, beneficiary_active_at, document)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [
                        source.id, source.applicationID, source.customerID, source.beneficiaryID, source.createdAt.milliseconds,
                        source.beneficiaryActiveAt.milliseconds, Data(source.document),
                    ])
            }
            try Self.insert(events, db)
        }
    }

    public func paymentSource(id: String, applicationID: String) async throws -> SandboxPaymentSource? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sandbox_payment_sources WHERE id = ? AND application_id = ?", arguments: [id, applicationID])
                .map(Self.paymentSource(from:))
        }
    }

    /// A payment source it names must be one of the application's (`notFound` otherwise).
    public func createPayment(_ payment: SandboxPayment, events: [ScheduledEvent]) async throws {
        try await pool.write { db in
            try Self.referencingApplication(
                payment.applicationID, conflict: "payment \(payment.id) exists",
                missing: payment.paymentSourceID.map { "payment source \($0) does not exist" }
            ) {
                try db.execute(sql: """
                    INSERT INTO sandbox_payments (id, application_id, payment_source_id, amount, currency, reference, initial_status,
                        final_status, created_at, settles_at, document)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [
                        payment.id, payment.applicationID, payment.paymentSourceID, payment.amount, payment.currency, payment.reference,
                        payment.initialStatus, payment.finalStatus, payment.createdAt.milliseconds, payment.settlesAt.milliseconds,
                        Data(payment.document),
                    ])
            }
            try Self.insert(events, db)
        }
    }

    public func payment(id: String, applicationID: String) async throws -> SandboxPayment? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sandbox_payments WHERE id = ? AND application_id = ?", arguments: [id, applicationID])
                .map(Self.payment(from:))
        }
    }

    // MARK: Scheduled events

    public func scheduleEvents(_ events: [ScheduledEvent]) async throws {
        guard !events.isEmpty else { return }
        try await pool.write { db in try Self.insert(events, db) }
    }

    public func dueScheduledEvents(now: Timestamp, limit: Int) async throws -> [ScheduledEvent] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM scheduled_events WHERE due_at <= ? ORDER BY due_at, id LIMIT ?",
                             arguments: [now.milliseconds, max(limit, 0)]).map(Self.scheduledEvent(from:))
        }
    }

    public func nextScheduledEventDue() async throws -> Timestamp? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT MIN(due_at) FROM scheduled_events").map(Timestamp.init(milliseconds:))
        }
    }

    public func deleteScheduledEvents(ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM scheduled_events WHERE id IN (SELECT value FROM json_each(?))", arguments: [Self.jsonArray(Set(ids))])
        }
    }
}
