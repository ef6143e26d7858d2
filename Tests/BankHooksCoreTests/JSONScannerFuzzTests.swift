import BankHooksCore
import BankHooksTestSupport
import Foundation
import Testing

/// A seeded property test of the JSON scanner over a million inputs: generated documents (some
/// with a repeated member name, boundary numbers, long digit runs, deep nesting, every escape and
/// multi-byte UTF-8), the same documents mutated (bytes flipped, inserted, deleted, cut short,
/// digit runs spliced in) and plain random bytes. Each input is checked against Foundation's
/// `JSONSerialization` on validity, with its known departures from RFC 8259 accounted for one by
/// one; generated documents are also checked member by member against what was generated. The
/// seed of each case is fixed, so a failure names an input that reproduces.
@Suite struct JSONScannerFuzzTests {
    static let inputsPerCase = 125_000
    static let seeds: [UInt64] = [1, 2, 3, 4, 5, 6, 7, 8] // 8 × 125,000 = 10^6 inputs

    @Test(arguments: seeds)
    func fuzzScannerAgainstJSONSerialization(seed: UInt64) throws {
        var gen = JSONGenerator(seed: seed)
        var stats = Stats()
        for n in 0..<Self.inputsPerCase {
            let input: [UInt8]
            var model: JSONGenerator.Document?
            switch n % 8 {
            case 0: input = gen.randomBytes()
            case 1, 2, 3:
                var doc = gen.document()
                gen.mutate(&doc.bytes)
                input = doc.bytes
            default:
                let doc = gen.document()
                input = doc.bytes
                model = doc
            }
            try check(input, model: model, seed: seed, index: n, stats: &stats)
        }
        // The inputs reach every interesting path (so the property is not vacuous).
        #expect(stats.accepted > Self.inputsPerCase / 4, "\(stats)")
        #expect(stats.rejected > Self.inputsPerCase / 4, "\(stats)")
        #expect(stats.duplicates > 1000 && stats.tooDeep > 1000 && stats.trailingCommas > 100 && stats.hugeNumbers > 1000, "\(stats)")
    }

    struct Stats: CustomStringConvertible {
        var accepted = 0, rejected = 0, duplicates = 0, tooDeep = 0, trailingCommas = 0, hugeNumbers = 0
        var description: String {
            "accepted \(accepted), rejected \(rejected), duplicates \(duplicates), too deep \(tooDeep), trailing commas \(trailingCommas), huge numbers \(hugeNumbers)"
        }
    }

