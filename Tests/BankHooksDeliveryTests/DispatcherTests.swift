import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// A running dispatcher over a fresh SQLite store, with a manual clock.
struct Harness: Sendable {
    let dir = TemporaryDirectory()
    let store: SQLiteStore
    let clock = ManualClock()
    let dispatcher: Dispatcher
    let publisher: Publisher

    init(allowed: [String] = ["127.0.0.1/32", "::1/128"], resolver: (any HostResolver)? = nil, configure: (inout Dispatcher.Configuration) -> Void = { _ in }) throws {
        store = try SQLiteStore(path: dir.file("d.sqlite"))
        let policy = DestinationPolicy(allowedRanges: allowed.compactMap(AddressRange.init))
        let guardian = resolver.map { DestinationGuard(policy: policy, resolver: $0) } ?? DestinationGuard(policy: policy)
        var configuration = Dispatcher.Configuration(owner: "test")
        configure(&configuration)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let sender = Sender(destinations: guardian, clock: clock)
        let dispatcher = Dispatcher(store: store, sender: sender, clock: clock, configuration: configuration, logger: logger)
        self.dispatcher = dispatcher
        publisher = Publisher(store: store, clock: clock, logger: logger) { dispatcher.wake() }
    }

    /// Creates the application (once) and a webhook at `url`.
    func addWebhook(
        _ id: String, url: String, eventTypes: [String]? = nil, settings: DeliverySettings = DeliverySettings(), application: String = "app"
    ) async throws -> Webhook {
        let now = clock.now()
        if try await store.application(id: application) == nil {
            try await store.createApplication(Application(id: application, name: application, environment: .sandbox, createdAt: now, webhookLimit: 100))
        }
        let webhook = Webhook(
            id: id, applicationID: application, url: url, eventTypes: eventTypes, secret: .generate(), createdAt: now, updatedAt: now,
            settings: settings)
        try await store.createWebhook(webhook)
        return webhook
    }

    func publish(_ id: String, type: String = "payment.updated") async throws {
        _ = try await publisher.publish(PublishRequest(
            applicationID: "app", eventID: id, idempotencyKey: nil, type: type, timestamp: clock.now(), data: Array(#"{"id":"\#(id)"}"#.utf8)))
    }

    func delivery(_ eventID: String) async throws -> Delivery {
        try #require(try await store.deliveries(eventID: eventID, applicationID: "app").first)
    }

    /// Runs the dispatcher and publisher for the duration of `body`.
    func run(_ body: @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.dispatcher.run() }
            group.addTask { try await self.publisher.run() }
            defer { group.cancelAll() }
            try await body()
        }
    }

    /// One event to a receiver that answers `status` with `Retry-After: header` once and 200 after.
    /// `body` gets the harness, the receiver and how long after the publish the dispatcher put the
    /// retry; once `body` has moved the clock, the delivery must succeed on that retry.
    static func afterOneRetryAfter(
        status: Int, header: String, _ body: @Sendable (Harness, TestReceiver, Duration) async throws -> Void
    ) async throws {
        try await TestReceiver.run(script: { _, index in
            index == 0 ? .init(status: status, headers: ["Retry-After": header]) : .init()
        }) { receiver in
            let h = try Harness()
            _ = try await h.addWebhook("wh", url: receiver.url())
            try await h.run {
                let start = h.clock.now()
                try await h.publish("e1")
                try await eventually("first attempt recorded") { try await h.delivery("e1").attempts == 1 }
                let next = try #require(try await h.delivery("e1").nextAttemptAt)
                try await body(h, receiver, next.duration(since: start))
                try await eventually("delivered on the retry") { try await h.delivery("e1").state == .succeeded }
                #expect(receiver.requests.count == 2)
            }
        }
    }
}

@Suite struct DispatcherTests {
    @Test func aFailedAttemptIsRetriedOnScheduleAndBothAttemptsAreRecorded() async throws {
        try await TestReceiver.run(script: { _, index in .init(status: index == 0 ? 500 : 200, body: index == 0 ? "boom" : "thanks") }) { receiver in
            let h = try Harness()
            _ = try await h.addWebhook("wh", url: receiver.url())
            try await h.run {
                try await h.publish("e1")
                try await eventually("first attempt recorded") {
                    let d = try await h.delivery("e1")
                    return d.attempts == 1 && d.nextAttemptAt != nil
                }
                let waiting = try await h.delivery("e1")
                let delay = try #require(waiting.nextAttemptAt).milliseconds - h.clock.now().milliseconds
                #expect((4000...6000).contains(delay), "second attempt 5 s ±20% later, was \(delay) ms")
                #expect(receiver.requests.count == 1, "nothing is sent before the retry is due")
                h.clock.advance(by: .seconds(7))
                try await eventually("delivered on the retry") { try await h.delivery("e1").state == .succeeded }
                let attempts = try await h.store.attempts(deliveryID: waiting.id)
                #expect(attempts.map(\.status) == [500, 200])
                #expect(attempts.map(\.responseExcerpt) == ["boom", "thanks"])
                #expect(attempts.map(\.number) == [1, 2])
                #expect(receiver.requests.count == 2)
                let ids = receiver.requests.map { $0.header("webhook-id") }
                #expect(ids == ["e1", "e1"], "a retry carries the same message id")
            }
        }
    }

