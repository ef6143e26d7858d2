import BankHooksCore
import Foundation

/// A request to authorise at a sandbox institution (`POST /v1/authorisations`), as the API read it.
public struct AuthorisationRequest: Sendable, Hashable {
    public var institutionID: String
    public var applicationUserID: String?
    /// Generated when nil (then `applicationUserID` is required).
    public var userUUID: String?
    /// Must be one of the application's redirect callbacks (`CallbackRegistration`).
    public var callback: String
    /// Whether the redirect carries one-time tokens instead of consent tokens.
    public var oneTimeToken: Bool
    /// Lean permission names; nil: `defaultPermissions`.
    public var permissions: [String]?
    /// `name=value` entries appended to the redirect.
    public var forwardParameters: [String]

    public init(
        institutionID: String, applicationUserID: String? = nil, userUUID: String? = nil, callback: String, oneTimeToken: Bool = false,
        permissions: [String]? = nil, forwardParameters: [String] = []
    ) {
        self.institutionID = institutionID
        self.applicationUserID = applicationUserID
        self.userUUID = userUUID
        self.callback = callback
        self.oneTimeToken = oneTimeToken
        self.permissions = permissions
        self.forwardParameters = forwardParameters
    }

    /// What a request asks for when it names no permissions.
    public static let defaultPermissions = ["identity", "accounts", "balance", "transactions"]
    /// The Lean permission names a request may ask for (seed 001's, and `balance`).
    public static let knownPermissions = [
        "identity", "identities", "accounts", "balance", "transactions", "standing_orders", "direct_debits", "scheduled_payments",
        "beneficiaries",
    ]
    /// Most forwarded parameters, and the longest one.
    public static let maxForwardParameters = 20
    public static let maxForwardParameterLength = 1024
    /// Longest application user id.
    public static let maxApplicationUserIDLength = 255
    /// Longest redirect back, in bytes as sent (encoded): proxies and browsers stop at 8–16 KiB of
    /// headers, and the redirect is the `Location` header.
    public static let maxRedirectLength = 8192
    /// The redirect's own parameter names, which a forwarded parameter may not reuse (compared
    /// case-insensitively: a callback handler may read either).
    public static let reservedParameterNames: Set<String> = [
        "consent", "one-time-token", "application-user-id", "user-uuid", "institution", "error-source", "error", "error-description",
    ]
}

extension SandboxBank {
    /// Creates an authorisation request for the caller's application: checks every member
    /// (`invalidField` at its pointer), that the callback is registered (no open redirect), and
    /// that the institution's data product is up (`institutionUnavailable`); then stores it,
    /// awaiting, with a fresh id and `state`, for `SandboxTimings.authorisationLifetime`.
    /// `facade`: made in process by a provider facade, whose callback is a `CallbackRegistration.facadePrefix` one.
    public func createAuthorisation(_ request: AuthorisationRequest, application: Application, facade: Bool = false) async throws -> Authorisation {
        try Self.requireSandbox(application)
        guard SandboxInstitution.builtIn(id: request.institutionID) != nil else {
            throw SandboxError(.invalidField, at: "/institution_id", "`\(request.institutionID)` is not a sandbox institution")
        }
        let applicationUserID = try Self.checkedApplicationUserID(request.applicationUserID)
        let userUUID = try Self.checkedUserUUID(request.userUUID, applicationUserID: applicationUserID)
        try CallbackRegistration.validate(request.callback, entries: application.redirectCallbacks, facade: facade)
        let permissions = try Self.checkedPermissions(request.permissions)
        try Self.checkForwardParameters(request.forwardParameters)
        let institution = try await resolvedInstitution(id: request.institutionID, applicationID: application.id)
        guard institution.isDataAvailable else {
            throw SandboxError(
                .institutionUnavailable, at: "/institution_id",
                "\(institution.bankDetails.name) is not available for data right now (its availability is not active and enabled)")
        }
        let now = clock.now()
        try await checkRedirectLength(
            request, applicationUserID: applicationUserID, userUUID: userUUID, institutionID: institution.id, applicationID: application.id,
            now: now)
        let authorisation = Authorisation(
            id: Self.newUUID(), applicationID: application.id, institutionID: institution.id, applicationUserID: applicationUserID,
            userUUID: userUUID, callback: request.callback, oneTimeToken: request.oneTimeToken, permissions: permissions,
            forwardParameters: request.forwardParameters, state: Self.randomHex(bytes: 16), createdAt: now,
            expiresAt: now.adding(timings.authorisationLifetime))
        try await store.createAuthorisation(authorisation)
        return authorisation
    }

    // MARK: Member checks

