import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Foundation
import Hummingbird

/// `POST /consent-one-time-token`, `POST /consent-auth-code`, `GET /consents`,
/// `GET /consents/{consentId}`, `DELETE /consents/{consentId}`: the sandbox's consents in
/// Yapily's shape. An authorisation request that made no consent (awaiting, rejected, failed,
/// expired) reads by id as a consent with that status, as at Yapily, where both are one object.
extension YapilyAPI {
    func addConsentRoutes(to api: RouterGroup<AppRequestContext>) {
        api.post("consent-one-time-token", use: exchangeOneTimeToken)
        api.post("consent-auth-code", use: exchangeAuthCode)
        api.get("consents", use: listConsents)
        api.get("consents/:consentId", use: getConsent)
        api.delete("consents/:consentId", use: deleteConsent)
    }

    struct OneTimeTokenBody: Decodable { var oneTimeToken: String }
    struct AuthCodeBody: Decodable {
        var authCode: String
        var authState: String
    }

    /// 201 with the bare `Consent` and its `consentToken`; the token works once.
    @Sendable func exchangeOneTimeToken(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await application(context)
        let body = try await YapilyJSON.body(OneTimeTokenBody.self, from: request, context: context)
        guard !body.oneTimeToken.isEmpty, body.oneTimeToken.utf8.count <= 4096 else { throw YapilyError.badRequest("Invalid or expired one time token") }
        let (consent, token) = try await bank.exchange(oneTimeToken: body.oneTimeToken, applicationID: application.id)
        let state = try await bank.authorisation(id: consent.authorisationID)?.state
        return try YapilyJSON.response(try await consentView(consent, token: token, state: state, applicationID: application.id), status: .created)
    }

    /// The code a custom `redirect` received (`code`, with `state`): 200 with the bare `Consent`
    /// and its `consentToken`, once. The code is the bank's one-time token, so it is spent by the
    /// first exchange, even one with the wrong state (as an OAuth server revokes a code presented
    /// wrongly); a second exchange, an unknown or expired code, or another flow's token: 400.
    @Sendable func exchangeAuthCode(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await application(context)
        let body = try await YapilyJSON.body(AuthCodeBody.self, from: request, context: context)
        let refused = YapilyError.badRequest("Invalid or expired authCode or authState")
        guard !body.authCode.isEmpty, body.authCode.utf8.count <= 4096, !body.authState.isEmpty else { throw refused }
        let consent: Consent, token: String
        do {
            (consent, token) = try await bank.exchange(oneTimeToken: body.authCode, applicationID: application.id)
        } catch let error as SandboxError where error.code == .invalidOneTimeToken {
            throw refused
        }
        guard let authorisation = try await bank.authorisation(id: consent.authorisationID),
              Self.customRedirect(authorisation.callback) != nil,
              ConsentPageController.constantTimeEqual(body.authState, authorisation.state)
        else { throw refused }
        return try YapilyJSON.response(try await consentView(consent, token: token, state: authorisation.state, applicationID: application.id))
    }

    /// Newest first; `filter[…]` values may repeat (any of them matches); at least one of
    /// `filter[applicationUserId]`, `filter[userUuid]` or `limit` must be given, as Yapily says.
    @Sendable func listConsents(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await application(context)
        let query = try Self.query(request)
        let applicationUserIDs = try Self.values(query, "filter[applicationUserId]")
        let userUUIDs = try Self.values(query, "filter[userUuid]").map { $0.lowercased() }
        let institutions = try Self.values(query, "filter[institution]")
        let statuses = try Self.values(query, "filter[status]")
        let limit = try Self.integer(query, "limit", in: 1...1000)
        let offset = try Self.integer(query, "offset", in: 0...1_000_000) ?? 0
        let from = try Self.dateTime(query, "from"), before = try Self.dateTime(query, "before")
        guard !applicationUserIDs.isEmpty || !userUUIDs.isEmpty || limit != nil else {
            throw YapilyError.badRequest("At least one of filter[applicationUserId], filter[userUuid] or limit must be provided")
        }
        for status in statuses where !Self.authorisationStatuses.contains(status) {
            throw YapilyError.badRequest("filter[status] \(status) is not an AuthorisationStatus")
        }
        // One sandbox filter when one value is given, the rest in memory; the application's consents page by page.
        // An authorised consent awaiting re-authorisation has that status (AUTHORIZED does not match it).
        var matching: [Consent] = []
        var summaries: [String: ReauthorisationSummary] = [:]
        var cursor: String?
        var scanned = 0
        repeat {
            let page = try await bank.consents(
                applicationID: application.id, applicationUserID: applicationUserIDs.count == 1 ? applicationUserIDs[0] : nil,
                userUUID: userUUIDs.count == 1 ? userUUIDs[0] : nil, institutionID: institutions.count == 1 ? institutions[0] : nil,
                status: statuses.count == 1 ? Consent.Status(rawValue: statuses[0]) : nil, before: cursor, limit: 1000)
            scanned += page.items.count
            let authorised = page.items.filter { $0.status == .authorized }.map(\.id)
            summaries.merge(try await bank.reauthorisations(consentIDs: authorised, applicationID: application.id)) { $1 }
            matching += page.items.filter { consent in
                let status = consent.status == .authorized && summaries[consent.id]?.pending != nil ? Self.awaitingReauthorisation : consent.status.rawValue
                return (applicationUserIDs.isEmpty || applicationUserIDs.contains(consent.applicationUserID ?? ""))
                    && (userUUIDs.isEmpty || userUUIDs.contains(consent.userUUID))
                    && (institutions.isEmpty || institutions.contains(consent.institutionID))
                    && (statuses.isEmpty || statuses.contains(status))
                    && (from.map { consent.createdAt >= $0 } ?? true) && (before.map { consent.createdAt < $0 } ?? true)
            }
            cursor = page.hasMore ? page.items.last?.id : nil
        } while cursor != nil && scanned < Self.maxScannedConsents
        let window = Array(matching.dropFirst(offset).prefix(limit ?? 1000))
        let kinds = try await kinds(window.map(\.authorisationID), applicationID: application.id)
        let views = window.map {
            Self.consentView($0, kind: kinds[$0.authorisationID] ?? .account, token: nil, state: nil, summary: summaries[$0.id])
        }
        let pagination = YapilyListEnvelope<YapilyConsentView>.Pagination(
            totalCount: matching.count, self: .init(limit: limit, sort: "-date", offset: offset))
        return try YapilyJSON.response(YapilyListEnvelope(views, pagination: pagination))
    }

