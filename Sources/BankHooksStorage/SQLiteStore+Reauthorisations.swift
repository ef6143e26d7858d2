import BankHooksCore
import Foundation
import GRDB

/// Re-authorisation journeys (`SandboxStore`): an authorisation naming the consent it
/// re-authorises. The one writer makes each guarded write's read and write one step.
extension SQLiteStore {
    public func createReauthorisation(_ journey: Authorisation) async throws -> Authorisation? {
        guard let consentID = journey.reauthorisesConsentID else {
            throw StoreError(.invalidValue, "authorisation \(journey.id) re-authorises no consent")
        }
        let permissions = try Self.json(journey.permissions), forward = try Self.json(journey.forwardParameters)
        return try await pool.write { db in
            let now = journey.createdAt.milliseconds
            guard try Bool.fetchOne(db, sql: """
                SELECT 1 FROM consents WHERE id = ? AND application_id = ? AND status = 'AUTHORIZED' AND expires_at > ?
                """, arguments: [consentID, journey.applicationID, now]) != nil
            else { return nil }
            if let pending = try Row.fetchOne(db, sql: """
                SELECT * FROM authorisations WHERE application_id = ? AND reauthorises_consent_id = ?
                    AND status = 'AWAITING_AUTHORIZATION' AND expires_at > ?
                ORDER BY created_at DESC LIMIT 1
                """, arguments: [journey.applicationID, consentID, now])
            {
                return try Self.authorisation(from: pending)
            }
            try Self.referencingApplication(journey.applicationID, conflict: "authorisation \(journey.id) exists") {
                try db.execute(sql: """
                    INSERT INTO authorisations (id, application_id, institution_id, application_user_id, user_uuid, callback,
                        one_time_token, permissions, forward_parameters, state, status, created_at, expires_at, reauthorises_consent_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'AWAITING_AUTHORIZATION', ?, ?, ?)
                    """, arguments: [
                        journey.id, journey.applicationID, journey.institutionID, journey.applicationUserID, journey.userUUID, journey.callback,
                        journey.oneTimeToken, permissions, forward, journey.state, now, journey.expiresAt.milliseconds, consentID,
                    ])
            }
            return journey
        }
    }

    public func reauthorisations(consentIDs: [String], applicationID: String, now: Timestamp) async throws -> [String: ReauthorisationSummary] {
        guard !consentIDs.isEmpty else { return [:] }
        let ids = Self.jsonArray(Set(consentIDs))
        return try await pool.read { db in
            var summaries: [String: ReauthorisationSummary] = [:]
            let pending = try Row.fetchAll(db, sql: """
                SELECT * FROM authorisations WHERE application_id = ? AND reauthorises_consent_id IN (SELECT value FROM json_each(?))
                    AND status = 'AWAITING_AUTHORIZATION' AND expires_at > ?
                ORDER BY created_at
                """, arguments: [applicationID, ids, now.milliseconds])
            for row in pending {
                let journey = try Self.authorisation(from: row)
                if let consentID = journey.reauthorisesConsentID { summaries[consentID, default: .init()].pending = journey }
            }
            let confirmed = try Row.fetchAll(db, sql: """
                SELECT reauthorises_consent_id AS consent_id, max(completed_at) AS at FROM authorisations
                WHERE application_id = ? AND reauthorises_consent_id IN (SELECT value FROM json_each(?)) AND status = 'AUTHORIZED'
                GROUP BY reauthorises_consent_id
                """, arguments: [applicationID, ids])
            for row in confirmed {
                let at: Int64 = row["at"]
                summaries[row["consent_id"], default: .init()].lastReauthorisedAt = Timestamp(milliseconds: at)
            }
            return summaries
        }
    }
}
