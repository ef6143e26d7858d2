import BankHooksCore
import BankHooksStorage
import Logging
import ServiceLifecycle

/// Runs recovery jobs: re-sends each failed delivery a job covers, one new attempt each, through
/// the dispatcher (signed, recorded, within the webhook's rate limit), a page at a time. Running
/// jobs take turns page by page, so a long job (a slow rate limit) cannot hold up the others.
/// Progress is written after every page, so a restarted process resumes where it stopped. Woken
/// when a job is created; otherwise it sleeps.
public final class RecoveryRunner: Service {
    /// Deliveries read and sent per page.
    let pageSize: Int
    /// Sends in flight at once for one job.
    let concurrency: Int
    let store: any Store
    let dispatcher: Dispatcher
    let clock: any WallClock
    let logger: Logger
    private let signal = Signal()

    public init(store: any Store, dispatcher: Dispatcher, clock: any WallClock, logger: Logger, pageSize: Int = 50, concurrency: Int = 4) {
        self.store = store
        self.dispatcher = dispatcher
        self.clock = clock
        self.logger = logger
        self.pageSize = pageSize
        self.concurrency = concurrency
    }

    /// Tells the runner a job was created.
    public func wake() { signal.signal() }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    // One page of every running job per round, until none is left.
                    var jobs = try await self.store.runningRecoveries()
                    while !jobs.isEmpty {
                        for job in jobs { try await self.runPage(of: job) }
                        jobs = try await self.store.runningRecoveries()
                    }
                } catch is CancellationError {
                    return
                } catch {
                    if Task.isCancelled { return }
                    self.logger.error("recovery failed; retrying in 5 s", metadata: ["error": "\(error)"])
                    try? await self.clock.sleep(until: self.clock.now().adding(.seconds(5)))
                    continue
                }
                await self.signal.wait()
            }
        }
    }

    /// Sends one page of a job, or completes it when nothing is left.
    func runPage(of start: Recovery) async throws {
        var job = start
        try Task.checkCancellation()
        let ids = try await store.nextRecoveryDeliveries(job, limit: pageSize)
        if ids.isEmpty {
            job.state = .completed
            job.finishedAt = clock.now()
            try await store.updateRecovery(job)
            logger.info("recovery completed", metadata: [
                "recovery.id": "\(job.id)", "webhook.id": "\(job.webhookID)", "recovery.succeeded": "\(job.succeeded)",
                "recovery.failed": "\(job.failed)",
            ])
            return
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
        job.cursor = ids.last!
        job.processed += ids.count
        job.succeeded += succeeded
        job.failed += failed
        try await store.updateRecovery(job)
    }

    /// One new attempt of one failed delivery: true when it succeeded, nil when it is no longer
    /// failed (a resend got to it first). One that cannot be sent now (its webhook was disabled,
    /// or it is being sent) counts as failed.
    private func resend(_ deliveryID: Int64, of job: Recovery, rateLimit: Double?) async throws -> Bool? {
        // The token first, then the lease: a lease never runs out while its send waits its turn.
        try await dispatcher.awaitRateLimit(webhookID: job.webhookID, rate: rateLimit)
        let now = clock.now()
        let owner = "recovery/\(job.id)/\(deliveryID)"
        do {
            guard let (delivery, _) = try await store.leaseForSend(
                deliveryID: deliveryID, applicationID: job.applicationID, owner: owner, until: now.adding(.seconds(120)), now: now,
                expecting: .failed)
            else { return nil }
            let attempt = try await dispatcher.sendNow(delivery, failure: .failed)
            return dispatcher.succeeded(attempt, format: delivery.webhook.format)
        } catch let error as StoreError {
            if error.code == .stateChanged { return nil }
            logger.warning("recovery skipped a delivery", metadata: ["delivery.id": "\(deliveryID)", "error": "\(error)"])
            return false
        }
    }
}
