import Foundation

/// Which provider's vocabulary an event type belongs to. A provider wire format carries its own
/// family's types; the `standard` format carries every family.
public enum EventFamily: String, Sendable, Codable, CaseIterable {
    /// Lean's webhooks (seed 001) and its Callback URL (seed 000).
    case lean
    /// Okra's callbacks (seed 002): `CALLBACK_TYPE.CALLBACK_CODE`.
    case okra
    /// Bridge's webhooks (seed 004).
    case bridge
    /// BankHooks' own operational events (`webhook.disabled`, `webhook.test`).
    case bankhooks
    /// Types an application registered itself.
    case custom
}

/// The typed model of one event type's `data`. Decoding a published `data` object into it is
/// how BankHooks validates a publish; a receiver decodes the same model.
public protocol CatalogEvent: Codable, Sendable {}

/// One built-in event type: its name, family, description, the JSON Schema of its `data`, and
/// the Swift model that schema describes. A test keeps schema and model in agreement.
public struct EventTypeDefinition: Sendable {
    /// The type name as published (`entity.created`, `TRANSACTIONS.INITIAL_TRANSACTIONS`, `item.created`).
    public let name: String
    public let family: EventFamily
    /// What happened, in one or two sentences.
    public let description: String
    /// JSON Schema (2020-12) of the event's `data`, as JSON text. Uses only: `type` (a name or an
    /// array of names, `"null"` for nullable), `properties`, `required`, `items`, `enum`,
    /// `description`, `format`, `additionalProperties`.
    public let schema: String
    /// The model `data` decodes into.
    public let model: any CatalogEvent.Type
    /// Lean's fixed `message` for the type (lean family only).
    public let message: String?

    public init(name: String, family: EventFamily, description: String, schema: String, model: any CatalogEvent.Type, message: String? = nil) {
        self.name = name
        self.family = family
        self.description = description
        self.schema = schema
        self.model = model
        self.message = message
    }

    /// Decodes `data` into the model; a mismatch names the field and what the schema expects.
    public func decode(_ data: Data) throws(EventDataError) -> any CatalogEvent {
        do {
            return try model.decode(from: data)
        } catch let error as DecodingError {
            throw EventDataError(error, schema: schemaObject)
        } catch {
            throw EventDataError(pointer: "", reason: "\(error)")
        }
    }

    /// The schema parsed into a JSON object.
    public var schemaObject: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(schema.utf8))) as? [String: Any] ?? [:]
    }

    /// Example `data` of the type: the seed's, a payload the provider really sent, or (where the
    /// provider prints none) one BankHooks wrote from the documented fields. Each validates against `schema`.
    public var examples: [CatalogExample] { CatalogExamples.byName[name] ?? [] }

    /// The schema with the examples as its JSON Schema `examples` keyword, as compact JSON text
    /// with sorted keys.
    public var schemaWithExamples: String {
        var object = schemaObject
        let examples = self.examples.compactMap { try? JSONSerialization.jsonObject(with: Data($0.data.utf8)) }
        if !examples.isEmpty { object["examples"] = examples }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return schema }
        return String(decoding: data, as: UTF8.self)
    }
}

/// One example of an event type's `data`, and where it comes from.
public struct CatalogExample: Sendable, Hashable {
    public enum Origin: String, Sendable, Hashable {
        /// A JSON example of the seeds (the providers' documentation), as printed or as its fixture says.
        case seed
        /// A payload the provider really sent (a test fixture names its repository, commit and path).
        case provider
        /// Written by BankHooks from the fields the provider documents, where the provider prints none.
        case bankhooks
    }

    public let origin: Origin
    /// The seed, or the repository, path and commit, or who wrote it.
    public let source: String
    /// The example `data`, as JSON text.
    public let data: String

    init(_ origin: Origin, _ source: String, _ data: String) {
        self.origin = origin
        self.source = source
        self.data = data
    }
}

