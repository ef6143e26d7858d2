import BankHooksCore
import BankHooksTestSupport
import Testing

@Suite struct RetryScheduleTests {
    let now = Timestamp(milliseconds: 1_700_000_000_000)

    @Test func standardScheduleIsSpecs() {
        #expect(RetrySchedule.standard.delays == [0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000].map { Duration.seconds($0) })
        #expect(RetrySchedule.standard.maxAttempts == 8)
        #expect(RetrySchedule.standard.jitter == 0.2)
    }

    @Test func firstAttemptIsImmediateAndNoneAfterTheLast() {
        var rng = SeededGenerator(state: 1)
        #expect(RetrySchedule.standard.delay(afterAttempts: 0, using: &rng) == .zero)
        #expect(RetrySchedule.standard.delay(afterAttempts: 8, using: &rng) == nil)
    }

    @Test func jitterStaysWithinTwentyPercentAndVaries() {
        var rng = SeededGenerator(state: 42)
        for (index, base) in RetrySchedule.standard.delays.enumerated().dropFirst() {
            var seen: Set<Int64> = []
            for _ in 0..<500 {
                let delay = RetrySchedule.standard.delay(afterAttempts: index, using: &rng)!.wholeMilliseconds
                let baseMs = base.wholeMilliseconds
                #expect(delay >= baseMs * 8 / 10 && delay <= baseMs * 12 / 10, "delay \(delay) ms for base \(baseMs) ms")
                seen.insert(delay)
            }
            #expect(seen.count > 50, "jitter should spread the delays")
            // Both halves of the band are used.
            #expect(seen.contains { $0 < base.wholeMilliseconds } && seen.contains { $0 > base.wholeMilliseconds })
        }
    }

    @Test func nextStepRetriesThenFailsAfterTheLastAttempt() {
        var rng = SeededGenerator(state: 7)
        let schedule = RetrySchedule.standard
        let policy = RetryAfterPolicy()
        #expect(schedule.nextStep(attemptsMade: 1, succeeded: true, status: 200, retryAfter: nil, retryAfterPolicy: policy, now: now, using: &rng) == .succeeded)
        guard case .retry(let at) = schedule.nextStep(attemptsMade: 1, succeeded: false, status: 500, retryAfter: nil, retryAfterPolicy: policy, now: now, using: &rng) else {
            Issue.record("expected a retry"); return
        }
        #expect((4000...6000).contains(at.milliseconds - now.milliseconds))
        #expect(schedule.nextStep(attemptsMade: 8, succeeded: false, status: 500, retryAfter: nil, retryAfterPolicy: policy, now: now, using: &rng) == .failed)
    }

    @Test func retryAfterIsHonouredOnlyOn429And503WithinBounds() {
        var rng = SeededGenerator(state: 9)
        let schedule = RetrySchedule.standard
        let policy = RetryAfterPolicy(minimum: .seconds(1), maximum: .seconds(3600))
        func step(_ status: Int, _ header: String?, attempts: Int = 2) -> NextStep {
            schedule.nextStep(attemptsMade: attempts, succeeded: false, status: status, retryAfter: header, retryAfterPolicy: policy, now: now, using: &rng)
        }
        #expect(step(429, "120") == .retry(at: now.adding(.seconds(120))))
        #expect(step(503, "120") == .retry(at: now.adding(.seconds(120))))
        #expect(step(429, "999999") == .retry(at: now.adding(.seconds(3600))), "clamped to the maximum")
        #expect(step(429, "0") == .retry(at: now.adding(.seconds(1))), "clamped to the minimum")
        // An HTTP-date 90 seconds ahead of now (2023-11-14T22:13:20Z).
        #expect(step(503, "Tue, 14 Nov 2023 22:14:50 GMT") == .retry(at: now.adding(.seconds(90))))
        // Not honoured on other statuses or when unparseable: the schedule decides (5 min ±20% after 2 attempts).
        for outcome in [step(500, "120"), step(429, "soon")] {
            guard case .retry(let at) = outcome else { Issue.record("expected a retry"); continue }
            #expect((240_000...360_000).contains(at.milliseconds - now.milliseconds))
        }
        // Retry-After never adds an attempt beyond the schedule.
        #expect(step(429, "10", attempts: 8) == .failed)
    }
}

/// Retry-After values a hostile or broken receiver may send: none may trap, each is either a
/// clamped delay or ignored (the schedule decides).
@Suite struct RetryAfterParsingTests {
    let now = Timestamp(milliseconds: 1_700_000_000_000) // Tue, 14 Nov 2023 22:13:20 GMT
    let policy = RetryAfterPolicy(minimum: .seconds(1), maximum: .seconds(3600))

