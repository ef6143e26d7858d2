import BankHooksCore
import PostgresNIO

/// Re-authorisation journeys on PostgreSQL, with SQLiteStore+Reauthorisations.swift's semantics.
extension PostgresStore {
    /// Guard: the consent's row, `FOR UPDATE`, before the reads: two concurrent calls for one
    /// consent take turns (the second sees the first's journey), and a revoke (an `UPDATE` of that
    /// row) either commits first, so the status read here is REVOKED, or waits for this transaction.
    public func createReauthorisation(_ journey: Authorisation) async throws -> Authorisation? {
        guard let consentID = journey.reauthorisesConsentID else {
            throw StoreError(.invalidValue, "authorisation \(journey.id) re-authorises no consent")
        }
        let permissions = try Self.sandboxJSON(journey.permissions), forward = try Self.sandboxJSON(journey.forwardParameters)
        let now = journey.createdAt.milliseconds
        return try await transaction { connection in
            guard try await Self.lockApplication(journey.applicationID, connection, logger) else { return nil }
            guard try await Self.firstRow(connection.result("""
                SELECT 1 FROM consents WHERE id = \(consentID) AND application_id = \(journey.applicationID)
                    AND status = 'AUTHORIZED' AND expires_at > \(now)
                FOR UPDATE
                """, logger: logger)) != nil
            else { return nil }
            if let pending = try await Self.firstRow(connection.result("""
                SELECT \(unescaped: Self.authorisationColumns) FROM authorisations
                WHERE application_id = \(journey.applicationID) AND reauthorises_consent_id = \(consentID)
                    AND status = 'AWAITING_AUTHORIZATION' AND expires_at > \(now)
                ORDER BY created_at DESC LIMIT 1
                """, logger: logger))
            {
                return try Self.authorisation(from: pending)
            }
            try await connection.run("""
                INSERT INTO authorisations (id, application_id, institution_id, application_user_id, user_uuid, callback,
                    one_time_token, permissions, forward_parameters, state, status, created_at, expires_at, reauthorises_consent_id)
                VALUES (\(journey.id), \(journey.applicationID), \(journey.institutionID), \(journey.applicationUserID), \(journey.userUUID),
                    \(journey.callback), \(journey.oneTimeToken), \(permissions), \(forward), \(journey.state), 'AWAITING_AUTHORIZATION',
                    \(now), \(journey.expiresAt.milliseconds), \(consentID))
                """, logger: logger)
            return journey
        }
    }

    public func reauthorisations(consentIDs: [String], applicationID: String, now: Timestamp) async throws -> [String: ReauthorisationSummary] {
        guard !consentIDs.isEmpty else { return [:] }
        var summaries: [String: ReauthorisationSummary] = [:]
        let pending = try await client.result("""
            SELECT \(unescaped: Self.authorisationColumns) FROM authorisations
            WHERE application_id = \(applicationID) AND reauthorises_consent_id = ANY(\(consentIDs))
                AND status = 'AWAITING_AUTHORIZATION' AND expires_at > \(now.milliseconds)
            ORDER BY created_at
            """, logger: logger)
        for row in pending {
            let journey = try Self.authorisation(from: row)
            if let consentID = journey.reauthorisesConsentID { summaries[consentID, default: .init()].pending = journey }
        }
        let confirmed = try await client.result("""
            SELECT reauthorises_consent_id, max(completed_at) FROM authorisations
            WHERE application_id = \(applicationID) AND reauthorises_consent_id = ANY(\(consentIDs)) AND status = 'AUTHORIZED'
            GROUP BY reauthorises_consent_id
            """, logger: logger)
        for (consentID, at) in try confirmed.decode((String, Int64).self) {
            summaries[consentID, default: .init()].lastReauthorisedAt = Timestamp(milliseconds: at)
        }
        return summaries
    }
}
