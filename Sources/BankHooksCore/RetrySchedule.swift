/// When the attempts of one delivery happen: the delay before each attempt, counted from the end
/// of the previous one (the first is normally immediate). After the last attempt fails, the
/// delivery is `failed`.
public struct RetrySchedule: Hashable, Sendable, Codable {
    /// Delay before attempt `k + 1` at index `k`; `delays.count` is the number of attempts.
    public var delays: [Duration]
    /// Each delay is multiplied by a factor drawn uniformly from `1 - jitter ... 1 + jitter`.
    public var jitter: Double

    public init(delays: [Duration], jitter: Double = 0.2) {
        self.delays = delays
        self.jitter = jitter
    }

    /// SPEC's default (standard, okra, bridge): immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    public static let standard = RetrySchedule(delays: [0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000].map { .seconds($0) })

    /// The number of attempts this schedule allows.
    public var maxAttempts: Int { delays.count }

    /// The delay before the attempt after `attemptsMade` attempts, jittered; nil when none is left.
    public func delay(afterAttempts attemptsMade: Int, using rng: inout some RandomNumberGenerator) -> Duration? {
        guard attemptsMade >= 0, attemptsMade < delays.count else { return nil }
        let base = delays[attemptsMade]
        guard jitter > 0, base > .zero else { return base }
        guard jitter.isFinite else { return base }
        let factor = Double.random(in: (1 - jitter)...(1 + jitter), using: &rng)
        let jittered = (Double(base.wholeMilliseconds) * factor).rounded()
        // Int64(_:) traps outside its range; 2^63 is exactly representable, Int64.max is not.
        return .milliseconds(jittered >= 0x1p63 ? .max : Int64(max(0, jittered)))
    }
}

/// How a receiver's `Retry-After` is honoured on 429 and 503: it replaces the schedule's next
/// delay, clamped to these bounds so a receiver can neither hammer itself nor stall a delivery
/// for days. It never adds an attempt beyond the schedule.
public struct RetryAfterPolicy: Hashable, Sendable {
    public var minimum: Duration
    public var maximum: Duration

    public init(minimum: Duration = .seconds(1), maximum: Duration = .seconds(3600)) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// The clamped delay a `Retry-After` value asks for, or nil when the value is not usable.
    /// Accepts delta-seconds of any length (a huge one is simply the maximum) and HTTP-dates in
    /// each of RFC 9110's three forms, relative to `now`.
    public func delay(for headerValue: String, now: Timestamp) -> Duration? {
        let trimmed = headerValue.trimmingSpaces
        let requested: Duration
        if let seconds = Self.deltaSeconds(trimmed) {
            requested = .seconds(seconds)
        } else if let date = HTTPDate.parse(trimmed, now: now) {
            requested = max(.zero, date.duration(since: now))
        } else {
            return nil
        }
        return min(max(requested, minimum), maximum)
    }

    /// `delta-seconds = 1*DIGIT` (RFC 9110 §10.2.3), saturating at `Int64.max` rather than refusing
    /// or overflowing; no sign, no spaces.
    static func deltaSeconds(_ text: Substring) -> Int64? {
        guard !text.isEmpty else { return nil }
        var value: Int64 = 0
        for byte in text.utf8 {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            if value <= (Int64.max - 9) / 10 {
                value = value * 10 + Int64(byte - 0x30)
            } else {
                value = .max
            }
        }
        return value
    }
}

/// What the dispatcher does after an attempt.
public enum NextStep: Equatable, Sendable {
    /// The delivery succeeded.
    case succeeded
    /// Try again at this time.
    case retry(at: Timestamp)
    /// No attempts left: the delivery failed.
    case failed
}

extension RetrySchedule {
    /// Decides the next step after attempt number `attemptsMade` (1-based) ended at `now`.
    public func nextStep(
        attemptsMade: Int,
        succeeded: Bool,
        status: Int?,
        retryAfter: String?,
        retryAfterPolicy: RetryAfterPolicy,
        now: Timestamp,
        using rng: inout some RandomNumberGenerator
    ) -> NextStep {
        if succeeded { return .succeeded }
        guard var delay = self.delay(afterAttempts: attemptsMade, using: &rng) else { return .failed }
        if let status, status == 429 || status == 503, let retryAfter,
           let asked = retryAfterPolicy.delay(for: retryAfter, now: now) {
            delay = asked
        }
        return .retry(at: now.adding(delay))
    }
}

extension String {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}

