import Crypto
import Foundation

/// A webhook signing secret: `whsec_` followed by base64 of random bytes (Standard Webhooks).
/// The HMAC key is the decoded bytes.
public struct WebhookSecret: Hashable, Sendable {
    /// The secret as shown once to the user.
    public let text: String

    /// Wraps an existing secret text; nil when it is not `whsec_` + base64 of 24 to 64 bytes.
    public init?(_ text: String) {
        guard text.hasPrefix("whsec_"), let raw = Data(base64Encoded: String(text.dropFirst(6))),
              (24...64).contains(raw.count) else { return nil }
        self.text = text
    }

    /// A new random secret of 32 bytes.
    public static func generate() -> WebhookSecret {
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = rng.next() }
        // The text is built from known-valid parts, so the failable init cannot fail.
        return WebhookSecret(unchecked: "whsec_" + Data(bytes).base64EncodedString())
    }

    private init(unchecked text: String) { self.text = text }

    /// The HMAC key bytes.
    public var keyBytes: [UInt8] {
        Array(Data(base64Encoded: String(text.dropFirst(6))) ?? Data())
    }

    /// The secrets that sign at `now`: the current one, and the previous one until its grace period ends.
    /// (Generic, so stored sealed texts follow the same rule.)
    public static func signing<Secret>(current: Secret, previous: Secret?, previousExpiresAt: Timestamp?, at now: Timestamp) -> [Secret] {
        if let previous, let until = previousExpiresAt, now < until { return [current, previous] }
        return [current]
    }

    /// A symmetric key for signing.
    public var signingKey: SymmetricKey { SymmetricKey(data: keyBytes) }
}

/// Hex and base64 without formatting APIs: they run once per attempt.
public enum Encoding {
    static let lowerHex: [UInt8] = Array("0123456789abcdef".utf8)
    static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Hex digits of `bytes`.
    public static func hex(_ bytes: some Sequence<UInt8>, uppercase: Bool = false) -> String {
        let table = uppercase ? upperHex : lowerHex
        var out = [UInt8]()
        out.reserveCapacity(128)
        for b in bytes {
            out.append(table[Int(b >> 4)])
            out.append(table[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static let base64Table: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard padded base64 of `bytes`.
    public static func base64(_ bytes: some Collection<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let a = iterator.next() {
            let b = iterator.next(), c = iterator.next()
            let n = UInt32(a) << 16 | UInt32(b ?? 0) << 8 | UInt32(c ?? 0)
            out.append(base64Table[Int(n >> 18 & 63)])
            out.append(base64Table[Int(n >> 12 & 63)])
            out.append(b == nil ? UInt8(ascii: "=") : base64Table[Int(n >> 6 & 63)])
            out.append(c == nil ? UInt8(ascii: "=") : base64Table[Int(n & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
