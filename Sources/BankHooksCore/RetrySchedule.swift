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
        let factor = Double.random(in: (1 - jitter)...(1 + jitter), using: &rng)
        return .milliseconds(Int64((Double(base.wholeMilliseconds) * factor).rounded()))
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
    /// Accepts delta-seconds and HTTP-dates (IMF-fixdate), relative to `now`.
    public func delay(for headerValue: String, now: Timestamp) -> Duration? {
        let trimmed = headerValue.trimmingSpaces
        let requested: Duration
        if let seconds = Int64(trimmed), seconds >= 0 {
            requested = .seconds(seconds)
        } else if let date = HTTPDate.parse(trimmed) {
            requested = .milliseconds(max(0, date.milliseconds - now.milliseconds))
        } else {
            return nil
        }
        return min(max(requested, minimum), maximum)
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

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the HTTP-date form `Retry-After` may carry.
enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func parse(_ text: Substring) -> Timestamp? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int64(parts[1]),
              let monthIndex = months.firstIndex(where: { $0 == parts[2] }), let year = Int64(parts[3]) else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let h = Int64(clock[0]), let m = Int64(clock[1]), let s = Int64(clock[2]) else { return nil }
        let days = Timestamp.daysSinceEpoch(year: year, month: Int64(monthIndex + 1), day: day)
        return Timestamp(milliseconds: (days * 86_400 + h * 3600 + m * 60 + s) * 1000)
    }
}
