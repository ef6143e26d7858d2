import Foundation

/// A point in time as whole milliseconds since the Unix epoch: what the store keeps and the wire formats print.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// Whole seconds since the epoch, rounded down (the Standard Webhooks `webhook-timestamp`).
    public var seconds: Int64 { milliseconds.floorDividedBy(1000).0 }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// The earliest time with a four-digit year: 0000-01-01T00:00:00.000Z.
    public static let earliestFormattable = Timestamp(milliseconds: -62_167_219_200_000)
    /// The latest time with a four-digit year: 9999-12-31T23:59:59.999Z.
    public static let latestFormattable = Timestamp(milliseconds: 253_402_300_799_999)

    /// Whether the time has a four-digit year (0000 to 9999), the range RFC 3339 can write.
    public var isFormattable: Bool { (Self.earliestFormattable.milliseconds...Self.latestFormattable.milliseconds).contains(milliseconds) }

    /// This time moved by a duration (sub-millisecond parts are dropped), saturating at the ends
    /// of `Int64` instead of trapping.
    public func adding(_ duration: Duration) -> Timestamp {
        let (sum, overflow) = milliseconds.addingReportingOverflow(duration.wholeMilliseconds)
        guard !overflow else { return Timestamp(milliseconds: duration > .zero ? .max : .min) }
        return Timestamp(milliseconds: sum)
    }

    /// The duration from `other` to this time (exact: a `Duration` holds any difference of two `Int64` milliseconds).
    public func duration(since other: Timestamp) -> Duration {
        .milliseconds(milliseconds) - .milliseconds(other.milliseconds)
    }

    public var description: String { iso8601 }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, built without formatters: it is on the hot path of every envelope.
    public var iso8601: String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(24)
        appendISO8601(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the ISO 8601 form (UTC, milliseconds) to a byte buffer. A time outside years
    /// 0000 to 9999 is written as the nearest end of that range: RFC 3339 has four-digit years.
    public func appendISO8601(to bytes: inout [UInt8]) {
        let clamped = min(max(milliseconds, Self.earliestFormattable.milliseconds), Self.latestFormattable.milliseconds)
        let (daysSinceEpoch, msOfDay) = clamped.floorDividedBy(86_400_000)
        let (year, month, day) = Self.civilDate(daysSinceEpoch: daysSinceEpoch)
        func put(_ value: Int64, digits: Int) {
            var divisor: Int64 = 1
            for _ in 1..<digits { divisor *= 10 }
            var v = value
            while divisor > 0 {
                bytes.append(UInt8(truncatingIfNeeded: 48 + (v / divisor) % 10))
                v %= divisor
                divisor /= 10
            }
        }
        put(year, digits: 4); bytes.append(UInt8(ascii: "-"))
        put(month, digits: 2); bytes.append(UInt8(ascii: "-"))
        put(day, digits: 2); bytes.append(UInt8(ascii: "T"))
        put(msOfDay / 3_600_000, digits: 2); bytes.append(UInt8(ascii: ":"))
        put(msOfDay / 60_000 % 60, digits: 2); bytes.append(UInt8(ascii: ":"))
        put(msOfDay / 1000 % 60, digits: 2); bytes.append(UInt8(ascii: "."))
        put(msOfDay % 1000, digits: 3); bytes.append(UInt8(ascii: "Z"))
    }

    /// Days since the epoch to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// A date to days since the epoch (Howard Hinnant's `days_from_civil`).
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Parses an RFC 3339 timestamp (`2021-09-02T15:38:54.573741Z`, or with a `±HH:MM` offset).
    /// Fractions beyond milliseconds are truncated. Returns nil for anything else, and for a time
    /// whose offset moves it outside years 0000 to 9999 (it could not be written back).
    public init?(iso8601 text: String) {
        let b = Array(text.utf8)
        var i = 0
        func digits(_ n: Int) -> Int64? {
            guard let v = b.fixedDigits(at: i, count: n) else { return nil }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")),
              let day = digits(2), i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") else { return nil }
        i += 1
        guard let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2), expect(UInt8(ascii: ":")),
              let second = digits(2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year), hour < 24, minute < 60, second < 61 else { return nil }
        var millis: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var count = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if count < 3 { millis = millis * 10 + Int64(b[i] - 48) }
                count += 1
                i += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 3) { millis *= 10 }
        }
        var offsetMinutes: Int64 = 0
        guard i < b.count else { return nil }
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign: Int64 = b[i] == UInt8(ascii: "+") ? 1 : -1
            i += 1
            guard let oh = digits(2), expect(UInt8(ascii: ":")), let om = digits(2), oh < 24, om < 60 else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
        default:
            return nil
        }
        guard i == b.count else { return nil }
        let days = Self.daysSinceEpoch(year: year, month: month, day: day)
        // At most four-digit years and two-digit fields: this cannot overflow.
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        self.init(milliseconds: secs * 1000 + millis)
        guard isFormattable else { return nil }
    }
}

extension Timestamp {
    /// Days in a month of the proleptic Gregorian calendar.
    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension Int64 {
    /// Floor division and the non-negative remainder.
    func floorDividedBy(_ d: Int64) -> (Int64, Int64) {
        let q = self / d, r = self % d
        return r < 0 ? (q - 1, r + d) : (q, r)
    }
}

extension Array where Element == UInt8 {
    /// Exactly `count` ASCII digits at `index`, as a number; nil when any is not a digit or the text
    /// ends first. Callers read fixed-width fields (at most a few digits), so the value cannot overflow.
    func fixedDigits(at index: Int, count: Int) -> Int64? {
        guard index >= 0, count <= 18, index + count <= self.count else { return nil }
        var value: Int64 = 0
        for k in index..<index + count {
            let c = self[k]
            guard c >= 0x30, c <= 0x39 else { return nil }
            value = value * 10 + Int64(c - 0x30)
        }
        return value
    }
}

extension Duration {
    /// The duration in whole milliseconds, rounded toward zero; saturates at the ends of `Int64`
    /// (a `Duration` reaches about 10^20 seconds) instead of trapping.
    public var wholeMilliseconds: Int64 {
        // From the 128-bit attoseconds: `components` itself traps beyond Int64.max seconds.
        let ms = attoseconds / 1_000_000_000_000_000
        return ms > Int128(Int64.max) ? .max : ms < Int128(Int64.min) ? .min : Int64(ms)
    }

    /// The duration in (fractional) seconds.
    public var secondsDouble: Double {
        Double(attoseconds) / 1e18
    }
}
