import BankHooksCore
import BankHooksDelivery
@testable import BankHooksSandbox
import BankHooksStorage
import BankHooksTestSupport
import BankHooksVerify
import Foundation
import Logging
import Testing

/// The runner's timing: an event that falls due while a pass publishes is looked at at once (not
/// at the safety poll).
@Suite struct SandboxEventRunnerOrderTests {
    /// A Lean `results.ready` tagged `tag` (its id), due `delay` after `now`.
    private static func event(_ tag: String, applicationID: String = "app", now: Timestamp, after delay: Duration = .zero) throws -> ScheduledEvent {
        ScheduledEvent(
            id: Identifier.make("sev", at: now), applicationID: applicationID, dueAt: now.adding(delay), type: "results.ready",
            data: try OrderedJSONEncoder.encode(LeanResultsReady(id: tag)))
    }

    // MARK: Finding 4: an event due during a pass

    @Test func anEventThatFellDueDuringThePassIsLookedAtAtOnce() async throws {
        let p = try SandboxPipeline()
        try await p.webhook("wh_1")
        let start = p.clock.now()
        let first = try Self.event("first", now: start)
        let soon = try Self.event("soon", now: start, after: .milliseconds(5))
        try await p.store.scheduleEvents([first, soon])
        let due = try await p.store.dueScheduledEvents(now: start, limit: 10)
        #expect(due.map(\.id) == [first.id], "read at the pass's start: the second is not due yet")
        try await p.run(withRunner: false) {
            // The pass publishes for 10 ms: when it ends, `soon` is due and not published.
            p.clock.advance(by: .milliseconds(10))
            let next = await p.runner.process(due, now: start)
            #expect(next == nil, "look again at once, not at the safety poll (\(String(describing: next)))")
            // Nothing due: the next due time, not the poll.
            _ = await p.runner.process(try await p.store.dueScheduledEvents(now: p.clock.now(), limit: 10), now: p.clock.now())
            try await p.store.scheduleEvents([try Self.event("later", now: p.clock.now(), after: .milliseconds(300))])
            let idle = await p.runner.process([], now: p.clock.now())
            #expect(idle == p.clock.now().adding(.milliseconds(300)))
        }
    }

    @Test func anEventWaitingForARetryDoesNotHideTheNextDueOne() async throws {
        let p = try SandboxPipeline()
        try await p.webhook("wh_1")
        let start = p.clock.now()
        // An unregistered custom type fails (retried after 1 s); a good event is due 300 ms later.
        let failing = ScheduledEvent(
            id: Identifier.make("sev", at: start), applicationID: "app", dueAt: start, type: "sandbox.custom", data: Array(#"{"a":1}"#.utf8))
        let good = try Self.event("good", now: start, after: .milliseconds(300))
        try await p.store.scheduleEvents([failing, good])
        try await p.run(withRunner: false) {
            let next = await p.runner.process(try await p.store.dueScheduledEvents(now: start, limit: 10), now: start)
            #expect(p.runner.failingCount == 1)
            #expect(next == good.dueAt, "the good event's due time, before the retry and the poll")
            // Once it is due, with the failing one still waiting: at once.
            p.clock.advance(by: .milliseconds(300))
            #expect(await p.runner.process([], now: p.clock.now()) == nil)
        }
    }

    @Test func eventsFallingDueMillisecondsApartArePublishedOnTimeByTheRealClock() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteStore(path: dir.file("sandbox.sqlite"))
        let clock = SystemClock()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let publisher = Publisher(store: store, clock: clock, logger: logger) {}
        let events = EventService(publisher: publisher, registry: EventTypeRegistry(store: store), clock: clock)
        // A 10 s safety poll: an event left to the poll would be seconds late, far beyond any load.
        var configuration = SandboxEventRunner.Configuration()
        configuration.pollInterval = .seconds(10)
        let runner = SandboxEventRunner(store: store, events: events, clock: clock, logger: logger, configuration: configuration)
        try await store.createApplication(Application(id: "app", name: "app", environment: .sandbox, createdAt: clock.now(), webhookLimit: 10))
        // Thirty events 2 ms apart: most fall due while the pass before publishes the one before.
        let start = clock.now().adding(.milliseconds(100))
        let scheduled = try (0..<30).map { try Self.event("e\($0)", now: start, after: .milliseconds(2 * $0)) }
        try await store.scheduleEvents(scheduled)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await publisher.run() }
            group.addTask { try await runner.run() }
            defer { group.cancelAll() }
            try await eventually("30 events published", timeout: .seconds(8)) {
                try await store.events(applicationID: "app", filter: EventFilter(), after: nil, limit: 100).items.count == 30
            }
        }
        let published = try await store.events(applicationID: "app", filter: EventFilter(), after: nil, limit: 100).items
        let lateness = published.map { $0.createdAt.milliseconds - $0.timestamp.milliseconds }
        // Alone, each is within a few ms of its due time; 500 ms leaves room for a loaded machine
        // running the other suites (each commit an fsync), and is still far below the poll.
        #expect(lateness.allSatisfy { $0 <= 500 }, "each published on time, not at the poll (ms late: \(lateness.sorted()))")
    }
}