    @Test func retryAfterOn429IsHonoured() async throws {
        try await Harness.afterOneRetryAfter(status: 429, header: "30") { h, receiver, delay in
            #expect(delay == .seconds(30))
            h.clock.advance(by: .seconds(29))
            try await Task.sleep(for: .milliseconds(200))
            #expect(receiver.requests.count == 1)
            h.clock.advance(by: .seconds(1))
        }
    }

    @Test func afterTheLastAttemptTheDeliveryFails() async throws {
        try await TestReceiver.run(script: { _, _ in .init(status: 503) }) { receiver in
            let h = try Harness()
            _ = try await h.addWebhook("wh", url: receiver.url())
            try await h.run {
                try await h.publish("e1")
                for attempt in 1...8 {
                    try await eventually("attempt \(attempt)") { try await h.delivery("e1").attempts == attempt }
                    h.clock.advance(by: .seconds(36_000 * 12 / 10 + 1))
                }
                try await eventually("failed") { try await h.delivery("e1").state == .failed }
                #expect(receiver.requests.count == 8)
            }
        }
    }

    @Test func goneDisablesTheWebhook() async throws {
        try await TestReceiver.run(script: { _, _ in .init(status: 410) }) { receiver in
            let h = try Harness()
            _ = try await h.addWebhook("wh", url: receiver.url())
            try await h.run {
                try await h.publish("e1")
                try await eventually("disabled") { try await h.store.webhook(id: "wh", applicationID: "app")?.isEnabled == false }
                #expect(try await h.store.webhook(id: "wh", applicationID: "app")?.disabledReason == "gone")
                h.clock.advance(by: .seconds(3600))
                try await Task.sleep(for: .milliseconds(200))
                #expect(receiver.requests.count == 1)
            }
        }
    }

    @Test func goneStopsTheDeliveriesAlreadyQueuedForTheWebhook() async throws {
        try await TestReceiver.run(script: { _, index in index == 0 ? .init(status: 410, delay: .milliseconds(300)) : .init() }) { receiver in
            let h = try Harness { $0.maxInFlightPerWebhook = 1 }
            _ = try await h.addWebhook("wh", url: receiver.url())
            // Claimed in one batch: one in flight, two queued behind the webhook's single slot.
            let now = h.clock.now()
            _ = try await h.store.publish((1...3).map {
                PublishRequest(applicationID: "app", eventID: "e\($0)", idempotencyKey: nil, type: "t", timestamp: now, data: Array("{}".utf8))
            }, now: now)
            try await h.run {
                try await eventually("disabled") { try await h.store.webhook(id: "wh", applicationID: "app")?.isEnabled == false }
                // Before: the next queued one started the moment the 410 freed the slot.
                try await Task.sleep(for: .milliseconds(500))
                #expect(receiver.requests.count == 1, "nothing more goes to a webhook that answered 410")
                for event in ["e2", "e3"] {
                    let d = try await h.delivery(event)
                    #expect(d.state == .pending && d.attempts == 0, "held: \(d)")
                }
                _ = try await h.store.updateWebhook(id: "wh", applicationID: "app", WebhookChange(isEnabled: true), now: h.clock.now())
                h.dispatcher.wake()
                try await eventually("sent once enabled again") {
                    let (e2, e3) = (try await h.delivery("e2"), try await h.delivery("e3"))
                    return e2.state == .succeeded && e3.state == .succeeded
                }
            }
        }
    }

