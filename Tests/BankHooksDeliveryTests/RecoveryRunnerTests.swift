import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Logging
import Testing

extension Harness {
    /// Publishes events to the application's webhooks and records each delivery as failed now (its last attempt).
    func failedDeliveries(_ eventIDs: [String], type: String, application: String) async throws -> [Int64] {
        let now = clock.now()
        _ = try await store.publish(eventIDs.map {
            PublishRequest(applicationID: application, eventID: $0, idempotencyKey: nil, type: type, timestamp: now, data: Array("{}".utf8))
        }, now: now)
        let claimed = try await store.claimDue(owner: "setup/1", now: now, leaseUntil: now.adding(.seconds(60)), limit: 1000, excludingWebhooks: [])
        try await store.record(claimed.map { d in
            AttemptRecord(
                attempt: Attempt(deliveryID: d.id, number: 1, startedAt: now, durationMicroseconds: 1, status: 500, responseExcerpt: nil,
                                 errorKind: nil, errorMessage: nil),
                leaseOwner: d.leaseOwner, webhookID: d.webhook.id, outcome: .failed)
        }, releasing: [], now: now)
        return claimed.map(\.id)
    }

    func recovery(_ id: String, webhook: String, application: String) async throws {
        _ = try await store.createRecovery(Recovery(
            id: id, applicationID: application, webhookID: webhook, since: Timestamp(milliseconds: 0), until: nil, createdAt: clock.now()))
    }

    func runner() -> RecoveryRunner {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return RecoveryRunner(store: store, dispatcher: dispatcher, clock: clock, logger: logger)
    }

    /// Runs a recovery runner beside the dispatcher for the duration of `body`.
    func withRunner(_ runner: RecoveryRunner, _ body: @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await runner.run() }
            defer { group.cancelAll() }
            runner.wake()
            try await body()
        }
    }

    func job(_ id: String, application: String) async throws -> Recovery? {
        try await store.recovery(id: id, applicationID: application)
    }
}

@Suite struct RecoveryRunnerTests {
    @Test func aRecoveryWaitingForItsRateLimitDoesNotHoldUpAnotherApplications() async throws {
        try await TestReceiver.run { receiver in
            let h = try Harness()
            // X's webhook allows one delivery now and (on the manual clock) no more; Y's is unlimited.
            _ = try await h.addWebhook("x", url: receiver.url("/x"), eventTypes: ["t"], settings: DeliverySettings(rateLimit: 0.5), application: "app_x")
            _ = try await h.addWebhook("y", url: receiver.url("/y"), eventTypes: ["t"], application: "app_y")
            _ = try await h.failedDeliveries(["x1", "x2", "x3"], type: "t", application: "app_x")
            _ = try await h.failedDeliveries(["y1", "y2", "y3"], type: "t", application: "app_y")
            h.clock.advance(by: .seconds(1))
            try await h.recovery("rcv_x", webhook: "x", application: "app_x")
            h.clock.advance(by: .milliseconds(1))
            try await h.recovery("rcv_y", webhook: "y", application: "app_y")
            try await h.run {
                try await h.withRunner(h.runner()) {
                    // Before: jobs ran page after page in turn, and X's page waited for tokens that never come.
                    try await eventually("Y's recovery completes", timeout: .seconds(10)) {
                        try await h.job("rcv_y", application: "app_y")?.state == .completed
                    }
                    let y = try #require(try await h.job("rcv_y", application: "app_y"))
                    #expect(y.processed == 3 && y.succeeded == 3)
                    #expect(receiver.requests.filter { $0.path == "/y" }.count == 3)
                    #expect(receiver.requests.filter { $0.path == "/x" }.count <= 1, "X is still waiting for its tokens")
                    #expect(try await h.job("rcv_x", application: "app_x")?.state == .running)
                }
            }
        }
    }

