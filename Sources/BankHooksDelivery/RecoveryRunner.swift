import BankHooksCore
import BankHooksStorage
import Logging
import ServiceLifecycle
import Synchronization

/// Runs recovery jobs: re-sends each failed delivery a job covers, one new attempt each, through
/// the dispatcher (signed, recorded, within the webhook's rate limit and in-flight bounds), a page
/// at a time. Each running job is its own child task, so a job that waits (a slow receiver, a
/// 0.01/s rate limit) never holds up another; at most `maxJobs` run at once, and at most
/// `maxJobsPerApplication` of one application, so one tenant's many jobs cannot keep the others'
/// waiting. Progress is written after every page, so a restarted process resumes where it stopped;
/// a delivery attempted since the job was created (by the job itself in a page cut short, or by a
/// resend) is not its work any more, so nothing is re-sent twice. Woken when a job is created (on
/// any node) or one finishes; otherwise it sleeps. With several nodes on one database, only the
/// node leading `LeaderJob.recoveries` runs jobs; another takes over (from the progress written)
/// when it dies.
public final class RecoveryRunner: Service {
    /// How recovery jobs share the server.
    public struct Configuration: Sendable {
        /// Deliveries read and sent per page (progress is written after each).
        public var pageSize = 50
        /// Sends in flight at once for one job (each also takes a dispatcher slot).
        public var concurrency = 4
        /// Jobs running at once, overall.
        public var maxJobs = 32
        /// Jobs of one application running at once.
        public var maxJobsPerApplication = 2

        public init() {}
    }

    /// Deliveries read and sent per page.
    let pageSize: Int
    /// Sends in flight at once for one job.
    let concurrency: Int
    /// Jobs running at once, overall and per application.
    let maxJobs: Int
    let maxJobsPerApplication: Int
    let store: any RecoveryStore & WebhookStore
    let dispatcher: Dispatcher
    let clock: any WallClock
    let logger: Logger
    /// Who leads the jobs, and whom to tell of a new one.
    let coordination: any NodeCoordination
    private let signal = Signal()
    /// Jobs being run by a child task: job id → application id.
    private let active = Mutex<[String: String]>([:])

    public init(
        store: any RecoveryStore & WebhookStore, dispatcher: Dispatcher, clock: any WallClock, logger: Logger, pageSize: Int = 50, concurrency: Int = 4,
        maxJobs: Int = 32, maxJobsPerApplication: Int = 2, coordination: any NodeCoordination = SoleNode()
    ) {
        self.coordination = coordination
        self.store = store
        self.dispatcher = dispatcher
        self.clock = clock
        self.logger = logger
        self.pageSize = max(1, pageSize)
        self.concurrency = max(1, concurrency)
        self.maxJobs = max(1, maxJobs)
        self.maxJobsPerApplication = max(1, maxJobsPerApplication)
    }

    public convenience init(
        store: any RecoveryStore & WebhookStore, dispatcher: Dispatcher, clock: any WallClock, logger: Logger, configuration: Configuration,
        coordination: any NodeCoordination = SoleNode()
    ) {
        self.init(
            store: store, dispatcher: dispatcher, clock: clock, logger: logger, pageSize: configuration.pageSize,
            concurrency: configuration.concurrency, maxJobs: configuration.maxJobs, maxJobsPerApplication: configuration.maxJobsPerApplication,
            coordination: coordination)
    }

    /// Tells the runner a job was created here, and the other nodes (one of them may lead the jobs).
    public func wake() {
        signal.signal()
        coordination.announce(.recoveries)
    }

