import BankHooksVerify
import Crypto

/// The parts of an event a wire format renders.
public struct OutboundEvent: Sendable {
    public var id: String
    public var type: String
    public var timestamp: Timestamp
    /// The timestamp exactly as the publisher wrote it, when it gave one in UTC (`...Z`); formats
    /// that print a date-time print this text, so sub-millisecond digits survive.
    public var timestampText: String?
    /// The event's data exactly as published (a JSON object).
    public var data: [UInt8]

    public init(id: String, type: String, timestamp: Timestamp, timestampText: String? = nil, data: [UInt8]) {
        self.id = id
        self.type = type
        self.timestamp = timestamp
        self.timestampText = timestampText
        self.data = data
    }

    /// Appends the event's date-time: the publisher's text, or the timestamp in ISO 8601 UTC.
    func appendDateTime(to out: inout [UInt8]) {
        if let timestampText {
            out.append(contentsOf: timestampText.utf8)
        } else {
            timestamp.appendISO8601(to: &out)
        }
    }
}

/// A secret prepared for signing: the key is derived once and reused for every attempt.
public struct SigningKey: Sendable {
    public let secret: WebhookSecret
    public let key: SymmetricKey

    public init(_ secret: WebhookSecret, key: SymmetricKey) {
        self.secret = secret
        self.key = key
    }

    public init(_ secret: WebhookSecret) {
        self.init(secret, key: secret.signingKey)
    }
}

/// How one webhook `format` puts an event on the wire: the envelope, the signature headers, what
/// counts as success and the default retry schedule. One value per format; the dispatcher looks
/// them up by name.
public protocol WireFormat: Sendable {
    /// The format's name as stored on a webhook (`standard`).
    var name: String { get }
    /// The schedule a webhook of this format uses unless it has its own.
    var defaultSchedule: RetrySchedule { get }
    /// How long to wait for the whole response.
    var timeout: Duration { get }
    /// The request body for an event. Depends only on the event, so one rendering serves every
    /// webhook of this format that receives it.
    func body(for event: OutboundEvent) -> [UInt8]
    /// The headers of one attempt, signed with every valid key.
    func headers(for event: OutboundEvent, body: [UInt8], sentAt: Timestamp, keys: [SigningKey]) -> [(name: String, value: String)]
    /// Appends the headers this format adds for one webhook after its signed ones (Okra's bearer
    /// token); none by default. Appends in place, so a format without any costs no allocation.
    func appendExtraHeaders(bearerToken: String?, to headers: inout [(name: String, value: String)])
    /// Whether a response status counts as delivered.
    func isSuccess(status: Int) -> Bool
    /// The event family this format carries; nil carries every family.
    var family: EventFamily? { get }
    /// The HMAC key a secret gives in this format.
    func signingKey(for secret: WebhookSecret) -> SymmetricKey
    /// The event type "Send a test" sends.
    var testEventType: String { get }
    /// The test event sent to `webhookID` (of type `testEventType`), as its catalog model.
    func testEvent(webhookID: String) -> any CatalogEvent
}

extension WireFormat {
    public var family: EventFamily? { nil }
    /// The decoded bytes of the `whsec_` secret (Standard Webhooks).
    public func signingKey(for secret: WebhookSecret) -> SymmetricKey { secret.signingKey }
    public var testEventType: String { "webhook.test" }
    public func appendExtraHeaders(bearerToken: String?, to headers: inout [(name: String, value: String)]) {}

    /// `webhook.test`: `{"webhook_id", "message"}`.
    public func testEvent(webhookID: String) -> any CatalogEvent {
        WebhookTest(webhookID: webhookID, message: "A test event from BankHooks.")
    }

    /// `<prefix><hex MAC of the body>` per key, comma-separated (Lean's and Bridge's headers).
    static func hexSignatures<MAC: HashFunction>(
        _ mac: MAC.Type, prefix: String, body: [UInt8], keys: some Collection<SigningKey>, uppercase: Bool = false
    ) -> String {
        var signatures = ""
        for key in keys {
            if !signatures.isEmpty { signatures.append(",") }
            signatures.append(prefix)
            signatures.append(Encoding.hex(HMAC<MAC>.authenticationCode(for: body, using: key.key), uppercase: uppercase))
        }
        return signatures
    }

    /// Whether this format can carry events of `family`.
    public func carries(_ family: EventFamily) -> Bool {
        guard let own = self.family else { return true }
        return own == family
    }
}

/// Standard Webhooks 1.0: `{"type","timestamp","data"}` and `webhook-id`, `webhook-timestamp`,
/// `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per key).
public struct StandardWebhooksFormat: WireFormat {
    public init() {}

    public var name: String { "standard" }
    public var defaultSchedule: RetrySchedule { .standard }
    public var timeout: Duration { .seconds(15) }

    public func body(for event: OutboundEvent) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(event.data.count + event.type.utf8.count + 64)
        out.append(contentsOf: #"{"type":"#.utf8)
        JSONWriter.appendString(event.type, to: &out)
        out.append(contentsOf: #","timestamp":""#.utf8)
        event.appendDateTime(to: &out)
        out.append(contentsOf: #"","data":"#.utf8)
        out.append(contentsOf: event.data)
        out.append(UInt8(ascii: "}"))
        return out
    }

    public func headers(for event: OutboundEvent, body: [UInt8], sentAt: Timestamp, keys: [SigningKey]) -> [(name: String, value: String)] {
        let seconds = String(sentAt.seconds)
        var signatures = ""
        for key in keys {
            if !signatures.isEmpty { signatures.append(" ") }
            signatures.append("v1,")
            signatures.append(Self.signature(id: event.id, timestamp: seconds, body: body, key: key.key))
        }
        return [
            ("content-type", "application/json"),
            ("webhook-id", event.id),
            ("webhook-timestamp", seconds),
            ("webhook-signature", signatures),
        ]
    }

    public func isSuccess(status: Int) -> Bool { (200..<300).contains(status) }

    /// Base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
    public static func signature(id: String, timestamp: String, body: [UInt8], key: SymmetricKey) -> String {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: Array(id.utf8))
        mac.update(data: [UInt8(ascii: ".")])
        mac.update(data: Array(timestamp.utf8))
        mac.update(data: [UInt8(ascii: ".")])
        mac.update(data: body)
        return Encoding.base64(mac.finalize().withUnsafeBytes { Array($0) })
    }
}

/// The registry of wire formats by name.
public struct WireFormats: Sendable {
    private let formats: [String: any WireFormat]

    public init(_ formats: [any WireFormat]) {
        self.formats = Dictionary(formats.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Every format BankHooks implements.
    public static let builtIn = WireFormats([StandardWebhooksFormat(), LeanFormat(), OkraFormat(), BridgeFormat()])

    public subscript(name: String) -> (any WireFormat)? { formats[name] }

    /// The known format names, sorted.
    public var names: [String] { formats.keys.sorted() }
}

/// Small JSON writing helpers for envelopes.
public enum JSONWriter {
    /// Appends `text` as a JSON string literal.
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(Encoding.lowerHex[Int(byte >> 4)])
                out.append(Encoding.lowerHex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
