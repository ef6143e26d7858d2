import Foundation

/// Finds the members of a top-level JSON object and the exact byte range of each value, so data
/// can be handed on without re-serialising it. Values are checked only as far as needed to skip
/// them; JSONDecoder validates the data it decodes.
struct EnvelopeScanner {
    struct Member {
        var key: String
        /// The key with its quotes.
        var keyRange: Range<Int>
        var valueRange: Range<Int>
    }

    struct Failure: Error {
        var reason: String
    }

    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    func topLevelMembers() throws(Failure) -> [Member] {
        var index = skipWhitespace(0)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else {
            throw Failure(reason: index < bytes.count ? "expected `{` at byte \(index)" : "the body is empty")
        }
        index = skipWhitespace(index + 1)
        var members: [Member] = []
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            try requireEnd(index + 1)
            return members
        }
        while true {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw Failure(reason: "expected a member name at byte \(index)")
            }
            let (key, keyEnd) = try string(at: index)
            let keyRange = index..<keyEnd
            index = skipWhitespace(keyEnd)
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw Failure(reason: "expected `:` after member `\(key)` at byte \(index)")
            }
            index = skipWhitespace(index + 1)
            let valueEnd = try skipValue(at: index, depth: 0)
            members.append(Member(key: key, keyRange: keyRange, valueRange: index..<valueEnd))
            index = skipWhitespace(valueEnd)
            guard index < bytes.count else { throw Failure(reason: "the object is not closed") }
            if bytes[index] == UInt8(ascii: ",") {
                index = skipWhitespace(index + 1)
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else {
                throw Failure(reason: "expected `,` or `}` at byte \(index)")
            }
            try requireEnd(index + 1)
            return members
        }
    }

    func isNull(_ range: Range<Int>) -> Bool {
        bytes[range].elementsEqual("null".utf8)
    }

    /// The decoded text of a string value; nil if the value is not a string.
    func stringValue(_ range: Range<Int>) -> String? {
        guard !range.isEmpty, bytes[range.lowerBound] == UInt8(ascii: "\""),
              let (text, end) = try? string(at: range.lowerBound), end == range.upperBound
        else { return nil }
        return text
    }

    private func requireEnd(_ index: Int) throws(Failure) {
        let rest = skipWhitespace(index)
        guard rest == bytes.count else { throw Failure(reason: "unexpected bytes after the object at byte \(rest)") }
    }

    private func skipWhitespace(_ start: Int) -> Int {
        var index = start
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        return index
    }

    /// The end of the value starting at `start`.
    private func skipValue(at start: Int, depth: Int) throws(Failure) -> Int {
        guard depth < 512 else { throw Failure(reason: "nested too deeply at byte \(start)") }
        guard start < bytes.count else { throw Failure(reason: "expected a value at the end of the body") }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return try string(at: start).end
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = bytes[start] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            let isObject = close == UInt8(ascii: "}")
            var index = skipWhitespace(start + 1)
            if index < bytes.count, bytes[index] == close { return index + 1 }
            while true {
                if isObject {
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                        throw Failure(reason: "expected a member name at byte \(index)")
                    }
                    index = skipWhitespace(try string(at: index).end)
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                        throw Failure(reason: "expected `:` at byte \(index)")
                    }
                    index = skipWhitespace(index + 1)
                }
                index = skipWhitespace(try skipValue(at: index, depth: depth + 1))
                guard index < bytes.count else { throw Failure(reason: "a value starting at byte \(start) is not closed") }
                if bytes[index] == UInt8(ascii: ",") {
                    index = skipWhitespace(index + 1)
                } else if bytes[index] == close {
                    return index + 1
                } else {
                    throw Failure(reason: "expected `,` or `\(Character(Unicode.Scalar(close)))` at byte \(index)")
                }
            }
        default:
            // A number or a literal: up to the next delimiter.
            var index = start
            while index < bytes.count, !",}] \t\r\n".utf8.contains(bytes[index]) { index += 1 }
            let token = bytes[start..<index]
            let valid: Bool
            if token.elementsEqual("true".utf8) || token.elementsEqual("false".utf8) || token.elementsEqual("null".utf8) {
                valid = true
            } else {
                valid = !token.isEmpty && token.allSatisfy { "0123456789+-.eE".utf8.contains($0) }
            }
            guard valid else { throw Failure(reason: "unexpected value at byte \(start)") }
            return index
        }
    }

    /// Decodes the string starting at the quote at `start`; returns its text and the index after
    /// its closing quote.
    private func string(at start: Int) throws(Failure) -> (text: String, end: Int) {
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        var index = start + 1
        func flush() {
            if !raw.isEmpty {
                scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
                raw.removeAll(keepingCapacity: true)
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                flush()
                return (String(scalars), index + 1)
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else { break }
                let escape = bytes[index + 1]
                index += 2
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): raw.append(escape)
                case UInt8(ascii: "b"): raw.append(0x08)
                case UInt8(ascii: "f"): raw.append(0x0C)
                case UInt8(ascii: "n"): raw.append(0x0A)
                case UInt8(ascii: "r"): raw.append(0x0D)
                case UInt8(ascii: "t"): raw.append(0x09)
                case UInt8(ascii: "u"):
                    guard var unit = hex4(at: index) else { throw Failure(reason: "invalid \\u escape at byte \(index - 2)") }
                    index += 4
                    if (0xD800..<0xDC00).contains(unit), index + 1 < bytes.count,
                       bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                       let low = hex4(at: index + 2), (0xDC00..<0xE000).contains(low) {
                        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                    flush()
                    scalars.append(Unicode.Scalar(unit) ?? "\u{FFFD}")
                default:
                    throw Failure(reason: "invalid escape at byte \(index - 2)")
                }
                continue
            case 0x00..<0x20:
                throw Failure(reason: "control character in a string at byte \(index)")
            default:
                raw.append(byte)
                index += 1
                continue
            }
            break
        }
        throw Failure(reason: "a string starting at byte \(start) is not closed")
    }

    private func hex4(at index: Int) -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }
}
