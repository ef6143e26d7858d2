import BankHooksVerify
import Crypto

/// Lean's webhooks (seed 001): `{"type","message","payload","timestamp","event_id"}` signed with
/// `lean-signature: sha512=<hex HMAC-SHA512 of the body>`, keyed by the secret text as shown.
/// The Lean Callback URL body (seed 000, type `bank_link.result`) is the event's data as is.
public struct LeanFormat: WireFormat {
    /// The event type of the Lean Callback URL POST.
    public static let callbackEventType = "bank_link.result"

    public init() {}

    public var name: String { "lean" }
    public var family: EventFamily? { .lean }
    /// Lean retries 1, 2, 5, 10, 60 and 180 minutes after the first send, without jitter.
    public var defaultSchedule: RetrySchedule { RetrySchedule(delays: [0, 60, 60, 180, 300, 3000, 7200].map { .seconds($0) }, jitter: 0) }
    /// Lean gives up waiting after 10 s.
    public var timeout: Duration { .seconds(10) }
    /// Lean counts only 200 as delivered.
    public func isSuccess(status: Int) -> Bool { status == 200 }
    public func signingKey(for secret: WebhookSecret) -> SymmetricKey { SymmetricKey(data: Array(secret.text.utf8)) }

    public func body(for event: OutboundEvent) -> [UInt8] {
        if event.type == Self.callbackEventType { return event.data }
        let message = EventCatalog.builtIn[event.type]?.message ?? ""
        var out = [UInt8]()
        out.reserveCapacity(event.data.count + message.utf8.count + event.type.utf8.count + 120)
        out.append(contentsOf: #"{"type":"#.utf8)
        JSONWriter.appendString(event.type, to: &out)
        out.append(contentsOf: #","message":"#.utf8)
        JSONWriter.appendString(message, to: &out)
        out.append(contentsOf: #","payload":"#.utf8)
        out.append(contentsOf: event.data)
        out.append(contentsOf: #","timestamp":""#.utf8)
        Self.appendTimestamp(of: event, to: &out)
        out.append(contentsOf: #"","event_id":"#.utf8)
        JSONWriter.appendString(EventUUID.uuid(forEventID: event.id), to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Lean's `timestamp`: the publisher's UTC text as written, or else the time in UTC with 6
    /// fractional digits, as Lean documents (`yyyy-MM-dd'T'HH:mm:ss.SSSSSSZ`).
    static func appendTimestamp(of event: OutboundEvent, to out: inout [UInt8]) {
        if let text = event.timestampText {
            out.append(contentsOf: text.utf8)
        } else {
            event.timestamp.appendISO8601(to: &out)
            // Milliseconds, then three zeros before the `Z`: BankHooks keeps time in milliseconds.
            out.removeLast()
            out.append(contentsOf: "000Z".utf8)
        }
    }

    /// The header with the current secret's signature: one `sha512=<hex>`, as Lean documents.
    public static let signatureHeader = "lean-signature"
    /// During a rotation's 24 h overlap, the previous secret's signature (`sha512=<hex>`), for
    /// receivers that keep both secrets; Lean documents no rotation, so `lean-signature` stays one entry.
    public static let previousSignatureHeader = "lean-signature-previous"

    public func headers(for event: OutboundEvent, body: [UInt8], sentAt: Timestamp, keys: [SigningKey]) -> [(name: String, value: String)] {
        var headers = [("content-type", "application/json"), (Self.signatureHeader, Self.hexSignatures(SHA512.self, prefix: "sha512=", body: body, keys: keys.prefix(1)))]
        if keys.count > 1 {
            headers.append((Self.previousSignatureHeader, Self.hexSignatures(SHA512.self, prefix: "sha512=", body: body, keys: keys.dropFirst())))
        }
        return headers
    }
}

/// Okra's callbacks (seed 002): `{"callback_type","callback_code", ...data}` where the type name is
/// `CALLBACK_TYPE.CALLBACK_CODE`. Okra signs nothing; BankHooks sends the webhook's bearer token
/// (`Authorization: Bearer`) when it has one, and the Standard Webhooks headers so the body can be verified.
public struct OkraFormat: WireFormat {
    public init() {}

    public var name: String { "okra" }
    public var family: EventFamily? { .okra }
    public var defaultSchedule: RetrySchedule { .standard }
    public var timeout: Duration { .seconds(15) }
    public func isSuccess(status: Int) -> Bool { (200..<300).contains(status) }

    /// `CALLBACK_TYPE` and `CALLBACK_CODE` of a type name (upper-cased, split at the first dot).
    public static func callback(of type: String) -> (type: String, code: String) {
        guard let dot = type.firstIndex(of: ".") else { return (type.uppercased(), "") }
        return (type[..<dot].uppercased(), type[type.index(after: dot)...].uppercased())
    }

    public func body(for event: OutboundEvent) -> [UInt8] {
        let (callbackType, callbackCode) = Self.callback(of: event.type)
        var out = [UInt8]()
        out.reserveCapacity(event.data.count + 64)
        out.append(contentsOf: #"{"callback_type":"#.utf8)
        JSONWriter.appendString(callbackType, to: &out)
        out.append(contentsOf: #","callback_code":"#.utf8)
        JSONWriter.appendString(callbackCode, to: &out)
        // The data object's members follow: everything after its opening brace.
        var rest = event.data[...]
        while let first = rest.first, first != UInt8(ascii: "{") { rest = rest.dropFirst() }
        rest = rest.dropFirst()
        if let next = rest.first(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }), next != UInt8(ascii: "}") {
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: rest)
        } else {
            out.append(UInt8(ascii: "}"))
        }
        return out
    }

    public func headers(for event: OutboundEvent, body: [UInt8], sentAt: Timestamp, keys: [SigningKey]) -> [(name: String, value: String)] {
        StandardWebhooksFormat().headers(for: event, body: body, sentAt: sentAt, keys: keys)
    }

    /// `Authorization: Bearer <token>` when the webhook has one (Okra's only credential).
    public func appendExtraHeaders(bearerToken: String?, to headers: inout [(name: String, value: String)]) {
        if let bearerToken { headers.append(("authorization", "Bearer " + bearerToken)) }
    }
}

/// Bridge's webhooks (seed 004): `{"content": data, "timestamp": <epoch ms>, "type"}` signed with
/// `BridgeApi-Signature: v1=<UPPERCASE hex HMAC-SHA256 of the body>`, one `v1=` per valid secret.
public struct BridgeFormat: WireFormat {
    /// Bridge's test event type.
    public static let testEventType = "TEST_EVENT"
    /// The content of Bridge's test event (seed 004).
    public static let testEventContent = #"{"item_id":1234567890,"status":0,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"}"#
    /// "Send a test": always exactly this body (seed 004), its timestamp included.
    public static let testEventBody = Array(#"{"content":\#(testEventContent),"timestamp":1611681789,"type":"TEST_EVENT"}"#.utf8)

    public init() {}

    public var name: String { "bridge" }
    public var family: EventFamily? { .bridge }
    public var defaultSchedule: RetrySchedule { .standard }
    public var timeout: Duration { .seconds(15) }
    public func isSuccess(status: Int) -> Bool { (200..<300).contains(status) }
    public func signingKey(for secret: WebhookSecret) -> SymmetricKey { SymmetricKey(data: Array(secret.text.utf8)) }
    public var testEventType: String { Self.testEventType }
    public func testEvent(webhookID: String) -> any CatalogEvent {
        BridgeTestEvent(itemID: 1234567890, status: 0, userUUID: "9a95b38f-f98b-417a-988b-9d0d584893e7")
    }

    public func body(for event: OutboundEvent) -> [UInt8] {
        if event.type == Self.testEventType { return Self.testEventBody }
        var out = [UInt8]()
        out.reserveCapacity(event.data.count + event.type.utf8.count + 48)
        out.append(contentsOf: #"{"content":"#.utf8)
        out.append(contentsOf: event.data)
        out.append(contentsOf: #","timestamp":"#.utf8)
        out.append(contentsOf: String(event.timestamp.milliseconds).utf8)
        out.append(contentsOf: #","type":"#.utf8)
        JSONWriter.appendString(event.type, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    public func headers(for event: OutboundEvent, body: [UInt8], sentAt: Timestamp, keys: [SigningKey]) -> [(name: String, value: String)] {
        let signature = Self.hexSignatures(SHA256.self, prefix: "v1=", body: body, keys: keys, uppercase: true)
        return [("content-type", "application/json"), ("BridgeApi-Signature", signature)]
    }
}

/// Lean's `event_id` is a UUID. An event id that is one is used as is; any other id maps to a
/// stable UUID (version 8, from SHA-256 of the id), so every retry carries the same `event_id`.
public enum EventUUID {
    public static func uuid(forEventID id: String) -> String {
        if isUUID(id) { return id }
        var bytes = Array(SHA256.hash(data: Array(id.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = Array(Encoding.hex(bytes).utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (i, c) in hex.enumerated() {
            if i == 8 || i == 12 || i == 16 || i == 20 { out.append(UInt8(ascii: "-")) }
            out.append(c)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isUUID(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard b.count == 36 else { return false }
        for (i, c) in b.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard c == UInt8(ascii: "-") else { return false }
            } else {
                let isHex = (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
                guard isHex else { return false }
            }
        }
        return true
    }
}
