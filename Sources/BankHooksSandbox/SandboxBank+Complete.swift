import BankHooksCore

/// What the user pressed on the consent page (or the headless completion says).
public enum Decision: String, Sendable, Hashable, CaseIterable {
    case approve
    case deny
}

/// A completed authorisation: where the browser goes now, and how long to wait before sending it
/// there (the `slow` login; the consent is committed before the wait).
public struct Completion: Sendable, Hashable {
    /// The authorisation as completed (AUTHORIZED, REJECTED or FAILED, with its redirect URL).
    public var authorisation: Authorisation
    /// The 302's `Location`: exactly what the headless completion returns.
    public var redirectURL: String
    /// How long to hold the answer (nil: answer now).
    public var delay: Duration?
    /// The consents it made (empty for a failure).
    public var consents: [Consent]

    public init(authorisation: Authorisation, redirectURL: String, delay: Duration?, consents: [Consent]) {
        self.authorisation = authorisation
        self.redirectURL = redirectURL
        self.delay = delay
        self.consents = consents
    }
}

extension SandboxBank {
    /// Completes an awaiting authorisation with a login: the consent page (`applicationID` nil,
    /// checked by `state`) or the headless completion (the caller's application, `state` nil).
    /// One transaction commits the outcome, its consents, one-time tokens and scheduled events;
    /// nothing is published on this path.
    ///
    /// Throws `notFound` (unknown, or another application's), `stateMismatch`,
    /// `authorisationCompleted`, `authorisationExpired`, `sandboxOnly` (the application became a
    /// production one), `invalidField` without a pointer (its callback is no longer registered),
    /// `invalidField` at `/login` (empty on
    /// approve), and `wrongPassword` after scheduling Lean's 401 Callback URL body (the
    /// authorisation stays open for another try, up to `MagicLogin.maxWrongPasswords`; the one
    /// after fails it: see `wrongPassword(_:institution:now:)`).
    public func complete(
        authorisationID: String, applicationID: String?, state: String?, login: String, password: String?, decision: Decision
    ) async throws -> Completion {
        guard let authorisation = try await store.authorisation(id: authorisationID) else {
            throw SandboxError(.notFound, "there is no authorisation `\(authorisationID)`")
        }
        if let applicationID, authorisation.applicationID != applicationID {
            throw SandboxError(.notFound, "there is no authorisation `\(authorisationID)`")
        }
        if applicationID == nil || state != nil {
            guard let state, Self.constantTimeEquals(state, authorisation.state) else {
                throw SandboxError(.stateMismatch, "the state does not belong to this authorisation")
            }
        }
        guard authorisation.status == .awaitingAuthorization else {
            throw SandboxError(.authorisationCompleted, "the authorisation was completed already (\(authorisation.status.rawValue))")
        }
        let now = clock.now()
        guard now < authorisation.expiresAt else {
            throw SandboxError(.authorisationExpired, "the authorisation expired at \(authorisation.expiresAt.iso8601)")
        }
        try await requireStillRegistered(authorisation)
        let institution = try await resolvedInstitution(id: authorisation.institutionID, applicationID: authorisation.applicationID)

        switch decision {
        case .deny:
            return try await fail(authorisation, with: .accessDenied, institution: institution, now: now)
        case .approve:
            guard !MagicLogin.normalise(login).isEmpty else {
                throw SandboxError(.invalidField, at: "/login", "login must not be empty (any login works; see the magic logins)")
            }
            switch MagicLogin(login: login, password: password) {
            case .wrongPassword:
                return try await wrongPassword(authorisation, institution: institution, now: now)
            case .failure(let row):
                return try await fail(authorisation, with: row, institution: institution, now: now)
            case let outcome:
                // The institution went offline for data after the request was made: the bank says so.
                guard institution.isDataAvailable else {
                    return try await fail(authorisation, with: .temporarilyUnavailable, institution: institution, now: now)
                }
                let delay = outcome == .slow ? timings.slowLogin : nil
                if let consentID = authorisation.reauthorisesConsentID {
                    return try await succeedReauthorisation(authorisation, consentID: consentID, delay: delay, institution: institution, now: now)
                }
                let normalised = MagicLogin.normalise(login)
                return try await succeed(
                    authorisation, login: normalised, count: outcome.consentCount, delay: delay, institution: institution, now: now)
            }
        }
    }

    /// The application may have changed since the request was made (both paths, page and
    /// headless, check it now): it must still be a sandbox application (`sandboxOnly`: a production
    /// application gets no sandbox link nor its events), and the authorisation's callback must still
    /// be one of its redirect callbacks (`invalidField`, no pointer: the redirect is never sent to a
    /// callback the application no longer registers). Either leaves the authorisation awaiting.
    func requireStillRegistered(_ authorisation: Authorisation) async throws {
        guard let application = try await store.application(id: authorisation.applicationID) else {
            throw SandboxError(.notFound, "there is no authorisation `\(authorisation.id)`")
        }
        try Self.requireSandbox(application)
        guard CallbackRegistration.matches(authorisation.callback, entries: application.redirectCallbacks) else {
            throw SandboxError(
                .invalidField,
                "the callback `\(authorisation.callback)` is no longer a registered redirect callback of this application; create a new authorisation")
        }
    }