/// What is wrong with an event's `data`: where (a JSON pointer into `data`) and what was expected.
public struct EventDataError: Error, Hashable, Sendable, CustomStringConvertible {
    /// JSON pointer relative to `data` (`/payload/id`; empty for `data` itself).
    public var pointer: String
    public var reason: String

    public init(pointer: String, reason: String) {
        self.pointer = pointer
        self.reason = reason
    }

    public var description: String { "\(pointer.isEmpty ? "data" : pointer): \(reason)" }
}

/// The built-in event types, by name.
public struct EventCatalog: Sendable {
    public let definitions: [EventTypeDefinition]
    private let byName: [String: Int]

    public init(_ definitions: [EventTypeDefinition]) {
        self.definitions = definitions
        var byName: [String: Int] = [:]
        for (index, definition) in definitions.enumerated() where byName[definition.name] == nil {
            byName[definition.name] = index
        }
        self.byName = byName
    }

    /// Every event type BankHooks knows without registration.
    public static let builtIn = EventCatalog(
        LeanEvents.definitions + OkraEvents.definitions + BridgeEvents.definitions + OperationalEvents.definitions)

    public subscript(name: String) -> EventTypeDefinition? {
        byName[name].map { definitions[$0] }
    }

    /// Decodes `data` into the type's model; a mismatch names the field and what was expected.
    public func validate(type: String, data: Data) throws(EventDataError) {
        guard let definition = self[type] else {
            throw EventDataError(pointer: "", reason: "`\(type)` is not a built-in event type")
        }
        _ = try definition.decode(data)
    }
}

extension CatalogEvent {
    static func decode(from data: Data) throws -> Self {
        try JSONDecoder().decode(Self.self, from: data)
    }
}

extension EventDataError {
    /// Turns a decoding error into a pointer and a reason, using the schema to say what was expected.
    init(_ error: DecodingError, schema: [String: Any]) {
        func pointer(_ path: [any CodingKey]) -> String {
            path.map { key in
                "/" + (key.intValue.map(String.init) ?? key.stringValue)
                    .replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
            }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context):
            let path = context.codingPath + [key]
            self.init(pointer: pointer(path), reason: "is required; expected \(Self.expectation(at: path, in: schema))")
        case .valueNotFound(_, let context):
            self.init(pointer: pointer(context.codingPath), reason: "must not be null; expected \(Self.expectation(at: context.codingPath, in: schema))")
        case .typeMismatch(_, let context):
            self.init(pointer: pointer(context.codingPath), reason: "has the wrong type; expected \(Self.expectation(at: context.codingPath, in: schema))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init(pointer: "", reason: "is not valid JSON: \(context.debugDescription)")
            } else {
                self.init(pointer: pointer(context.codingPath), reason: "is not allowed; expected \(Self.expectation(at: context.codingPath, in: schema))")
            }
        @unknown default:
            self.init(pointer: "", reason: "\(error)")
        }
    }

    /// "a string", "one of \"BUSINESS\", \"PERSONAL\"", "an integer or null": the schema at `path`.
    static func expectation(at path: [any CodingKey], in schema: [String: Any]) -> String {
        var node: [String: Any]? = schema
        for key in path {
            guard let current = node else { break }
            if key.intValue != nil {
                node = current["items"] as? [String: Any]
            } else {
                node = (current["properties"] as? [String: Any])?[key.stringValue] as? [String: Any]
            }
        }
        guard let node else { return "a value this event type defines" }
        if let values = node["enum"] as? [Any] {
            return "one of " + values.map { value -> String in
                if let text = value as? String { return "\"\(text)\"" }
                if value is NSNull { return "null" }
                return "\(value)"
            }.joined(separator: ", ")
        }
        let types: [String] = (node["type"] as? [String]) ?? ((node["type"] as? String).map { [$0] } ?? [])
        guard !types.isEmpty else { return "a value this event type defines" }
        return types.map { type -> String in
            switch type {
            case "object": "an object"
            case "array": "an array"
            case "integer": "an integer"
            case "null": "null"
            default: "a \(type)"
            }
        }.joined(separator: " or ")
    }
}
