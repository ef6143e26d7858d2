import Foundation

/// A received event, unwrapped from its format's envelope and decoded into its catalog model.
public struct ReceivedEvent: Sendable {
    /// The catalog type name (`entity.created`, `TRANSACTIONS.INITIAL_TRANSACTIONS`, `item.created`).
    public var type: String
    /// The idempotency key: the `webhook-id` header (standard, okra) or Lean's `event_id`; nil
    /// when the format has none (Bridge, Lean's Callback URL).
    public var eventID: String?
    /// The envelope's timestamp as text: ISO 8601 (standard, lean) or Bridge's integer; nil when
    /// the envelope has none (okra, Lean's Callback URL).
    public var timestamp: String?
    /// `data` decoded into the type's model; cast it to the model (`as? LeanEntity`, `as? OkraTransactionsCallback`).
    public var data: any CatalogEvent
    /// The bytes `data` was decoded from, exactly as they appear in the body (for okra: the body
    /// object without `callback_type` and `callback_code`, its other members' bytes unchanged).
    public var rawData: [UInt8]

    public init(type: String, eventID: String?, timestamp: String?, data: any CatalogEvent, rawData: [UInt8]) {
        self.type = type
        self.eventID = eventID
        self.timestamp = timestamp
        self.data = data
        self.rawData = rawData
    }
}

/// An event unwrapped from its envelope, before its data is decoded. Reading the envelope needs
/// no catalog, so it also serves types the catalog does not know.
public struct EventEnvelope: Hashable, Sendable {
    public var type: String
    public var eventID: String?
    public var timestamp: String?
    /// The event's data, as in `ReceivedEvent.rawData`.
    public var rawData: [UInt8]

    public init(type: String, eventID: String?, timestamp: String?, rawData: [UInt8]) {
        self.type = type
        self.eventID = eventID
        self.timestamp = timestamp
        self.rawData = rawData
    }
}

/// Why a body could not be read as an event. `description` says what was wrong.
public struct EventDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// The format name is not one of standard, lean, okra, bridge.
        case unknownFormat
        /// The body is not a JSON object.
        case malformedBody
        /// The envelope lacks a member the format requires, or has it with the wrong JSON type.
        case missingField
        /// The type is not in the catalog.
        case unknownType
        /// `data` does not decode into the type's model; `dataError` says where and why.
        case invalidData
    }

    public var kind: Kind
    public var message: String
    /// For `invalidData`: the JSON pointer into `data` and what was expected there.
    public var dataError: EventDataError?

    public init(_ kind: Kind, _ message: String, dataError: EventDataError? = nil) {
        self.kind = kind
        self.message = message
        self.dataError = dataError
    }

    public var description: String { message }
}

/// Unwraps each format's envelope and decodes the event's data into its catalog model.
public enum EventDecoder {
    /// Reads `body` in the envelope of `format` and decodes its data with the catalog's model for
    /// its type:
    /// - standard `{"type","timestamp","data"}`, event id from the `webhook-id` header;
    /// - lean `{"type","message","payload","timestamp","event_id"}` (data = `payload`), or Lean's
    ///   Callback URL body (top-level `status`, no `type`): type `bank_link.result`, data = the body;
    /// - okra `{"callback_type","callback_code",…}`: type `CALLBACK_TYPE.CALLBACK_CODE`, data = the
    ///   object without those two members, event id from the `webhook-id` header when present;
    /// - bridge `{"content","timestamp","type"}`: data = `content`, timestamp = the integer as text.
    public static func decode(
        format: String, body: [UInt8], headers: [(name: String, value: String)], catalog: EventCatalog = .builtIn
    ) throws(EventDecodingError) -> ReceivedEvent {
        let envelope = try self.envelope(format: format, body: body, headers: headers)
        guard let definition = catalog[envelope.type] else {
            throw EventDecodingError(.unknownType, "`\(envelope.type)` is not an event type in the catalog")
        }
        let data: any CatalogEvent
        do {
            data = try definition.decode(Data(envelope.rawData))
        } catch {
            throw EventDecodingError(.invalidData, "`\(envelope.type)` data does not match its model: \(error)", dataError: error)
        }
        return ReceivedEvent(
            type: envelope.type, eventID: envelope.eventID, timestamp: envelope.timestamp, data: data, rawData: envelope.rawData)
    }

    /// `decode(format:body:headers:catalog:)` for a parsed request.
    public static func decode(
        format: String, _ request: WebhookRequest, catalog: EventCatalog = .builtIn
    ) throws(EventDecodingError) -> ReceivedEvent {
        try decode(format: format, body: request.body, headers: request.headers, catalog: catalog)
    }

