@testable import BankHooksCore
import BankHooksTestSupport
import Foundation
import Testing

/// Seeded property tests of the two time parsers fed from outside: RFC 3339 timestamps (publish
/// bodies, query parameters) and HTTP-dates (a receiver's Retry-After). A million inputs each:
/// round trips of random times in every form, and mutations of valid texts (digits changed,
/// digit runs spliced in, cut short, separators swapped) checked against an independent reference.
@Suite struct TimeParsingFuzzTests {
    static let inputsPerCase = 250_000
    static let seeds: [UInt64] = [11, 12, 13, 14] // 4 × 250,000 = 10^6 inputs per parser

    // MARK: RFC 3339

    @Test(arguments: seeds)
    func fuzzRFC3339AgainstAReference(seed: UInt64) {
        var rng = SeededGenerator(state: seed)
        var accepted = 0
        for n in 0..<Self.inputsPerCase {
            let ms = Int64.random(in: Timestamp.earliestFormattable.milliseconds...Timestamp.latestFormattable.milliseconds, using: &rng)
            let text: String
            if n % 2 == 0 {
                // A round trip, in the canonical form and in others that name the same instant.
                let canonical = Timestamp(milliseconds: ms).iso8601
                #expect(Timestamp(iso8601: canonical)?.milliseconds == ms, "seed \(seed) #\(n): \(canonical)")
                text = Self.variant(of: ms, using: &rng)
            } else {
                var bytes = Array(Self.variant(of: ms, using: &rng).utf8)
                Self.mutate(&bytes, alphabet: Array("0123456789-:.+TtZz 9".utf8), using: &rng)
                text = String(decoding: bytes, as: UTF8.self)
            }
            let parsed = Timestamp(iso8601: text)
            let expected = ReferenceRFC3339.parse(text)
            #expect(parsed?.milliseconds == expected, "seed \(seed) #\(n): \(text.debugDescription)")
            if let parsed {
                accepted += 1
                #expect(parsed.isFormattable)
                #expect(Timestamp(iso8601: parsed.iso8601) == parsed)
            }
        }
        #expect(accepted > Self.inputsPerCase / 2 && accepted < Self.inputsPerCase, "both paths are reached: \(accepted)")
    }

    /// `ms` written with a random offset, fraction length and letter case; sometimes one that
    /// lands outside years 0000 to 9999.
    static func variant(of ms: Int64, using rng: inout SeededGenerator) -> String {
        let offsetMinutes = rng.next() % 4 == 0 ? 0 : Int64.random(in: -(23 * 60 + 59)...(23 * 60 + 59), using: &rng)
        let local = Timestamp(milliseconds: ms + offsetMinutes * 60_000).iso8601 // yyyy-mm-ddThh:mm:ss.fffZ, clamped
        var text = String(local.prefix(19))
        let fraction = String(local.dropFirst(20).prefix(3))
        switch rng.next() % 4 {
        case 0: break
        case 1: text += "." + fraction
        case 2: text += "." + fraction.prefix(Int(1 + rng.next() % 3))
        default: text += "." + fraction + String((0..<Int(rng.next() % 12)).map { _ in Character(String(rng.next() % 10)) })
        }
        if rng.next() % 8 == 0 { text = text.replacingOccurrences(of: "T", with: "t") }
        if offsetMinutes == 0, rng.next() % 2 == 0 { return text + (rng.next() % 8 == 0 ? "z" : "Z") }
        let magnitude = abs(offsetMinutes)
        let sign = offsetMinutes < 0 ? "-" : "+"
        return text + sign + Self.two(magnitude / 60) + ":" + Self.two(magnitude % 60)
    }

    static func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