    @Test func reEnablingAWebhookDisabledByGoneResumesItsDeliveries() async throws {
        try await TestReceiver.run(script: { _, index in .init(status: index == 0 ? 410 : 200) }) { receiver in
            let h = try Harness()
            _ = try await h.addWebhook("wh", url: receiver.url())
            try await h.run {
                try await h.publish("e1")
                try await eventually("disabled") { try await h.store.webhook(id: "wh", applicationID: "app")?.isEnabled == false }
                try await h.publish("e2")
                #expect(try await h.store.deliveries(eventID: "e2", applicationID: "app").isEmpty, "no fan-out while disabled")
                _ = try await h.store.updateWebhook(id: "wh", applicationID: "app", WebhookChange(isEnabled: true), now: h.clock.now())
                h.dispatcher.wake()
                try await eventually("delivered after re-enabling") { try await h.delivery("e1").state == .succeeded }
                #expect(try await h.store.attempts(deliveryID: try await h.delivery("e1").id).map(\.status) == [410, 200])
            }
        }
    }

    @Test func aRedirectIsAFailureAndIsNotFollowed() async throws {
        try await TestReceiver.run(script: { request, _ in
            request.path == "/moved" ? .init(status: 301, headers: ["Location": "/elsewhere"]) : .init()
        }) { receiver in
            let h = try Harness()
            _ = try await h.addWebhook("wh", url: receiver.url("/moved"))
            try await h.run {
                try await h.publish("e1")
                try await eventually("attempt recorded") { try await h.delivery("e1").attempts == 1 }
                #expect(try await h.delivery("e1").lastStatus == 301)
                #expect(try await h.delivery("e1").state == .pending)
                #expect(receiver.requests.map(\.path) == ["/moved"])
            }
        }
    }

    @Test func aSlowReceiverDoesNotHoldUpTheOthers() async throws {
        try await TestReceiver.run(script: { request, _ in
            .init(delay: request.path == "/slow" ? .seconds(3) : .zero)
        }) { receiver in
            let h = try Harness { $0.maxInFlightPerWebhook = 2 }
            _ = try await h.addWebhook("wh_slow", url: receiver.url("/slow"))
            _ = try await h.addWebhook("wh_fast", url: receiver.url("/fast"))
            try await h.run {
                for i in 0..<20 { try await h.publish("e\(i)") }
                try await eventually("all fast deliveries done", timeout: .seconds(2.5)) {
                    receiver.requests.filter { $0.path == "/fast" }.count == 20
                }
                let slow = receiver.requests.filter { $0.path == "/slow" }.count
                #expect(slow == 2, "only maxInFlightPerWebhook requests reach the slow receiver at once, saw \(slow)")
            }
        }
    }