    static func checkedApplicationUserID(_ value: String?) throws(SandboxError) -> String? {
        guard let value else { return nil }
        guard !value.isEmpty, value.count <= AuthorisationRequest.maxApplicationUserIDLength else {
            throw SandboxError(
                .invalidField, at: "/application_user_id",
                "application_user_id must be 1 to \(AuthorisationRequest.maxApplicationUserIDLength) characters")
        }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw SandboxError(.invalidField, at: "/application_user_id", "application_user_id must not contain control characters")
        }
        return value
    }

    /// The user uuid in lower case, or a new one when only the application user id is given.
    static func checkedUserUUID(_ value: String?, applicationUserID: String?) throws(SandboxError) -> String {
        guard let value else {
            guard applicationUserID != nil else {
                throw SandboxError(.invalidField, at: "/user_uuid", "give application_user_id or user_uuid (or both)")
            }
            return newUUID()
        }
        guard value.utf8.count == 36, UUID(uuidString: value) != nil else {
            throw SandboxError(.invalidField, at: "/user_uuid", "user_uuid must be a UUID (like 88c8ea6c-25a3-4ecb-b134-a4b23dde2df7)")
        }
        return value.lowercased()
    }

    /// The permissions asked for, in order without repeats; the defaults when none are named.
    static func checkedPermissions(_ value: [String]?) throws(SandboxError) -> [String] {
        guard let value else { return AuthorisationRequest.defaultPermissions }
        guard !value.isEmpty else {
            throw SandboxError(.invalidField, at: "/permissions", "permissions must name at least one permission (or be left out for the defaults)")
        }
        var seen: Set<String> = []
        var permissions: [String] = []
        for (index, permission) in value.enumerated() {
            guard AuthorisationRequest.knownPermissions.contains(permission) else {
                throw SandboxError(
                    .invalidField, at: "/permissions/\(index)",
                    "`\(permission)` is not a permission (one of \(AuthorisationRequest.knownPermissions.joined(separator: ", ")))")
            }
            if seen.insert(permission).inserted { permissions.append(permission) }
        }
        return permissions
    }

    static func checkForwardParameters(_ value: [String]) throws(SandboxError) {
        guard value.count <= AuthorisationRequest.maxForwardParameters else {
            throw SandboxError(
                .invalidField, at: "/forward_parameters", "at most \(AuthorisationRequest.maxForwardParameters) forward_parameters")
        }
        for (index, entry) in value.enumerated() {
            let (name, _) = RedirectURL.split(forwardParameter: entry)
            guard entry.contains("="), !name.isEmpty, entry.utf8.count <= AuthorisationRequest.maxForwardParameterLength else {
                throw SandboxError(
                    .invalidField, at: "/forward_parameters/\(index)",
                    "each forward parameter is `name=value` with a name, at most \(AuthorisationRequest.maxForwardParameterLength) bytes")
            }
            guard !entry.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw SandboxError(.invalidField, at: "/forward_parameters/\(index)", "a forward parameter must not contain control characters")
            }
            guard !AuthorisationRequest.reservedParameterNames.contains(name.lowercased()) else {
                throw SandboxError(
                    .invalidField, at: "/forward_parameters/\(index)",
                    "`\(name)` is a parameter of the redirect itself; a forward parameter may not use it (nor consent, one-time-token, "
                        + "application-user-id, user-uuid, institution, error-source, error, error-description)")
            }
        }
    }

    /// Refuses a request whose redirect back could be longer than
    /// `AuthorisationRequest.maxRedirectLength`: the longest redirect it can make is built now,
    /// exactly (a success with two consent tokens signed for these ids, and the failure with the
    /// longest error row), so the limit holds for every outcome (`multi` included). The member
    /// named is `/forward_parameters` when there are any (the callback and application user id
    /// alone stay under the limit), else `/application_user_id`, else `/callback`.
    func checkRedirectLength(
        _ request: AuthorisationRequest, applicationUserID: String?, userUUID: String, institutionID: String, applicationID: String,
        now: Timestamp
    ) async throws {
        let sample = Consent(
            id: Self.newUUID(), applicationID: applicationID, authorisationID: Self.newUUID(), institutionID: institutionID,
            applicationUserID: applicationUserID, userUUID: userUUID, login: "user", permissions: [], createdAt: now, authorizedAt: now,
            expiresAt: now.adding(timings.consentLifetime), leanEntityID: "", okraRecordID: "", bridgeItemID: 1)
        let token = try await tokens.consentToken(for: sample)
        let success = RedirectURL.success(
            callback: request.callback, tokens: [token, token], oneTimeToken: false, applicationUserID: applicationUserID, userUUID: userUUID,
            institutionID: institutionID, forwardParameters: request.forwardParameters)
        let longestRow = (BankError.table + [.accessDenied, .tooManyWrongPasswords]).max { $0.errorDescription.utf8.count < $1.errorDescription.utf8.count }!
        let failure = RedirectURL.failure(
            callback: request.callback, error: longestRow, applicationUserID: applicationUserID, userUUID: userUUID,
            institutionID: institutionID, forwardParameters: request.forwardParameters)
        let length = max(success.utf8.count, failure.utf8.count)
        guard length <= AuthorisationRequest.maxRedirectLength else {
            let pointer = !request.forwardParameters.isEmpty ? "/forward_parameters" : applicationUserID != nil ? "/application_user_id" : "/callback"
            throw SandboxError(
                .invalidField, at: pointer,
                "the redirect back would be up to \(length) bytes (the callback, application_user_id and forward_parameters, "
                    + "percent-encoded, with two consent tokens); at most \(AuthorisationRequest.maxRedirectLength)")
        }
    }
}
