import BankHooksCore
import BankHooksStorage
import BankHooksVerify
import Foundation

/// The one way an event enters BankHooks: the API's publish and every producer inside BankHooks
/// ("Send a test", Okra's callback acknowledgement, `webhook.disabled`, the sandbox bank) go
/// through `publish`, so every event is checked against its type and stored one way.
public final class EventService: Sendable {
    /// Who publishes: a client may not publish the types BankHooks emits itself.
    public enum Origin: Sendable, Hashable {
        case client
        case bankHooks
    }

    /// Who gets the event.
    public enum Audience: Sendable, Hashable {
        /// Every enabled webhook of the application subscribed to the type, in a format that can carry it.
        case subscribers
        /// This webhook only, whatever it subscribes to (a test, an acknowledgement of its own change).
        case webhook(String)
    }

    /// An event as its producer has it: `data` is a JSON object, exactly as it will be stored.
    public struct Draft: Sendable {
        public var type: String
        public var data: [UInt8]
        /// The client's event id; nil generates one.
        public var id: String?
        /// When it happened; nil is now.
        public var timestamp: Timestamp?
        /// The timestamp as the client wrote it (UTC), printed as is by formats that print one.
        public var timestampText: String?
        public var idempotencyKey: String?

        public init(
            type: String, data: [UInt8], id: String? = nil, timestamp: Timestamp? = nil, timestampText: String? = nil,
            idempotencyKey: String? = nil
        ) {
            self.type = type
            self.data = data
            self.id = id
            self.timestamp = timestamp
            self.timestampText = timestampText
            self.idempotencyKey = idempotencyKey
        }
    }

    /// A published event and what its publish did.
    public struct Published: Sendable {
        public var event: OutboundEvent
        public var result: PublishResult
    }

    /// The longest Okra `record` (the subject `GET /v1/callback?record=` finds events by).
    public static let maxRecordBytes = 256

    public let registry: EventTypeRegistry
    let publisher: Publisher
    let clock: any WallClock

    public init(publisher: Publisher, registry: EventTypeRegistry, clock: any WallClock) {
        self.publisher = publisher
        self.registry = registry
        self.clock = clock
    }

    /// Publishes a catalog model: the model is encoded with its members in the provider's order
    /// and then checked like any publish.
    public func publish(
        _ model: some CatalogEvent, as type: String, applicationID: String, id: String? = nil, timestamp: Timestamp? = nil,
        to audience: Audience = .subscribers, lease: PublishLease? = nil
    ) async throws -> Published {
        let data = try OrderedJSONEncoder.encode(model)
        return try await publish(
            Draft(type: type, data: data, id: id, timestamp: timestamp), applicationID: applicationID, origin: .bankHooks,
            to: audience, lease: lease)
    }

    /// Publishes a draft: its type must be known to the application, a built-in type's data must
    /// match the type's model, and the event is durable (its deliveries created) when this returns.
    /// Errors are `EventError`s naming the member at fault.
    public func publish(
        _ draft: Draft, applicationID: String, origin: Origin = .client, to audience: Audience = .subscribers,
        lease: PublishLease? = nil
    ) async throws -> Published {
        let (event, request) = try await prepare(draft, applicationID: applicationID, origin: origin, to: audience, lease: lease)
        do {
            return Published(event: event, result: try await publisher.publish(request))
        } catch {
            throw Self.publishError(error, origin: origin)
        }
    }

    /// One event of `publish(inOrder:)`.
    public struct Submission: Sendable {
        public var draft: Draft
        public var applicationID: String
        public var origin: Origin
        public var audience: Audience

        public init(_ draft: Draft, applicationID: String, origin: Origin, to audience: Audience) {
            self.draft = draft
            self.applicationID = applicationID
            self.origin = origin
            self.audience = audience
        }
    }

    /// Publishes several events, each checked as `publish` checks one, into the event log in the
    /// order given (queued together, so they share commits rather than each waiting for its own).
    /// Each has its own result: one that fails its check or its commit fails alone.
    public func publish(inOrder submissions: [Submission]) async -> [Result<Published, any Error>] {
        var results = [Result<Published, any Error>?](repeating: nil, count: submissions.count)
        var prepared: [(index: Int, event: OutboundEvent)] = []
        var requests: [PublishRequest] = []
        prepared.reserveCapacity(submissions.count)
        requests.reserveCapacity(submissions.count)
        for (index, submission) in submissions.enumerated() {
            do {
                let (event, request) = try await prepare(
                    submission.draft, applicationID: submission.applicationID, origin: submission.origin, to: submission.audience, lease: nil)
                prepared.append((index, event))
                requests.append(request)
            } catch {
                results[index] = .failure(error)
            }
        }
        let committed = await publisher.publish(inOrder: requests)
        for (position, (index, event)) in prepared.enumerated() {
            let origin = submissions[index].origin
            results[index] = committed[position].map { Published(event: event, result: $0) }.mapError { Self.publishError($0, origin: origin) }
        }
        return results.map { $0 ?? .failure(PublisherClosedError()) }
    }

