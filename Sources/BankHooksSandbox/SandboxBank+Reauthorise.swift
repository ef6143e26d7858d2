import BankHooksCore
import BankHooksStorage

/// Re-authorisation: a new journey at the bank for a consent that exists (Yapily's
/// `PATCH /account-auth-requests`). The journey is an authorisation with the consent's
/// institution and user and the first request's callback, one-time-token choice, forwarded
/// parameters and state; it names the consent (`reauthorisesConsentID`). Approving it makes no
/// consent: the consent keeps its id, token, login and expiry (the token is a function of them)
/// and the redirect carries that token (or a new one-time token for it) as a first
/// authorisation's does. A failure (a row of the error table, Deny, or the journey's expiry)
/// changes nothing on the consent; its redirect is a first authorisation's failure.
extension SandboxBank {
    /// The consent's re-authorisation journey: a new one, or the one still awaiting the user.
    /// Throws `notFound` (no such consent of the application), `consentInvalid` (revoked or
    /// expired, also when that happens concurrently), `institutionUnavailable` (its data is down),
    /// `invalidField` without a pointer (its callback is no longer registered), `sandboxOnly`.
    public func reauthorise(consentID: String, applicationID: String) async throws -> Authorisation {
        try await requireSandbox(applicationID: applicationID)
        guard let consent = try await store.consent(id: consentID, applicationID: applicationID),
              let first = try await store.authorisation(id: consent.authorisationID)
        else { throw SandboxError(.notFound, "there is no consent `\(consentID)`") }
        let now = clock.now()
        let current = presented(consent, at: now)
        guard current.status == .authorized else {
            throw SandboxError(.consentInvalid, "the consent is \(current.status.rawValue.lowercased()); only an authorised consent is re-authorised")
        }
        try await requireStillRegistered(first)
        let institution = try await resolvedInstitution(id: consent.institutionID, applicationID: applicationID)
        guard institution.isDataAvailable else {
            throw SandboxError(
                .institutionUnavailable, "\(institution.bankDetails.name) is not available for data right now (its availability is not active and enabled)")
        }
        let journey = Authorisation(
            id: Self.newUUID(), applicationID: applicationID, institutionID: consent.institutionID, applicationUserID: consent.applicationUserID,
            userUUID: consent.userUUID, callback: first.callback, oneTimeToken: first.oneTimeToken, permissions: consent.permissions,
            forwardParameters: first.forwardParameters, state: first.state, createdAt: now, expiresAt: now.adding(timings.authorisationLifetime),
            reauthorisesConsentID: consent.id)
        guard let stored = try await store.createReauthorisation(journey) else {
            throw SandboxError(.consentInvalid, "the consent is no longer authorised")
        }
        return stored
    }

    /// What re-authorisation says of each consent that has any (a journey awaiting the user, the last success).
    public func reauthorisations(consentIDs: [String], applicationID: String) async throws -> [String: ReauthorisationSummary] {
        try await store.reauthorisations(consentIDs: consentIDs, applicationID: applicationID, now: clock.now())
    }

    /// Commits an approved re-authorisation: the journey AUTHORIZED, the redirect with the
    /// consent's own token (or a new one-time token for it), nothing published. A consent revoked
    /// or expired meanwhile fails the journey instead (`consent_required`, the institution's row).
    func succeedReauthorisation(
        _ journey: Authorisation, consentID: String, delay: Duration?, institution: SandboxInstitution, now: Timestamp
    ) async throws -> Completion {
        guard let consent = try await store.consent(id: consentID, applicationID: journey.applicationID),
              presented(consent, at: now).status == .authorized
        else { return try await fail(journey, with: Self.consentGone, institution: institution, now: now) }
        var records: [OneTimeTokenRecord] = []
        let text: String
        if journey.oneTimeToken {
            let expiresAt = now.adding(timings.oneTimeTokenLifetime)
            text = try await tokens.oneTimeToken(for: consent, expiresAt: expiresAt)
            records.append(OneTimeTokenRecord(
                tokenHash: ConsentTokens.hash(oneTimeToken: text), applicationID: consent.applicationID, consentID: consent.id, expiresAt: expiresAt))
        } else {
            text = try await tokens.consentToken(for: consent)
        }
        let redirectURL = RedirectURL.success(
            callback: journey.callback, tokens: [text], oneTimeToken: journey.oneTimeToken, applicationUserID: journey.applicationUserID,
            userUUID: journey.userUUID, institutionID: journey.institutionID, forwardParameters: journey.forwardParameters)
        let completed = Self.completed(journey, status: .authorized, at: now, redirectURL: redirectURL)
        guard try await store.completeAuthorisation(completed, consents: [], oneTimeTokens: records, events: []) else {
            // Still awaiting: the store refused because the consent was revoked concurrently.
            if let after = try await store.authorisation(id: journey.id), after.status == .awaitingAuthorization, now < after.expiresAt {
                return try await fail(journey, with: Self.consentGone, institution: institution, now: now)
            }
            throw SandboxError(.authorisationCompleted, "the authorisation was completed already")
        }
        return Completion(authorisation: completed, redirectURL: redirectURL, delay: delay, consents: [consent])
    }

    /// The row a re-authorisation fails with when its consent is gone: the institution has no consent to renew.
    static let consentGone = BankError(source: .institution, error: "invalid_grant", bankError: "consent_required")
}
