import BankHooksCore

/// The role sets the API checks, named once: each route requires one of them.
enum Roles {
    /// The bootstrap operator only: applications and their keys.
    static let operators: Set<Role> = [.operator]
    /// Change an application's setup: webhooks, secrets, event types, API keys, recoveries.
    static let managers: Set<Role> = [.operator, .admin]
    /// Publish events and send deliveries again.
    static let publishers: Set<Role> = [.operator, .admin, .developer]
    /// Read anything of the application.
    static let readers: Set<Role> = [.operator, .admin, .developer, .viewer]
}
