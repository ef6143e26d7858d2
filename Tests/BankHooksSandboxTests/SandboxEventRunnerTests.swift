import BankHooksCore
import BankHooksDelivery
@testable import BankHooksSandbox
import BankHooksStorage
import BankHooksTestSupport
import BankHooksVerify
import Foundation
import Logging
import Testing

/// The sandbox's real event pipeline over a fresh SQLite file, as the server wires it: the store,
/// the publisher, the event service, the sandbox runner, and (when `delivering`) the dispatcher
/// sending to webhooks on 127.0.0.1. One manual clock drives every timer.
struct SandboxPipeline: Sendable {
    let dir: TemporaryDirectory
    let store: SQLiteStore
    let clock: ManualClock
    let publisher: Publisher
    let dispatcher: Dispatcher?
    let registry: EventTypeRegistry
    let events: EventService
    let runner: SandboxEventRunner

    init(delivering: Bool = false) throws {
        let dir = TemporaryDirectory()
        try self.init(dir: dir, store: try SQLiteStore(path: dir.file("sandbox.sqlite")), clock: ManualClock(), delivering: delivering)
    }

    private init(dir: TemporaryDirectory, store: SQLiteStore, clock: ManualClock, delivering: Bool) throws {
        self.dir = dir
        self.store = store
        self.clock = clock
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var dispatcher: Dispatcher?
        if delivering {
            let policy = DestinationPolicy(allowedRanges: ["127.0.0.1/32"].compactMap(AddressRange.init))
            let sender = Sender(destinations: DestinationGuard(policy: policy), clock: clock)
            dispatcher = Dispatcher(store: store, sender: sender, clock: clock, configuration: Dispatcher.Configuration(owner: "test"), logger: logger)
        }
        self.dispatcher = dispatcher
        publisher = Publisher(store: store, clock: clock, logger: logger) { [dispatcher] in dispatcher?.wake() }
        registry = EventTypeRegistry(store: store)
        events = EventService(publisher: publisher, registry: registry, clock: clock)
        runner = SandboxEventRunner(store: store, events: events, clock: clock, logger: logger)
    }

    /// The same database and clock with new services: the server after a restart.
    func restarted() throws -> SandboxPipeline {
        try SandboxPipeline(dir: dir, store: store, clock: clock, delivering: dispatcher != nil)
    }

    /// Runs the publisher, the dispatcher (when delivering) and the runner (unless `withRunner`
    /// is false) for the duration of `body`.
    func run(withRunner: Bool = true, _ body: @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.publisher.run() }
            if let dispatcher { group.addTask { try await dispatcher.run() } }
            if withRunner { group.addTask { try await self.runner.run() } }
            defer { group.cancelAll() }
            try await body()
        }
    }

    /// Creates the application once.
    func application(_ id: String = "app") async throws {
        if try await store.application(id: id) == nil {
            try await store.createApplication(Application(id: id, name: id, environment: .sandbox, createdAt: clock.now(), webhookLimit: 100))
        }
    }

    /// A webhook of the application `app`.
    func webhook(_ id: String, url: String = "http://127.0.0.1:9/hook", format: String = "standard", types: [String]? = nil) async throws {
        try await application()
        let now = clock.now()
        try await store.createWebhook(Webhook(
            id: id, applicationID: "app", url: url, eventTypes: types, format: format, secret: .generate(), createdAt: now, updatedAt: now))
    }

    /// The application's published events, oldest first.
    func published(_ applicationID: String = "app") async throws -> [EventSummary] {
        try await store.events(applicationID: applicationID, filter: EventFilter(), after: nil, limit: 1000).items.reversed()
    }

    /// Waits until the application has `count` published events, and checks it has no more.
    @discardableResult
    func waitForPublished(_ count: Int, _ applicationID: String = "app") async throws -> [EventSummary] {
        try await eventually("\(count) events published") { try await published(applicationID).count >= count }
        let events = try await published(applicationID)
        #expect(events.count == count)
        return events
    }

    /// Waits until the runner sleeps on the clock (it has finished its pass).
    func waitUntilIdle() async throws {
        try await eventually("the runner sleeps") { clock.sleeperCount >= 1 }
    }

    /// Moves the clock and waits for the runner to pass again.
    func advance(by duration: Duration) async throws {
        clock.advance(by: duration)
        try await Task.sleep(for: .milliseconds(50))
        try await waitUntilIdle()
    }

    /// A scheduled event of a built-in Lean type, due `delay` from now.
    func scheduled(_ tag: String, after delay: Duration = .zero, type: String = "results.ready", applicationID: String = "app") throws -> ScheduledEvent {
        let data = type == "results.ready" ? try OrderedJSONEncoder.encode(LeanResultsReady(id: tag)) : Array(#"{"tag":"\#(tag)"}"#.utf8)
        return ScheduledEvent(
            id: Identifier.make("sev", at: clock.now()), applicationID: applicationID, dueAt: clock.now().adding(delay), type: type, data: data)
    }
}