/// HTTP-date (RFC 9110 §5.6.7), the form `Retry-After` may carry instead of seconds. Every field
/// has a fixed number of digits and is checked against its real range, so no input can overflow.
/// All three forms are accepted, as the RFC asks of recipients:
/// IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, the obsolete RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`
/// and asctime `Sun Nov  6 08:49:37 1994`.
enum HTTPDate {
    static let dayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map { Array($0.utf8) }
    static let longDayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"].map { Array($0.utf8) }
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }

    /// The time an HTTP-date names, or nil when it is not one. `now` places RFC 850's two-digit
    /// year: one that would be more than 50 years ahead is the century before.
    static func parse(_ text: Substring, now: Timestamp) -> Timestamp? {
        var r = Reader(bytes: Array(text.utf8))
        let year: Int64, month: Int64, day: Int64, clock: (Int64, Int64, Int64)
        if r.word(dayNames) != nil, r.literal(", ") {
            // IMF-fixdate: day-name "," SP 2DIGIT SP month SP 4DIGIT SP time-of-day SP "GMT"
            guard let d = r.digits(2), r.literal(" "), let m = r.word(months), r.literal(" "), let y = r.digits(4), r.literal(" "),
                  let t = r.timeOfDay(), r.literal(" GMT") else { return nil }
            (year, month, day, clock) = (y, Int64(m + 1), d, t)
        } else if r.restart(), r.word(longDayNames) != nil, r.literal(", ") {
            // rfc850-date: day-name-l "," SP 2DIGIT "-" month "-" 2DIGIT SP time-of-day SP "GMT"
            guard let d = r.digits(2), r.literal("-"), let m = r.word(months), r.literal("-"), let yy = r.digits(2), r.literal(" "),
                  let t = r.timeOfDay(), r.literal(" GMT") else { return nil }
            let current = Timestamp.civilDate(daysSinceEpoch: min(max(now, .earliestFormattable), .latestFormattable).milliseconds.floorDividedBy(86_400_000).0).year
            var y = current - current % 100 + yy
            if y > current + 50 { y -= 100 }
            (year, month, day, clock) = (y, Int64(m + 1), d, t)
        } else if r.restart(), r.word(dayNames) != nil, r.literal(" ") {
            // asctime-date: day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time-of-day SP 4DIGIT
            guard let m = r.word(months), r.literal(" ") else { return nil }
            let d: Int64
            if r.literal(" ") {
                guard let one = r.digits(1) else { return nil }
                d = one
            } else {
                guard let two = r.digits(2) else { return nil }
                d = two
            }
            guard r.literal(" "), let t = r.timeOfDay(), r.literal(" "), let y = r.digits(4) else { return nil }
            (year, month, day, clock) = (y, Int64(m + 1), d, t)
        } else {
            return nil
        }
        guard r.isAtEnd, year >= 0, day >= 1, day <= Timestamp.daysIn(month: month, year: year) else { return nil }
        let days = Timestamp.daysSinceEpoch(year: year, month: month, day: day)
        // Years 0 to 9999 and two-digit clock fields: at most about 3 * 10^14 ms, far inside Int64.
        // A leap second (60) is the first second of the next minute.
        return Timestamp(milliseconds: (days * 86_400 + clock.0 * 3600 + clock.1 * 60 + clock.2) * 1000)
    }

    /// Reads an HTTP-date left to right.
    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        var isAtEnd: Bool { index == bytes.count }

        /// Goes back to the start (to try another form); always true.
        mutating func restart() -> Bool {
            index = 0
            return true
        }

        mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for k in 0..<count where bytes[index + k] != text.utf8Start[k] { return false }
            index += count
            return true
        }

        /// Exactly `count` ASCII digits.
        mutating func digits(_ count: Int) -> Int64? {
            guard let value = bytes.fixedDigits(at: index, count: count) else { return nil }
            index += count
            return value
        }

        /// The index of the word (case-sensitive, as the RFC's grammar is) that comes next.
        mutating func word(_ words: [[UInt8]]) -> Int? {
            for (i, word) in words.enumerated() where index + word.count <= bytes.count && bytes[index..<index + word.count].elementsEqual(word) {
                index += word.count
                return i
            }
            return nil
        }

        /// `time-of-day = hour ":" minute ":" second`: 00-23, 00-59, 00-60 (a leap second).
        mutating func timeOfDay() -> (Int64, Int64, Int64)? {
            guard let h = digits(2), h < 24, literal(":"), let m = digits(2), m < 60, literal(":"), let s = digits(2), s <= 60 else { return nil }
            return (h, m, s)
        }
    }
}
