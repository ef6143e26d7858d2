import BankHooksCore
import BankHooksStorage
import BankHooksVerify
import Foundation
import Synchronization

/// What a publish or a subscription needs to know about an event type.
public struct ResolvedEventType: Sendable {
    public var name: String
    public var family: EventFamily
    /// The built-in definition; nil for an application's own type.
    public var definition: EventTypeDefinition?
}

/// The built-in catalog plus each application's registered types, with a short cache of the
/// latter so a publish does not read them from the store every time.
public final class EventTypeRegistry: Sendable {
    let store: any EventTypeStore
    public let catalog: EventCatalog
    public let formats: WireFormats
    private let cacheTTL: Duration
    private let custom = Mutex<[String: (names: Set<String>, expires: ContinuousClock.Instant)]>([:])
    /// Format names that carry each family (the standard format carries every family).
    private let carriers: [EventFamily: Set<String>]

    /// The formats' test event types: sent only by "Send a test".
    public let testEventTypes: Set<String>
    /// Types BankHooks emits itself (test events, `webhook.disabled`); publishing them is refused.
    public let emittedByBankHooks: Set<String>

    public init(store: any EventTypeStore, catalog: EventCatalog = .builtIn, formats: WireFormats = .builtIn, cacheTTL: Duration = .seconds(10)) {
        self.store = store
        self.catalog = catalog
        self.formats = formats
        self.cacheTTL = cacheTTL
        var carriers: [EventFamily: Set<String>] = [:]
        for family in EventFamily.allCases {
            carriers[family] = Set(formats.names.filter { formats[$0]?.carries(family) ?? false })
        }
        self.carriers = carriers
        testEventTypes = Set(formats.names.compactMap { formats[$0]?.testEventType })
        emittedByBankHooks = testEventTypes.union(["webhook.disabled"])
    }

    /// The formats that can carry events of `family`.
    public func formatsCarrying(_ family: EventFamily) -> Set<String> { carriers[family] ?? [] }

    /// The type named `name` for `applicationID`, or nil when neither the catalog nor the application knows it.
    public func resolve(_ name: String, applicationID: String) async throws -> ResolvedEventType? {
        if let definition = catalog[name] { return ResolvedEventType(name: name, family: definition.family, definition: definition) }
        let now = ContinuousClock.now
        var names = custom.withLock { $0[applicationID] }.flatMap { $0.expires > now ? $0.names : nil }
        if names == nil {
            let loaded = Set(try await store.eventTypes(applicationID: applicationID).map(\.name))
            custom.withLock { cache in
                if cache.count > 10_000 { cache.removeAll() }
                cache[applicationID] = (loaded, now.advanced(by: cacheTTL))
            }
            names = loaded
        }
        guard names?.contains(name) == true else { return nil }
        return ResolvedEventType(name: name, family: .custom, definition: nil)
    }

    /// Forgets the cached registered types of an application (after one was added or removed here).
    public func invalidate(applicationID: String) {
        _ = custom.withLock { $0.removeValue(forKey: applicationID) }
    }

    /// The type named `name` or a 422 at `pointer` that says it is unknown.
    public func require(_ name: String, applicationID: String, pointer: String) async throws -> ResolvedEventType {
        guard let resolved = try await resolve(name, applicationID: applicationID) else {
            throw EventError(
                .unknownType, at: pointer,
                "`\(name)` is neither a built-in event type nor one this application registered; see GET /v1/event-types")
        }
        return resolved
    }

    /// Checks that a webhook of `format` may subscribe to `types`; a type its format cannot carry
    /// is a 422 naming both.
    public func validateSubscription(_ types: [String]?, format: any WireFormat, kind: WebhookKind, applicationID: String) async throws {
        guard let types else { return }
        for (index, name) in types.enumerated() {
            let pointer = "/event_types/\(index)"
            let resolved = try await require(name, applicationID: applicationID, pointer: pointer)
            if testEventTypes.contains(name) {
                throw EventError(.invalidField, at: pointer, "`\(name)` is sent only by \"Send a test\" (POST /v1/webhooks/{id}/test); it cannot be subscribed to")
            }
            guard format.carries(resolved.family) else {
                throw EventError(
                    .formatMismatch, at: pointer,
                    "`\(name)` is a\(resolved.family == .okra ? "n" : "") \(resolved.family.rawValue) event type; a webhook of format `\(format.name)` carries \(format.family.map { "\($0.rawValue) event types only" } ?? "every type") (the `standard` format carries every family)")
            }
        }
    }
}
