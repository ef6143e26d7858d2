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
        let poison = "Sun, 06 Nov 1994 08:49:9223372036854775807 GMT"
        try await TestReceiver.run(script: { _, index in
            index == 0 ? .init(status: 503, headers: ["Retry-After": poison]) : .init()
        }) { receiver in
            let h = try Harness()
            _ = try await h.addWebhook("wh", url: receiver.url())
            try await h.run {
                let start = h.clock.now()
                try await h.publish("e1")
                try await eventually("first attempt recorded") { try await h.delivery("e1").attempts == 1 }
                // The header is not a date: the schedule's second delay (5 s ±20%) applies.
                let next = try #require(try await h.delivery("e1").nextAttemptAt)
                #expect((4000...6000).contains(next.milliseconds - start.milliseconds))
                h.clock.advance(by: .seconds(7))
                try await eventually("delivered on the retry") { try await h.delivery("e1").state == .succeeded }
                #expect(receiver.requests.count == 2)
            }
        }
    }

    /// Delta-seconds too long for any integer type is the policy's maximum (1 h), not a failure.
    @Test func aHugeDeltaSecondsWaitsThePolicyMaximum() async throws {
        try await TestReceiver.run(script: { _, index in
            index == 0 ? .init(status: 429, headers: ["Retry-After": "99999999999999999999"]) : .init()
        }) { receiver in
            let h = try Harness()
            _ = try await h.addWebhook("wh", url: receiver.url())
            try await h.run {
                let start = h.clock.now()
                try await h.publish("e1")
                try await eventually("first attempt recorded") { try await h.delivery("e1").attempts == 1 }
                #expect(try await h.delivery("e1").nextAttemptAt == start.adding(.seconds(3600)))
                h.clock.advance(by: .seconds(3600))
                try await eventually("delivered after the maximum wait") { try await h.delivery("e1").state == .succeeded }
            }
        }
    }
}
