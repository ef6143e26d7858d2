import BankHooksCore
import PostgresNIO

/// The sandbox bank (`SandboxStore`) on PostgreSQL, with SQLiteStore+Sandbox.swift's semantics.
/// Several nodes share the database at READ COMMITTED, so every read-then-write that SQLite's one
/// writer serialises takes its own guard here (each says which). Rows are in +SandboxRows.swift.
extension PostgresStore: SandboxStore {
    // MARK: Institutions

    public func institutionAvailability(applicationID: String) async throws -> [String: [UInt8]] {
        let rows = try await client.result(
            "SELECT institution_id, document FROM institution_availability WHERE application_id = \(applicationID)", logger: logger)
        var documents: [String: [UInt8]] = [:]
        for (institutionID, document) in try rows.decode((String, ByteBuffer).self) {
            documents[institutionID] = Array(document.readableBytesView)
        }
        return documents
    }

    /// `updated_at` is informational (the protocol carries no time): the server's clock, in milliseconds.
    /// It takes `updateInstitutionAvailability`'s lock, so a set never falls between an update's read
    /// and its write (which would overwrite the set with a document computed from the one before it).
    public func setInstitutionAvailability(applicationID: String, institutionID: String, document: [UInt8], events: [ScheduledEvent]) async throws {
        try await transaction { connection in
            guard try await Self.lockApplication(applicationID, connection, logger) else {
                throw StoreError(.notFound, "application \(applicationID) does not exist")
            }
            try await Self.lock(Self.availabilityLock(applicationID, institutionID), on: connection, logger: logger)
            try await Self.upsertAvailability(applicationID: applicationID, institutionID: institutionID, document: document, connection, logger)
            try await Self.insert(events, connection, logger)
        }
    }

    /// Guard: the application row (`lockApplication`), then a transaction-scoped advisory lock on
    /// (application, institution) before the read. A row lock (`FOR UPDATE`) cannot guard the first
    /// change, when there is no row yet, and it must be its own statement: at READ COMMITTED the
    /// read's snapshot is taken when its statement starts, so it sees the document the previous
    /// holder committed. So no change is lost, and the events follow what is stored.
    public func updateInstitutionAvailability(
        applicationID: String, institutionID: String,
        update: @escaping @Sendable (_ current: [UInt8]?) throws -> (document: [UInt8], events: [ScheduledEvent])?
    ) async throws -> (document: [UInt8]?, changed: Bool) {
        try await transaction { connection in
            guard try await Self.lockApplication(applicationID, connection, logger) else {
                throw StoreError(.notFound, "application \(applicationID) does not exist")
            }
            try await Self.lock(Self.availabilityLock(applicationID, institutionID), on: connection, logger: logger)
            let document = try await Self.firstRow(connection.result("""
                SELECT document FROM institution_availability WHERE application_id = \(applicationID) AND institution_id = \(institutionID)
                """, logger: logger), as: ByteBuffer.self).map { Array($0.readableBytesView) }
            guard let (updated, events) = try update(document) else { return (document, false) }
            try await Self.upsertAvailability(applicationID: applicationID, institutionID: institutionID, document: updated, connection, logger)
            try await Self.insert(events, connection, logger)
            return (updated, true)
        }
    }

    /// The advisory lock key of one institution's availability document for one application.
    static func availabilityLock(_ applicationID: String, _ institutionID: String) -> String {
        "institution_availability:\(applicationID)/\(institutionID)"
    }

    // MARK: Authorisations

    public func createAuthorisation(_ authorisation: Authorisation) async throws {
        let permissions = try Self.sandboxJSON(authorisation.permissions), forward = try Self.sandboxJSON(authorisation.forwardParameters)
        try await insert("""
            INSERT INTO authorisations (id, application_id, institution_id, application_user_id, user_uuid, callback,
                one_time_token, permissions, forward_parameters, state, status, created_at, expires_at, completed_at, redirect_url)
            VALUES (\(authorisation.id), \(authorisation.applicationID), \(authorisation.institutionID), \(authorisation.applicationUserID),
                \(authorisation.userUUID), \(authorisation.callback), \(authorisation.oneTimeToken), \(permissions), \(forward),
                \(authorisation.state), \(authorisation.status.rawValue), \(authorisation.createdAt.milliseconds),
                \(authorisation.expiresAt.milliseconds), \(authorisation.completedAt?.milliseconds), \(authorisation.redirectURL))
            """, referencing: authorisation.applicationID, conflict: "authorisation \(authorisation.id) exists", events: [])
    }