@Suite struct SandboxEventRunnerTests {
    @Test func dueEventsArePublishedInDueOrderOnlyWhenDueAndThenDeleted() async throws {
        let p = try SandboxPipeline()
        try await p.webhook("wh_1")
        let late = try p.scheduled("late", after: .seconds(3))
        let first = try p.scheduled("first", after: .seconds(1))
        let second = try p.scheduled("second", after: .seconds(2))
        let now = try p.scheduled("now")
        let fourth = try p.scheduled("fourth", after: .seconds(3) + .milliseconds(1))
        try await p.store.scheduleEvents([late, first, second, now, fourth])
        try await p.run {
            try await p.waitForPublished(1)
            try await p.waitUntilIdle()
            #expect(try await p.published().count == 1, "nothing before it is due")
            try await p.advance(by: .seconds(1))
            try await p.waitForPublished(2)
            // The rest at once: published in due order within one pass.
            try await p.advance(by: .seconds(5))
            let published = try await p.waitForPublished(5)
            var order: [String] = []
            for summary in published {
                let event = try #require(try await p.store.event(id: summary.id, applicationID: "app"))
                order.append(String(decoding: event.data, as: UTF8.self))
            }
            #expect(order == ["now", "first", "second", "late", "fourth"].map { #"{"id":"\#($0)"}"# })
            #expect(try await p.store.nextScheduledEventDue() == nil, "published events are deleted")
            // Each went to the subscriber, with the due time as its timestamp.
            #expect(published.map(\.timestamp) == [now, first, second, late, fourth].map(\.dueAt))
            for summary in published { #expect(try await p.store.deliveries(eventID: summary.id, applicationID: "app").count == 1) }
        }
    }

    @Test func itSleepsUntilWokenWithoutPollingRealTime() async throws {
        let p = try SandboxPipeline()
        try await p.webhook("wh_1")
        try await p.run {
            try await p.waitUntilIdle()
            // Committed without a wake: the manual clock does not move, so nothing looks.
            try await p.store.scheduleEvents([try p.scheduled("quiet")])
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await p.published().isEmpty)
            p.runner.wake()
            try await p.waitForPublished(1)
            // The safety poll is on the clock: a second quiet commit is found within a second of it.
            try await p.waitUntilIdle()
            try await p.store.scheduleEvents([try p.scheduled("polled")])
            try await p.advance(by: .seconds(1))
            try await p.waitForPublished(2)
        }
    }

