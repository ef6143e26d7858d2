import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import Logging
import ServiceLifecycle
import Synchronization

/// Publishes the sandbox's scheduled events when they are due, through the event service (origin
/// BankHooks, idempotency key `sandbox:<scheduled id>`, to one webhook when the event names one),
/// then deletes them. Events are published in due order, those due at the same time in id order
/// (the order their change scheduled them), all of a pass queued together so they share commits. Durable end to end: an event is deleted only after its
/// publish committed, so a crash in between publishes it again at the next start, and the idempotency key makes that
/// a replay of the same event, not a second one.
///
/// It sleeps until the next due time (at most `pollInterval`, a safety net) or until `wake()`
/// (called after a commit that scheduled events). An event whose application was deleted is
/// dropped; any other failure is logged and that event retried with exponential backoff (from
/// `retryDelay` up to `maxRetryDelay`), never in a tight loop, never dropped.
public final class SandboxEventRunner: Service, Sendable {
    public struct Configuration: Sendable {
        /// The longest sleep with nothing due (a safety net for a missed wake-up).
        public var pollInterval: Duration = .seconds(1)
        /// How many due events one pass reads.
        public var batchSize = 100
        /// The first retry delay of an event that failed, doubled on each failure up to `maxRetryDelay`.
        public var retryDelay: Duration = .seconds(1)
        public var maxRetryDelay: Duration = .seconds(300)

        public init() {}
    }

    /// An event that failed: when it may be tried again, and how many times it failed.
    private struct Failure {
        var attempts: Int
        var retryAt: Timestamp
    }

    private struct State {
        var failures: [String: Failure] = [:]
        /// Failures of the store itself (reading or deleting), for the pass's own backoff.
        var storeFailures = 0
    }

    let store: any SandboxStore
    let events: EventService
    let clock: any WallClock
    let logger: Logger
    let configuration: Configuration
    private let wakeSignal = Signal()
    private let isStopping = Atomic<Bool>(false)
    private let state = Mutex(State())

    public convenience init(store: any SandboxStore, events: EventService, clock: any WallClock, logger: Logger) {
        self.init(store: store, events: events, clock: clock, logger: logger, configuration: Configuration())
    }

    public init(store: any SandboxStore, events: EventService, clock: any WallClock, logger: Logger, configuration: Configuration) {
        self.store = store
        self.events = events
        self.clock = clock
        self.logger = logger
        self.configuration = configuration
    }

    /// Looks for due events now (call after committing scheduled events).
    public func wake() { wakeSignal.signal() }

    /// How many events are waiting for a retry after a failure.
    public var failingCount: Int { state.withLock { $0.failures.count } }

    public func run() async throws {
        await withGracefulShutdownHandler {
            while !self.isStopping.load(ordering: .relaxed), !Task.isCancelled {
                let deadline = await self.pass()
                if self.isStopping.load(ordering: .relaxed) || Task.isCancelled { break }
                if let deadline { await self.sleep(until: deadline) }
            }
        } onGracefulShutdown: {
            self.isStopping.store(true, ordering: .relaxed)
            self.wakeSignal.signal()
        }
    }

    /// One pass: publishes every due event that is not waiting for a retry, earliest first, and
    /// deletes those published. Returns when to look again; nil to look again at once (a full
    /// batch, or an event that fell due meanwhile).
    func pass() async -> Timestamp? {
        let now = clock.now()
        let waitingCount = state.withLock { s in s.failures.values.filter { $0.retryAt > now }.count }
        let due: [ScheduledEvent]
        do {
            // Read past the events waiting for a retry, so they never hold back the others.
            due = try await store.dueScheduledEvents(now: now, limit: configuration.batchSize + waitingCount)
        } catch {
            return storeFailed(error, while: "reading due events", now: now)
        }
        return await process(due, now: now)
    }