    /// The value that killed the server (and again after every restart): an overflowing seconds field.
    @Test func anOverflowingDateFieldIsIgnoredNotATrap() {
        #expect(policy.delay(for: "Sun, 06 Nov 1994 08:49:9223372036854775807 GMT", now: now) == nil)
        var rng = SeededGenerator(state: 3)
        let step = RetrySchedule.standard.nextStep(
            attemptsMade: 1, succeeded: false, status: 503, retryAfter: "Sun, 06 Nov 1994 08:49:9223372036854775807 GMT",
            retryAfterPolicy: policy, now: now, using: &rng)
        guard case .retry(let at) = step else { Issue.record("expected a retry, got \(step)"); return }
        #expect((4000...6000).contains(at.milliseconds - now.milliseconds), "the schedule's 5 s ±20%")
    }

    @Test(arguments: [
        "Sun, 9223372036854775807 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 9223372036854775807 08:49:37 GMT",
        "Sun, 06 Nov 1994 9223372036854775807:49:37 GMT", "Sun, 06 Nov 1994 08:9223372036854775807:37 GMT",
        "Sun, 06 Nov -9223372036854775808 08:49:37 GMT", "Sun, 06 Nov 292277026596 08:49:37 GMT",
        "Sun, -1 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 -8:49:37 GMT", "Sun, 06 Nov 1994 08:49:37.5 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 29 Feb 1900 08:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37 GMT junk", "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun,  06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-9223372036854775807 08:49:37 GMT", "Sun Nov 99 08:49:37 1994",
        "Sun Nov  6 08:49:37 -994", "+120", "-120", "-0", "12 0", "1.5", "0x10", "１２", "", "   ", "soon",
    ])
    func malformedValuesAreIgnored(_ value: String) {
        #expect(policy.delay(for: value, now: now) == nil, "\(value)")
    }

    @Test func deltaSecondsOfAnyLengthClampToTheMaximum() {
        #expect(policy.delay(for: "99999999999999999999", now: now) == .seconds(3600))
        #expect(policy.delay(for: String(repeating: "9", count: 10_000), now: now) == .seconds(3600))
        #expect(policy.delay(for: "9223372036854775807", now: now) == .seconds(3600))
        #expect(policy.delay(for: "9223372036854775808", now: now) == .seconds(3600))
        #expect(policy.delay(for: "0000000000000000000000042", now: now) == .seconds(42))
        #expect(policy.delay(for: " 120\t", now: now) == .seconds(120), "optional whitespace around the value")
        #expect(policy.delay(for: "0", now: now) == .seconds(1), "clamped to the minimum")
    }

    @Test func allThreeHTTPDateFormsAreAccepted() {
        // 90 s after now, in each form RFC 9110 §5.6.7 asks recipients to accept.
        #expect(policy.delay(for: "Tue, 14 Nov 2023 22:14:50 GMT", now: now) == .seconds(90))
        #expect(policy.delay(for: "Tuesday, 14-Nov-23 22:14:50 GMT", now: now) == .seconds(90))
        #expect(policy.delay(for: "Tue Nov 14 22:14:50 2023", now: now) == .seconds(90))
        let earlyInMonth = Timestamp(milliseconds: 1_699_228_800_000) // Mon, 06 Nov 2023 00:00:00 GMT
        #expect(policy.delay(for: "Mon Nov  6 00:10:00 2023", now: earlyInMonth) == .seconds(600))
        // A leap second is the next minute's first second.
        #expect(policy.delay(for: "Tue, 14 Nov 2023 22:14:60 GMT", now: now) == .seconds(100))
        // A date in the past (or far before) asks for the minimum; one far ahead for the maximum.
        #expect(policy.delay(for: "Sun, 06 Nov 1994 08:49:37 GMT", now: now) == .seconds(1))
        #expect(policy.delay(for: "Mon, 01 Jan 0000 00:00:00 GMT", now: now) == .seconds(1))
        #expect(policy.delay(for: "Fri, 31 Dec 9999 23:59:60 GMT", now: now) == .seconds(3600))
        // Even against a clock at the ends of Int64.
        #expect(policy.delay(for: "Fri, 31 Dec 9999 23:59:59 GMT", now: Timestamp(milliseconds: .min)) == .seconds(3600))
        #expect(policy.delay(for: "Mon, 01 Jan 0000 00:00:00 GMT", now: Timestamp(milliseconds: .max)) == .seconds(1))
    }