    @Test func anEventLeftInTheTableIsPublishedOnceAfterARestart() async throws {
        let p = try SandboxPipeline()
        try await p.webhook("wh_1")
        let pending = try p.scheduled("pending", after: .seconds(2))
        let halfDone = try p.scheduled("half-done")
        // The first run published `halfDone` and crashed before deleting it: its publish is committed, its row still there.
        try await p.store.scheduleEvents([pending, halfDone])
        try await p.run(withRunner: false) {
            _ = try await p.events.publish(
                EventService.Draft(type: halfDone.type, data: halfDone.data, timestamp: halfDone.dueAt, idempotencyKey: "sandbox:\(halfDone.id)"),
                applicationID: "app", origin: .bankHooks)
        }
        #expect(try await p.published().count == 1)
        #expect(try await p.store.dueScheduledEvents(now: p.clock.now(), limit: 10).map(\.id) == [halfDone.id])
        // The restart: the replay publishes nothing new, and the pending one goes out once when due.
        let r = try p.restarted()
        try await r.run {
            try await r.waitUntilIdle()
            try await eventually("the half-done event is deleted") { try await r.store.dueScheduledEvents(now: r.clock.now(), limit: 10).isEmpty }
            #expect(try await r.published().count == 1, "the replay of `sandbox:<id>` is the same event")
            try await r.advance(by: .seconds(2))
            let published = try await r.waitForPublished(2)
            #expect(try await r.store.nextScheduledEventDue() == nil)
            for summary in published { #expect(try await r.store.deliveries(eventID: summary.id, applicationID: "app").count == 1) }
            // Publishing the same rows twice more (a crash after each publish) still leaves one event each.
            _ = await r.runner.process([pending, halfDone], now: r.clock.now())
            _ = await r.runner.process([pending, halfDone], now: r.clock.now())
            #expect(try await r.published().count == 2)
            #expect(r.runner.failingCount == 0)
        }
    }

    @Test func aFailingEventIsRetriedWithBackoffAndHoldsNothingBack() async throws {
        let p = try SandboxPipeline()
        try await p.webhook("wh_1")
        // A type the application has not registered yet: the publish fails until it does.
        let failing = try p.scheduled("x", type: "sandbox.custom")
        let good = try p.scheduled("good")
        try await p.store.scheduleEvents([failing, good])
        try await p.run {
            try await p.waitForPublished(1)
            try await p.waitUntilIdle()
            #expect(p.runner.failingCount == 1)
            #expect(try await p.store.nextScheduledEventDue() == failing.dueAt, "a failed event stays scheduled")
            try await p.application()
            try await p.store.createEventType(CustomEventType(
                applicationID: "app", name: "sandbox.custom", description: "d", schema: nil, createdAt: p.clock.now()))
            p.registry.invalidate(applicationID: "app")
            // Not before its retry time (1 s after the failure), even when woken.
            p.runner.wake()
            try await p.advance(by: .milliseconds(500))
            #expect(try await p.published().count == 1)
            try await p.advance(by: .milliseconds(600))
            try await p.waitForPublished(2)
            #expect(p.runner.failingCount == 0)
            #expect(try await p.store.nextScheduledEventDue() == nil)
        }
    }

    @Test func theRetryDelayDoublesUpToItsCap() throws {
        let p = try SandboxPipeline()
        #expect((1...10).map { p.runner.retryDelay(attempts: $0) }
            == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300].map { Duration.seconds($0) })
        #expect(p.runner.retryDelay(attempts: 1000) == .seconds(300))
    }

    @Test func anEventWhoseApplicationWentAwayIsDropped() async throws {
        let p = try SandboxPipeline()
        try await p.webhook("wh_1")
        try await p.store.scheduleEvents([try p.scheduled("orphan")])
        // The runner read it, then the application was deleted (its rows with it), then it publishes.
        let due = try await p.store.dueScheduledEvents(now: p.clock.now(), limit: 10)
        #expect(due.count == 1)
        _ = try await p.store.deleteApplication(id: "app")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await p.publisher.run() }
            defer { group.cancelAll() }
            _ = await p.runner.process(due, now: p.clock.now())
        }
        #expect(p.runner.failingCount == 0, "dropped, not retried")
        #expect(try await p.store.nextScheduledEventDue() == nil)
    }
}