    /// A consent with its token; an authorisation request that made none, with its status.
    @Sendable func getConsent(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await application(context)
        let id = try pathParameter("consentId", context)
        guard SandboxInput.text(id, maxLength: 64) else { throw YapilyError.notFound("Consent \(id) not found") }
        do {
            let (consent, token) = try await bank.consent(id: id, applicationID: application.id)
            let state = try await bank.authorisation(id: consent.authorisationID)?.state
            return try YapilyJSON.response(YapilyEnvelope(try await consentView(
                consent, token: consent.status == .authorized ? token : nil, state: state, applicationID: application.id)))
        } catch let error as SandboxError where error.code == .notFound {
            // A re-authorisation journey is no consent of its own (its consent reads by its id).
            guard let authorisation = try await bank.authorisation(id: id), authorisation.applicationID == application.id,
                  authorisation.reauthorisesConsentID == nil
            else {
                throw YapilyError.notFound("Consent \(id) not found")
            }
            // Yapily's `Consent` has no authorisationUrl nor qrCodeUrl (the Java SDK would refuse them).
            let kind = try await kind(authorisation.id, applicationID: application.id)
            return try YapilyJSON.response(YapilyEnvelope(YapilyConsentView(authorisation, kind: kind, authorisationURL: nil, qrCodeURL: nil)))
        }
    }

    /// Revokes the consent (REVOKED; Lean `entity.updated` for its entity) and answers Yapily's delete response.
    @Sendable func deleteConsent(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await application(context)
        let id = try pathParameter("consentId", context)
        if let force = try Self.single(try Self.query(request), "forceDelete"), Bool(force) == nil {
            throw YapilyError.badRequest("forceDelete must be true or false")
        }
        guard SandboxInput.text(id, maxLength: 64) else { throw YapilyError.notFound("Consent \(id) not found") }
        let revoked: Consent
        do {
            revoked = try await bank.revoke(consentID: id, applicationID: application.id)
        } catch let error as SandboxError where error.code == .notFound {
            throw YapilyError.notFound("Consent \(id) not found")
        }
        let kind = try await kind(revoked.authorisationID, applicationID: application.id)
        return try YapilyJSON.response(YapilyEnvelope(Self.deleteView(revoked, kind: kind)))
    }

    /// Most consents one list reads through (its `totalCount` counts these).
    static let maxScannedConsents = 100_000

    /// Yapily's `AuthorisationStatus` values (the 17 of the OpenAPI document and the SDKs).
    static let authorisationStatuses: Set<String> = [
        "AWAITING_AUTHORIZATION", "AWAITING_FURTHER_AUTHORIZATION", "AWAITING_RE_AUTHORIZATION", "AUTHORIZED", "CONSUMED", "REJECTED",
        "REVOKED", "FAILED", "EXPIRED", "UNKNOWN", "INVALID", "AWAITING_DECOUPLED_PRE_AUTHORIZATION", "AWAITING_PRE_AUTHORIZATION",
        "PRE_AUTHORIZED", "AWAITING_DECOUPLED_AUTHORIZATION", "AWAITING_SCA_METHOD", "AWAITING_SCA_CODE",
    ]
}
