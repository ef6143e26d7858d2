import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Foundation
import Hummingbird

/// `/users`: Yapily's `ApplicationUser`s. A user's uuid is the `user_uuid` of its sandbox
/// consents; deleting a user revokes its consents.
extension YapilyAPI {
    func addUserRoutes(to api: RouterGroup<AppRequestContext>) {
        api.post("users", use: createUser)
        api.get("users", use: listUsers)
        api.get("users/:userUuid", use: getUser)
        api.delete("users/:userUuid", use: deleteUser)
    }

    /// Yapily's `NewApplicationUser`.
    struct NewUser: Decodable {
        var applicationUserId: String?
        var referenceId: String?
    }

    @Sendable func createUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await application(context)
        let body = try await YapilyJSON.body(NewUser.self, from: request, context: context)
        guard let applicationUserID = body.applicationUserId else { throw YapilyError.badRequest("applicationUserId is required") }
        let checked = try Self.checkedApplicationUserID(applicationUserID)
        if let reference = body.referenceId, !SandboxInput.text(reference) {
            throw YapilyError.badRequest("referenceId must be 1 to 255 bytes without control characters")
        }
        let user = YapilyUser(
            uuid: UUID().uuidString.lowercased(), applicationID: application.id, applicationUserID: checked, referenceID: body.referenceId,
            createdAt: clock.now())
        do {
            try await store.createYapilyUser(user, limit: Self.maxUsers)
        } catch let error as StoreError where error.code == .conflict {
            throw YapilyError(.conflict, "A user with applicationUserId \(checked) already exists")
        }
        return try YapilyJSON.response(try await view(user, context: context), status: .created)
    }

    @Sendable func listUsers(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await application(context)
        let filter = try Self.single(try Self.query(request), "filter[applicationUserId]")
        var views: [YapilyUserView] = []
        for user in try await store.yapilyUsers(applicationID: application.id, applicationUserID: filter) {
            views.append(try await view(user, context: context))
        }
        return try YapilyJSON.response(views)
    }

    @Sendable func getUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await application(context)
        return try YapilyJSON.response(try await view(try await user(try pathParameter("userUuid", context), application: application), context: context))
    }

    /// Revokes the user's authorised consents, then deletes the user.
    @Sendable func deleteUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await application(context)
        let user = try await user(try pathParameter("userUuid", context), application: application)
        let consents = try await authorisedConsents(of: user)
        let kinds = try await kinds(consents.map(\.authorisationID), applicationID: application.id)
        var deleted: [YapilyConsentDeleteView] = []
        for consent in consents {
            let revoked = try await bank.revoke(consentID: consent.id, applicationID: application.id)
            deleted.append(Self.deleteView(revoked, kind: kinds[consent.authorisationID] ?? .account))
        }
        _ = try await store.deleteYapilyUser(uuid: user.uuid, applicationID: application.id)
        return try YapilyJSON.response(YapilyEnvelope(YapilyUserDeleteView(
            id: user.uuid, deleteStatus: "SUCCESS", creationDate: user.createdAt, userConsents: deleted)))
    }

    // MARK: Steps

    func user(_ uuid: String, application: BankHooksCore.Application) async throws -> YapilyUser {
        guard uuid.utf8.count == 36, UUID(uuidString: uuid) != nil,
              let user = try await store.yapilyUser(uuid: uuid.lowercased(), applicationID: application.id) else {
            throw YapilyError.notFound("User with uuid \(uuid) not found")
        }
        return user
    }

    /// The user's consents that are authorised now (up to 1,000: the sandbox's page).
    func authorisedConsents(of user: YapilyUser) async throws -> [Consent] {
        try await bank.consents(
            applicationID: user.applicationID, applicationUserID: nil, userUUID: user.uuid, institutionID: nil, status: .authorized,
            before: nil, limit: 1000
        ).items
    }

    func view(_ user: YapilyUser, context: AppRequestContext) async throws -> YapilyUserView {
        var institutions: [String] = []
        for consent in try await authorisedConsents(of: user) where !institutions.contains(consent.institutionID) {
            institutions.append(consent.institutionID)
        }
        return YapilyUserView(
            uuid: user.uuid, applicationUuid: applicationUUID(context), applicationUserId: user.applicationUserID, referenceId: user.referenceID,
            institutionConsents: institutions.map { .init(institutionId: $0) })
    }

    static func deleteView(_ consent: Consent, kind: YapilyRequestKind) -> YapilyConsentDeleteView {
        YapilyConsentDeleteView(
            id: consent.id, deleteStatus: "SUCCESS", institutionId: consent.institutionID,
            institutionConsentId: YapilyScopes.institutionConsentID(consentID: consent.id, kind: kind), creationDate: consent.createdAt)
    }

    /// An application user id as the sandbox takes it (1 to 255 characters, no control characters).
    static func checkedApplicationUserID(_ value: String) throws -> String {
        guard !value.isEmpty, value.count <= AuthorisationRequest.maxApplicationUserIDLength,
              !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw YapilyError.badRequest(
                "applicationUserId must be 1 to \(AuthorisationRequest.maxApplicationUserIDLength) characters without control characters")
        }
        return value
    }
}

/// `/institutions`: the sandbox's institutions as the application sees them (its availability).
extension YapilyAPI {
    func addInstitutionRoutes(to api: RouterGroup<AppRequestContext>) {
        api.get("institutions", use: listInstitutions)
        api.get("institutions/:institutionId", use: getInstitution)
    }

    @Sendable func listInstitutions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await application(context)
        let institutions = try await bank.institutions(applicationID: application.id).map(YapilyInstitutionView.init)
        return try YapilyJSON.response(YapilyListEnvelope(institutions))
    }

    @Sendable func getInstitution(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await application(context)
        let id = try pathParameter("institutionId", context)
        do {
            return try YapilyJSON.response(YapilyInstitutionView(try await bank.institution(id: id, applicationID: application.id)))
        } catch let error as SandboxError where error.code == .notFound {
            throw YapilyError.notFound("Institution \(id) not found")
        }
    }
}
