import BankHooksCore
import BankHooksStorage
import Crypto
import Foundation
import Hummingbird

/// Yapily credentials: an Application ID (UUID) and a secret that BankHooks issues per
/// application, sent as HTTP Basic. Only the secret's SHA-256 is stored.
enum YapilyCredentials {
    static let secretAlphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    /// A new credential for `applicationID`: the secret (shown once) and the record that stores it.
    static func generate(applicationID: String, now: Timestamp) -> (secret: String, record: YapilyCredential) {
        var rng = SystemRandomNumberGenerator()
        let secret = String((0..<40).map { _ in secretAlphabet.randomElement(using: &rng)! })
        let record = YapilyCredential(
            id: UUID().uuidString.lowercased(), applicationID: applicationID, secretHash: hash(secret), createdAt: now)
        return (secret, record)
    }

    static func hash(_ secret: String) -> [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }

    /// The (application id, secret) of an `Authorization: Basic …` header; nil when it is not one.
    static func basic(_ header: String?) -> (id: String, secret: String)? {
        guard let header, header.count > 6, header.prefix(6).lowercased() == "basic " else { return nil }
        let encoded = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard encoded.utf8.count <= 1024, let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}

/// Authenticates every `/yapily` request with HTTP Basic (the application's Yapily credential):
/// missing, malformed, unknown or wrong credentials are Yapily's 401. The request then acts as a
/// publisher of that application (it may create authorisations and exchange tokens).
struct YapilyAuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let store: any Store

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let (id, secret) = YapilyCredentials.basic(request.headers[.authorization]),
              id.utf8.count == 36, UUID(uuidString: id) != nil,
              let credential = try await store.yapilyCredential(id: id.lowercased()),
              APIKey.constantTimeEquals(credential.secretHash, YapilyCredentials.hash(secret))
        else { throw YapilyError.unauthorised }
        var context = context
        context.principal = Principal(keyID: "yapily:\(credential.id)", applicationID: credential.applicationID, role: .developer)
        return try await next(request, context)
    }
}

/// `POST /v1/applications/{id}/yapily-credentials`: issues the application's Yapily credential
/// (replacing the one it had), shown once. An operator key for any application, or an admin key
/// of that application.
struct YapilyCredentialsController {
    let store: any Store
    let clock: any WallClock
    /// The server's public base (`--public-url`) for `base_url`; nil: `http://<Host header>`.
    let publicURL: String?

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("applications/:id/yapily-credentials", use: create)
    }

    /// Encoded snake_case, as every /v1 answer: `application_uuid` is the Basic user name, `secret` its password.
    struct CredentialView: Encodable {
        var applicationUUID: String
        var secret: String
        var applicationID: String
        var createdAt: Timestamp
        var baseURL: String

        enum CodingKeys: String, CodingKey {
            case applicationUUID = "applicationUuid", secret, applicationID = "applicationId", createdAt, baseURL = "baseUrl"
        }
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.managers, to: "issue Yapily credentials")
        let id = try context.pathParameter("id")
        guard principal.role == .operator || principal.applicationID == id, try await store.application(id: id) != nil else {
            throw Problem.notFound("application \(id)", field: "path:id")
        }
        let (secret, record) = YapilyCredentials.generate(applicationID: id, now: clock.now())
        do {
            try await store.replaceYapilyCredential(record)
        } catch let error as StoreError where error.code == .notFound {
            throw Problem.notFound("application \(id)", field: "path:id")
        }
        let base = publicURL ?? request.head.authority.flatMap { AuthorisationsController.isHost($0) ? "http://\($0)" : nil } ?? ""
        let view = CredentialView(applicationUUID: record.id, secret: secret, applicationID: id, createdAt: record.createdAt, baseURL: base + "/yapily")
        return try Response.json(view, status: .created, context: context)
    }
}