    func check(_ input: [UInt8], model: JSONGenerator.Document?, seed: UInt64, index: Int, stats: inout Stats) throws {
        func describe() -> String { "seed \(seed) input \(index): \(String(decoding: input.prefix(300), as: UTF8.self).debugDescription)" }
        var scanned: Result<[JSONMember]?, JSONSyntaxError>
        do {
            scanned = .success(try input.withUnsafeBytes { try JSONScanner.objectMembers(of: $0) })
        } catch let error as JSONSyntaxError {
            scanned = .failure(error)
        }
        // Foundation guesses UTF-16 or UTF-32 from NUL bytes among the first four (RFC 4627's old
        // detection: "\u{0}5" is a UTF-16 "5"); RFC 8259 JSON is UTF-8 only, so such inputs have no reference.
        let reference = input.prefix(4).contains(0) ? nil : try? JSONSerialization.jsonObject(with: Data(input), options: [.fragmentsAllowed])
        if input.prefix(4).contains(0), case .success = scanned {
            Issue.record("accepted a document with a NUL outside strings: \(describe())")
        }
        switch scanned {
        case .success(let members):
            stats.accepted += 1
            if reference == nil {
                // RFC 8259 allows any number; Foundation refuses one beyond Double's range.
                guard Self.hasNumberBeyondDouble(input) else { Issue.record("accepted what JSONSerialization refuses: \(describe())"); return }
                stats.hugeNumbers += 1
            } else if let members {
                let object = try #require(reference as? [String: Any], "an object the reference did not read as one: \(describe())")
                // (Swift strings, and so Foundation's dictionary keys, merge canonically equivalent names.)
                #expect(Set(members.map(\.key)) == Set(object.keys), "members differ: \(describe())")
                for member in members where member.kind == .string && members.filter({ $0.key == member.key }).count == 1 {
                    let decoded = input.withUnsafeBytes { JSONScanner.decodeString($0, range: member.valueRange) }
                    #expect(decoded == object[member.key] as? String, "string \(member.key) decoded differently: \(describe())")
                }
            } else {
                #expect(!(reference is [String: Any]), "an object reported as another kind: \(describe())")
            }
            if let model {
                #expect(model.duplicatePointer == nil, "a repeated member name was accepted: \(describe())")
                let members = try #require(members, "a generated object without members: \(describe())")
                #expect(members.map(\.key) == model.members.map(\.key), "\(describe())")
                for (member, expected) in zip(members, model.members) {
                    #expect(Array(input[member.valueRange]) == expected.value, "value range of \(member.key): \(describe())")
                }
            }
        case .failure(let error):
            stats.rejected += 1
            #expect(error.offset >= 0 && error.offset <= input.count, "offset out of the input: \(describe())")
            if let model {
                if let pointer = model.duplicatePointer {
                    // The first repeated name in document order is the generated one, unless nesting ran out first.
                    if !(model.isTooDeep && !error.isDuplicateMember) {
                        #expect(error.isDuplicateMember && error.pointer == pointer, "expected the repeat at \(pointer), got \(error) at \(error.pointer): \(describe())")
                    }
                } else if !model.isTooDeep {
                    Issue.record("refused a generated document: \(error) at \(error.pointer): \(describe())")
                }
            }
            guard reference != nil else { return }
            // Foundation accepts these; RFC 8259 (and so the scanner) does not.
            if error.isDuplicateMember {
                stats.duplicates += 1
            } else if error.reason.hasPrefix("nesting deeper") {
                stats.tooDeep += 1
            } else if Self.isTrailingComma(input, at: error.offset) {
                stats.trailingCommas += 1
            } else if input.starts(with: [0xEF, 0xBB, 0xBF]) {
                // A byte order mark: RFC 8259 §8.1 says it must not be added.
            } else {
                Issue.record("refused what JSONSerialization accepts: \(error): \(describe())")
            }
        }
    }

    /// The error is at `}` or `]` right after a `,` (whitespace between): a trailing comma.
    static func isTrailingComma(_ input: [UInt8], at offset: Int) -> Bool {
        guard offset < input.count, input[offset] == UInt8(ascii: "}") || input[offset] == UInt8(ascii: "]") else { return false }
        var i = offset - 1
        while i >= 0, [0x20, 0x09, 0x0A, 0x0D].contains(input[i]) { i -= 1 }
        return i >= 0 && input[i] == UInt8(ascii: ",")
    }

    /// Whether a number token outside strings is beyond Double's range (Foundation refuses those).
    static func hasNumberBeyondDouble(_ input: [UInt8]) -> Bool {
        var i = 0
        while i < input.count {
            let c = input[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                while i < input.count, input[i] != UInt8(ascii: "\"") { i += input[i] == UInt8(ascii: "\\") ? 2 : 1 }
                i += 1
            } else if c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) {
                let start = i
                while i < input.count, "0123456789+-.eE".utf8.contains(input[i]) { i += 1 }
                if let value = Double(String(decoding: input[start..<i], as: UTF8.self)), !value.isFinite { return true }
            } else {
                i += 1
            }
        }
        return false
    }

    /// The generator itself is checked: documents it calls valid are valid to Foundation too.
    @Test func fuzzGeneratorMakesValidDocuments() throws {
        var gen = JSONGenerator(seed: 99)
        for _ in 0..<2000 {
            let doc = gen.document()
            guard !doc.isTooDeep, !Self.hasNumberBeyondDouble(doc.bytes) else { continue }
            #expect((try? JSONSerialization.jsonObject(with: Data(doc.bytes))) != nil, "\(String(decoding: doc.bytes, as: UTF8.self))")
        }
    }
}

/// Seeded JSON documents with a record of what they contain.
struct JSONGenerator {
    var rng: SeededGenerator

