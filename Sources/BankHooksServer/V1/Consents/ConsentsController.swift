import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Foundation
import Hummingbird

/// `/v1/consents` and `/v1/consent-one-time-token`: what an authorised request grants, its token,
/// the one-time token's exchange (seed 003: single use, short-lived), and revocation.
struct ConsentsController {
    let bank: SandboxBank
    let access: SandboxAccess
    let clock: any WallClock

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("consent-one-time-token", use: exchange)
        group.get("consents", use: list)
        group.get("consents/:id", use: get)
        group.delete("consents/:id", use: revoke)
    }

    struct ExchangeRequest: Decodable {
        var oneTimeToken: String

        init(from decoder: any Decoder) throws {
            try decoder.sandboxObject(["oneTimeToken"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            oneTimeToken = try container.decode(String.self, forKey: .oneTimeToken)
        }

        enum CodingKeys: String, CodingKey { case oneTimeToken }
    }

    /// A consent as the API shows it; `consent_token` only where one consent is answered with its token.
    struct ConsentView: Encodable, Sendable {
        var id: String
        var authorisationId: String
        var status: String
        var institutionId: String
        var applicationUserId: String?
        var userUuid: String
        var permissions: [String]
        var createdAt: Timestamp
        var authorizedAt: Timestamp
        var expiresAt: Timestamp
        var revokedAt: Timestamp?
        var consentToken: String?

        init(_ consent: Consent, token: String? = nil, now: Timestamp) {
            id = consent.id
            authorisationId = consent.authorisationID
            // Past its expiry an authorised consent reads as EXPIRED (and no longer grants access).
            status = consent.status == .authorized && now >= consent.expiresAt ? Consent.Status.expired.rawValue : consent.status.rawValue
            institutionId = consent.institutionID
            applicationUserId = consent.applicationUserID
            userUuid = consent.userUUID
            permissions = consent.permissions
            createdAt = consent.createdAt
            authorizedAt = consent.authorizedAt
            expiresAt = consent.expiresAt
            revokedAt = consent.revokedAt
            consentToken = token
        }
    }

    // MARK: Handlers

    @Sendable func exchange(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await access.require(Roles.publishers, to: "exchange one-time tokens", context: context)
        let body = try await decodeBody(ExchangeRequest.self, from: request, context: context)
        // Anything that cannot be a token is refused the same way as an unknown one (nothing revealed).
        guard !body.oneTimeToken.isEmpty, body.oneTimeToken.utf8.count <= 4096 else {
            throw SandboxError(.invalidOneTimeToken, at: "/one_time_token", "the one-time token is unknown, expired or already used")
        }
        let (consent, token) = try await bank.exchange(oneTimeToken: body.oneTimeToken, applicationID: application.id)
        return try Response.json(ConsentView(consent, token: token, now: clock.now()), status: .created, context: context)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await access.require(Roles.readers, to: "list consents", context: context)
        let query = request.uri.queryParameters
        var status: Consent.Status?
        if let text = try SandboxInput.single(query, "status") {
            guard let value = Consent.Status(rawValue: text) else {
                throw PageQuery.invalid("status", "`status` must be one of \(Consent.Status.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = value
        }
        let limit = try PageQuery.limit(query)
        // An empty cursor is not one this list gave out (it would read as the end of the list).
        let before = try SandboxInput.single(query, "cursor").map { text in
            guard !text.isEmpty else { throw PageQuery.badCursor }
            return try PageQuery.cursor(text)
        }
        let page = try await bank.consents(
            applicationID: application.id, applicationUserID: try SandboxInput.query(query, "application_user_id"),
            userUUID: try SandboxInput.query(query, "user_uuid"), institutionID: try SandboxInput.query(query, "institution_id"),
            status: status, before: before, limit: limit)
        let now = clock.now()
        return try Response.json(ListView(page, view: { ConsentView($0, now: now) }, key: \.id), status: .ok, context: context)
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await access.require(Roles.readers, to: "read consents", context: context)
        let id = try context.pathParameter("id")
        let (consent, token) = try await namingPath("id") { try await bank.consent(id: id, applicationID: application.id) }
        return try Response.json(ConsentView(consent, token: token, now: clock.now()), status: .ok, context: context)
    }

    /// Revokes an authorised consent (Lean `entity.updated` is published); revoking again changes nothing.
    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await access.require(Roles.publishers, to: "revoke consents", context: context)
        let id = try context.pathParameter("id")
        let consent = try await namingPath("id") { try await bank.revoke(consentID: id, applicationID: application.id) }
        return try Response.json(ConsentView(consent, now: clock.now()), status: .ok, context: context)
    }
}
