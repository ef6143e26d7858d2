import BankHooksCore
import BankHooksStorage
import Logging
import ServiceLifecycle
import Synchronization

/// Claims due deliveries in batches, sends them, and records every attempt.
///
/// One loop drives a `DispatchScheduler` (in-flight counts, queues, token waits, the claim
/// budget) and the timers; each send runs the `AttemptPipeline` (render → sign → send → decide)
/// as a child task and reports back through a lock-protected list plus a coalescing `Signal`.
/// Sends outside the loop (test, resend, recovery) take the same slots and pipeline
/// (`Dispatcher+SendNow.swift`).
/// The loop is woken at once by a publish (on any node sharing the database: `NodeCoordination`),
/// by finished sends, and by a timer set to the next due time (a future retry or an expiring
/// lease); it never polls the table in a loop. With several nodes, a webhook's rate limit is
/// shared: each node sends at most rate / live nodes.
public final class Dispatcher: Service {
    /// How the dispatcher behaves.
    public struct Configuration: Sendable {
        /// Lease owner name of this process; unique per process.
        public var owner: String
        /// Most deliveries claimed by one statement.
        public var batchSize = 100
        /// Most requests in flight overall.
        public var maxInFlight = 256
        /// Most requests in flight to one webhook, so one slow receiver cannot hold up the rest.
        public var maxInFlightPerWebhook = 32
        /// Most requests in flight to the webhooks of one application, so one tenant (many webhooks,
        /// all slow) cannot take every slot: a quarter of `maxInFlight`, so at least three quarters
        /// stay for the others, and twice `maxInFlightPerWebhook`, so a tenant's two busiest webhooks
        /// still run at their own full width.
        public var maxInFlightPerApplication = 64
        /// How long a send outside the claim loop ("Send a test", a resend) waits for a free slot of
        /// its webhook, its application and the whole dispatcher before it is refused with
        /// `DispatcherBusyError`. Every request in flight ends by its deadline (15 s at most), so a
        /// slot frees within this unless the webhook is flooded.
        public var sendSlotWait: Duration = .seconds(16)
        /// How long a claim is valid; a crashed process's claims are taken again after this.
        public var lease: Duration = .seconds(60)
        /// Longest idle sleep before looking at the store again (covers publishes by other processes).
        public var idleRecheck: Duration = .seconds(5)
        /// Bounds for honouring `Retry-After`.
        public var retryAfter = RetryAfterPolicy()

        public init(owner: String) { self.owner = owner }
    }

    struct Finished {
        var webhookID: String
        var applicationID: String
    }

    /// A send outside the loop waiting for a slot.
    struct SlotRequest {
        var id: Int
        var webhookID: String
        var applicationID: String
        var continuation: CheckedContinuation<Bool, Never>
    }

    /// What other tasks hand the loop, under one lock the loop takes once per turn.
    struct Inbox {
        var finished: [Finished] = []
        var slotRequests: [SlotRequest] = []
        /// Webhooks changed since the loop last looked: their queued deliveries go back to the store.
        var changedWebhooks: Set<String> = []
        /// Webhooks that answered 410 whose disable is not written yet: not claimed for meanwhile.
        var goneWebhooks: Set<String> = []
        /// The loop is stopping or gone: slot requests are refused at once.
        var isClosed = false
    }

    final class Mailbox: Sendable {
        let state = Mutex(Inbox())
    }

    let store: any DeliveryQueue
    /// The other nodes on the database: told of changed webhooks; their number splits rate limits.
    let coordination: any NodeCoordination
    /// Opens the credentials claims carry sealed.
    public let sealer: SecretSealer
    let sender: Sender
    let formats: WireFormats
    let clock: any WallClock
    let configuration: Configuration
    let logger: Logger
    let wakeSignal = Signal()
    let mailbox = Mailbox()
    let slotRequestIDs = Atomic<Int>(0)
    private let isShuttingDown = Atomic<Bool>(false)
    private let recorder: AttemptRecorder
    /// Render → sign → send → decide, for the loop's sends and sends now.
    let pipeline: AttemptPipeline
    /// Token buckets of rate-limited webhooks, shared by the loop and sends outside it (recovery).
    let rateBuckets = Mutex(RateBuckets())
    /// Set when recorded retries or releases may have moved the next due time earlier.
    private let scheduleChanged: ScheduleFlag