    static func mutate(_ bytes: inout [UInt8], alphabet: [UInt8], using rng: inout SeededGenerator) {
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            let at = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count))
            switch rng.next() % 6 {
            case 0 where !bytes.isEmpty: bytes[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            case 1 where !bytes.isEmpty: bytes.remove(at: at)
            case 2: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
            case 3: bytes.removeSubrange(at...)
            case 4: bytes.insert(contentsOf: Array(repeating: UInt8(ascii: "9"), count: 1 + Int(rng.next() % 40)), at: at)
            default: if !bytes.isEmpty { bytes[at] = UInt8(truncatingIfNeeded: rng.next()) }
            }
        }
    }

    // MARK: HTTP-date and Retry-After

    static let now = Timestamp(milliseconds: 1_700_000_000_000) // 2023-11-14

    @Test(arguments: seeds)
    func fuzzHTTPDateRoundTripsAndRefusesWhatItCannotWriteBack(seed: UInt64) {
        var rng = SeededGenerator(state: seed)
        var accepted = 0
        let policy = RetryAfterPolicy()
        for n in 0..<Self.inputsPerCase {
            let seconds = Int64.random(in: Timestamp.earliestFormattable.seconds...Timestamp.latestFormattable.seconds, using: &rng)
            let time = Timestamp(milliseconds: seconds * 1000)
            let form = Form.allCases[Int(rng.next() % 3)]
            let written = Self.httpDate(time, form: form)
            if n % 2 == 0 {
                let inWindow = form != .rfc850 || abs(time.milliseconds - Self.now.milliseconds) < 49 * 365 * 86_400_000
                if inWindow { #expect(HTTPDate.parse(Substring(written), now: Self.now) == time, "seed \(seed) #\(n): \(written)") }
                continue
            }
            var bytes = Array(written.utf8)
            Self.mutate(&bytes, alphabet: Array("0123456789 :,-GMTSunNovDec".utf8), using: &rng)
            let text = String(decoding: bytes, as: UTF8.self)
            if let parsed = HTTPDate.parse(Substring(text), now: Self.now) {
                accepted += 1
                // Whatever is accepted is an HTTP-date of that very time (only the day name is not
                // checked, and a leap second is read as the next minute's first second).
                // asctime's day may also be written with a leading zero ("Nov 06"): date3 allows 2DIGIT.
                let forms = Form.allCases.map { Self.httpDate(parsed, form: $0) } + [Self.httpDate(parsed, form: .asctime, zeroPadded: true)]
                let again = forms.map { $0.drop { $0 != "," && $0 != " " } }
                let isLeap = text.contains(":60 ") || text.hasSuffix(":60")
                #expect(isLeap || again.contains(text.drop { $0 != "," && $0 != " " }), "seed \(seed) #\(n): \(text.debugDescription) read as \(parsed)")
            }
            // Retry-After: any text is ignored or a delay within the policy's bounds.
            if let delay = policy.delay(for: text, now: Self.now) {
                #expect(delay >= policy.minimum && delay <= policy.maximum, "seed \(seed) #\(n): \(text.debugDescription)")
            }
        }
        #expect(accepted > 1000, "mutations that stay valid are reached: \(accepted)")
    }

    @Test(arguments: seeds)
    func fuzzDeltaSecondsOfAnyLength(seed: UInt64) {
        var rng = SeededGenerator(state: seed)
        let policy = RetryAfterPolicy(minimum: .seconds(1), maximum: .seconds(3600))
        for n in 0..<Self.inputsPerCase {
            let length = 1 + Int(rng.next() % (n % 10 == 0 ? 60 : 6))
            var digits = String((0..<length).map { _ in Character(String(rng.next() % 10)) })
            let isClean = rng.next() % 4 != 0
            if !isClean {
                var bytes = Array(digits.utf8)
                Self.mutate(&bytes, alphabet: Array("0123456789+- .eE\t".utf8), using: &rng)
                digits = String(decoding: bytes, as: UTF8.self)
            }
            let delay = policy.delay(for: digits, now: Self.now)
            let trimmed = digits.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            if !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                // The reference: the decimal value, compared without any integer type.
                let significant = trimmed.drop { $0 == "0" }
                let expected: Duration = significant.count > 4 ? .seconds(3600) : .seconds(min(max(Int64(significant) ?? 0, 1), 3600))
                #expect(delay == expected, "seed \(seed) #\(n): \(digits.debugDescription)")
            } else if let delay {
                #expect(delay >= policy.minimum && delay <= policy.maximum, "seed \(seed) #\(n): \(digits.debugDescription)")
            }
        }
    }

    enum Form: CaseIterable { case imf, rfc850, asctime }

    static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"] // 1970-01-01 was a Thursday
    static let longDays = ["Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// An HTTP-date written from the ISO 8601 text (not from the parser's own calendar code).
    static func httpDate(_ time: Timestamp, form: Form, zeroPadded: Bool = false) -> String {
        let iso = Array(time.iso8601.utf8)
        func field(_ range: Range<Int>) -> String { String(decoding: iso[range], as: UTF8.self) }
        let year = field(0..<4), month = months[Int(field(5..<7))! - 1], day = field(8..<10), clock = field(11..<19)
        let dayNumber = Int(time.milliseconds.floorDividedBy(86_400_000).0.floorDividedBy(7).1)
        switch form {
        case .imf: return "\(days[dayNumber]), \(day) \(month) \(year) \(clock) GMT"
        case .rfc850: return "\(longDays[dayNumber]), \(day)-\(month)-\(year.suffix(2)) \(clock) GMT"
        case .asctime: return "\(days[dayNumber]) \(month) \(day.first == "0" && !zeroPadded ? " " + day.suffix(1) : day) \(clock) \(year)"
        }
    }
}