    /// A wrong password: counted on the authorisation with Lean's 401 body in one guarded write
    /// (never after a completion). The first `MagicLogin.maxWrongPasswords` throw `wrongPassword`
    /// (the authorisation stays open for another try); the next one fails the authorisation
    /// (FAILED, the row `BankError.tooManyWrongPasswords`) and redirects like any failure, with
    /// nothing more published; a completion that won meanwhile makes it `authorisationCompleted`.
    func wrongPassword(_ authorisation: Authorisation, institution: SandboxInstitution, now: Timestamp) async throws -> Completion {
        let events = try emissions.wrongPassword(authorisation, institution: institution, now: now)
        let row = BankError.tooManyWrongPasswords
        let redirectURL = RedirectURL.failure(
            callback: authorisation.callback, error: row, applicationUserID: authorisation.applicationUserID,
            userUUID: authorisation.userUUID, institutionID: authorisation.institutionID, forwardParameters: authorisation.forwardParameters)
        let lockedOut = Self.completed(authorisation, status: .failed, at: now, redirectURL: redirectURL)
        let lockoutEvents = try emissions.failed(authorisation, institution: institution, bankError: row.bankError, now: now)
        switch try await store.recordWrongPassword(
            authorisationID: authorisation.id, applicationID: authorisation.applicationID, at: now, limit: MagicLogin.maxWrongPasswords,
            events: events, lockout: lockedOut, lockoutEvents: lockoutEvents)
        {
        case .counted:
            if !events.isEmpty { wake() }
            throw SandboxError(.wrongPassword, MagicLogin.wrongPasswordMessage)
        case .lockedOut:
            if !lockoutEvents.isEmpty { wake() }
            return Completion(authorisation: lockedOut, redirectURL: redirectURL, delay: nil, consents: [])
        case .notAwaiting:
            throw SandboxError(.authorisationCompleted, "the authorisation was completed already")
        }
    }

    /// Commits a successful link: the consents (the first has the authorisation's id), their
    /// tokens or one-time tokens, the redirect, and what the link sets off.
    func succeed(
        _ authorisation: Authorisation, login: String, count: Int, delay: Duration?, institution: SandboxInstitution, now: Timestamp
    ) async throws -> Completion {
        let consents = (0..<count).map { index in
            Consent(
                id: index == 0 ? authorisation.id : Self.newUUID(), applicationID: authorisation.applicationID,
                authorisationID: authorisation.id, institutionID: authorisation.institutionID,
                applicationUserID: authorisation.applicationUserID, userUUID: authorisation.userUUID, login: login,
                permissions: authorisation.permissions, createdAt: now, authorizedAt: now, expiresAt: now.adding(timings.consentLifetime),
                leanEntityID: Self.newUUID(), okraRecordID: Self.randomHex(bytes: 12), bridgeItemID: Self.newBridgeItemID())
        }
        var texts: [String] = []
        var records: [OneTimeTokenRecord] = []
        for consent in consents {
            if authorisation.oneTimeToken {
                let expiresAt = now.adding(timings.oneTimeTokenLifetime)
                let token = try await tokens.oneTimeToken(for: consent, expiresAt: expiresAt)
                texts.append(token)
                records.append(
                    OneTimeTokenRecord(
                        tokenHash: ConsentTokens.hash(oneTimeToken: token), applicationID: consent.applicationID, consentID: consent.id,
                        expiresAt: expiresAt))
            } else {
                texts.append(try await tokens.consentToken(for: consent))
            }
        }
        let redirectURL = RedirectURL.success(
            callback: authorisation.callback, tokens: texts, oneTimeToken: authorisation.oneTimeToken,
            applicationUserID: authorisation.applicationUserID, userUUID: authorisation.userUUID, institutionID: authorisation.institutionID,
            forwardParameters: authorisation.forwardParameters)
        let completed = Self.completed(authorisation, status: .authorized, at: now, redirectURL: redirectURL)
        let events = try emissions.linked(consents, institution: institution, now: now)
        try await commit(completed, consents: consents, oneTimeTokens: records, events: events)
        return Completion(authorisation: completed, redirectURL: redirectURL, delay: delay, consents: consents)
    }

    /// Commits a failed link (a row of the error table, or a deny).
    func fail(_ authorisation: Authorisation, with row: BankError, institution: SandboxInstitution, now: Timestamp) async throws -> Completion {
        let redirectURL = RedirectURL.failure(
            callback: authorisation.callback, error: row, applicationUserID: authorisation.applicationUserID,
            userUUID: authorisation.userUUID, institutionID: authorisation.institutionID, forwardParameters: authorisation.forwardParameters)
        let completed = Self.completed(authorisation, status: row.authorisationStatus, at: now, redirectURL: redirectURL)
        let events = try emissions.failed(authorisation, institution: institution, bankError: row.bankError, now: now)
        try await commit(completed, consents: [], oneTimeTokens: [], events: events)
        return Completion(authorisation: completed, redirectURL: redirectURL, delay: nil, consents: [])
    }

    /// The one transaction of a completion; a concurrent completion that won makes this one `authorisationCompleted`.
    func commit(_ completed: Authorisation, consents: [Consent], oneTimeTokens: [OneTimeTokenRecord], events: [ScheduledEvent]) async throws {
        guard try await store.completeAuthorisation(completed, consents: consents, oneTimeTokens: oneTimeTokens, events: events) else {
            throw SandboxError(.authorisationCompleted, "the authorisation was completed already")
        }
        if !events.isEmpty { wake() }
    }

    static func completed(_ authorisation: Authorisation, status: Authorisation.Status, at now: Timestamp, redirectURL: String) -> Authorisation {
        var completed = authorisation
        completed.status = status
        completed.completedAt = now
        completed.redirectURL = redirectURL
        return completed
    }
}
