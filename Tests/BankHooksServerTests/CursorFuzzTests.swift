import BankHooksCore
@testable import BankHooksServer
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Testing

/// A seeded property test of page cursors (`?cursor=` of the event and delivery lists) over a
/// million inputs: every cursor a list gives out reads back as the same position, and any other
/// text (random, or a real cursor mutated) is either refused with a 400 naming `query:cursor` or
/// is itself exactly a cursor the list could have given out for the position it reads as.
@Suite struct CursorFuzzTests {
    static let inputsPerCase = 250_000
    static let seeds: [UInt64] = [31, 32, 33, 34] // 4 × 250,000 = 10^6 inputs

    static let base64URL = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    static let junk = Array("+/=.%~ \u{0}é".utf8)

    @Test(arguments: seeds)
    func fuzzCursors(seed: UInt64) throws {
        var rng = SeededGenerator(state: seed)
        var accepted = 0
        for n in 0..<Self.inputsPerCase {
            let created = rng.chance(10) ? rng.pick([0, 1, Int64.max, Int64.max - 1]) : Int64(rng.next() >> 1) % 300_000_000_000_000
            let seq = rng.chance(10) ? rng.pick([0, 1, Int64.max]) : Int64(rng.next() >> 1) % 10_000_000_000
            let id = rng.chance(10) ? rng.pick([1, Int64.max]) : 1 + Int64(rng.next() >> 1) % 10_000_000_000
            let eventCursor = PageQuery.encodeCursor(EventCursor(createdAt: created, seq: seq))
            let deliveryCursor = PageQuery.encodeCursor(String(id))
            if n % 2 == 0 {
                // Round trips of what the lists give out.
                #expect(try PageQuery.eventCursor(eventCursor) == EventCursor(createdAt: created, seq: seq), "seed \(seed) #\(n)")
                #expect(try PageQuery.deliveryCursor(deliveryCursor) == id, "seed \(seed) #\(n)")
                continue
            }
            var bytes: [UInt8]
            switch n % 6 {
            case 1: bytes = (0..<rng.int(90)).map { _ in rng.chance(90) ? rng.pick(Self.base64URL) : rng.pick(Self.junk) }
            case 3: bytes = Array(eventCursor.utf8); rng.mutate(&bytes, alphabet: Self.base64URL + Self.junk)
            default:
                // Cursors of keys a list never writes: signs, spaces, extra dots, huge numbers.
                let key = rng.pick(["+5.1", "-5.1", "5.-1", " 5.1", "5..1", "5.1.2", ".", "", "0", "-1", "+1", "1e3",
                                    "99999999999999999999.1", "1.99999999999999999999", "\u{0}", "١٢٣.٤"])
                bytes = Array(PageQuery.encodeCursor(key).utf8)
                if rng.chance(50) { rng.mutate(&bytes, alphabet: Self.base64URL) }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            for kind in 0..<2 {
                do {
                    if kind == 0 {
                        let cursor = try PageQuery.eventCursor(text)
                        #expect(PageQuery.encodeCursor(cursor) == text, "seed \(seed) #\(n): \(text.debugDescription) read as \(cursor)")
                        #expect(cursor.createdAt >= 0 && cursor.seq >= 0)
                    } else {
                        let id = try PageQuery.deliveryCursor(text)
                        #expect(PageQuery.encodeCursor(String(id)) == text && id > 0, "seed \(seed) #\(n): \(text.debugDescription) read as \(id)")
                    }
                    accepted += 1
                } catch let problem as Problem {
                    #expect(problem.status == .badRequest && problem.field == "query:cursor", "seed \(seed) #\(n): \(problem)")
                }
            }
        }
        #expect(accepted > 100, "mutations that stay cursors are reached: \(accepted)")
    }

    /// Cursors a list never gives out are refused, even when they decode to numbers.
    @Test func fuzzSeedCasesOfNonCanonicalCursors() {
        for key in ["+5.1", "-5.1", "5.+1", "5", "5.1.1", "99999999999999999999.1", " 5.1"] {
            #expect(throws: Problem.self) { try PageQuery.eventCursor(PageQuery.encodeCursor(key)) }
        }
        for key in ["+5", "-5", "0", "99999999999999999999", "5.1"] {
            #expect(throws: Problem.self) { try PageQuery.deliveryCursor(PageQuery.encodeCursor(key)) }
        }
        // The same key with non-zero padding bits ("QR" decodes like "QQ"), or with padding written.
        #expect(throws: Problem.self) { try PageQuery.cursor("QR") }
        #expect(throws: Problem.self) { try PageQuery.cursor("QQ==") }
        #expect((try? PageQuery.cursor("QQ")) == "A")
        #expect(throws: Problem.self) { try PageQuery.cursor(String(repeating: "A", count: 68)) }
    }
}