    @Test func rateLimitedBacklogsDoNotHoldUpOtherWebhooks() async throws {
        let h = try Harness { $0.maxInFlight = 8; $0.batchSize = 8 }
        try await TestReceiver.run { receiver in
            for i in 0..<2 {
                _ = try await h.addWebhook("slow\(i)", url: receiver.url("/slow\(i)"), eventTypes: ["slow\(i)"], settings: DeliverySettings(rateLimit: 0.1))
            }
            _ = try await h.addWebhook("other", url: receiver.url("/other"), eventTypes: ["other"])
            // The backlogs are on disk before the dispatcher starts, the rate-limited ones first. On the
            // manual clock a used token never comes back: deliveries waiting for one must neither
            // fill the claim budget nor stop the other webhook's work from being claimed.
            let now = h.clock.now()
            let backlog = (0..<2).flatMap { i in (0..<10).map { ("s\(i)-\($0)", "slow\(i)") } } + (0..<5).map { ("o\($0)", "other") }
            _ = try await h.store.publish(backlog.map { id, type in
                PublishRequest(applicationID: "app", eventID: id, idempotencyKey: nil, type: type, timestamp: now, data: Array("{}".utf8))
            }, now: now)
            try await h.run {
                try await eventually("the other webhook's deliveries are sent", timeout: .seconds(5)) {
                    receiver.requests.filter { $0.path == "/other" }.count == 5
                }
                #expect(receiver.requests.filter { $0.path.hasPrefix("/slow") }.count <= 4, "one token each, then one per 10 s")
            }
        }
    }

    @Test func oneApplicationsSlowWebhooksCannotTakeEveryInFlightSlot() async throws {
        let inFlightX = Atomic<Int>(0), mostX = Atomic<Int>(0)
        try await TestReceiver.run(script: { request, _ in
            guard request.path.hasPrefix("/x") else { return .init() }
            // Application X's receivers are slow: each request holds its slot for 12 s (long beside
            // the 8 s Y is given, so a loaded machine cannot make X's first requests finish first).
            let now = inFlightX.add(1, ordering: .relaxed).newValue
            mostX.max(now, ordering: .relaxed)
            try? await Task.sleep(for: .seconds(12))
            inFlightX.subtract(1, ordering: .relaxed)
            return .init()
        }) { receiver in
            let h = try Harness { $0.maxInFlight = 16; $0.maxInFlightPerApplication = 4 }
            for i in 0..<3 {
                _ = try await h.addWebhook("x\(i)", url: receiver.url("/x\(i)"), eventTypes: ["x"], application: "app_x")
            }
            _ = try await h.addWebhook("y", url: receiver.url("/y"), eventTypes: ["y"], application: "app_y")
            // X's backlog (60 deliveries, more than every slot) is on disk before Y's, all due at once.
            let now = h.clock.now()
            _ = try await h.store.publish((0..<20).map {
                PublishRequest(applicationID: "app_x", eventID: "x\($0)", idempotencyKey: nil, type: "x", timestamp: now, data: Array("{}".utf8))
            }, now: now)
            _ = try await h.store.publish((0..<5).map {
                PublishRequest(applicationID: "app_y", eventID: "y\($0)", idempotencyKey: nil, type: "y", timestamp: now, data: Array("{}".utf8))
            }, now: now)
            try await h.run {
                // Without a per-application bound X holds all 16 slots for 12 s and Y waits behind it.
                try await eventually("application Y's deliveries are sent while X's receivers hold their slots", timeout: .seconds(8)) {
                    receiver.requests.filter { $0.path == "/y" }.count == 5
                }
                let sentX = receiver.requests.filter { $0.path.hasPrefix("/x") }.count
                #expect((1...4).contains(sentX), "X has at most its 4 slots in flight, saw \(sentX)")
                #expect(mostX.load(ordering: .relaxed) <= 4)
            }
        }
    }

    @Test func aFailedConnectionIsRecordedWithItsKind() async throws {
        // Port 1: nothing listens there (a port closed after use could be taken by a concurrent test's receiver).
        let h = try Harness()
        _ = try await h.addWebhook("wh", url: "http://127.0.0.1:1/gone")
        try await h.run {
            try await h.publish("e1")
            try await eventually("attempt recorded") { try await h.delivery("e1").attempts == 1 }
            let attempts = try await h.store.attempts(deliveryID: try await h.delivery("e1").id)
            #expect(attempts.first?.errorKind == .refused)
            #expect(attempts.first?.status == nil)
        }
    }
}
