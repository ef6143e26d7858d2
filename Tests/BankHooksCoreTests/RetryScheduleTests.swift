import BankHooksCore
import Testing

/// A seeded generator (SplitMix64) so jitter draws are repeatable.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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