    public func authorisation(id: String) async throws -> Authorisation? {
        let rows = try await client.result(
            "SELECT \(unescaped: Self.authorisationColumns) FROM authorisations WHERE id = \(id)", logger: logger)
        return try await Self.firstRow(rows).map(Self.authorisation(from:))
    }

    /// One transaction: the guarded status change first, and only when it changed the row, the
    /// inserts. Guard: the `UPDATE … WHERE status = 'AWAITING_AUTHORIZATION' RETURNING`: of two
    /// concurrent completions the second waits for the first's row lock, re-checks the condition
    /// on the committed row and changes nothing. Past its expiry at `completedAt` it is no longer
    /// awaiting either. A re-authorisation succeeds only while its consent is authorised: the
    /// sub-select's `FOR SHARE` waits for a concurrent revoke and re-reads the row it committed,
    /// and a revoke that comes later waits for this transaction.
    public func completeAuthorisation(
        _ completion: Authorisation, consents: [Consent], oneTimeTokens: [OneTimeTokenRecord], events: [ScheduledEvent]
    ) async throws -> Bool {
        guard let completedAt = completion.completedAt else {
            throw StoreError(.invalidValue, "the completion of authorisation \(completion.id) has no completion time")
        }
        let consentRows = try consents.map { consent in (consent, try Self.sandboxJSON(consent.permissions)) }
        return try await transaction { connection in
            guard try await Self.lockApplication(completion.applicationID, connection, logger) else { return false }
            let changed = try await Self.firstRow(connection.result("""
                UPDATE authorisations SET status = \(completion.status.rawValue), completed_at = \(completedAt.milliseconds),
                    redirect_url = \(completion.redirectURL)
                WHERE id = \(completion.id) AND application_id = \(completion.applicationID) AND status = 'AWAITING_AUTHORIZATION'
                    AND expires_at > \(completedAt.milliseconds)
                    AND (reauthorises_consent_id IS NULL OR \(completion.status.rawValue) <> 'AUTHORIZED' OR EXISTS (
                        SELECT 1 FROM consents c WHERE c.id = authorisations.reauthorises_consent_id
                            AND c.application_id = authorisations.application_id AND c.status = 'AUTHORIZED'
                            AND c.expires_at > \(completedAt.milliseconds) FOR SHARE))
                RETURNING 1
                """, logger: logger))
            guard changed != nil else { return false }
            for (consent, permissions) in consentRows {
                try await Self.insert(consent, permissions: permissions, connection, logger)
            }
            for token in oneTimeTokens {
                try await Self.referencingApplication(
                    token.applicationID, conflict: "the one-time token exists", missing: "consent \(token.consentID) does not exist"
                ) {
                    try await connection.run("""
                        INSERT INTO one_time_tokens (token_hash, application_id, consent_id, expires_at, used_at)
                        VALUES (\(token.tokenHash), \(token.applicationID), \(token.consentID), \(token.expiresAt.milliseconds), NULL)
                        """, logger: logger)
                }
            }
            try await Self.insert(events, connection, logger)
            return true
        }
    }

    /// Two guarded `UPDATE`s in one transaction: the count (below the limit, returning the new
    /// count), else the lockout (at it). Guard: each `UPDATE`'s own condition on the row it locks;
    /// a concurrent wrong password waits and re-checks, so the count never passes the limit and
    /// the lockout happens once.
    public func recordWrongPassword(
        authorisationID: String, applicationID: String, at: Timestamp, limit: Int, events: [ScheduledEvent],
        lockout: Authorisation, lockoutEvents: [ScheduledEvent]
    ) async throws -> WrongPasswordOutcome {
        try await transaction { connection in
            guard try await Self.lockApplication(applicationID, connection, logger) else { return .notAwaiting }
            let counted = try await Self.firstRow(connection.result("""
                UPDATE authorisations SET wrong_passwords = wrong_passwords + 1
                WHERE id = \(authorisationID) AND application_id = \(applicationID) AND status = 'AWAITING_AUTHORIZATION'
                    AND expires_at > \(at.milliseconds) AND wrong_passwords < \(limit)
                RETURNING wrong_passwords
                """, logger: logger), as: Int.self)
            if let counted {
                try await Self.insert(events, connection, logger)
                return .counted(counted)
            }
            let lockedOut = try await Self.firstRow(connection.result("""
                UPDATE authorisations SET status = \(lockout.status.rawValue), completed_at = \((lockout.completedAt ?? at).milliseconds),
                    redirect_url = \(lockout.redirectURL), wrong_passwords = wrong_passwords + 1
                WHERE id = \(authorisationID) AND application_id = \(applicationID) AND status = 'AWAITING_AUTHORIZATION'
                    AND expires_at > \(at.milliseconds)
                RETURNING 1
                """, logger: logger))
            guard lockedOut != nil else { return .notAwaiting }
            try await Self.insert(lockoutEvents, connection, logger)
            return .lockedOut
        }
    }

