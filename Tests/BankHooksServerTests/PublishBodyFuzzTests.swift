import BankHooksCore
@testable import BankHooksServer
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Testing

/// A seeded property test of the publish body parser (`PublishBody.parse`, what `POST /v1/events`
/// runs on every body) over a million inputs: generated bodies, valid or with one known fault,
/// the same mutated, and random bytes. A valid body parses to exactly what was generated (`data`
/// byte for byte); a faulty one is refused naming the generated fault's pointer; anything else is
/// parsed into a valid event or refused with a 400/422 problem naming a field, never a crash.
@Suite struct PublishBodyFuzzTests {
    static let inputsPerCase = 125_000
    static let seeds: [UInt64] = [21, 22, 23, 24, 25, 26, 27, 28] // 8 × 125,000 = 10^6 inputs

    /// What a generated body should parse to, or the pointer its one fault should be refused at.
    struct Expected {
        var type = "", data: [UInt8] = [], id: String?, timestamp: Int64?
        var fault: String?
    }

    @Test(arguments: seeds)
    func fuzzPublishBodyParser(seed: UInt64) throws {
        var rng = SeededGenerator(state: seed)
        var parsedCount = 0, refusedCount = 0, faultsCount = 0
        for n in 0..<Self.inputsPerCase {
            var (bytes, expected) = Self.body(using: &rng)
            let isMutated = n % 4 == 1 || n % 4 == 2
            if n % 8 == 3 {
                bytes = (0..<rng.int(40)).map { _ in rng.chance(80) ? rng.pick(Self.alphabet) : UInt8(truncatingIfNeeded: rng.next()) }
            } else if isMutated {
                rng.mutate(&bytes, alphabet: Self.alphabet)
            }
            let isModel = n % 4 == 0 || n % 4 == 3 && n % 8 != 3
            func describe() -> String { "seed \(seed) #\(n): \(String(decoding: bytes.prefix(400), as: UTF8.self).debugDescription)" }
            do {
                let parsed = try bytes.withUnsafeBytes { try PublishBody.parse($0) }
                parsedCount += 1
                if isModel {
                    #expect(expected.fault == nil, "accepted a body with a fault at \(expected.fault ?? ""): \(describe())")
                    #expect(parsed.type == expected.type && parsed.data == expected.data && parsed.id == expected.id
                            && parsed.timestamp?.milliseconds == expected.timestamp, "parsed differently: \(describe())")
                }
                // Whatever is accepted is a valid event.
                #expect(EventTypeName.isValid(parsed.type), "\(describe())")
                #expect(parsed.id.map { Identifier.isAcceptableClientValue(Substring($0)) } ?? true, "\(describe())")
                #expect(parsed.timestamp?.isFormattable ?? true, "\(describe())")
                let dataKind = try parsed.data.withUnsafeBytes { try JSONScanner.validate($0) }
                #expect(dataKind == .object, "\(describe())")
            } catch let problem as Problem {
                refusedCount += 1
                #expect(problem.status == .badRequest || problem.status == .unprocessableContent, "\(problem): \(describe())")
                let field = try #require(problem.field, "a problem naming no field: \(describe())")
                #expect(field.utf8.first == UInt8(ascii: "/"), "\(describe())")
                if isModel {
                    if let fault = expected.fault {
                        faultsCount += 1
                        #expect(field == fault, "refused at \(field) (\(problem.detail)), expected \(fault): \(describe())")
                    } else {
                        Issue.record("refused a valid body: \(problem): \(describe())")
                    }
                }
            }
        }
        #expect(parsedCount > Self.inputsPerCase / 5 && refusedCount > Self.inputsPerCase / 5 && faultsCount > Self.inputsPerCase / 20,
                "parsed \(parsedCount), refused \(refusedCount), generated faults \(faultsCount)")
    }

    static let alphabet = Array(#"{}[]":,.-+eE0123456789 \tfnrlu/typedaimsZT"#.utf8)

    /// A JSON string literal of `text`, some characters written as escapes.
    static func literal(_ text: String, using rng: inout SeededGenerator) -> String {
        func hex(_ value: UInt32) -> String {
            let digits = Array("0123456789abcdef")
            return "\\u" + String([12, 8, 4, 0].map { digits[Int(value >> UInt32($0) & 0xF)] })
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += hex(scalar.value)
            case _ where scalar.value < 0x10000 && rng.chance(5): out += hex(scalar.value)
            case "/" where rng.chance(30): out += "\\/"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A JSON object for `data` at `path`. With `repeats`, a member name may appear twice; the first
    /// such repeat's pointer is recorded in `fault`.
    static func object(depth: Int, path: String, repeats: Bool, fault: inout String?, using rng: inout SeededGenerator) -> String {
        var names: [String] = []
        var members: [String] = []
        for i in 0..<rng.int(depth == 0 ? 5 : 4) {
            var name = rng.pick(["a", "b", "id", "x/y", "m~n", "é", "😀", "status", "k\(i)"])
            if names.contains(name) {
                if repeats, fault == nil, rng.chance(20) {
                    fault = path + "/" + name.jsonPointerToken
                } else {
                    name = "n\(i)"
                }
            }
            names.append(name)
            let inner = value(depth: depth + 1, path: path + "/" + name.jsonPointerToken, repeats: repeats, fault: &fault, using: &rng)
            members.append(literal(name, using: &rng) + rng.pick([":", " : "]) + inner)
        }
        return "{" + members.joined(separator: rng.pick([",", ", ", " ,\n"])) + "}"
    }

    static func value(depth: Int, path: String, repeats: Bool, fault: inout String?, using rng: inout SeededGenerator) -> String {
        switch depth >= 4 ? 2 + rng.int(3) : rng.int(6) {
        case 0, 1: return object(depth: depth, path: path, repeats: repeats, fault: &fault, using: &rng)
        case 2:
            var items: [String] = []
            for i in 0..<rng.int(3) { items.append(value(depth: depth + 1, path: path + "/\(i)", repeats: repeats, fault: &fault, using: &rng)) }
            return "[" + items.joined(separator: ",") + "]"
        case 3: return rng.pick(["0", "-1", "3.25", "1e400", "12345678901234567890123", "-0.0e-7", "true", "false", "null"])
        default: return literal(rng.pick(["", "plain", "é€😀", "line\nbreak", "tab\t", "\u{0}", "q\"uote", "back\\slash"]), using: &rng)
        }
    }

    /// A body, valid or with exactly one fault, and what it should parse to (or where it is refused).
    static func body(using rng: inout SeededGenerator) -> ([UInt8], Expected) {
        var expected = Expected()
        var members: [(name: String, text: String)] = []
        // nil: no fault of the members themselves (data may still repeat a name).
        let faultKind: Int? = rng.chance(60) ? nil : rng.int(9)
        expected.type = rng.pick(["payment.updated", "a.b", "x", "ENTITY:CREATED-1_2", String(repeating: "t", count: 128)])
        switch faultKind {
        case 0: members.append(("type", literal(rng.pick(["", "has space", ".dot", String(repeating: "t", count: 129), "é"]), using: &rng)))
        case 1: members.append(("type", rng.pick(["5", "null", "{}", "[\"a\"]", "true"])))
        case 2: break // missing
        default: members.append(("type", literal(expected.type, using: &rng)))
        }
        var repeated: String?
        let data = object(depth: 0, path: "/data", repeats: faultKind == nil, fault: &repeated, using: &rng)
        switch faultKind {
        case 3: members.append(("data", rng.pick(["[1]", "\"s\"", "null", "7", "true"])))
        case 4: break // missing
        default:
            members.append(("data", data))
            expected.data = Array(data.utf8)
        }
        let hasID = rng.chance(50) || faultKind == 5
        if hasID {
            if faultKind == 5 {
                members.append(("id", literal(rng.pick(["", "has space", String(repeating: "i", count: 256), "é"]), using: &rng)))
            } else {
                let id = rng.pick(["evt-1", "f8752072-cef2-4056-9ff0-d5d2aa1e4558", String(repeating: "i", count: 255), "~!@#$%^&*()"])
                members.append(("id", literal(id, using: &rng)))
                expected.id = id
            }
        }
        if rng.chance(50) || faultKind == 6 {
            if faultKind == 6 {
                let bad = ["0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01", "2021-02-29T00:00:00Z", "yesterday", "2021-09-02T24:00:00Z", "10000-01-01T00:00:00Z"]
                members.append(("timestamp", literal(rng.pick(bad), using: &rng)))
            } else {
                let stamps: [(String, Int64)] = [
                    ("2021-09-02T15:38:54.573Z", 1_630_597_134_573), ("0000-01-01T00:00:00Z", -62_167_219_200_000),
                    ("9999-12-31T23:59:59.999Z", 253_402_300_799_999), ("2021-09-02T17:38:54.5+02:00", 1_630_597_134_500),
                ]
                let (text, ms) = rng.pick(stamps)
                members.append(("timestamp", literal(text, using: &rng)))
                expected.timestamp = ms
            }
        }
        let unknown = rng.pick(["extra", "Type", "data2", "é", "x/y"])
        if faultKind == 7 { members.append((unknown, "1")) }
        members.shuffle(using: &rng)
        if faultKind == 8, let first = members.first { members.append(first) }
        switch faultKind {
        case 0, 1, 2: expected.fault = "/type"
        case 3, 4: expected.fault = "/data"
        case 5: expected.fault = "/id"
        case 6: expected.fault = "/timestamp"
        case 7: expected.fault = "/" + unknown.jsonPointerToken
        case 8: expected.fault = members.first.map { "/" + $0.name.jsonPointerToken }
        default: expected.fault = repeated
        }
        var text = rng.pick(["", " ", "\n"]) + "{"
        for (position, member) in members.enumerated() {
            if position > 0 { text += rng.pick([",", ", ", "\n,"]) }
            text += rng.pick(["", " ", "\n"]) + literal(member.name, using: &rng) + rng.pick([":", " : "]) + member.text
        }
        return (Array((text + rng.pick(["}", " }", "}\n"])).utf8), expected)
    }
}