    /// A draft checked against its type and made into the event and its publish request.
    private func prepare(
        _ draft: Draft, applicationID: String, origin: Origin, to audience: Audience, lease: PublishLease?
    ) async throws -> (OutboundEvent, PublishRequest) {
        if origin == .client, registry.emittedByBankHooks.contains(draft.type) {
            throw EventError(.invalidField, at: "/type", "`\(draft.type)` is sent by BankHooks itself and cannot be published")
        }
        let resolved = try await registry.require(draft.type, applicationID: applicationID, pointer: "/type")
        var subject: String?
        if let definition = resolved.definition {
            do {
                _ = try definition.decode(Data(draft.data))
            } catch {
                throw EventError(
                    .invalidData, at: "/data" + error.pointer,
                    "`\(draft.type)` data \(error.pointer.isEmpty ? "" : "at \(error.pointer) ")\(error.reason)")
            }
            // Okra callbacks are about a record: `GET /v1/callback?record=` finds them by it.
            if definition.family == .okra {
                let members = Self.members(of: draft.data)
                subject = members.strings["record"]
                // A record is an Okra id (24 hex digits); the bound keeps the lookup index's rows small.
                if let record = subject, record.utf8.count > Self.maxRecordBytes || record.utf8.contains(0) {
                    throw EventError(.invalidField, at: "/data/record", "`record` is at most \(Self.maxRecordBytes) bytes, without NUL characters")
                }
                for reserved in ["callback_type", "callback_code"] where members.names.contains(reserved) {
                    throw EventError(.invalidField, at: "/data/\(reserved)", "`\(reserved)` comes from the event type (`\(draft.type)`); leave it out of data")
                }
            }
        }
        let now = clock.now()
        let event = OutboundEvent(
            id: draft.id ?? Identifier.make("evt", at: now), type: draft.type, timestamp: draft.timestamp ?? now,
            timestampText: draft.timestampText, data: draft.data)
        var request = PublishRequest(
            applicationID: applicationID, eventID: event.id, idempotencyKey: draft.idempotencyKey, type: event.type,
            timestamp: event.timestamp, timestampText: event.timestampText, data: event.data, subject: subject,
            explicitOnly: draft.type == LeanFormat.callbackEventType, lease: lease)
        switch audience {
        case .subscribers: request.formats = registry.formatsCarrying(resolved.family)
        case .webhook(let id): request.onlyWebhookID = id
        }
        return (event, request)
    }

    /// A commit's failure as the caller sees it.
    private static func publishError(_ error: any Error, origin: Origin) -> any Error {
        guard let storeError = error as? StoreError, storeError.code == .notFound else { return error }
        // The application was deleted while this publish was on its way (an API key is cached
        // for a few seconds): the caller's state, not a server failure.
        let whose = origin == .client ? "the application of this API key" : "the application"
        return EventError(.applicationDeleted, at: nil, "\(whose) was deleted; nothing was published")
    }

    /// The top-level member names of a JSON object, and its string members.
    private static func members(of object: [UInt8]) -> (names: Set<String>, strings: [String: String]) {
        object.withUnsafeBytes { bytes in
            guard let found = try? JSONScanner.objectMembers(of: bytes) else { return ([], [:]) }
            var strings: [String: String] = [:]
            for member in found where member.kind == .string {
                strings[member.key] = JSONScanner.decodeString(bytes, range: member.valueRange)
            }
            return (Set(found.map(\.key)), strings)
        }
    }
}

/// A publish or a subscription that cannot be done, naming the member at fault (a JSON pointer
/// into the publish body or the webhook body).
public struct EventError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// A member has a value it may not have.
        case invalidField
        /// Neither the catalog nor the application knows the type.
        case unknownType
        /// A built-in type's data does not match its model.
        case invalidData
        /// A webhook's format cannot carry the type.
        case formatMismatch
        /// The application went away while the publish was on its way.
        case applicationDeleted
    }

    public var code: Code
    public var pointer: String?
    public var message: String

    public init(_ code: Code, at pointer: String?, _ message: String) {
        self.code = code
        self.pointer = pointer
        self.message = message
    }

    public var description: String { pointer.map { "\($0): \(message)" } ?? message }
}
