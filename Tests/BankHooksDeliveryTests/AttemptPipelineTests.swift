import BankHooksCore
@testable import BankHooksDelivery
import BankHooksStorage
import BankHooksTestSupport
import Testing

/// The attempt pipeline (render → sign → send → decide) against a real receiver, a format's own
/// extra headers, and the one send-now path with its one lease.
@Suite struct AttemptPipelineTests {
    static func delivery(url: String, format: String, bearerToken: String? = nil, headers: [HTTPHeader] = []) -> ClaimedDelivery {
        ClaimedDelivery(
            id: 7, leaseOwner: "p/1", attemptsMade: 0, dueAt: SystemClock().now(), eventKey: 7,
            event: OutboundEvent(id: "evt_7", type: "payment.updated", timestamp: SystemClock().now(), data: Array(#"{"id":"7"}"#.utf8)),
            webhook: ClaimedWebhook(
                id: "w", applicationID: "app", url: url, format: format,
                credentials: StoredCredentials(
                    secret: WebhookSecret.generate().text, bearerToken: bearerToken, headers: try? SecretSealer(box: nil).sealHeaders(headers))))
    }

    /// Runs every step of one attempt of `delivery` in its format.
    static func attempt(_ delivery: ClaimedDelivery, sender: Sender, failure: DeliveryOutcome? = nil) async -> AttemptRecord? {
        let pipeline = AttemptPipeline(sender: sender, clock: SystemClock(), retryAfter: RetryAfterPolicy(), logger: quietLogger)
        let format = WireFormats.builtIn[delivery.webhook.format] ?? StandardWebhooksFormat()
        let body = AttemptPipeline.render(delivery.event, format: format)
        guard let credentials = CredentialCache.open(delivery.webhook, format: format, at: SystemClock().now(), sealer: SecretSealer(box: nil)) else { return nil }
        return await pipeline.run(delivery, format: format, body: body, credentials: credentials, failure: failure)
    }

    @Test func onlyTheOkraFormatAddsTheWebhooksBearerToken() {
        var headers: [(name: String, value: String)] = []
        StandardWebhooksFormat().appendExtraHeaders(bearerToken: "tok", to: &headers)
        LeanFormat().appendExtraHeaders(bearerToken: "tok", to: &headers)
        BridgeFormat().appendExtraHeaders(bearerToken: "tok", to: &headers)
        OkraFormat().appendExtraHeaders(bearerToken: nil, to: &headers)
        #expect(headers.isEmpty)
        OkraFormat().appendExtraHeaders(bearerToken: "tok", to: &headers)
        #expect(headers.map(\.name) == ["authorization"])
        #expect(headers.map(\.value) == ["Bearer tok"])
    }

    @Test func signPutsTheFormatsHeadersThenItsExtraHeadersThenTheWebhooksOwn() async throws {
        try await withSender { sender in
            let pipeline = AttemptPipeline(sender: sender, clock: SystemClock(), retryAfter: RetryAfterPolicy(), logger: quietLogger)
            let delivery = Self.delivery(url: "http://127.0.0.1:1/", format: "okra", bearerToken: "tok", headers: [HTTPHeader(name: "x-team", value: "d")])
            let format = OkraFormat()
            let body = AttemptPipeline.render(delivery.event, format: format)
            let (headers, customFrom) = pipeline.sign(delivery, format: format, body: body, credentials: try #require(CredentialCache.open(delivery.webhook, format: format, at: SystemClock().now(), sealer: SecretSealer(box: nil))))
            #expect(headers.map(\.name) == ["content-type", "webhook-id", "webhook-timestamp", "webhook-signature", "authorization", "x-team"])
            #expect(customFrom == 5, "the bearer token is the format's, not a custom header")
        }
    }

    @Test func anOkraAttemptCarriesTheBearerTokenToTheReceiver() async throws {
        try await TestReceiver.run(script: { _, _ in .init(status: 204) }) { receiver in
            try await withSender { sender in
                let delivery = Self.delivery(url: receiver.url(), format: "okra", bearerToken: "tok", headers: [HTTPHeader(name: "x-team", value: "d")])
                let record = try #require(await Self.attempt(delivery, sender: sender))
                #expect(record.outcome == .succeeded)
                #expect(record.attempt.number == 1)
                let request = try #require(receiver.requests.first)
                #expect(request.header("authorization") == "Bearer tok")
                #expect(request.header("x-team") == "d")
                #expect(request.bodyText.hasPrefix(#"{"callback_type":"PAYMENT","callback_code":"UPDATED""#))
            }
        }
    }

    @Test func decideCountsSuccessPerFormatAndFollowsTheScheduleOrTheGivenFailure() async throws {
        let statuses = [201, 500, 410]
        try await TestReceiver.run(script: { _, index in .init(status: statuses[index % statuses.count]) }) { receiver in
            try await withSender { sender in
                let before = SystemClock().now()
                // Lean counts only 200: a 201 is retried on Lean's schedule (a minute after the first attempt).
                let lean = try #require(await Self.attempt(Self.delivery(url: receiver.url(), format: "lean"), sender: sender))
                guard case .retry(let at) = lean.outcome else {
                    Issue.record("a 201 to Lean is not delivered: \(lean.outcome)")
                    return
                }
                #expect(at >= before.adding(.seconds(60)) && at <= SystemClock().now().adding(.seconds(60)))
                #expect(!lean.disablesWebhook)
                // A send now never schedules a retry: its failure is the one given.
                let now = try #require(await Self.attempt(Self.delivery(url: receiver.url(), format: "standard"), sender: sender, failure: .failed))
                #expect(now.outcome == .failed)
                #expect(now.attempt.status == 500)
                let gone = try #require(await Self.attempt(Self.delivery(url: receiver.url(), format: "standard"), sender: sender, failure: .failed))
                #expect(gone.disablesWebhook, "a 410 disables the webhook")
            }
        }
    }

    @Test func aSendNowLeaseHasOneOwnerSchemeAndOneLength() {
        let now = Timestamp(milliseconds: 1_700_000_000_000)
        let test = SendNowLease.make(purpose: .test, now: now)
        let resend = SendNowLease.make(purpose: .resend, now: now)
        let recovery = SendNowLease.make(purpose: .recovery(jobID: "rcv_1", deliveryID: 42), now: now)
        #expect(test.owner.hasPrefix("test/t"))
        #expect(resend.owner.hasPrefix("resend/r"))
        #expect(recovery.owner == "recovery/rcv_1/42")
        #expect(Set([test.until, resend.until, recovery.until]) == [now.adding(SendNowLease.length)])
        #expect(SendNowLease.make(purpose: .resend, now: now).owner != resend.owner, "each resend is its own claim")
        #expect(test.publishLease == PublishLease(owner: test.owner, until: test.until))
    }

    @Test func sendNowLeasesSendsAndRecordsAndAPendingDeliveryKeepsItsPlace() async throws {
        let replies = [500, 500, 200]
        try await TestReceiver.run(script: { _, index in .init(status: replies[min(index, replies.count - 1)]) }) { receiver in
            let h = try Harness {
                $0.maxInFlightPerWebhook = 1
                $0.sendSlotWait = .milliseconds(300)
            }
            _ = try await h.addWebhook("wh", url: receiver.url())
            try await h.run {
                try await h.publish("e1")
                try await eventually("first attempt recorded") { try await h.delivery("e1").attempts == 1 }
                let pending = try await h.delivery("e1")
                let dueAt = try #require(pending.nextAttemptAt)
                let again = try #require(try await h.dispatcher.sendNow(deliveryID: pending.id, webhookID: "wh", applicationID: "app", purpose: .resend))
                #expect(again.previous == .pending)
                #expect(!again.succeeded)
                #expect(again.attempt.id != nil, "recorded before it returns")
                #expect(again.delivery.leaseOwner.hasPrefix("resend/"))
                let kept = try await h.delivery("e1")
                #expect(kept.state == .pending && kept.nextAttemptAt == dueAt, "a pending delivery that fails again keeps its place")
                // The slot was given back: the webhook's only one is free for the next send (a busy one is a 429 after 300 ms).
                let delivered = try #require(try await h.dispatcher.sendNow(deliveryID: pending.id, webhookID: "wh", applicationID: "app", purpose: .resend))
                #expect(delivered.succeeded)
                #expect(try await h.delivery("e1").state == .succeeded)
                #expect(try await h.store.attempts(deliveryID: pending.id).map(\.status) == [500, 500, 200])
                #expect(try await h.dispatcher.sendNow(deliveryID: 999_999, webhookID: "wh", applicationID: "app", purpose: .resend) == nil)
                // A slot held elsewhere: a resend gives up after its wait, before leasing anything.
                let held = try await h.dispatcher.reserveSendSlot(webhookID: "wh", applicationID: "app", waitingAtMost: .seconds(5))
                await #expect(throws: DispatcherBusyError.self) {
                    try await h.dispatcher.sendNow(deliveryID: pending.id, webhookID: "wh", applicationID: "app", purpose: .resend)
                }
                held.release()
                #expect(try await h.store.attempts(deliveryID: pending.id).count == 3)
                #expect(h.dispatcher.slotWait(for: .recovery(jobID: "j", deliveryID: 1)) == nil, "a recovery waits for its slot")
            }
        }
    }
}