    // MARK: Consents and one-time tokens

    public func consent(id: String, applicationID: String) async throws -> Consent? {
        let rows = try await client.result(
            "SELECT \(unescaped: Self.consentColumns) FROM consents WHERE id = \(id) AND application_id = \(applicationID)", logger: logger)
        return try await Self.firstRow(rows).map(Self.consent(from:))
    }

    /// Newest first by (created_at, seq), in one statement (one snapshot). A nil filter's
    /// `IS NULL` test folds away when the statement is planned with its values, so each list
    /// reads its index. After a cursor, a row comparison with the cursor's key (a subquery: a
    /// cursor that names no consent of the application compares as NULL, an empty page).
    ///
    /// No lock orders concurrent inserts: a consent's `created_at` is its caller's time, so a
    /// consent committed while a list is read may sort before its cursor on either backend (a
    /// newest-first list shows later consents on its first page).
    public func consents(
        applicationID: String, applicationUserID: String?, userUUID: String?, institutionID: String?, status: Consent.Status?,
        now: Timestamp, before: String?, limit: Int
    ) async throws -> Page<Consent> {
        let limit = max(limit, 0), status = status?.rawValue
        // Statuses as they read at `now`: an authorised consent past its expiry is expired.
        let rows = try await client.result("""
            SELECT \(unescaped: Self.consentColumns) FROM consents
            WHERE application_id = \(applicationID)
                AND (\(applicationUserID)::text IS NULL OR application_user_id = \(applicationUserID))
                AND (\(userUUID)::text IS NULL OR user_uuid = \(userUUID))
                AND (\(institutionID)::text IS NULL OR institution_id = \(institutionID))
                AND CASE \(status)::text
                    WHEN 'AUTHORIZED' THEN status = 'AUTHORIZED' AND expires_at > \(now.milliseconds)
                    WHEN 'EXPIRED' THEN status = 'EXPIRED' OR (status = 'AUTHORIZED' AND expires_at <= \(now.milliseconds))
                    WHEN 'REVOKED' THEN status = 'REVOKED'
                    ELSE TRUE END
                AND (\(before)::text IS NULL
                    OR (created_at, seq) < (SELECT created_at, seq FROM consents WHERE id = \(before) AND application_id = \(applicationID)))
            ORDER BY created_at DESC, seq DESC
            LIMIT \(limit + 1)
            """, logger: logger)
        var consents: [Consent] = []
        for row in rows {
            consents.append(try Self.consent(from: row))
        }
        return Page(rows: consents, limit: limit)
    }

    /// Guard: the `UPDATE … WHERE status = 'AUTHORIZED' RETURNING` (a concurrent revoke waits for
    /// its row lock and then changes nothing, so the events are written once). Revoking burns the
    /// consent's unused one-time tokens in the same transaction.
    public func revokeConsent(id: String, applicationID: String, at: Timestamp, events: [ScheduledEvent]) async throws -> Consent? {
        try await transaction { connection in
            guard try await Self.lockApplication(applicationID, connection, logger) else { return nil }
            let revoked = try await Self.firstRow(connection.result("""
                UPDATE consents SET status = 'REVOKED', revoked_at = \(at.milliseconds)
                WHERE id = \(id) AND application_id = \(applicationID) AND status = 'AUTHORIZED'
                RETURNING \(unescaped: Self.consentColumns)
                """, logger: logger)).map(Self.consent(from:))
            guard let revoked else {
                let rows = try await connection.result(
                    "SELECT \(unescaped: Self.consentColumns) FROM consents WHERE id = \(id) AND application_id = \(applicationID)",
                    logger: logger)
                return try await Self.firstRow(rows).map(Self.consent(from:))
            }
            try await Self.insert(events, connection, logger)
            // A revoked consent's unused one-time tokens can no longer be exchanged.
            try await connection.run("""
                UPDATE one_time_tokens SET used_at = \(at.milliseconds)
                WHERE consent_id = \(id) AND application_id = \(applicationID) AND used_at IS NULL
                """, logger: logger)
            return revoked
        }
    }