    /// Unwraps the envelope of `format` without decoding the data.
    public static func envelope(
        format: String, body: [UInt8], headers: [(name: String, value: String)]
    ) throws(EventDecodingError) -> EventEnvelope {
        let scanner = EnvelopeScanner(body)
        let members: [EnvelopeScanner.Member]
        do throws(EnvelopeScanner.Failure) {
            members = try scanner.topLevelMembers()
        } catch {
            throw EventDecodingError(.malformedBody, "the \(format) body is not a JSON object: \(error.reason)")
        }
        let object = EnvelopeObject(format: format, scanner: scanner, members: members)
        let webhookID = headers.first { WebhookRequest.sameName($0.name, "webhook-id") }?.value

        switch format {
        case "standard":
            return EventEnvelope(
                type: try object.string("type"), eventID: webhookID,
                timestamp: try object.optionalString("timestamp"), rawData: try object.raw("data"))

        case "lean":
            if object["type"] == nil, object["status"] != nil {
                // Lean's Callback URL: one POST per bank-link attempt, the body is the data.
                return EventEnvelope(type: "bank_link.result", eventID: nil, timestamp: nil, rawData: body)
            }
            return EventEnvelope(
                type: try object.string("type"), eventID: try object.optionalString("event_id"),
                timestamp: try object.optionalString("timestamp"), rawData: try object.raw("payload"))

        case "okra":
            let callbackType = try object.string("callback_type")
            let callbackCode = try object.string("callback_code")
            var data: [UInt8] = [UInt8(ascii: "{")]
            for member in members where member.key != "callback_type" && member.key != "callback_code" {
                if data.count > 1 { data.append(UInt8(ascii: ",")) }
                data.append(contentsOf: body[member.keyRange])
                data.append(UInt8(ascii: ":"))
                data.append(contentsOf: body[member.valueRange])
            }
            data.append(UInt8(ascii: "}"))
            // Okra upper-cases every type it renders: BankHooks' own `webhook.test` arrives as WEBHOOK.TEST.
            var type = "\(callbackType).\(callbackCode)"
            if type == "WEBHOOK.TEST" { type = "webhook.test" }
            return EventEnvelope(type: type, eventID: webhookID, timestamp: nil, rawData: data)

        case "bridge":
            return EventEnvelope(
                type: try object.string("type"), eventID: nil,
                timestamp: try object.integerText("timestamp"), rawData: try object.raw("content"))

        default:
            throw EventDecodingError(.unknownFormat, "unknown format `\(format)`; expected one of \(WebhookVerifier.formats.joined(separator: ", "))")
        }
    }
}

/// The top-level members of an envelope, with typed accessors whose errors name the member.
private struct EnvelopeObject {
    let format: String
    let scanner: EnvelopeScanner
    let members: [EnvelopeScanner.Member]

    /// The first member called `key`.
    subscript(key: String) -> EnvelopeScanner.Member? {
        members.first { $0.key == key }
    }

    func raw(_ key: String) throws(EventDecodingError) -> [UInt8] {
        guard let member = self[key] else {
            throw EventDecodingError(.missingField, "the \(format) body has no `\(key)` member")
        }
        return Array(scanner.bytes[member.valueRange])
    }

    func string(_ key: String) throws(EventDecodingError) -> String {
        guard let value = try optionalString(key) else {
            throw EventDecodingError(.missingField, "the \(format) body has no `\(key)` member")
        }
        return value
    }

    /// The member's string value; nil if absent or null.
    func optionalString(_ key: String) throws(EventDecodingError) -> String? {
        guard let member = self[key], !scanner.isNull(member.valueRange) else { return nil }
        guard let text = scanner.stringValue(member.valueRange) else {
            throw EventDecodingError(.missingField, "`\(key)` in the \(format) body must be a string")
        }
        return text
    }

    /// An integer member's digits as text (a string value is accepted as is); nil if absent or null.
    func integerText(_ key: String) throws(EventDecodingError) -> String? {
        guard let member = self[key], !scanner.isNull(member.valueRange) else { return nil }
        if let text = scanner.stringValue(member.valueRange) { return text }
        let literal = scanner.bytes[member.valueRange]
        let digits = literal.first == UInt8(ascii: "-") ? literal.dropFirst() : literal[...]
        guard !digits.isEmpty, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw EventDecodingError(.missingField, "`\(key)` in the \(format) body must be an integer")
        }
        return String(decoding: literal, as: UTF8.self)
    }
}
