import BankHooksCore

/// A webhook's attempts over some whole hours: how many succeeded (the answer was a success in the
/// webhook's format), how many did not, and when the last one started.
public struct AttemptTally: Hashable, Sendable {
    public var succeeded: Int
    public var failed: Int
    public var lastAttemptAt: Timestamp

    public init(succeeded: Int, failed: Int, lastAttemptAt: Timestamp) {
        self.succeeded = succeeded
        self.failed = failed
        self.lastAttemptAt = lastAttemptAt
    }

    public var attempts: Int { succeeded + failed }
}

/// Each webhook's attempts counted per UTC hour (`webhook_attempt_hours`), kept by `record` in the
/// transaction that stores the attempts, so the dashboard's 24-hour figures are true for a busy
/// webhook and a quiet one alike without reading the deliveries. A webhook's counters go with it.
public protocol AttemptHoursStore: Sendable {
    /// The application's webhooks with attempts in the hours from `AttemptHours.hour(of: since)` on,
    /// each with its tally over those hours; a webhook without any is absent.
    func attemptTallies(applicationID: String, since: Timestamp) async throws -> [String: AttemptTally]
}

/// The hours attempts are counted in, and the counts one record batch adds.
public enum AttemptHours {
    /// One hour, in milliseconds.
    public static let length: Int64 = 3_600_000

    /// The start of the UTC hour `time` falls in (what `webhook_attempt_hours.hour` holds).
    public static func hour(of time: Timestamp) -> Int64 {
        let ms = time.milliseconds
        return ms - ((ms % length) + length) % length
    }

    /// The start of a window of `hours` whole hours ending with the current one: for 24, the current
    /// hour and the 23 before it (between 23 and 24 hours back), so nothing older than 24 hours counts.
    public static func windowStart(now: Timestamp, hours: Int = 24) -> Timestamp {
        Timestamp(milliseconds: hour(of: now) - Int64(hours - 1) * length)
    }

    /// The counters one record batch adds, one per webhook and hour: the batch's single upsert.
    struct Batch {
        struct Key: Hashable {
            var webhookID: String
            var hour: Int64
        }

        private(set) var counts: [Key: AttemptTally] = [:]

        /// Counts one recorded attempt.
        mutating func add(webhookID: String, startedAt: Timestamp, succeeded: Bool) {
            let key = Key(webhookID: webhookID, hour: AttemptHours.hour(of: startedAt))
            var tally = counts[key] ?? AttemptTally(succeeded: 0, failed: 0, lastAttemptAt: startedAt)
            if succeeded { tally.succeeded += 1 } else { tally.failed += 1 }
            tally.lastAttemptAt = max(tally.lastAttemptAt, startedAt)
            counts[key] = tally
        }
    }
}
