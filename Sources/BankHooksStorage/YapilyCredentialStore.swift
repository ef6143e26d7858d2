import BankHooksCore

/// The credentials an application's Yapily client signs in with (HTTP Basic at `/yapily`):
/// `id` is the Yapily "Application ID" (the Basic user name), and only the SHA-256 of the secret
/// is kept. An application has at most one; issuing a new one replaces it.
public struct YapilyCredential: Hashable, Sendable {
    /// UUID v4, lower case: Yapily's `applicationUuid`.
    public var id: String
    public var applicationID: String
    /// SHA-256 of the secret.
    public var secretHash: [UInt8]
    public var createdAt: Timestamp

    public init(id: String, applicationID: String, secretHash: [UInt8], createdAt: Timestamp) {
        self.id = id
        self.applicationID = applicationID
        self.secretHash = secretHash
        self.createdAt = createdAt
    }
}

/// A Yapily `ApplicationUser`: made by `POST /users`, or by an authorisation request that names
/// an `applicationUserId` no user has yet. Its `uuid` is the sandbox consents' `user_uuid`.
public struct YapilyUser: Hashable, Sendable {
    public var uuid: String
    public var applicationID: String
    public var applicationUserID: String
    public var referenceID: String?
    public var createdAt: Timestamp

    public init(uuid: String, applicationID: String, applicationUserID: String, referenceID: String?, createdAt: Timestamp) {
        self.uuid = uuid
        self.applicationID = applicationID
        self.applicationUserID = applicationUserID
        self.referenceID = referenceID
        self.createdAt = createdAt
    }
}

/// What a Yapily authorisation request asked for: its consents' `featureScope` and
/// `institutionConsentId` follow it. A sandbox authorisation with no record is an account one.
public enum YapilyRequestKind: String, Sendable, Hashable, CaseIterable {
    case account
    case payment
}

/// The Yapily facade's own state; everything else it shows is the sandbox bank's.
public protocol YapilyStore: Sendable {
    /// Stores the application's credential, replacing the one it had (which stops working).
    /// Throws `notFound` when the application does not exist.
    func replaceYapilyCredential(_ credential: YapilyCredential) async throws
    /// A credential by its id (the Basic user name); nil when unknown.
    func yapilyCredential(id: String) async throws -> YapilyCredential?

    /// Creates a user unless the application has one with its `applicationUserID` (`conflict`) or
    /// holds `limit` users already (`limitReached`, counted in the insert's transaction).
    func createYapilyUser(_ user: YapilyUser, limit: Int) async throws
    /// The application's user with `user.applicationUserID`, created as `user` when it has none
    /// (race-free: a concurrent creation of the same id gives both callers the same user).
    /// Throws `limitReached` as `createYapilyUser` does.
    func yapilyUser(findingOrCreating user: YapilyUser, limit: Int) async throws -> YapilyUser
    func yapilyUser(uuid: String, applicationID: String) async throws -> YapilyUser?
    /// The application's users, oldest first, only the one with `applicationUserID` when given.
    func yapilyUsers(applicationID: String, applicationUserID: String?) async throws -> [YapilyUser]
    /// Deletes a user; false when the application has none with that uuid.
    func deleteYapilyUser(uuid: String, applicationID: String) async throws -> Bool

    /// Records the kind of the Yapily request behind a sandbox authorisation (every request the
    /// facade makes: a recorded authorisation's browser takes the auth.yapily.com step; an
    /// unrecorded one, such as a `/v1` authorisation, reads as an account request).
    func recordYapilyRequest(authorisationID: String, applicationID: String, kind: YapilyRequestKind) async throws
    /// The recorded kinds of these authorisations of the application, by authorisation id.
    func yapilyRequestKinds(authorisationIDs: [String], applicationID: String) async throws -> [String: YapilyRequestKind]
}
