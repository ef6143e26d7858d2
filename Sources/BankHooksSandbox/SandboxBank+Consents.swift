import BankHooksCore
import BankHooksStorage

/// Every method here takes the caller's application and refuses a production one (`sandboxOnly`),
/// as the rest of the bank does: an application switched to production keeps its rows, but no
/// sandbox consent of it is exchanged, listed, read, revoked or used any more.
extension SandboxBank {
    // MARK: One-time tokens

    /// Exchanges a one-time token for its consent and consent token, burning it. Every failure
    /// (not a token this installation signed, unknown, expired, used, another application's, or
    /// its consent no longer authorised: revoked or expired) is
    /// the same `invalidOneTimeToken`, which says nothing about the consent.
    public func exchange(oneTimeToken: String, applicationID: String) async throws -> (consent: Consent, token: String) {
        try await requireSandbox(applicationID: applicationID)
        let refused = SandboxError(.invalidOneTimeToken, "the one-time token is unknown, expired or already used")
        guard await tokens.verify(oneTimeToken: oneTimeToken) != nil else { throw refused }
        let now = clock.now()
        guard let consent = try await store.redeemOneTimeToken(
            hash: ConsentTokens.hash(oneTimeToken: oneTimeToken), applicationID: applicationID, now: now)
        else { throw refused }
        // A consent no longer authorised (revoked, expired) is not handed out: the same refusal.
        let current = presented(consent, at: now)
        guard current.status == .authorized else { throw refused }
        return (current, try await tokens.consentToken(for: consent))
    }

    // MARK: Consents

    /// A consent of the application and its token; throws `notFound`.
    public func consent(id: String, applicationID: String) async throws -> (consent: Consent, token: String) {
        try await requireSandbox(applicationID: applicationID)
        guard let consent = try await store.consent(id: id, applicationID: applicationID) else {
            throw SandboxError(.notFound, "there is no consent `\(id)`")
        }
        return (presented(consent, at: clock.now()), try await tokens.consentToken(for: consent))
    }

    /// The application's consents, newest first, after the `before` id, filtered by the non-nil
    /// values. An authorised consent past its expiry reads `EXPIRED`, for the filter too.
    public func consents(
        applicationID: String, applicationUserID: String?, userUUID: String?, institutionID: String?, status: Consent.Status?,
        before: String?, limit: Int
    ) async throws -> Page<Consent> {
        try await requireSandbox(applicationID: applicationID)
        let now = clock.now()
        let page = try await store.consents(
            applicationID: applicationID, applicationUserID: applicationUserID, userUUID: userUUID?.lowercased(),
            institutionID: institutionID, status: status, now: now, before: before, limit: limit)
        return Page(items: page.items.map { presented($0, at: now) }, hasMore: page.hasMore)
    }

    /// Revokes a consent (REVOKED, and Lean `entity.updated` for its entity; its unused one-time
    /// tokens are burnt in the same transaction). A consent that is no
    /// longer authorised comes back unchanged, with nothing scheduled; throws `notFound`.
    public func revoke(consentID: String, applicationID: String) async throws -> Consent {
        try await requireSandbox(applicationID: applicationID)
        guard let consent = try await store.consent(id: consentID, applicationID: applicationID) else {
            throw SandboxError(.notFound, "there is no consent `\(consentID)`")
        }
        let now = clock.now()
        // An expired consent grants nothing any more: it is not revoked, and nothing is said of it.
        guard presented(consent, at: now).status == .authorized else { return presented(consent, at: now) }
        var revoked = consent
        revoked.status = .revoked
        revoked.revokedAt = now
        let institution = try await resolvedInstitution(id: consent.institutionID, applicationID: applicationID)
        let events = try emissions.revoked(revoked, institution: institution, now: now)
        guard let after = try await store.revokeConsent(id: consentID, applicationID: applicationID, at: now, events: events) else {
            throw SandboxError(.notFound, "there is no consent `\(consentID)`")
        }
        if !events.isEmpty { wake() }
        return after
    }

    /// The consent a consent token stands for, when the token is this installation's, names a
    /// consent of the application with the same institution and user, and that consent is
    /// authorised and unexpired; anything else throws `consentInvalid`.
    public func authorisedConsent(token: String, applicationID: String) async throws -> Consent {
        try await requireSandbox(applicationID: applicationID)
        let claims = try await tokens.verify(consentToken: token)
        guard let consent = try await store.consent(id: claims.consentID, applicationID: applicationID),
              consent.institutionID == claims.institutionID, consent.userUUID == claims.userUUID,
              consent.applicationUserID == claims.applicationUserID
        else { throw SandboxError(.consentInvalid, "the consent token is not valid") }
        guard consent.status == .authorized else {
            throw SandboxError(.consentInvalid, "the consent is \(consent.status.rawValue.lowercased())")
        }
        guard clock.now() < consent.expiresAt else { throw SandboxError(.consentInvalid, "the consent expired") }
        return consent
    }

    // MARK: Data

    /// The accounts a consent token may read (deterministic per login).
    public func accounts(token: String, applicationID: String) async throws -> [SandboxAccount] {
        let consent = try await authorisedConsent(token: token, applicationID: applicationID)
        return SandboxData.accounts(login: consent.login)
    }

    /// The transactions of one of the consent's accounts; throws `notFound` for an account it does not hold.
    public func transactions(token: String, accountID: String, applicationID: String) async throws -> [SandboxTransaction] {
        let consent = try await authorisedConsent(token: token, applicationID: applicationID)
        guard SandboxData.accounts(login: consent.login).contains(where: { $0.id == accountID }) else {
            throw SandboxError(.notFound, "the consent has no account `\(accountID)`")
        }
        return SandboxData.transactions(login: consent.login, accountID: accountID)
    }

    /// A consent's status as of `now`: an authorised one past its expiry reads `EXPIRED`.
    func presented(_ consent: Consent, at now: Timestamp) -> Consent {
        guard consent.status == .authorized, now >= consent.expiresAt else { return consent }
        var expired = consent
        expired.status = .expired
        return expired
    }
}