    @Test func aRecoveryDoesNotResendADeliveryAResendGotToWhileItWaited() async throws {
        try await TestReceiver.run(script: { _, _ in .init(status: 500) }) { receiver in
            let h = try Harness()
            _ = try await h.addWebhook("w", url: receiver.url(), settings: DeliverySettings(rateLimit: 1))
            let ids = try await h.failedDeliveries(["e1", "e2"], type: "t", application: "app")
            h.clock.advance(by: .seconds(1))
            try await h.recovery("rcv", webhook: "w", application: "app")
            try await h.run {
                try await h.withRunner(h.runner()) {
                    // One goes out on the token; the other waits for the next one.
                    let first = try #require(try await receiver.waitForRequests(1).first?.header("webhook-id"))
                    let waiting = first == "e1" ? ids[1] : ids[0]
                    let waitingEvent = first == "e1" ? "e2" : "e1"
                    // Meanwhile someone resends the waiting one (as POST /v1/deliveries/{id}/resend does); it fails again.
                    let slot = try await h.dispatcher.reserveSendSlot(webhookID: "w", applicationID: "app", waitingAtMost: .seconds(10))
                    let now = h.clock.now()
                    let (delivery, _) = try #require(try await h.store.leaseForSend(
                        deliveryID: waiting, applicationID: "app", owner: "resend/1", until: now.adding(.seconds(120)), now: now,
                        expecting: nil, attemptedBefore: nil))
                    _ = try await h.dispatcher.sendNow(delivery, slot: slot, failure: .failed)
                    // Its token comes: the recovery must see the delivery was attempted since it was created.
                    h.clock.advance(by: .seconds(2))
                    try await eventually("the recovery completes") { try await h.job("rcv", application: "app")?.state == .completed }
                    #expect(receiver.requests.filter { $0.header("webhook-id") == waitingEvent }.count == 1, "sent once, by the resend")
                    #expect(receiver.requests.count == 2)
                }
            }
        }
    }

    @Test func aRecoveryResumedAfterAPageWasCutShortSendsNothingTwice() async throws {
        try await TestReceiver.run(script: { _, _ in .init(status: 500) }) { receiver in
            let h = try Harness()
            _ = try await h.addWebhook("w", url: receiver.url(), settings: DeliverySettings(rateLimit: 1))
            _ = try await h.failedDeliveries(["e1", "e2", "e3"], type: "t", application: "app")
            h.clock.advance(by: .seconds(1))
            // The job is created in the same millisecond as the attempts it makes (the manual clock stands still).
            try await h.recovery("rcv", webhook: "w", application: "app")
            try await h.run {
                // A first runner sends one delivery of the page, then stops (a restart) before the page's progress is written.
                try await h.withRunner(h.runner()) {
                    _ = try await receiver.waitForRequests(1)
                    try await eventually("its attempt is recorded") {
                        try await h.store.deliveries(applicationID: "app", of: .webhook("w"), state: .failed, before: nil, limit: 10)?
                            .items.contains { $0.attempts == 2 } ?? false
                    }
                }
                #expect(try await h.job("rcv", application: "app")?.processed == 0, "the page was cut short")
                let sent = try #require(receiver.requests.first?.header("webhook-id"))
                // The limit is lifted and a new runner resumes the job from its last written progress.
                _ = try await h.store.updateWebhook(id: "w", applicationID: "app", WebhookChange(rateLimit: .some(nil)), now: h.clock.now())
                try await h.withRunner(h.runner()) {
                    try await eventually("the recovery completes") { try await h.job("rcv", application: "app")?.state == .completed }
                }
                let job = try #require(try await h.job("rcv", application: "app"))
                #expect(job.processed == 3 && job.total == 3, "every covered delivery counts as processed once it completes")
                #expect(receiver.requests.count == 3, "each delivery once: \(receiver.requests.compactMap { $0.header("webhook-id") })")
                #expect(receiver.requests.filter { $0.header("webhook-id") == sent }.count == 1)
            }
        }
    }
}
