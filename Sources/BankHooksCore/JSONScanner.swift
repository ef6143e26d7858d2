/// What kind of JSON value a member holds.
public enum JSONKind: String, Sendable {
    case object, array, string, number, boolean, null
}

/// A JSON syntax error at a byte offset of the input.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Byte offset into the document where the error was found.
    public var offset: Int
    /// What was wrong there.
    public var reason: String
    /// The JSON pointer (RFC 6901) of the value being read when the error was found: `""` for the
    /// document itself; for a repeated member name, the pointer of that member (`/data/a/b`).
    public var pointer: String = ""
    /// The error is a member name that appears twice in one object (RFC 8259 leaves such
    /// documents' meaning to each reader, so they are refused).
    public var isDuplicateMember = false

    public init(offset: Int, reason: String, pointer: String = "", isDuplicateMember: Bool = false) {
        self.offset = offset
        self.reason = reason
        self.pointer = pointer
        self.isDuplicateMember = isDuplicateMember
    }

    public var description: String { "\(reason) at byte \(offset)" }
}

extension String {
    /// The string as one JSON pointer reference token (RFC 6901: `~` is `~0`, `/` is `~1`).
    public var jsonPointerToken: String {
        guard utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return self }
        return replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

/// One member of a JSON object: its decoded key and the byte range of its raw value.
public struct JSONMember: Sendable {
    public var key: String
    public var valueRange: Range<Int>
    public var kind: JSONKind
}

/// A strict, allocation-light JSON (RFC 8259) validator that returns the members of a top-level
/// object as byte ranges. Publish uses it to validate a request and to keep `data` as the exact
/// bytes the client sent, which each wire format then splices into its envelope without
/// re-serialising. Strict means: the RFC's grammar, valid UTF-8, paired surrogates, bounded
/// nesting, and no member name twice in one object (at any depth; names compared by their
/// decoded code points, so `"a"` and `"\u0061"` are the same name).
public struct JSONScanner: ~Copyable {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private let maxDepth: Int
    /// The decoded member names of every object being read, innermost last: one buffer for the
    /// whole document, so checking names for repeats allocates nothing per object.
    private var openNames: [String] = []
    /// Past this many members an object checks repeats with a set instead of a linear scan.
    private static let linearNameLimit = 16

    private init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Validates a whole document that must be an object and returns its members in order.
    public static func objectMembers(of bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) throws(JSONSyntaxError) -> [JSONMember]? {
        var scanner = JSONScanner(bytes, maxDepth: maxDepth)
        scanner.skipWhitespace()
        guard scanner.index < bytes.count else { throw JSONSyntaxError(offset: 0, reason: "empty document") }
        guard bytes[scanner.index] == UInt8(ascii: "{") else {
            _ = try scanner.value(depth: 0)
            try scanner.expectEnd()
            return nil
        }
        var members: [JSONMember] = []
        try scanner.object(depth: 0) { key, range, kind in members.append(JSONMember(key: key, valueRange: range, kind: kind)) }
        try scanner.expectEnd()
        return members
    }

    /// Validates a whole document of any kind and returns its kind.
    public static func validate(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) throws(JSONSyntaxError) -> JSONKind {
        var scanner = JSONScanner(bytes, maxDepth: maxDepth)
        let kind = try scanner.value(depth: 0)
        try scanner.expectEnd()
        return kind
    }

    /// Decodes the JSON string literal at `range` (including its quotes) of `bytes`.
    public static func decodeString(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) -> String? {
        var scanner = JSONScanner(bytes, maxDepth: 1)
        scanner.index = range.lowerBound
        return try? scanner.string(decode: true)
    }

    // MARK: Grammar

    private mutating func expectEnd() throws(JSONSyntaxError) {
        skipWhitespace()
        if index != bytes.count { throw fail("unexpected content after the document") }
    }

    private func fail(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(offset: index, reason: reason) }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONKind {
        skipWhitespace()
        guard index < bytes.count else { throw fail("unexpected end of document") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            try object(depth: depth) { _, _, _ in }
            return .object
        case UInt8(ascii: "["):
            try array(depth: depth)
            return .array
        case UInt8(ascii: "\""):
            _ = try string(decode: false)
            return .string
        case UInt8(ascii: "t"):
            try literal("true"); return .boolean
        case UInt8(ascii: "f"):
            try literal("false"); return .boolean
        case UInt8(ascii: "n"):
            try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try number(); return .number
        default:
            throw fail("unexpected character")
        }
    }