    @Test func rfc850TwoDigitYearsAreAtMostFiftyYearsAhead() {
        // Now is 2023: "73" is 2073 (50 years ahead), "74" is 1974.
        #expect(policy.delay(for: "Sunday, 01-Jan-73 00:00:00 GMT", now: now) == .seconds(3600))
        #expect(policy.delay(for: "Tuesday, 01-Jan-74 00:00:00 GMT", now: now) == .seconds(1))
    }
}

/// Time arithmetic at the ends of its range saturates instead of trapping.
@Suite struct TimeArithmeticTests {
    @Test func addingSaturates() {
        #expect(Timestamp(milliseconds: .max - 5).adding(.seconds(1)) == Timestamp(milliseconds: .max))
        #expect(Timestamp(milliseconds: .min + 5).adding(.seconds(-1)) == Timestamp(milliseconds: .min))
        #expect(Timestamp(milliseconds: 0).adding(.seconds(Int64.max)) == Timestamp(milliseconds: .max))
        #expect(Timestamp(milliseconds: 0).adding(.seconds(Int64.min)) == Timestamp(milliseconds: .min))
        #expect(Timestamp(milliseconds: 10).adding(.milliseconds(-3)) == Timestamp(milliseconds: 7))
    }

    @Test func wholeMillisecondsSaturatesAndTruncatesTowardZero() {
        #expect(Duration.seconds(Int64.max).wholeMilliseconds == .max)
        #expect(Duration.seconds(Int64.min).wholeMilliseconds == .min)
        #expect(Duration.milliseconds(Int64.max).wholeMilliseconds == .max)
        #expect(Duration.milliseconds(Int64.min).wholeMilliseconds == .min)
        #expect(Duration.microseconds(-1500).wholeMilliseconds == -1)
        #expect(Duration.microseconds(1500).wholeMilliseconds == 1)
        #expect(Duration.seconds(-2).wholeMilliseconds == -2000)
        // Beyond Int64.max seconds, where `Duration.components` itself traps ("Not enough bits").
        #expect((Duration.seconds(Int64.max) + .seconds(Int64.max)).wholeMilliseconds == .max)
        #expect((Duration.seconds(Int64.min) + .seconds(Int64.min)).wholeMilliseconds == .min)
        #expect((Duration.seconds(Int64.max) + .seconds(Int64.max)).secondsDouble > 1e19)
    }

    @Test func durationSinceAndSecondsHoldAtTheEnds() {
        #expect(Timestamp(milliseconds: .max).duration(since: Timestamp(milliseconds: .min)) > .seconds(Int64.max / 1000))
        #expect(Timestamp(milliseconds: .min).duration(since: Timestamp(milliseconds: .max)) < .zero)
        #expect(Timestamp(milliseconds: .min).seconds == Int64.min / 1000 - 1)
        #expect(Timestamp(milliseconds: .max).seconds == Int64.max / 1000)
    }

    @Test func aScheduleOfHugeDelaysNeitherTrapsNorGoesNegative() {
        var rng = SeededGenerator(state: 11)
        let schedule = RetrySchedule(delays: [.zero, .seconds(Int64.max), .seconds(Int64.max / 2000)], jitter: 0.2)
        for _ in 0..<100 {
            let longest = schedule.delay(afterAttempts: 1, using: &rng)
            #expect(longest.map { $0 >= .milliseconds(Int64.max / 10 * 8) && $0 <= .milliseconds(Int64.max) } == true)
        }
        let half = schedule.delay(afterAttempts: 2, using: &rng)
        #expect(half.map { $0 > .zero } == true)
        let now = Timestamp(milliseconds: 1_700_000_000_000)
        let unjittered = RetrySchedule(delays: [.zero, .seconds(Int64.max)], jitter: 0)
        let step = unjittered.nextStep(attemptsMade: 1, succeeded: false, status: 500, retryAfter: nil, retryAfterPolicy: RetryAfterPolicy(), now: now, using: &rng)
        #expect(step == .retry(at: Timestamp(milliseconds: .max)))
        #expect(RetrySchedule(delays: [.zero, .seconds(5)], jitter: .nan).delay(afterAttempts: 1, using: &rng) == .seconds(5))
        #expect(RetrySchedule(delays: [.zero, .seconds(5)], jitter: .infinity).delay(afterAttempts: 1, using: &rng) == .seconds(5))
    }
}
