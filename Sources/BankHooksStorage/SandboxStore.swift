import BankHooksCore

/// The sandbox bank's state: institution availability per application, authorisations, consents,
/// one-time tokens, payments, and the events those changes schedule. Every change that sets off
/// events commits them (`ScheduledEvent`s) in the same transaction.
public protocol SandboxStore: Sendable {
    // MARK: Institutions

    /// The application's availability documents (JSON objects the sandbox defines), by institution id;
    /// an institution without one has its built-in availability.
    func institutionAvailability(applicationID: String) async throws -> [String: [UInt8]]
    /// Sets one institution's availability document for the application, with the events it sets off.
    func setInstitutionAvailability(applicationID: String, institutionID: String, document: [UInt8], events: [ScheduledEvent]) async throws
    /// Changes one institution's availability document atomically (one write transaction): reads the
    /// current document (nil when the application has none for it), calls `update` with it, and
    /// when `update` returns a document, stores it with the events in the same transaction (nil:
    /// nothing is written). An error thrown by `update` rolls back and is rethrown. Returns the
    /// document as it is afterwards and whether `update` wrote one. Throws `notFound` when the
    /// application does not exist.
    func updateInstitutionAvailability(
        applicationID: String, institutionID: String,
        update: @escaping @Sendable (_ current: [UInt8]?) throws -> (document: [UInt8], events: [ScheduledEvent])?
    ) async throws -> (document: [UInt8]?, changed: Bool)

    // MARK: Authorisations

    /// Throws `conflict` when the id exists.
    func createAuthorisation(_ authorisation: Authorisation) async throws
    /// By id alone (the consent page has no API key); nil when unknown.
    func authorisation(id: String) async throws -> Authorisation?
    /// Completes an authorisation that is still `AWAITING_AUTHORIZATION` at `completion.completedAt`
    /// (its status, completion time and redirect URL are taken from `completion`), and in the same
    /// transaction inserts its consents, one-time tokens and scheduled events. Returns false, having
    /// changed nothing, when it was no longer awaiting (completed, or completed concurrently), and
    /// for an AUTHORIZED completion of a re-authorisation (`reauthorisesConsentID`) whose consent is
    /// no longer `AUTHORIZED` and unexpired at `completedAt` (revoked concurrently: a revoke that
    /// commits first wins, one that comes later waits for this transaction).
    func completeAuthorisation(
        _ completion: Authorisation, consents: [Consent], oneTimeTokens: [OneTimeTokenRecord], events: [ScheduledEvent]
    ) async throws -> Bool

    /// Records a wrong password on an authorisation still `AWAITING_AUTHORIZATION` (and unexpired)
    /// at `at`, in one guarded write: while fewer than `limit` were recorded, counts it and inserts
    /// `events` (`.counted` with the new count); at the limit, completes the authorisation as
    /// `lockout` says (status, completion time, redirect URL) with `lockoutEvents` (`.lockedOut`);
    /// when it is no longer awaiting (completed, concurrently too, or expired), changes nothing
    /// (`.notAwaiting`). So a wrong password's events can never follow a completion.
    func recordWrongPassword(
        authorisationID: String, applicationID: String, at: Timestamp, limit: Int, events: [ScheduledEvent],
        lockout: Authorisation, lockoutEvents: [ScheduledEvent]
    ) async throws -> WrongPasswordOutcome

    // MARK: Re-authorisations

    /// The re-authorisation journey of a consent: stores `journey` (awaiting, its
    /// `reauthorisesConsentID` set) when that consent of `journey.applicationID` is `AUTHORIZED`
    /// and unexpired at `journey.createdAt` and has no journey still awaiting and unexpired then;
    /// returns the one it has instead (the same link again), or `journey` once stored. Nil, having
    /// stored nothing, when the consent is unknown, revoked or expired. One guarded write: two
    /// concurrent calls make one journey, and a concurrent revoke either comes first (nil) or after.
    func createReauthorisation(_ journey: Authorisation) async throws -> Authorisation?
    /// What the application's re-authorisations say of each of `consentIDs` that has any: the
    /// journey still awaiting and unexpired at `now`, and when the last successful one completed.
    func reauthorisations(consentIDs: [String], applicationID: String, now: Timestamp) async throws -> [String: ReauthorisationSummary]

    // MARK: Consents and one-time tokens

    func consent(id: String, applicationID: String) async throws -> Consent?
    /// The application's consents, newest first, after the `before` id (exclusive) when given,
    /// filtered by any of the non-nil values. The status filter sees statuses as they read at `now`:
    /// an `AUTHORIZED` consent past its expiry is `EXPIRED`.
    func consents(
        applicationID: String, applicationUserID: String?, userUUID: String?, institutionID: String?, status: Consent.Status?,
        now: Timestamp, before: String?, limit: Int
    ) async throws -> Page<Consent>
    /// Marks an `AUTHORIZED` consent `REVOKED` at `at`, with the events it sets off; returns the
    /// consent as it is afterwards (unchanged, and no events, when it was not authorised), nil when unknown.
    /// Revoking burns the consent's unused one-time tokens in the same transaction.
    func revokeConsent(id: String, applicationID: String, at: Timestamp, events: [ScheduledEvent]) async throws -> Consent?
    /// Burns a one-time token: returns its consent when the token is known for the application,
    /// unexpired at `now` and unused, and in the same transaction makes it unusable. Every other
    /// case (unknown, expired, used, another application's) is nil.
    func redeemOneTimeToken(hash: String, applicationID: String, now: Timestamp) async throws -> Consent?

    // MARK: Payments

    func createPaymentSource(_ source: SandboxPaymentSource, events: [ScheduledEvent]) async throws
    func paymentSource(id: String, applicationID: String) async throws -> SandboxPaymentSource?
    func createPayment(_ payment: SandboxPayment, events: [ScheduledEvent]) async throws
    func payment(id: String, applicationID: String) async throws -> SandboxPayment?

    // MARK: Scheduled events

    /// Schedules events that no state change goes with (a wrong password's Lean 401 callback).
    func scheduleEvents(_ events: [ScheduledEvent]) async throws
    /// Events due at `now`, earliest first.
    func dueScheduledEvents(now: Timestamp, limit: Int) async throws -> [ScheduledEvent]
    /// When the earliest scheduled event is due; nil when none is scheduled.
    func nextScheduledEventDue() async throws -> Timestamp?
    /// Removes published events.
    func deleteScheduledEvents(ids: [String]) async throws
}

/// What `SandboxStore.recordWrongPassword` did.
public enum WrongPasswordOutcome: Sendable, Hashable {
    /// Counted (this many wrong passwords now), with its events; the authorisation stays awaiting.
    case counted(Int)
    /// The limit was reached before this one: the authorisation is completed as the lockout says.
    case lockedOut
    /// The authorisation was no longer awaiting: nothing changed.
    case notAwaiting
}

/// A consent's re-authorisations (`SandboxStore.reauthorisations`).
public struct ReauthorisationSummary: Sendable, Hashable {
    /// The journey still awaiting the user (nil: none, or it expired).
    public var pending: Authorisation?
    /// When the user last re-authorised the consent at the bank (nil: never).
    public var lastReauthorisedAt: Timestamp?

    public init(pending: Authorisation? = nil, lastReauthorisedAt: Timestamp? = nil) {
        self.pending = pending
        self.lastReauthorisedAt = lastReauthorisedAt
    }
}
