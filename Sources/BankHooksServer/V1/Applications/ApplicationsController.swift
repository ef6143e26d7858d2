import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Foundation
import Hummingbird
import NIOCore

/// `/v1/applications` (operator only) and `/v1/api-keys` (an application's own keys, admins).
struct ApplicationsController {
    let store: any Store
    let authenticator: KeyAuthenticator
    let clock: any WallClock
    /// Bounds on an application's keys.
    var quotas = TenantQuotas()
    /// Told the ids of a deleted application's webhooks, so nothing already claimed for them is sent.
    var webhooksRemoved: @Sendable ([String]) -> Void = { _ in }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("applications", use: create)
        group.get("applications", use: list)
        group.get("applications/:id", use: get)
        group.patch("applications/:id", use: update)
        group.delete("applications/:id", use: delete)
        group.post("applications/:id/api-keys", use: createKeyForApplication)
        group.get("applications/:id/api-keys", use: listKeysOfApplication)
        group.post("api-keys", use: createOwnKey)
        group.get("api-keys", use: listOwnKeys)
        group.delete("api-keys/:id", use: revokeOwnKey)
    }

    // MARK: Applications

    struct CreateRequest: Decodable {
        var name: String
        var environment: BankHooksCore.Application.Environment?
        var redirectCallbacks: [String]?
        var webhookLimit: Int?
        var allowPlainHttp: Bool?
    }

    struct UpdateRequest: Decodable {
        var name: String?
        var environment: BankHooksCore.Application.Environment?
        var redirectCallbacks: [String]?
        var webhookLimit: Int?
        var allowPlainHttp: Bool?
    }

    struct ApplicationView: Encodable {
        var id: String
        var name: String
        var environment: BankHooksCore.Application.Environment
        var redirectCallbacks: [String]
        var webhookLimit: Int
        var allowPlainHttp: Bool
        var createdAt: Timestamp

        init(_ application: BankHooksCore.Application) {
            id = application.id
            name = application.name
            environment = application.environment
            redirectCallbacks = application.redirectCallbacks
            webhookLimit = application.webhookLimit
            allowPlainHttp = application.allowsPlainHTTP
            createdAt = application.createdAt
        }
    }

    static func validate(name: String?) throws {
        if let name, !(1...200).contains(name.utf8.count) { throw Problem.invalidField("/name", "`name` must be 1 to 200 bytes of UTF-8") }
        if let name, name.utf8.contains(0) { throw Problem.invalidField("/name", "`name` may not contain a NUL character") }
    }

    static func validate(limit: Int?) throws {
        if let limit, !(0...1000).contains(limit) { throw Problem.invalidField("/webhook_limit", "`webhook_limit` must be between 0 and 1,000") }
    }

    /// Redirect callbacks: absolute URLs; custom schemes (deep links) are allowed, but not the
    /// schemes the sandbox bank never redirects to (`CallbackRegistration.refusedSchemes`:
    /// `javascript:`, `data:`, Android's `intent:`, which carries its own fallback URL, …).
    static func validate(callbacks: [String]?) throws {
        guard let callbacks else { return }
        guard callbacks.count <= 50 else { throw Problem.invalidField("/redirect_callbacks", "at most 50 callbacks") }
        for (i, text) in callbacks.enumerated() {
            guard text.utf8.count <= 2048, let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
                  !CallbackRegistration.refusedSchemes.contains(scheme), components.fragment == nil,
                  (components.host.map { !$0.isEmpty } ?? false) || !["http", "https"].contains(scheme) else {
                throw Problem.invalidField("/redirect_callbacks/\(i)", "`\(text)` is not an absolute callback URL (http(s) with a host, or a custom app scheme; no fragment)")
            }
        }
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.require(Roles.operators, to: "create applications")
        let body = try await decodeBody(CreateRequest.self, from: request, context: context)
        try Self.validate(name: body.name)
        try Self.validate(limit: body.webhookLimit)
        try Self.validate(callbacks: body.redirectCallbacks)
        let now = clock.now()
        let application = BankHooksCore.Application(
            id: Identifier.make("app", at: now), name: body.name, environment: body.environment ?? .sandbox, createdAt: now,
            webhookLimit: body.webhookLimit ?? BankHooksCore.Application.defaultWebhookLimit, redirectCallbacks: body.redirectCallbacks ?? [],
            allowsPlainHTTP: body.allowPlainHttp ?? false)
        try await store.createApplication(application)
        return try Response.json(ApplicationView(application), status: .created, context: context)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.require(Roles.operators, to: "list applications")
        return try Response.json(ListView(all: try await store.applications().map(ApplicationView.init)), status: .ok, context: context)
    }

    /// The application `id`; 404 when there is none.
    func application(_ context: AppRequestContext) async throws -> BankHooksCore.Application {
        let id = try context.pathParameter("id")
        guard let application = try await store.application(id: id) else { throw Problem.notFound("application \(id)", field: "path:id") }
        return application
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.require(Roles.operators, to: "read applications")
        return try Response.json(ApplicationView(try await application(context)), status: .ok, context: context)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.require(Roles.operators, to: "change applications")
        var application = try await application(context)
        let body = try await decodeBody(UpdateRequest.self, from: request, context: context)
        try Self.validate(name: body.name)
        try Self.validate(limit: body.webhookLimit)
        try Self.validate(callbacks: body.redirectCallbacks)
        if let name = body.name { application.name = name }
        if let environment = body.environment { application.environment = environment }
        if let callbacks = body.redirectCallbacks { application.redirectCallbacks = callbacks }
        if let limit = body.webhookLimit { application.webhookLimit = limit }
        if let allow = body.allowPlainHttp { application.allowsPlainHTTP = allow }
        guard let updated = try await store.updateApplication(application) else { throw Problem.notFound("application \(application.id)", field: "path:id") }
        return try Response.json(ApplicationView(updated), status: .ok, context: context)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.operators, to: "delete applications")
        let id = try context.pathParameter("id")
        guard id != principal.applicationID else {
            throw Problem(.conflict, "application-in-use", title: "The application cannot be deleted",
                          detail: "it holds the operator key this request was made with", field: "path:id")
        }
        let webhookIDs = try await store.webhooks(applicationID: id).map(\.id)
        guard try await store.deleteApplication(id: id) else { throw Problem.notFound("application \(id)", field: "path:id") }
        authenticator.forget(applicationID: id)
        webhooksRemoved(webhookIDs)
        return Response(status: .noContent)
    }

    // MARK: API keys

    struct CreateKeyRequest: Decodable {
        var role: Role
    }

    /// A key as listed: its prefix only. `key` is present once, in the create response.
    struct KeyView: Encodable {
        var id: String
        var prefix: String
        var role: Role
        var createdAt: Timestamp
        @Null var revokedAt: Timestamp?
        var key: String?

        init(_ record: APIKeyRecord, text: String? = nil) {
            id = record.id
            prefix = "bhk_\(record.id)_"
            role = record.role
            createdAt = record.createdAt
            revokedAt = record.revokedAt
            key = text
        }
    }

    func createKey(applicationID: String, request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await decodeBody(CreateKeyRequest.self, from: request, context: context)
        guard body.role != .operator else {
            throw Problem.invalidField("/role", "`role` must be admin, developer or viewer; operator keys come only from the bootstrap")
        }
        let (text, record) = APIKey.generate(applicationID: applicationID, role: body.role, now: clock.now())
        do {
            try await store.createAPIKey(record, limit: quotas.apiKeysPerApplication)
        } catch let error as StoreError where error.code == .limitReached {
            throw Problem.quotaReached("api_keys_per_application", limit: quotas.apiKeysPerApplication, what: error.message, field: "/role")
        }
        return try Response.json(KeyView(record, text: text), status: .created, context: context)
    }

    /// Operator keys are the operator's: only an operator key sees them.
    func listKeys(applicationID: String, context: AppRequestContext) async throws -> Response {
        let isOperator = context.principal?.role == .operator
        let keys = try await store.apiKeys(applicationID: applicationID).filter { isOperator || $0.role != .operator }.map { KeyView($0) }
        return try Response.json(ListView(all: keys), status: .ok, context: context)
    }

    @Sendable func createKeyForApplication(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.require(Roles.operators, to: "create keys for applications")
        return try await createKey(applicationID: try await application(context).id, request: request, context: context)
    }

    @Sendable func listKeysOfApplication(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.require(Roles.operators, to: "list keys of applications")
        return try await listKeys(applicationID: try await application(context).id, context: context)
    }

    @Sendable func createOwnKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.managers, to: "create API keys")
        return try await createKey(applicationID: principal.applicationID, request: request, context: context)
    }

    @Sendable func listOwnKeys(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.managers, to: "list API keys")
        return try await listKeys(applicationID: principal.applicationID, context: context)
    }

    /// Revokes one of the application's keys; it stops working at once in this process.
    @Sendable func revokeOwnKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.managers, to: "revoke API keys")
        let id = try context.pathParameter("id")
        guard id != principal.keyID else {
            throw Problem(.conflict, "own-key", title: "A key cannot revoke itself",
                          detail: "API key \(id) is the key of this request; revoke it with another admin key", field: "path:id")
        }
        // An application admin cannot revoke the operator's key (it lives in the default application).
        if principal.role != .operator, try await store.apiKey(id: id)?.role == .operator {
            throw Problem.notFound("API key \(id)", field: "path:id")
        }
        guard try await store.revokeAPIKey(id: id, applicationID: principal.applicationID, now: clock.now()) else {
            throw Problem.notFound("API key \(id)", field: "path:id")
        }
        authenticator.forget(keyID: id)
        return Response(status: .noContent)
    }
}
