import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Hummingbird

/// `PATCH /account-auth-requests` (header `consent`): re-authorisation, as Yapily documents it.
/// The answer is the consent (same id, its state, the earlier `authorizedAt`) with status
/// `AWAITING_RE_AUTHORIZATION` and an `authorisationUrl` that starts a new journey at the bank for
/// it: the same institution and user, the first request's callback (or redirect), one-time-token
/// choice, forwarded parameters and state. Until the user finishes it (or it expires), the consent
/// reads `AWAITING_RE_AUTHORIZATION`, without its token, and its data gets Yapily's 403. Approved,
/// the browser takes the auth.yapily.com step to the callback with the consent's own token (or a
/// one-time token for it); the consent reads AUTHORIZED again with the same id and token and
/// `lastConfirmedAt` (Yapily's member for the user's last full authentication at the bank). A
/// failure sends the seed's error parameters and leaves the consent as it was.
extension YapilyAPI {
    static let awaitingReauthorisation = "AWAITING_RE_AUTHORIZATION"

    @Sendable func reauthoriseAccount(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await application(context)
        let consent = try await consent(fromHeader: request, application: application)
        let kind = try await kind(consent.authorisationID, applicationID: application.id)
        guard kind == .account else { throw YapilyError(.forbidden, "The consent is a payment consent; only account consents are re-authorised") }
        let journey = try await bank.reauthorise(consentID: consent.id, applicationID: application.id)
        do {
            // Its browser takes the auth.yapily.com step, as the first journey's did (recorded once: a PATCH again gets the same journey).
            try await store.recordYapilyRequest(authorisationID: journey.id, applicationID: application.id, kind: .account)
        } catch let error as StoreError where error.code == .conflict {}
        let summary = try await bank.reauthorisations(consentIDs: [consent.id], applicationID: application.id)[consent.id]
        var view = Self.consentView(consent, kind: kind, token: nil, state: journey.state, summary: summary)
        view.status = Self.awaitingReauthorisation
        let base = try publicBase(request)
        view.authorisationUrl = AuthorisationsController.authorisationURL(base: base, journey)
        view.qrCodeUrl = Self.qrCodeURL(base: base, journey)
        return try YapilyJSON.response(YapilyEnvelope(view), status: .created)
    }

    /// A consent as Yapily shows it: `AWAITING_RE_AUTHORIZATION` (and no token) while a
    /// re-authorisation journey awaits the user, `lastConfirmedAt` once one succeeded.
    static func consentView(_ consent: Consent, kind: YapilyRequestKind, token: String?, state: String?, summary: ReauthorisationSummary?) -> YapilyConsentView {
        var view = YapilyConsentView(consent, kind: kind, token: token, state: state)
        view.lastConfirmedAt = summary?.lastReauthorisedAt
        if consent.status == .authorized, summary?.pending != nil {
            view.status = awaitingReauthorisation
            view.consentToken = nil
        }
        return view
    }

    /// One consent's view, its kind and re-authorisations read.
    func consentView(_ consent: Consent, token: String?, state: String?, applicationID: String) async throws -> YapilyConsentView {
        let kind = try await kind(consent.authorisationID, applicationID: applicationID)
        let summary = try await bank.reauthorisations(consentIDs: [consent.id], applicationID: applicationID)[consent.id]
        return Self.consentView(consent, kind: kind, token: token, state: state, summary: summary)
    }

    /// The data endpoints' check: a consent awaiting re-authorisation is not AUTHORIZED, so Yapily's 403.
    func requireNotAwaitingReauthorisation(_ consent: Consent, applicationID: String) async throws {
        let summary = try await bank.reauthorisations(consentIDs: [consent.id], applicationID: applicationID)[consent.id]
        guard summary?.pending == nil else {
            throw YapilyError(
                .forbidden, "The consent is awaiting re-authorisation (AWAITING_RE_AUTHORIZATION); the user must finish it at the bank first")
        }
    }
}