    public init(
        store: any DeliveryQueue, sender: Sender, formats: WireFormats = .builtIn, clock: any WallClock = SystemClock(), configuration: Configuration,
        logger: Logger, sealer: SecretSealer = SecretSealer(box: nil), coordination: any NodeCoordination = SoleNode()
    ) {
        self.store = store
        self.coordination = coordination
        self.sealer = sealer
        self.sender = sender
        self.formats = formats
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        pipeline = AttemptPipeline(sender: sender, clock: clock, retryAfter: configuration.retryAfter, logger: logger)
        let signal = wakeSignal
        let scheduleChanged = ScheduleFlag()
        self.scheduleChanged = scheduleChanged
        let mailbox = mailbox
        recorder = AttemptRecorder(store: store, clock: clock, logger: logger) { changed, disabled in
            if changed { scheduleChanged.set() }
            // A 410 disabled these webhooks: what is queued for them must not be sent, here or on another node.
            if !disabled.isEmpty {
                mailbox.state.withLock {
                    $0.changedWebhooks.formUnion(disabled)
                    $0.goneWebhooks.subtract(disabled)
                }
                for id in disabled { coordination.announce(.webhookChanged(id)) }
            }
            signal.signal()
        }
    }

    /// Tells the dispatcher that new deliveries may be due (called after a publish commits).
    public func wake() { wakeSignal.signal() }

    /// Tells the dispatcher that a webhook changed (rate limit, enabled, URL, headers, secret, or it
    /// was deleted), after the change is committed: its claimed deliveries not yet sent go back to
    /// the store at once, so the next claim reads them with the new settings (a disabled webhook's
    /// are held). Requests already in flight finish as they started.
    public func webhookChanged(id: String) {
        webhookChangedElsewhere(id: id)
        coordination.announce(.webhookChanged(id))
    }