    /// Tells the runner another node created a job.
    public func wakeLocally() { signal.signal() }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            // Jobs run only while this node leads them; losing the lead cancels them mid-page (the
            // next leader resumes from the progress written).
            await self.coordination.lead(.recoveries) { await self.runJobs() }
        }
    }

    /// Starts every running job the bounds allow, as each is created or another finishes.
    private func runJobs() async {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                do {
                    // Oldest first: each job that is not running yet starts while the bounds allow.
                    for job in try await self.store.runningRecoveries() where self.claim(job) {
                        group.addTask {
                            await self.runJob(job)
                            _ = self.active.withLock { $0.removeValue(forKey: job.id) }
                            self.signal.signal()
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    self.logger.error("reading recovery jobs failed; retrying in 5 s", metadata: ["error": "\(error)"])
                    try? await self.clock.sleep(until: self.clock.now().adding(.seconds(5)))
                    continue
                }
                await self.signal.wait()
            }
            group.cancelAll()
        }
    }

    /// Marks a job as run by this process if it is not yet and the bounds allow.
    private func claim(_ job: Recovery) -> Bool {
        active.withLock { active in
            guard active[job.id] == nil, active.count < maxJobs,
                  active.values.lazy.filter({ $0 == job.applicationID }).count < maxJobsPerApplication else { return false }
            active[job.id] = job.applicationID
            return true
        }
    }

    /// Runs one job page by page until it completes. A failed page is tried again after 5 s from
    /// the progress last written.
    func runJob(_ start: Recovery) async {
        var job = start
        while job.state == .running, !Task.isCancelled {
            do {
                job = try await runPage(of: job)
            } catch {
                if Task.isCancelled { return }
                logger.error("recovery page failed; retrying in 5 s", metadata: ["recovery.id": "\(job.id)", "error": "\(error)"])
                try? await clock.sleep(until: clock.now().adding(.seconds(5)))
                do {
                    guard let stored = try await store.recovery(id: job.id, applicationID: job.applicationID) else { return }
                    job = stored
                } catch {
                    continue
                }
            }
        }
    }

    /// Sends one page of a job, or completes it when nothing is left; returns the job's new progress.
    @discardableResult
    func runPage(of start: Recovery) async throws -> Recovery {
        var job = start
        try Task.checkCancellation()
        let ids = try await store.nextRecoveryDeliveries(job, limit: pageSize)
        if ids.isEmpty {
            // Every delivery it covers was handled: sent by it, or attempted since by someone else (a
            // resend, or this job in a page cut short before its progress was written). Processed is the total.
            job.processed = job.total
            job.state = .completed
            job.finishedAt = clock.now()
            try await store.updateRecovery(job)
            logger.info("recovery completed", metadata: [
                "recovery.id": "\(job.id)", "webhook.id": "\(job.webhookID)", "recovery.succeeded": "\(job.succeeded)",
                "recovery.failed": "\(job.failed)",
            ])
            return job
        }
        // Read once per page: a disabled webhook's deliveries fail at once, without waiting for tokens.
        let webhook = try await store.webhook(id: job.webhookID, applicationID: job.applicationID)
        var succeeded = 0, failed = 0
        if let webhook, webhook.isEnabled {
            let rateLimit = webhook.settings.rateLimit
            try await withThrowingTaskGroup(of: Bool?.self) { group in
                var next = ids.makeIterator()
                let current = job
                func add() {
                    guard let id = next.next() else { return }
                    group.addTask { try await self.resend(id, of: current, rateLimit: rateLimit) }
                }
                for _ in 0..<concurrency { add() }
                while let outcome = try await group.next() {
                    if let ok = outcome { if ok { succeeded += 1 } else { failed += 1 } }
                    add()
                }
            }
        } else {
            failed = ids.count
        }
        job.cursor = ids.last ?? job.cursor
        job.processed += ids.count
        job.succeeded += succeeded
        job.failed += failed
        try await store.updateRecovery(job)
        return job
    }

    /// One new attempt of one failed delivery: true when it succeeded, nil when it is no longer the
    /// job's work (no longer failed, or attempted since the job was created: a resend got to it
    /// first, or this job did in a page cut short). One that cannot be sent now (its webhook was
    /// disabled, or it is being sent) counts as failed.
    private func resend(_ deliveryID: Int64, of job: Recovery, rateLimit: Double?) async throws -> Bool? {
        // The token first, then the lease: a lease never runs out while its send waits its turn.
        try await dispatcher.awaitRateLimit(webhookID: job.webhookID, rate: rateLimit)
        // Then, in the send now, an in-flight slot like every send's: recovery cannot exceed the
        // webhook's or application's bound.
        do {
            let sent = try await dispatcher.sendNow(
                deliveryID: deliveryID, webhookID: job.webhookID, applicationID: job.applicationID,
                purpose: .recovery(jobID: job.id, deliveryID: deliveryID), expecting: .failed, attemptedBefore: job.createdAt)
            return sent?.succeeded
        } catch let error as StoreError {
            if error.code == .stateChanged { return nil }
            logger.warning("recovery skipped a delivery", metadata: ["delivery.id": "\(deliveryID)", "error": "\(error)"])
            return false
        }
    }
}
