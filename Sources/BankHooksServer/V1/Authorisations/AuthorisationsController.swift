import BankHooksCore
import BankHooksSandbox
import Foundation
import Hummingbird

/// `/v1/authorisations` (seed 003's authorisation request: the end user is sent to
/// `authorisation_url`, the sandbox bank's consent page) and
/// `/v1/sandbox/authorisations/{id}/complete` (the same completion without a browser, for CI).
struct AuthorisationsController {
    let bank: SandboxBank
    let access: SandboxAccess
    let clock: any WallClock
    /// The base of `authorisation_url` (`--public-url`); nil: `http://<Host header>`.
    let publicURL: String?

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("authorisations", use: create)
        group.get("authorisations/:id", use: get)
        group.post("sandbox/authorisations/:id/complete", use: complete)
    }

    // MARK: Requests

    struct CreateRequest: Decodable {
        var institutionID: String
        var applicationUserID: String?
        var userUUID: String?
        var callback: String
        var oneTimeToken: Bool
        var permissions: [String]?
        var forwardParameters: [String]

        enum CodingKeys: String, CodingKey {
            case institutionID = "institutionId", applicationUserID = "applicationUserId", userUUID = "userUuid"
            case callback, oneTimeToken, permissions, forwardParameters
        }

        init(from decoder: any Decoder) throws {
            try decoder.sandboxObject(["institutionId", "applicationUserId", "userUuid", "callback", "oneTimeToken", "permissions", "forwardParameters"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            institutionID = try container.decode(String.self, forKey: .institutionID)
            applicationUserID = try container.decodeIfPresent(String.self, forKey: .applicationUserID)
            userUUID = try container.decodeIfPresent(String.self, forKey: .userUUID)
            callback = try container.decode(String.self, forKey: .callback)
            // Yapily's SDKs send the flag as a boolean; some clients send it as text.
            if let flag = try? container.decodeIfPresent(Bool.self, forKey: .oneTimeToken) {
                oneTimeToken = flag
            } else if let text = try? container.decodeIfPresent(String.self, forKey: .oneTimeToken), text == "true" || text == "false" {
                oneTimeToken = text == "true"
            } else if container.contains(.oneTimeToken), try !container.decodeNil(forKey: .oneTimeToken) {
                throw DecodingError.typeMismatch(Bool.self, .init(codingPath: [CodingKeys.oneTimeToken], debugDescription: "expected a boolean (or \"true\"/\"false\")"))
            } else {
                oneTimeToken = false
            }
            permissions = try container.decodeIfPresent([String].self, forKey: .permissions)
            forwardParameters = try container.decodeIfPresent([String].self, forKey: .forwardParameters) ?? []
        }

        /// What the bank does not check itself (it checks every member's meaning and the callback's registration).
        func validate() throws {
            if let permissions, permissions.count > 20 {
                throw Problem.invalidField("/permissions", "at most 20 permissions")
            }
        }
    }

    struct CompleteRequest: Decodable {
        var login: String
        var decision: Decision
        var password: String?

        init(from decoder: any Decoder) throws {
            try decoder.sandboxObject(["login", "decision", "password"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            login = try container.decode(String.self, forKey: .login)
            let text = try container.decode(String.self, forKey: .decision)
            guard let decision = Decision(rawValue: text) else {
                throw DecodingError.dataCorruptedError(forKey: .decision, in: container, debugDescription: "`decision` must be approve or deny")
            }
            self.decision = decision
            password = try container.decodeIfPresent(String.self, forKey: .password)
        }

        enum CodingKeys: String, CodingKey { case login, decision, password }
    }

    // MARK: Views

    struct AuthorisationView: Encodable, Sendable {
        var id: String
        var status: String
        var authorisationUrl: String
        var userUuid: String
        var applicationUserId: String?
        var institutionId: String
        var createdAt: Timestamp
        var expiresAt: Timestamp
        /// On reads: the consents it made (none before it is authorised).
        var consentIds: [String]?

        init(_ authorisation: Authorisation, url: String, now: Timestamp, consentIDs: [String]? = nil) {
            id = authorisation.id
            // Not completed in time reads as EXPIRED even before anything marks it so.
            status = authorisation.status == .awaitingAuthorization && now >= authorisation.expiresAt
                ? Authorisation.Status.expired.rawValue : authorisation.status.rawValue
            authorisationUrl = url
            userUuid = authorisation.userUUID
            applicationUserId = authorisation.applicationUserID
            institutionId = authorisation.institutionID
            createdAt = authorisation.createdAt
            expiresAt = authorisation.expiresAt
            consentIds = consentIDs
        }
    }

    struct CompletionView: Encodable, Sendable {
        var redirectUrl: String
        var status: String
    }

    // MARK: Handlers

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await access.require(Roles.publishers, to: "create authorisations", context: context)
        let base = try publicBase(request)
        let body = try await decodeBody(CreateRequest.self, from: request, context: context)
        try body.validate()
        let authorisation = try await bank.createAuthorisation(AuthorisationRequest(
            institutionID: body.institutionID, applicationUserID: body.applicationUserID, userUUID: body.userUUID, callback: body.callback,
            oneTimeToken: body.oneTimeToken, permissions: body.permissions, forwardParameters: body.forwardParameters), application: application)
        let view = AuthorisationView(authorisation, url: Self.authorisationURL(base: base, authorisation), now: clock.now())
        return try Response.json(view, status: .created, context: context)
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await access.require(Roles.readers, to: "read authorisations", context: context)
        let base = try publicBase(request)
        let id = try context.pathParameter("id")
        let authorisation = try await namingPath("id") { try await bank.authorisation(id: id, applicationID: application.id) }
        let view = AuthorisationView(
            authorisation, url: Self.authorisationURL(base: base, authorisation), now: clock.now(),
            consentIDs: try await consentIDs(of: authorisation))
        return try Response.json(view, status: .ok, context: context)
    }

    @Sendable func complete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await access.require(Roles.publishers, to: "complete authorisations", context: context)
        let id = try context.pathParameter("id")
        let body = try await decodeBody(CompleteRequest.self, from: request, context: context)
        let login = body.login.trimmingCharacters(in: .whitespacesAndNewlines)
        guard SandboxInput.text(login, maxLength: 255) else {
            throw Problem.invalidField("/login", "`login` must be 1 to 255 bytes (see the magic logins)")
        }
        let completion = try await namingPath("id") {
            try await bank.complete(
                authorisationID: id, applicationID: application.id, state: nil, login: login, password: body.password, decision: body.decision)
        }
        // A slow bank: the consent is committed; the answer waits as the browser's redirect would.
        if let delay = completion.delay { try await Task.sleep(for: delay) }
        let view = CompletionView(redirectUrl: completion.redirectURL, status: completion.authorisation.status.rawValue)
        return try Response.json(view, status: .ok, context: context)
    }

    // MARK: Helpers

    /// The consents an authorisation made (the first has its id; `multi` makes two).
    func consentIDs(of authorisation: Authorisation) async throws -> [String] {
        guard authorisation.status == .authorized else { return [] }
        var ids: [String] = []
        var before: String?
        // The user's consents at that institution, newest first, until the page runs out (bounded).
        for _ in 0..<20 {
            let page = try await bank.consents(
                applicationID: authorisation.applicationID, applicationUserID: nil, userUUID: authorisation.userUUID,
                institutionID: authorisation.institutionID, status: nil, before: before, limit: 100)
            ids += page.items.filter { $0.authorisationID == authorisation.id }.map(\.id)
            guard page.hasMore, let last = page.items.last else { break }
            before = last.id
        }
        // The first consent (the authorisation's own id) first, the others in creation order.
        return ids.sorted { a, b in a == authorisation.id || (b != authorisation.id && a < b) }
    }

    /// The consent page of `authorisation`.
    static func authorisationURL(base: String, _ authorisation: Authorisation) -> String {
        "\(base)/sandbox-bank/authorise/\(authorisation.id)?state=\(authorisation.state)"
    }

    /// Where the end user's browser reaches this server: `--public-url`, else `http://<Host>`.
    func publicBase(_ request: Request) throws -> String {
        if let publicURL { return publicURL }
        guard let host = request.head.authority, Self.isHost(host) else {
            throw Problem(.badRequest, "invalid-header", title: "A header is invalid",
                          detail: "the Host header must be a host name or address with an optional port (or start the server with --public-url)",
                          field: "header:Host")
        }
        return "http://\(host)"
    }

    /// `name[:port]` or `[v6]:port`: nothing that could turn the URL into another one.
    static func isHost(_ text: String) -> Bool {
        guard (1...255).contains(text.utf8.count) else { return false }
        var host = Substring(text)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let inside = host[host.index(after: host.startIndex)..<close]
            guard !inside.isEmpty, inside.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            host = host[host.index(after: close)...]
            return host.isEmpty || isPort(host)
        }
        if let colon = host.firstIndex(of: ":") {
            guard isPort(host[colon...]) else { return false }
            host = host[..<colon]
        }
        return !host.isEmpty && host.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "." || $0 == "-" }
    }

    /// `:` then 1 to 5 digits.
    static func isPort(_ text: Substring) -> Bool {
        text.first == ":" && (2...6).contains(text.count) && text.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
    }
}
