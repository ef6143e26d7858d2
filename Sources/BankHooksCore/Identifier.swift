/// Time-ordered identifiers: `prefix_` followed by 26 characters of Crockford base32 holding a
/// 48-bit millisecond time and 80 random bits (the ULID layout, lower case). Ordered by creation
/// time, so they append to the right of B-tree indexes instead of scattering like UUIDv4.
public enum Identifier {
    static let alphabet: [UInt8] = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// A new identifier for `time`.
    public static func make(_ prefix: String, at time: Timestamp) -> String {
        var rng = SystemRandomNumberGenerator()
        return make(prefix, at: time, using: &rng)
    }

    /// A new identifier for `time`, drawing its random part from `rng`.
    public static func make(_ prefix: String, at time: Timestamp, using rng: inout some RandomNumberGenerator) -> String {
        var out = [UInt8]()
        out.reserveCapacity(prefix.utf8.count + 27)
        out.append(contentsOf: prefix.utf8)
        out.append(UInt8(ascii: "_"))
        // 48 bits of time as 10 characters (the top 2 bits of the first are zero).
        let t = UInt64(max(0, time.milliseconds)) & 0xFFFF_FFFF_FFFF
        for shift in stride(from: 45, through: 0, by: -5) {
            out.append(alphabet[Int((t >> UInt64(shift)) & 31)])
        }
        // 80 random bits as 16 characters.
        let high = rng.next() as UInt64
        let low = UInt64(rng.next() as UInt16)
        for shift in stride(from: 59, through: 0, by: -5) {
            out.append(alphabet[Int((high >> UInt64(shift)) & 31)])
        }
        // The remaining 4 bits of `high` and 16 of `low`: 20 bits, 4 characters.
        let tail = ((high & 0xF) << 16) | low
        for shift in stride(from: 15, through: 0, by: -5) {
            out.append(alphabet[Int((tail >> UInt64(shift)) & 31)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A number as keys are written: decimal digits without sign or leading zeros, within Int64
    /// (so no two texts name one key).
    public static func canonicalDecimal(_ text: Substring) -> Int64? {
        guard let first = text.utf8.first, first != UInt8(ascii: "0") || text.utf8.count == 1,
              text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(text)
    }

    /// Whether `text` is acceptable as a client-supplied identifier (event ids, idempotency keys):
    /// 1 to 255 printable ASCII characters without spaces.
    public static func isAcceptableClientValue(_ text: Substring, maxLength: Int = 255) -> Bool {
        var count = 0
        for byte in text.utf8 {
            count += 1
            guard count <= maxLength, byte > 0x20, byte < 0x7F else { return false }
        }
        return count > 0
    }
}