    private mutating func object(depth: Int, member: (String, Range<Int>, JSONKind) -> Void) throws(JSONSyntaxError) {
        guard depth < maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        index += 1 // {
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return }
        let firstName = openNames.count
        defer { openNames.removeSubrange(firstName...) }
        var manyNames: Set<JSONName>?
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let keyOffset = index
            let key = try string(decode: true) ?? ""
            if isRepeated(key, since: firstName, set: &manyNames) {
                throw JSONSyntaxError(
                    offset: keyOffset, reason: "member name \"\(key)\" appears more than once in an object",
                    pointer: "/" + key.jsonPointerToken, isDuplicateMember: true)
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            let start = index
            let kind: JSONKind
            do {
                kind = try value(depth: depth + 1)
            } catch {
                var error = error
                error.pointer = "/" + key.jsonPointerToken + error.pointer
                throw error
            }
            member(key, start..<index, kind)
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of document in an object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return }
            throw fail("expected ',' or '}'")
        }
    }

    /// Whether the object whose names start at `first` in `openNames` already has `key`; records it.
    /// Small objects compare linearly; a large one switches to a set, so a 256 KiB object of
    /// distinct names stays linear in time.
    private mutating func isRepeated(_ key: String, since first: Int, set: inout Set<JSONName>?) -> Bool {
        if set == nil, openNames.count - first < Self.linearNameLimit {
            let length = key.utf8.count
            for k in first..<openNames.count where openNames[k].utf8.count == length && openNames[k].utf8.elementsEqual(key.utf8) { return true }
            openNames.append(key)
            return false
        }
        if set == nil { set = Set(openNames[first...].map(JSONName.init)) }
        return set?.insert(JSONName(key)).inserted == false
    }

    private mutating func array(depth: Int) throws(JSONSyntaxError) {
        guard depth < maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        index += 1 // [
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return }
        var position = 0
        while true {
            do {
                _ = try value(depth: depth + 1)
            } catch {
                var error = error
                error.pointer = "/\(position)" + error.pointer
                throw error
            }
            position += 1
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of document in an array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return }
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of document") }
        let expected = UnsafeRawBufferPointer(start: word.utf8Start, count: count)
        for k in 0..<count where bytes[index + k] != expected[k] { throw fail("invalid literal") }
        index += count
    }

    private mutating func number() throws(JSONSyntaxError) {
        func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard isDigit(index) else { throw fail("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard isDigit(index) else { throw fail("invalid number: digits must follow '.'") }
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard isDigit(index) else { throw fail("invalid number: digits must follow the exponent") }
            while isDigit(index) { index += 1 }
        }
    }

    /// Scans a string literal starting at its opening quote; decodes it when asked.
    private mutating func string(decode: Bool) throws(JSONSyntaxError) -> String? {
        index += 1 // opening quote
        var decoded: [UInt8] = []
        let start = index
        var runStart = index
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            var v: UInt32 = 0
            for k in 0..<4 {
                let c = bytes[at + k]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: return nil
                }
                v = v << 4 | d
            }
            return v
        }
        while true {
            guard index < bytes.count else { throw fail("unterminated string") }
            let c = bytes[index]
            switch c {
            case UInt8(ascii: "\""):
                defer { index += 1 }
                guard decode else { return nil }
                // Without escapes the string is its bytes (short ones need no allocation at all).
                if runStart == start { return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self) }
                decoded.append(contentsOf: bytes[runStart..<index])
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                if decode { decoded.append(contentsOf: bytes[runStart..<index]) }
                guard index + 1 < bytes.count else { throw fail("unterminated escape") }
                let e = bytes[index + 1]
                index += 2
                var scalar: UInt32?
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalar = UInt32(e)
                case UInt8(ascii: "b"): scalar = 0x08
                case UInt8(ascii: "f"): scalar = 0x0C
                case UInt8(ascii: "n"): scalar = 0x0A
                case UInt8(ascii: "r"): scalar = 0x0D
                case UInt8(ascii: "t"): scalar = 0x09
                case UInt8(ascii: "u"):
                    guard let unit = hex4(index) else { throw fail("invalid \\u escape") }
                    index += 4
                    if (0xD800...0xDBFF).contains(unit) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                              let low = hex4(index + 2), (0xDC00...0xDFFF).contains(low) else {
                            throw fail("unpaired surrogate in \\u escape")
                        }
                        index += 6
                        scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(unit) {
                        throw fail("unpaired surrogate in \\u escape")
                    } else {
                        scalar = unit
                    }
                default:
                    index -= 1
                    throw fail("invalid escape")
                }
                if decode, let scalar, let u = Unicode.Scalar(scalar) {
                    decoded.append(contentsOf: String(Character(u)).utf8)
                }
                runStart = index
            case 0x00..<0x20:
                throw fail("control character in string")
            case 0x80...0xFF:
                try skipUTF8Sequence(lead: c)
            default:
                index += 1
            }
        }
    }

    /// Checks one multi-byte UTF-8 sequence (no overlongs, no surrogates, nothing past U+10FFFF).
    private mutating func skipUTF8Sequence(lead: UInt8) throws(JSONSyntaxError) {
        let count: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: count = 1
        case 0xE0: count = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: count = 2
        case 0xED: count = 2; high = 0x9F
        case 0xF0: count = 3; low = 0x90
        case 0xF1...0xF3: count = 3
        case 0xF4: count = 3; high = 0x8F
        default: throw fail("invalid UTF-8")
        }
        guard index + count < bytes.count else { throw fail("invalid UTF-8") }
        let first = bytes[index + 1]
        guard first >= low, first <= high else { throw fail("invalid UTF-8") }
        for k in 1..<count where bytes[index + 1 + k] & 0xC0 != 0x80 {
            throw fail("invalid UTF-8")
        }
        index += count + 1
    }
}

/// A member name compared by its exact code points (Swift's `String` equality would also merge
/// canonically equivalent names, which JSON readers keep apart).
private struct JSONName: Hashable {
    let name: String
    init(_ name: String) { self.name = name }
    static func == (a: JSONName, b: JSONName) -> Bool { a.name.utf8.elementsEqual(b.name.utf8) }
    func hash(into hasher: inout Hasher) {
        var name = name
        name.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
