import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import BankHooksTestSupport
import Testing

/// A receiver's `Retry-After` is outside input: whatever it says, the dispatcher lives and the
/// delivery goes on.
@Suite struct HostileRetryAfterTests {
    /// This header trapped the process in HTTP-date parsing (integer overflow), and the same
    /// delivery trapped it again after every restart.
    @Test func anOverflowingRetryAfterDateIsIgnoredAndTheDeliveryRetried() async throws {
        try await Harness.afterOneRetryAfter(status: 503, header: "Sun, 06 Nov 1994 08:49:9223372036854775807 GMT") { h, _, delay in
            // The header is not a date: the schedule's second delay (5 s ±20%) applies.
            #expect((Duration.seconds(4)...Duration.seconds(6)).contains(delay))
            h.clock.advance(by: .seconds(7))
        }
    }

    /// Delta-seconds too long for any integer type is the policy's maximum (1 h), not a failure.
    @Test func aHugeDeltaSecondsWaitsThePolicyMaximum() async throws {
        try await Harness.afterOneRetryAfter(status: 429, header: "99999999999999999999") { h, _, delay in
            #expect(delay == .seconds(3600))
            h.clock.advance(by: .seconds(3600))
        }
    }
}
