import Foundation

/// An `application/x-www-form-urlencoded` body as a browser sends it (WHATWG URL "application/x-www-form-urlencoded
/// parsing"): `+` is a space, `%XX` a byte, the result UTF-8. Strict where leniency could change
/// meaning: a field named twice, a broken `%` escape or bytes that are not UTF-8 are refused.
struct FormBody: Sendable, Equatable {
    /// Why a body is refused (the page answers 400 with it).
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    private(set) var fields: [String: String] = [:]

    subscript(name: String) -> String? { fields[name] }

    init(fields: [String: String]) {
        self.fields = fields
    }

    init(parsing bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(parts[0])
            let value = parts.count > 1 ? try Self.decode(parts[1]) : ""
            guard fields[name] == nil else { throw Malformed(description: "the field `\(name)` appears more than once") }
            guard !name.contains("\u{0}"), !value.contains("\u{0}") else { throw Malformed(description: "a field holds NUL") }
            fields[name] = value
        }
    }

    /// One name or value: `+` → space, `%XX` → the byte, then UTF-8.
    static func decode(_ text: ArraySlice<UInt8>) throws -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var i = text.startIndex
        while i < text.endIndex {
            let byte = text[i]
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                guard i + 2 < text.endIndex, let high = hexValue(text[i + 1]), let low = hexValue(text[i + 2]) else {
                    throw Malformed(description: "a `%` is not followed by two hex digits")
                }
                bytes.append(high << 4 | low)
                i += 2
            } else {
                bytes.append(byte)
            }
            i += 1
        }
        guard let string = String(validating: bytes, as: UTF8.self) else { throw Malformed(description: "the body is not UTF-8") }
        return string
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The body encoded as a browser would (for tests and the demo): each name and value form-URL-encoded.
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&")
    }

    static func formEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "*"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "): out.append("+")
            default: out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