    /// Tells the dispatcher that another node changed a webhook (what it claimed for it goes back).
    public func webhookChangedElsewhere(id: String) {
        mailbox.state.withLock { _ = $0.changedWebhooks.insert(id) }
        wakeSignal.signal()
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.recorder.run() }
                await self.dispatchLoop()
                self.recorder.finish()
            }
            do {
                if !Task.isCancelled { try await store.releaseAll(process: configuration.owner, now: clock.now()) }
            } catch {
                logger.error("releasing claims at shutdown failed; they expire with their lease", metadata: ["error": "\(error)"])
            }
            try? await sender.shutdown()
        } onGracefulShutdown: {
            self.isShuttingDown.store(true, ordering: .relaxed)
            self.wakeSignal.signal()
        }
    }

    // MARK: The loop

    private func dispatchLoop() async {
        await withDiscardingTaskGroup { group in
            var scheduler = DispatchScheduler(limits: .init(
                overall: configuration.maxInFlight, perWebhook: configuration.maxInFlightPerWebhook,
                perApplication: configuration.maxInFlightPerApplication, batchSize: configuration.batchSize))
            var armedDeadline: Timestamp?
            var credentials = CredentialCache(sealer: sealer)
            var claimSequence = 0

            func start(_ prepared: PreparedSend) {
                group.addTask { await self.deliver(prepared.delivery, format: prepared.format, body: prepared.body, credentials: prepared.credentials) }
            }
            // The timer armed for the earliest next token of a rate-limited webhook.
            var armedRateDeadline: Timestamp?

            /// Starts queued deliveries that fit; those whose lease would run out first go back.
            func pump(now: Timestamp) {
                let releases = scheduler.pump(now: now, takeToken: takeToken, start: start)
                if !releases.isEmpty { recorder.release(releases) }
            }

            while true {
                // One lock per turn: take in finished sends and changed webhooks, then grant waiting
                // sends from outside the loop the slots that fit (before queued deliveries: someone waits for them).
                let shuttingDown = isShuttingDown.load(ordering: .relaxed)
                var granted: [CheckedContinuation<Bool, Never>] = []
                var refused: [CheckedContinuation<Bool, Never>] = []
                let (changed, gone) = mailbox.state.withLock { inbox -> (Set<String>, Set<String>) in
                    for done in inbox.finished { scheduler.finish(webhookID: done.webhookID, applicationID: done.applicationID) }
                    inbox.finished.removeAll(keepingCapacity: true)
                    if shuttingDown || Task.isCancelled { inbox.isClosed = true }
                    if !inbox.slotRequests.isEmpty {
                        if inbox.isClosed {
                            refused = inbox.slotRequests.map(\.continuation)
                            inbox.slotRequests.removeAll()
                        } else {
                            inbox.slotRequests.removeAll { request in
                                guard scheduler.grantSlot(webhookID: request.webhookID, applicationID: request.applicationID) else { return false }
                                granted.append(request.continuation)
                                return true
                            }
                        }
                    }
                    defer { inbox.changedWebhooks.removeAll() }
                    return (inbox.changedWebhooks, inbox.goneWebhooks)
                }
                for continuation in granted { continuation.resume(returning: true) }
                for continuation in refused { continuation.resume(returning: false) }
                // A changed webhook's claimed, unsent deliveries go back, to be claimed again with its new settings.
                if !changed.isEmpty {
                    var releases: [ReleasedDelivery] = []
                    for webhookID in changed { releases += scheduler.dropQueue(webhookID: webhookID) }
                    if !releases.isEmpty { recorder.release(releases) }
                }
                if Task.isCancelled { break }
                let now = clock.now()
                pump(now: now)
                if shuttingDown {
                    // Claimed but unsent deliveries go back at once; in-flight ones finish.
                    let unsent = scheduler.drainQueues()
                    if !unsent.isEmpty { recorder.release(unsent) }
                    if scheduler.inFlight == 0 { break }
                    await wakeSignal.wait()
                    continue
                }

                var mayHaveMore = false
                if let plan = scheduler.claimPlan(excluding: gone) {
                    claimSequence += 1
                    let leaseUntil = now.adding(configuration.lease)
                    let claimed: [ClaimedDelivery]
                    do {
                        claimed = try await store.claimDue(
                            owner: "\(configuration.owner)/\(claimSequence)", now: now, leaseUntil: leaseUntil,
                            limit: plan.limit, excludingWebhooks: plan.excludingWebhooks, excludingApplications: plan.excludingApplications)
                    } catch {
                        logger.error("claiming deliveries failed", metadata: ["error": "\(error)"])
                        try? await clock.sleep(until: clock.now().adding(.seconds(1)))
                        continue
                    }
                    var bodies: [BodyKey: [UInt8]] = [:]
                    var overRate: [ReleasedDelivery] = []
                    for delivery in claimed {
                        // A rate-limited webhook keeps only what its rate can send within the lease; the rest goes back at once.
                        if let rate = delivery.webhook.settings.rateLimit {
                            let allowance = max(1, Int(nodeRate(rate) * (configuration.lease - .seconds(20)).secondsDouble))
                            if scheduler.queuedCount(webhookID: delivery.webhook.id) >= allowance {
                                overRate.append(ReleasedDelivery(id: delivery.id, leaseOwner: delivery.leaseOwner, dueAt: delivery.dueAt))
                                continue
                            }
                        }
                        let format = formats[delivery.webhook.format] ?? StandardWebhooksFormat()
                        let bodyKey = BodyKey(event: delivery.eventKey, format: format.name)
                        let body: [UInt8]
                        if let rendered = bodies[bodyKey] {
                            body = rendered
                        } else {
                            body = AttemptPipeline.render(delivery.event, format: format)
                            bodies[bodyKey] = body
                        }
                        guard let opened = credentials.credentials(for: delivery.webhook, format: format, at: now) else {
                            // Sealed under another master key (start refuses one that opens none): not sent; its lease brings it back.
                            if credentials.isFirstReport(of: delivery.webhook) {
                                logger.error("a webhook's secret does not open with this master key", metadata: ["webhook.id": "\(delivery.webhook.id)"])
                            }
                            continue
                        }
                        let prepared = PreparedSend(delivery: delivery, format: format, body: body, credentials: opened, leaseUntil: leaseUntil)
                        if scheduler.admit(prepared) { start(prepared) }
                    }
                    if !overRate.isEmpty { recorder.release(overRate) }
                    mayHaveMore = claimed.count == plan.limit && overRate.isEmpty
                    if claimed.contains(where: { $0.webhook.settings.rateLimit != nil }) { pump(now: now) }
                }
                // A rate-limited webhook waits for its next token: wake then.
                if let due = scheduler.rateDue, armedRateDeadline.map({ due < $0 || $0 <= now }) ?? true {
                    armedRateDeadline = due
                    group.addTask { [clock, wakeSignal] in
                        try? await clock.sleep(until: due)
                        wakeSignal.signal()
                    }
                }
                if mayHaveMore {
                    await Task.yield()
                    continue
                }
                // Nothing more is due now: sleep until the next due time, a publish, or a finished send.
                // The store is asked for the next due time only when it may have changed (retries or
                // releases were recorded) or the armed timer has passed; otherwise that timer stands.
                let timerPassed = armedDeadline.map { $0 <= now } ?? true
                if scheduleChanged.take() || timerPassed {
                    var deadline = now.adding(configuration.idleRecheck)
                    if let next = try? await store.nextDueTime(), next > now, next < deadline { deadline = next }
                    if timerPassed || armedDeadline.map({ deadline < $0 }) ?? true {
                        armedDeadline = deadline
                        group.addTask { [clock, wakeSignal] in
                            try? await clock.sleep(until: deadline)
                            wakeSignal.signal()
                        }
                    }
                }
                await wakeSignal.wait()
            }
            // Sends from outside still waiting for a slot will not get one.
            let waiting = mailbox.state.withLock { inbox -> [SlotRequest] in
                inbox.isClosed = true
                defer { inbox.slotRequests.removeAll() }
                return inbox.slotRequests
            }
            for request in waiting { request.continuation.resume(returning: false) }
            group.cancelAll()
        }
    }

    /// Sends one delivery and hands its attempt to the recorder.
    private func deliver(_ delivery: ClaimedDelivery, format: any WireFormat, body: [UInt8], credentials: SendCredentials) async {
        let record = await pipeline.run(delivery, format: format, body: body, credentials: credentials)
        mailbox.state.withLock { inbox in
            // A 410: in the same turn that frees this slot, the loop drops what it queued for the webhook
            // and claims nothing more for it until the recorder has written the disable.
            if record?.disablesWebhook == true {
                inbox.goneWebhooks.insert(delivery.webhook.id)
                inbox.changedWebhooks.insert(delivery.webhook.id)
            }
            inbox.finished.append(Finished(webhookID: delivery.webhook.id, applicationID: delivery.webhook.applicationID))
        }
        if let record { recorder.add(record) }
        wakeSignal.signal()
    }
}

/// A flag one side sets and the dispatcher loop takes (reads and clears).
private final class ScheduleFlag: Sendable {
    private let value = Atomic<Bool>(true)
    func set() { value.store(true, ordering: .releasing) }
    func take() -> Bool { value.exchange(false, ordering: .acquiringAndReleasing) }
}

/// One rendered body per event and format within a claim batch.
private struct BodyKey: Hashable {
    var event: Int64
    var format: String
}
