import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Hummingbird

/// Yapily's API shape at `/yapily` (a client's host becomes `http://<server>/yapily`), over the
/// same sandbox bank, consents and events as the native `/v1` API. Every request signs in with the
/// application's Yapily credential (HTTP Basic); every error is Yapily's envelope with a tracing id.
/// The parts: +Users, +Institutions, +Authorisations, +Redirects, +Consents, +Accounts.
struct YapilyAPI: Sendable {
    let bank: SandboxBank
    let store: any Store
    let clock: any WallClock
    /// The base of `authorisationUrl` and `qrCodeUrl` (`--public-url`); nil: `http://<Host header>`.
    let publicURL: String?
    /// Keys the code of the auth.yapily.com step (the consent page's key, with its own inputs).
    let hopKey: ConsentCSRF

    /// Most users an application may have.
    static let maxUsers = 10_000

    func addRoutes(to router: Router<AppRequestContext>) {
        // The QR code is an image a phone fetches: no credentials (as Yapily's image host), but its URL carries the state.
        let open = router.group("yapily").add(middleware: YapilyErrorMiddleware())
        open.get("qr/:consentId", use: qrCode)
        addRedirectRoutes(to: open)
        let api = router.group("yapily").add(middleware: YapilyErrorMiddleware()).add(middleware: YapilyAuthenticationMiddleware(store: store))
        addUserRoutes(to: api)
        addInstitutionRoutes(to: api)
        addAuthorisationRoutes(to: api)
        addConsentRoutes(to: api)
        addAccountRoutes(to: api)
    }

    // MARK: Shared steps

    /// The caller's application, which must be a sandbox one (a production one: 403).
    func application(_ context: AppRequestContext) async throws -> BankHooksCore.Application {
        guard let principal = context.principal, let application = try await store.application(id: principal.applicationID) else {
            throw YapilyError.unauthorised
        }
        guard application.environment == .sandbox else {
            throw YapilyError(.forbidden, "The sandbox bank serves sandbox applications only; \(application.id) is a production application")
        }
        return application
    }

    /// The Yapily Application ID the request signed in with (`applicationUuid`).
    func applicationUUID(_ context: AppRequestContext) -> String {
        context.principal?.keyID.replacingOccurrences(of: "yapily:", with: "") ?? ""
    }

    /// A path parameter, percent-decoded; a 404 for one that cannot be.
    func pathParameter(_ name: String, _ context: AppRequestContext) throws -> String {
        guard let raw = context.parameters.get(name), let value = raw.removingPercentEncoding, !value.isEmpty, !value.utf8.contains(0) else {
            throw YapilyError.notFound("Resource not found")
        }
        return value
    }

    /// Where the end user's browser reaches this server: `--public-url`, else `http://<Host>`.
    func publicBase(_ request: Request) throws -> String {
        if let publicURL { return publicURL }
        guard let host = request.head.authority, AuthorisationsController.isHost(host) else {
            throw YapilyError.badRequest("The Host header must be a host name or address with an optional port (or start the server with --public-url)")
        }
        return "http://\(host)"
    }

    /// The kind of the Yapily request behind each authorisation id (account unless recorded).
    func kinds(_ authorisationIDs: [String], applicationID: String) async throws -> [String: YapilyRequestKind] {
        try await store.yapilyRequestKinds(authorisationIDs: authorisationIDs, applicationID: applicationID)
    }

    func kind(_ authorisationID: String, applicationID: String) async throws -> YapilyRequestKind {
        try await kinds([authorisationID], applicationID: applicationID)[authorisationID] ?? .account
    }

    /// The query's parameters in order, names and values percent-decoded (`+` is a space), so
    /// `filter%5Bstatus%5D` is `filter[status]` whichever way a client encodes the brackets.
    static func query(_ request: Request) throws -> [(name: String, value: String)] {
        guard let query = request.uri.query, !query.isEmpty else { return [] }
        return try query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) throws -> String {
                guard let decoded = text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding, !decoded.utf8.contains(0) else {
                    throw YapilyError.badRequest("The query parameter `\(text)` is not correctly percent-encoded")
                }
                return decoded
            }
            return (try decode(parts[0]), parts.count > 1 ? try decode(parts[1]) : "")
        }
    }

    /// Every value of a query parameter, each checked as a short text.
    static func values(_ query: [(name: String, value: String)], _ name: String) throws -> [String] {
        let values = query.filter { $0.name == name }.map(\.value)
        for value in values where !SandboxInput.text(value) {
            throw YapilyError.badRequest("\(name) must be 1 to 255 bytes without control characters")
        }
        return values
    }

    /// A query parameter given at most once; a 400 naming it otherwise.
    static func single(_ query: [(name: String, value: String)], _ name: String) throws -> String? {
        let values = try values(query, name)
        guard values.count <= 1 else { throw YapilyError.badRequest("\(name) may be given once") }
        return values.first
    }

    /// An integer query parameter within `range`; nil when absent.
    static func integer(_ query: [(name: String, value: String)], _ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = try single(query, name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw YapilyError.badRequest("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A date-time query parameter (RFC 3339, or a date, read as its start in UTC); nil when absent.
    static func dateTime(_ query: [(name: String, value: String)], _ name: String) throws -> Timestamp? {
        guard let text = try single(query, name) else { return nil }
        if let time = Timestamp(iso8601: text) { return time }
        if text.utf8.count == 10, let time = Timestamp(iso8601: text + "T00:00:00Z") { return time }
        throw YapilyError.badRequest("\(name) must be a date-time such as 2025-12-01T00:00:00.000Z")
    }
}
