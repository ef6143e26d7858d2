import BankHooksCore

/// Tenants: applications and their API keys (like the tutorial's `TodoRepository`, one aggregate per protocol).
public protocol TenantStore: Sendable {
    /// Creates an application.
    func createApplication(_ application: Application) async throws
    /// An application by id.
    func application(id: String) async throws -> Application?
    /// Every application, by id.
    func applications() async throws -> [Application]
    /// Replaces an application's name, environment, webhook limit, callbacks and HTTP flag; nil when there is none.
    func updateApplication(_ application: Application) async throws -> Application?
    /// Deletes an application with everything it owns; false when there was none.
    func deleteApplication(id: String) async throws -> Bool
    /// The application's API keys, revoked ones included, oldest first.
    func apiKeys(applicationID: String) async throws -> [APIKeyRecord]
    /// Revokes a key of the application; false when it has no such key.
    func revokeAPIKey(id: String, applicationID: String, now: Timestamp) async throws -> Bool
    /// Stores an API key (its hash only).
    func createAPIKey(_ key: APIKeyRecord) async throws
    /// An API key by id, revoked or not.
    func apiKey(id: String) async throws -> APIKeyRecord?
    /// Whether any unrevoked operator key exists.
    func hasOperatorKey() async throws -> Bool
    /// Stores an API key unless its application already holds `limit` unrevoked keys
    /// (`limitReached`, counted in the insert's transaction).
    func createAPIKey(_ key: APIKeyRecord, limit: Int) async throws
}
