import BankHooksCore

/// An application's own event types (family `custom`).
public protocol EventTypeStore: Sendable {
    /// Registers an application's own event type; `conflict` when it exists.
    func createEventType(_ type: CustomEventType) async throws
    func eventTypes(applicationID: String) async throws -> [CustomEventType]
    func deleteEventType(name: String, applicationID: String) async throws -> Bool
    /// Registers an application's own event type unless it already has `limit` of them
    /// (`limitReached`, counted in the insert's transaction); `conflict` when it exists.
    func createEventType(_ type: CustomEventType, limit: Int) async throws
    /// A page of the application's event types by name, after `name` (exclusive).
    func eventTypes(applicationID: String, after name: String?, limit: Int) async throws -> Page<CustomEventType>
    /// One of the application's event types.
    func eventType(name: String, applicationID: String) async throws -> CustomEventType?
}