    /// One statement, so no transaction: the guarded `UPDATE … WHERE used_at IS NULL` is the burn
    /// (of two concurrent redeems, on one node or several, the second waits for the first's row
    /// lock, re-checks `used_at` and burns nothing), and its consent is read in the same statement.
    public func redeemOneTimeToken(hash: String, applicationID: String, now: Timestamp) async throws -> Consent? {
        let rows = try await client.result("""
            WITH burned AS (
                UPDATE one_time_tokens SET used_at = \(now.milliseconds)
                WHERE token_hash = \(hash) AND application_id = \(applicationID) AND used_at IS NULL AND expires_at > \(now.milliseconds)
                RETURNING consent_id
            )
            SELECT \(unescaped: Self.consentColumns) FROM consents
            WHERE id = (SELECT consent_id FROM burned) AND application_id = \(applicationID)
            """, logger: logger)
        return try await Self.firstRow(rows).map(Self.consent(from:))
    }

    // MARK: Payments

    public func createPaymentSource(_ source: SandboxPaymentSource, events: [ScheduledEvent]) async throws {
        try await insert("""
            INSERT INTO sandbox_payment_sources (id, application_id, customer_id, beneficiary_id, created_at, beneficiary_active_at, document)
            VALUES (\(source.id), \(source.applicationID), \(source.customerID), \(source.beneficiaryID), \(source.createdAt.milliseconds),
                \(source.beneficiaryActiveAt.milliseconds), \(ByteBuffer(bytes: source.document)))
            """, referencing: source.applicationID, conflict: "payment source \(source.id) exists", events: events)
    }

    public func paymentSource(id: String, applicationID: String) async throws -> SandboxPaymentSource? {
        let rows = try await client.result("""
            SELECT \(unescaped: Self.paymentSourceColumns) FROM sandbox_payment_sources WHERE id = \(id) AND application_id = \(applicationID)
            """, logger: logger)
        return try await Self.firstRow(rows).map(Self.paymentSource(from:))
    }

    /// A payment source it names must be one of the application's (`notFound` otherwise).
    public func createPayment(_ payment: SandboxPayment, events: [ScheduledEvent]) async throws {
        try await insert("""
            INSERT INTO sandbox_payments (id, application_id, payment_source_id, amount, currency, reference, initial_status,
                final_status, created_at, settles_at, document)
            VALUES (\(payment.id), \(payment.applicationID), \(payment.paymentSourceID), \(payment.amount), \(payment.currency),
                \(payment.reference), \(payment.initialStatus), \(payment.finalStatus), \(payment.createdAt.milliseconds),
                \(payment.settlesAt.milliseconds), \(ByteBuffer(bytes: payment.document)))
            """, referencing: payment.applicationID, conflict: "payment \(payment.id) exists",
            missing: payment.paymentSourceID.map { "payment source \($0) does not exist" }, events: events)
    }

    public func payment(id: String, applicationID: String) async throws -> SandboxPayment? {
        let rows = try await client.result("""
            SELECT \(unescaped: Self.paymentColumns) FROM sandbox_payments WHERE id = \(id) AND application_id = \(applicationID)
            """, logger: logger)
        return try await Self.firstRow(rows).map(Self.payment(from:))
    }

    // MARK: Scheduled events

    public func scheduleEvents(_ events: [ScheduledEvent]) async throws {
        guard !events.isEmpty else { return }
        try await transaction { connection in try await Self.insert(events, connection, logger) }
    }

    /// A plain read, no claim: every node runs a sandbox event runner, and two that read the same
    /// due event both publish it, but the publish's idempotency key (`sandbox:<id>`) makes the
    /// second a replay, and deleting an already deleted event is a no-op. So nothing is published
    /// twice and nothing needs a lock.
    public func dueScheduledEvents(now: Timestamp, limit: Int) async throws -> [ScheduledEvent] {
        let rows = try await client.result("""
            SELECT \(unescaped: Self.scheduledEventColumns) FROM scheduled_events
            WHERE due_at <= \(now.milliseconds) ORDER BY due_at, id LIMIT \(max(limit, 0))
            """, logger: logger)
        var events: [ScheduledEvent] = []
        for row in rows {
            events.append(try Self.scheduledEvent(from: row))
        }
        return events
    }

    public func nextScheduledEventDue() async throws -> Timestamp? {
        let rows = try await client.result("SELECT MIN(due_at) FROM scheduled_events", logger: logger)
        return try await Self.firstRow(rows, as: Int64?.self).flatMap { $0 }.map(Timestamp.init(milliseconds:))
    }

    public func deleteScheduledEvents(ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await client.result("DELETE FROM scheduled_events WHERE id = ANY(\(ids))", logger: logger)
    }
}