/// An independent RFC 3339 reader for the property test: the grammar checked piece by piece and
/// the day count done by counting leap years, not by the parser's era arithmetic.
enum ReferenceRFC3339 {
    static func parse(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= b.count, b[range].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return Int64(String(decoding: b[range], as: UTF8.self))
        }
        func isByte(_ i: Int, _ options: String) -> Bool { i < b.count && options.utf8.contains(b[i]) }
        guard let year = number(0..<4), isByte(4, "-"), let month = number(5..<7), isByte(7, "-"), let day = number(8..<10),
              isByte(10, "Tt"), let hour = number(11..<13), isByte(13, ":"), let minute = number(14..<16), isByte(16, ":"),
              let second = number(17..<19) else { return nil }
        var i = 19
        var millis: Int64 = 0
        if isByte(i, ".") {
            let start = i + 1
            i = start
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            guard i > start else { return nil }
            let digits = String(decoding: b[start..<min(i, start + 3)], as: UTF8.self)
            millis = (Int64(digits) ?? 0) * [100, 10, 1][digits.count - 1]
        }
        var offset: Int64 = 0
        if isByte(i, "Zz") {
            i += 1
        } else if isByte(i, "+-") {
            let sign: Int64 = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = number(i + 1..<i + 3), isByte(i + 3, ":"), let om = number(i + 4..<i + 6), oh <= 23, om <= 59 else { return nil }
            offset = sign * (oh * 60 + om)
            i += 6
        } else {
            return nil
        }
        let isLeap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays: [Int64] = [31, isLeap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard i == b.count, (1...12).contains(month), day >= 1, day <= monthDays[Int(month) - 1], hour <= 23, minute <= 59, second <= 60 else { return nil }
        // Leap years in [0, y): every 4th, less every 100th, plus every 400th (year 0 is one).
        func leapYears(before y: Int64) -> Int64 { y <= 0 ? 0 : (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400 }
        let daysBeforeYear = 365 * year + leapYears(before: year)
        let daysSince0000 = daysBeforeYear + monthDays.prefix(Int(month) - 1).reduce(0, +) + day - 1
        let epochDays: Int64 = 719_528 // 0000-01-01 to 1970-01-01
        let ms = ((daysSince0000 - epochDays) * 86_400 + hour * 3600 + minute * 60 + second - offset * 60) * 1000 + millis
        guard ms >= -62_167_219_200_000, ms <= 253_402_300_799_999 else { return nil }
        return ms
    }
}