    init(seed: UInt64) { rng = SeededGenerator(state: seed) }

    struct Document {
        var bytes: [UInt8] = []
        /// The top-level members: decoded name and the exact bytes of the value.
        var members: [(key: String, value: [UInt8])] = []
        /// The pointer of the generated repeated member name, if one was put in.
        var duplicatePointer: String?
        /// Whether it nests deeper than the scanner's 64 levels.
        var isTooDeep = false
    }

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }

    static let whitespace: [[UInt8]] = [[], [], [], [0x20], [0x0A], [0x20, 0x20], [0x09], [0x0D, 0x0A]]
    mutating func space(_ out: inout [UInt8]) { out += Self.whitespace[int(Self.whitespace.count)] }

    /// Names, some sharing a decoded form with a differently written one (so repeats hide behind escapes).
    static let names: [(written: String, decoded: String)] = [
        ("a", "a"), ("\\u0061", "a"), ("b", "b"), ("id", "id"), ("i\\u0064", "id"), ("x/y", "x/y"), ("m~n", "m~n"),
        ("é", "é"), ("\\u00e9", "é"), ("e\\u0301", "e\u{301}"), ("😀", "😀"), ("\\ud83d\\ude00", "😀"), ("", ""),
        ("\\\"q\\\"", "\"q\""), ("tab\\t", "tab\t"), ("type", "type"), ("data", "data"), ("k0", "k0"), ("k1", "k1"), ("k2", "k2"),
    ]
    static let numbers = [
        "0", "-0", "1", "-1", "42", "0.5", "-0.0", "1e5", "1E+5", "2.5e-3", "123.456e-7", "9223372036854775807",
        "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1.7976931348623157e308", "1e308", "5e-324", "1e-400",
        "1e309", "-1e400", "0e0", "3.141592653589793238462643383279",
    ]
    static let stringPieces = [
        "plain", " ", "\\n", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\r", "\\t", "\\u0000", "\\u001f", "\\u00e9", "\\ud83d\\ude00",
        "\\uFFFF", "é", "€", "𝄞", "😀", "\u{7F}", "~", "/",
    ]

    static let numberBytes = numbers.map { Array($0.utf8) }
    static let pieceBytes = stringPieces.map { Array($0.utf8) }
    static let literals = ["true", "false", "null"].map { Array($0.utf8) }

    mutating func name() -> (written: String, decoded: String) { Self.names[int(Self.names.count)] }

    mutating func number(_ out: inout [UInt8]) {
        switch int(10) {
        case 0:
            // A long run of digits, sometimes with a fraction or an exponent.
            out.append(UInt8(ascii: "1") + UInt8(int(9)))
            for _ in 0..<(1 + int(400)) { out.append(UInt8(ascii: "0") + UInt8(int(10))) }
            if chance(30) { out += Array(".5".utf8) }
            if chance(30) { out += Array("e-2".utf8) }
        default:
            out += Self.numberBytes[int(Self.numberBytes.count)]
        }
    }

    mutating func string(_ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for _ in 0..<int(4) { out += Self.pieceBytes[int(Self.pieceBytes.count)] }
        out.append(UInt8(ascii: "\""))
    }

    /// A value at `depth` (the document object is depth 0); `path` is its JSON pointer.
    mutating func value(_ out: inout [UInt8], depth: Int, path: String, doc: inout Document) {
        let choice = depth >= 6 ? 2 + int(4) : int(8)
        switch choice {
        case 0, 1: object(&out, depth: depth, path: path, doc: &doc)
        case 2:
            out.append(UInt8(ascii: "["))
            let count = depth >= 6 ? 0 : int(4)
            for i in 0..<count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                space(&out)
                value(&out, depth: depth + 1, path: path + "/\(i)", doc: &doc)
                space(&out)
            }
            out.append(UInt8(ascii: "]"))
        case 3: number(&out)
        case 4: string(&out)
        default: out += Self.literals[int(3)]
        }
    }

    /// An object; returns its members (decoded name, value bytes).
    @discardableResult
    mutating func object(_ out: inout [UInt8], depth: Int, path: String, doc: inout Document) -> [(key: String, value: [UInt8])] {
        var members: [(key: String, value: [UInt8])] = []
        out.append(UInt8(ascii: "{"))
        var used: [String] = []
        let count = depth == 0 ? 1 + int(6) : int(4)
        for i in 0..<count {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            space(&out)
            var key = name()
            let repeatOne = doc.duplicatePointer == nil && !used.isEmpty && chance(3)
            if repeatOne {
                // Write a name already used here, maybe spelled with escapes.
                let target = used[int(used.count)]
                key = Self.names.filter { $0.decoded.utf8.elementsEqual(target.utf8) }.randomElement(using: &rng) ?? (written: target, decoded: target)
                doc.duplicatePointer = path + "/" + key.decoded.jsonPointerToken
            } else if used.contains(where: { $0.utf8.elementsEqual(key.decoded.utf8) }) {
                let fresh = "k\(i)_\(int(1_000_000))"
                key = (written: fresh, decoded: fresh)
            }
            used.append(key.decoded)
            out.append(UInt8(ascii: "\""))
            out += Array(key.written.utf8)
            out.append(UInt8(ascii: "\""))
            space(&out)
            out.append(UInt8(ascii: ":"))
            space(&out)
            let start = out.count
            if depth == 0, chance(2) {
                deep(&out, levels: 55 + int(20), doc: &doc)
            } else {
                value(&out, depth: depth + 1, path: path + "/" + key.decoded.jsonPointerToken, doc: &doc)
            }
            members.append((key: key.decoded, value: Array(out[start...])))
            space(&out)
        }
        out.append(UInt8(ascii: "}"))
        return members
    }

    /// Nesting around the scanner's limit of 64 (the document object counts as one level).
    mutating func deep(_ out: inout [UInt8], levels: Int, doc: inout Document) {
        if levels + 1 > 64 { doc.isTooDeep = true }
        var closers: [UInt8] = []
        for _ in 0..<levels {
            if chance(50) { out += Array("[".utf8); closers.append(UInt8(ascii: "]")) } else { out += Array("{\"n\":".utf8); closers.append(UInt8(ascii: "}")) }
        }
        out += Array("0".utf8)
        out += closers.reversed()
    }

    /// A generated top-level object.
    mutating func document() -> Document {
        var doc = Document()
        var out: [UInt8] = []
        space(&out)
        doc.members = object(&out, depth: 0, path: "", doc: &doc)
        space(&out)
        doc.bytes = out
        return doc
    }

    static let structural = Array("{}[]\":,.-+eE0123456789 \\tfnrlu/\u{0}\u{1F}".utf8)

    /// Bytes that are mostly JSON's own characters.
    mutating func randomBytes() -> [UInt8] {
        (0..<int(33)).map { _ in chance(80) ? Self.structural[int(Self.structural.count)] : UInt8(truncatingIfNeeded: rng.next()) }
    }

    /// One to three mutations of a document.
    mutating func mutate(_ bytes: inout [UInt8]) {
        for _ in 0..<(1 + int(3)) {
            let at = bytes.isEmpty ? 0 : int(bytes.count)
            switch int(8) {
            case 0 where !bytes.isEmpty: bytes[at] = Self.structural[int(Self.structural.count)]
            case 1 where !bytes.isEmpty: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            case 2 where !bytes.isEmpty: bytes.remove(at: at)
            case 3: bytes.insert(Self.structural[int(Self.structural.count)], at: at)
            case 4: bytes.removeSubrange(at...)
            case 5: bytes.insert(contentsOf: (0..<(1 + int(500))).map { _ in UInt8(ascii: "0") + UInt8(int(10)) }, at: at)
            case 6:
                // A trailing comma: before the last closing bracket.
                if let close = bytes.lastIndex(where: { $0 == UInt8(ascii: "}") || $0 == UInt8(ascii: "]") }) { bytes.insert(UInt8(ascii: ","), at: close) }
            default:
                // A copy of a slice elsewhere: repeats members, brackets and escapes.
                guard !bytes.isEmpty else { continue }
                let length = min(bytes.count - at, 1 + int(24))
                bytes.insert(contentsOf: bytes[at..<at + length], at: int(bytes.count))
            }
        }
    }
}