    /// Publishes `due` (read at `now`), except those waiting for a retry, and deletes those done with.
    func process(_ due: [ScheduledEvent], now: Timestamp) async -> Timestamp? {
        let waiting = state.withLock { $0.failures.filter { $0.value.retryAt > now } }
        let ready = due.filter { waiting[$0.id] == nil }
        // In due order, and within a due time in id order: the order the change that scheduled
        // them added them (`bank_link.result` before `entity.created`, a payment source before its
        // beneficiary). Queued together in that order, so they reach the event log in it and share
        // the publisher's commits (a link's events are one or two commits, not one each, so the
        // single writer stays free for the redirects).
        var done: [String] = []
        if !ready.isEmpty, !isStopping.load(ordering: .relaxed) {
            let submissions = ready.map { event in
                EventService.Submission(
                    EventService.Draft(type: event.type, data: event.data, timestamp: event.dueAt, idempotencyKey: "sandbox:\(event.id)"),
                    applicationID: event.applicationID, origin: .bankHooks, to: event.webhookID.map { .webhook($0) } ?? .subscribers)
            }
            let results = await events.publish(inOrder: submissions)
            for (event, result) in zip(ready, results) where settle(event, result) { done.append(event.id) }
        }
        let tried = ready.count
        if !done.isEmpty {
            do {
                try await store.deleteScheduledEvents(ids: done)
            } catch {
                // Published but not deleted: the next pass publishes them again, a replay by their key.
                return storeFailed(error, while: "deleting published events", now: now)
            }
        }
        let seen = Set(due.map(\.id))
        state.withLock { s in
            s.storeFailures = 0
            for id in done { s.failures[id] = nil }
            // A failed event that was due but not read is gone (its application was deleted with it).
            s.failures = s.failures.filter { $0.value.retryAt > now || seen.contains($0.key) }
        }
        if tried >= configuration.batchSize { return nil }
        return await nextDeadline(after: clock.now())
    }

    /// What one publish did to `event`: true when it is done with (published, or its application
    /// is gone); a failure is logged and `event` waits for a retry.
    private func settle(_ event: ScheduledEvent, _ result: Result<EventService.Published, any Error>) -> Bool {
        switch result {
        case .success:
            return true
        case .failure(let error as EventError) where error.code == .applicationDeleted:
            logger.debug("dropped a sandbox event: its application was deleted", metadata: ["event.type": "\(event.type)", "scheduled.id": "\(event.id)"])
            return true
        case .failure(let error):
            let failure = state.withLock { s -> Failure in
                let attempts = (s.failures[event.id]?.attempts ?? 0) + 1
                let failure = Failure(attempts: attempts, retryAt: clock.now().adding(retryDelay(attempts: attempts)))
                s.failures[event.id] = failure
                return failure
            }
            if !isStopping.load(ordering: .relaxed) {
                logger.error("a sandbox event could not be published; it is retried later", metadata: [
                    "event.type": "\(event.type)", "scheduled.id": "\(event.id)", "application.id": "\(event.applicationID)",
                    "attempts": "\(failure.attempts)", "retry.at": "\(failure.retryAt)", "error": "\(error)",
                ])
            }
            return false
        }
    }

    /// The delay before retry `attempts` + 1: `retryDelay` doubled per failure, at most `maxRetryDelay`.
    func retryDelay(attempts: Int) -> Duration {
        var delay = configuration.retryDelay
        for _ in 1..<max(attempts, 1) where delay < configuration.maxRetryDelay { delay *= 2 }
        return min(delay, configuration.maxRetryDelay)
    }

    /// The store failed: log it and look again after a backoff.
    private func storeFailed(_ error: any Error, while doing: String, now: Timestamp) -> Timestamp {
        let attempts = state.withLock { s -> Int in
            s.storeFailures += 1
            return s.storeFailures
        }
        let delay = retryDelay(attempts: attempts)
        logger.error("the sandbox event runner failed \(doing); it tries again later", metadata: [
            "error": "\(error)", "retry.in": "\(delay)",
        ])
        return now.adding(delay)
    }

    /// When to look again: nil (at once) when an event not waiting for a retry is due already (it
    /// fell due while the pass published, or was committed since); else the next due event not
    /// waiting for a retry, the earliest retry, or the safety poll, whichever is first (never
    /// before `now` + 1 ms: no tight loop on a stuck event).
    private func nextDeadline(after now: Timestamp) async -> Timestamp? {
        var deadline = now.adding(configuration.pollInterval)
        let waiting = state.withLock { s in s.failures.filter { $0.value.retryAt > now } }
        if let earliestRetry = waiting.values.map(\.retryAt).min() { deadline = min(deadline, earliestRetry) }
        // The events due before the deadline, earliest first, read past those waiting for a retry.
        if let upcoming = try? await store.dueScheduledEvents(now: deadline, limit: waiting.count + 1),
           let next = upcoming.first(where: { waiting[$0.id] == nil }) {
            if next.dueAt <= now { return nil }
            deadline = min(deadline, next.dueAt)
        }
        return max(deadline, now.adding(.milliseconds(1)))
    }

    /// Sleeps until `deadline` on the clock, or until woken.
    private func sleep(until deadline: Timestamp) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [clock] in try? await clock.sleep(until: deadline) }
            group.addTask { [wakeSignal] in await wakeSignal.wait() }
            await group.next()
            group.cancelAll()
        }
    }
}
