import BankHooksCore
import BankHooksStorage
import Logging
import ServiceLifecycle
import Synchronization

/// Claims due deliveries in batches, sends them, and records every attempt.
///
/// One loop owns all scheduling state (in-flight counts, saturated webhooks, the timer); sends
/// run as child tasks and report back through a lock-protected list plus a coalescing `Signal`.
/// The loop is woken at once by a publish, by finished sends, and by a timer set to the next due
/// time (a future retry or an expiring lease); it never polls the table in a loop.
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

    private struct Finished {
        var webhookID: String
        var applicationID: String
    }

    /// A send outside the loop waiting for a slot.
    private struct SlotRequest {
        var id: Int
        var webhookID: String
        var applicationID: String
        var continuation: CheckedContinuation<Bool, Never>
    }

    /// What other tasks hand the loop, under one lock the loop takes once per turn.
    private struct Inbox {
        var finished: [Finished] = []
        var slotRequests: [SlotRequest] = []
        /// Webhooks changed since the loop last looked: their queued deliveries go back to the store.
        var changedWebhooks: Set<String> = []
        /// Webhooks that answered 410 whose disable is not written yet: not claimed for meanwhile.
        var goneWebhooks: Set<String> = []
        /// The loop is stopping or gone: slot requests are refused at once.
        var isClosed = false
    }

    private final class Mailbox: Sendable {
        let state = Mutex(Inbox())
    }

    let store: any Store
    let sender: Sender
    let formats: WireFormats
    let clock: any WallClock
    let configuration: Configuration
    let logger: Logger
    private let wakeSignal = Signal()
    private let mailbox = Mailbox()
    private let slotRequestIDs = Atomic<Int>(0)
    private let isShuttingDown = Atomic<Bool>(false)
    private let recorder: AttemptRecorder
    /// Token buckets of rate-limited webhooks, shared by the loop and sends outside it (recovery).
    private let rateBuckets = Mutex<[String: TokenBucket]>([:])
    /// Set when recorded retries or releases may have moved the next due time earlier.
    private let scheduleChanged: ScheduleFlag

    public init(store: any Store, sender: Sender, formats: WireFormats = .builtIn, clock: any WallClock = SystemClock(), configuration: Configuration, logger: Logger) {
        self.store = store
        self.sender = sender
        self.formats = formats
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        let signal = wakeSignal
        let scheduleChanged = ScheduleFlag()
        self.scheduleChanged = scheduleChanged
        let mailbox = mailbox
        recorder = AttemptRecorder(store: store, clock: clock, logger: logger) { changed, disabled in
            if changed { scheduleChanged.set() }
            // A 410 disabled these webhooks: what is queued for them must not be sent.
            if !disabled.isEmpty {
                mailbox.state.withLock {
                    $0.changedWebhooks.formUnion(disabled)
                    $0.goneWebhooks.subtract(disabled)
                }
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

    /// A claimed delivery ready to send: rendered, with its signing keys.
    private struct Prepared {
        var delivery: ClaimedDelivery
        var format: any WireFormat
        var body: [UInt8]
        var keys: [SigningKey]
        var leaseUntil: Timestamp
    }

    private func dispatchLoop() async {
        await withDiscardingTaskGroup { group in
            var inFlight = 0
            var perWebhook: [String: Int] = [:]
            var perApplication: [String: Int] = [:]
            // Claimed deliveries waiting for a slot of their webhook (or a global slot), in claim order.
            var queues: [String: [Prepared]] = [:]
            var armedDeadline: Timestamp?
            var keys = SigningKeyCache()
            var claimSequence = 0
            let cap = configuration.maxInFlightPerWebhook
            let applicationCap = configuration.maxInFlightPerApplication
            let claimThreshold = max(1, min(configuration.batchSize, configuration.maxInFlight) / 4)

            /// Whether one more request to this webhook fits every bound.
            func hasRoom(_ webhookID: String, _ applicationID: String) -> Bool {
                inFlight < configuration.maxInFlight && perWebhook[webhookID, default: 0] < cap
                    && perApplication[applicationID, default: 0] < applicationCap
            }

            func start(_ prepared: Prepared) {
                let webhookID = prepared.delivery.webhook.id
                perWebhook[webhookID, default: 0] += 1
                perApplication[prepared.delivery.webhook.applicationID, default: 0] += 1
                inFlight += 1
                group.addTask { await self.deliver(prepared.delivery, format: prepared.format, body: prepared.body, keys: prepared.keys) }
            }

            // The earliest time a rate-limited webhook gets its next token, and the timer armed for it.
            var rateDue: Timestamp?
            var armedRateDeadline: Timestamp?
            // Webhooks whose queued deliveries wait for a token (not for a slot).
            var waitingForToken: Set<String> = []

            /// Starts queued deliveries while their webhook and the whole dispatcher have room, and a
            /// rate-limited webhook has a token. One whose lease would run out before its request
            /// could finish is given back instead.
            func pump(now: Timestamp) {
                rateDue = nil
                waitingForToken.removeAll(keepingCapacity: true)
                for webhookID in Array(queues.keys) where inFlight < configuration.maxInFlight {
                    guard var queue = queues[webhookID], let applicationID = queue.first?.delivery.webhook.applicationID else { continue }
                    var releases: [ReleasedDelivery] = []
                    while let next = queue.first, hasRoom(webhookID, applicationID) {
                        if now.adding(next.format.timeout) >= next.leaseUntil {
                            queue.removeFirst()
                            releases.append(ReleasedDelivery(id: next.delivery.id, leaseOwner: next.delivery.leaseOwner, dueAt: next.delivery.dueAt))
                            continue
                        }
                        if let rate = next.delivery.webhook.settings.rateLimit, let wait = takeToken(webhookID, rate: rate, now: now) {
                            let due = now.adding(wait)
                            rateDue = min(rateDue ?? due, due)
                            waitingForToken.insert(webhookID)
                            break
                        }
                        queue.removeFirst()
                        start(next)
                    }
                    queues[webhookID] = queue.isEmpty ? nil : queue
                    if !releases.isEmpty { recorder.release(releases) }
                }
            }

            while true {
                // One lock per turn: take in finished sends and changed webhooks, then grant waiting
                // sends from outside the loop the slots that fit (before queued deliveries: someone waits for them).
                let shuttingDown = isShuttingDown.load(ordering: .relaxed)
                var granted: [CheckedContinuation<Bool, Never>] = []
                var refused: [CheckedContinuation<Bool, Never>] = []
                let (changed, gone) = mailbox.state.withLock { inbox -> (Set<String>, Set<String>) in
                    for done in inbox.finished {
                        inFlight -= 1
                        let remaining = (perWebhook[done.webhookID] ?? 1) - 1
                        perWebhook[done.webhookID] = remaining > 0 ? remaining : nil
                        let left = (perApplication[done.applicationID] ?? 1) - 1
                        perApplication[done.applicationID] = left > 0 ? left : nil
                    }
                    inbox.finished.removeAll(keepingCapacity: true)
                    if shuttingDown || Task.isCancelled { inbox.isClosed = true }
                    if !inbox.slotRequests.isEmpty {
                        if inbox.isClosed {
                            refused = inbox.slotRequests.map(\.continuation)
                            inbox.slotRequests.removeAll()
                        } else {
                            inbox.slotRequests.removeAll { request in
                                guard hasRoom(request.webhookID, request.applicationID) else { return false }
                                inFlight += 1
                                perWebhook[request.webhookID, default: 0] += 1
                                perApplication[request.applicationID, default: 0] += 1
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
                    for webhookID in changed {
                        guard let queue = queues.removeValue(forKey: webhookID) else { continue }
                        releases += queue.map { ReleasedDelivery(id: $0.delivery.id, leaseOwner: $0.delivery.leaseOwner, dueAt: $0.delivery.dueAt) }
                    }
                    if !releases.isEmpty { recorder.release(releases) }
                }
                if Task.isCancelled { break }
                let now = clock.now()
                pump(now: now)
                if shuttingDown {
                    // Claimed but unsent deliveries go back at once; in-flight ones finish.
                    let unsent = queues.values.flatMap { $0 }.map {
                        ReleasedDelivery(id: $0.delivery.id, leaseOwner: $0.delivery.leaseOwner, dueAt: $0.delivery.dueAt)
                    }
                    queues.removeAll()
                    if !unsent.isEmpty { recorder.release(unsent) }
                    if inFlight == 0 { break }
                    await wakeSignal.wait()
                    continue
                }

                var mayHaveMore = false
                // Deliveries queued only for a global slot count against the claim budget (not those
                // waiting for their webhook's or application's slot or a rate-limit token: they cannot use a free slot).
                let runnable = queues.reduce(0) { total, entry in
                    let applicationID = entry.value.first?.delivery.webhook.applicationID ?? ""
                    let blocked = perWebhook[entry.key, default: 0] >= cap || perApplication[applicationID, default: 0] >= applicationCap
                        || waitingForToken.contains(entry.key)
                    return total + (blocked ? 0 : entry.value.count)
                }
                let free = configuration.maxInFlight - inFlight - runnable
                if free >= claimThreshold || (inFlight == 0 && free > 0) {
                    let limit = min(configuration.batchSize, free)
                    // Webhooks at their cap, or with deliveries already waiting, are not claimed for.
                    var busy = Set(queues.keys)
                    for (webhookID, count) in perWebhook where count >= cap { busy.insert(webhookID) }
                    busy.formUnion(gone)
                    // Applications at their bound are not claimed for either: their backlog must not use the batch.
                    var busyApplications: Set<String> = []
                    for (applicationID, count) in perApplication where count >= applicationCap { busyApplications.insert(applicationID) }
                    claimSequence += 1
                    let leaseUntil = now.adding(configuration.lease)
                    let claimed: [ClaimedDelivery]
                    do {
                        claimed = try await store.claimDue(
                            owner: "\(configuration.owner)/\(claimSequence)", now: now, leaseUntil: leaseUntil,
                            limit: limit, excludingWebhooks: busy, excludingApplications: busyApplications)
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
                            let allowance = max(1, Int(rate * (configuration.lease - .seconds(20)).secondsDouble))
                            if queues[delivery.webhook.id, default: []].count >= allowance {
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
                            body = format.body(for: delivery.event)
                            bodies[bodyKey] = body
                        }
                        let prepared = Prepared(
                            delivery: delivery, format: format, body: body,
                            keys: delivery.webhook.validSecrets(at: now).map { keys.key(for: $0, format: format) }, leaseUntil: leaseUntil)
                        let webhookID = delivery.webhook.id
                        if queues[webhookID] == nil, delivery.webhook.settings.rateLimit == nil, hasRoom(webhookID, delivery.webhook.applicationID) {
                            start(prepared)
                        } else {
                            queues[webhookID, default: []].append(prepared)
                        }
                    }
                    if !overRate.isEmpty { recorder.release(overRate) }
                    mayHaveMore = claimed.count == limit && overRate.isEmpty
                    if claimed.contains(where: { $0.webhook.settings.rateLimit != nil }) { pump(now: now) }
                }
                // A rate-limited webhook waits for its next token: wake then.
                if let due = rateDue, armedRateDeadline.map({ due < $0 || $0 <= now }) ?? true {
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
    private func deliver(_ delivery: ClaimedDelivery, format: any WireFormat, body: [UInt8], keys: [SigningKey]) async {
        let record = await attempt(delivery, format: format, body: body, keys: keys)
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

    /// Takes a token of a rate-limited webhook: nil when taken, otherwise how long until the next one.
    /// The bucket holds one second's worth (at least one delivery).
    private func takeToken(_ webhookID: String, rate: Double, now: Timestamp) -> Duration? {
        let seconds = Double(now.milliseconds) / 1000
        let wait = rateBuckets.withLock { buckets -> Double? in
            if buckets[webhookID]?.rate != rate { buckets[webhookID] = TokenBucket(rate: rate, burst: max(1, rate), now: seconds) }
            return buckets[webhookID]!.take(now: seconds)
        }
        // At most an hour: a stored rate below the API's floor must not overflow the conversion.
        return wait.map { .milliseconds(max(1, Int64(min(3_600_000, ($0 * 1000).rounded(.up))))) }
    }

    /// Waits for a token of a rate-limited webhook, as a claimed delivery would (for sends outside the loop).
    public func awaitRateLimit(webhookID: String, rate: Double?) async throws {
        guard let rate else { return }
        while let wait = takeToken(webhookID, rate: rate, now: clock.now()) {
            try await clock.sleep(until: clock.now().adding(wait))
        }
    }

    /// Whether an attempt's answer counts as success in the webhook's format.
    public func succeeded(_ attempt: Attempt, format: String) -> Bool {
        attempt.status.map((formats[format] ?? StandardWebhooksFormat()).isSuccess(status:)) ?? false
    }

    /// How long a send a client waits for ("Send a test", a resend) may wait for its slot.
    public var sendSlotWait: Duration { configuration.sendSlotWait }

    /// Takes an in-flight slot for a send outside the claim loop ("Send a test", a resend, a
    /// recovery), counted like the loop's own sends against `maxInFlight` and the webhook's and
    /// application's bounds. Waits for one at most `wait` (nil: until cancelled), then throws
    /// `DispatcherBusyError`; `CancellationError` when cancelled. Take the slot before leasing the
    /// delivery, so a refused send changes nothing.
    public func reserveSendSlot(webhookID: String, applicationID: String, waitingAtMost wait: Duration?) async throws -> SendSlot {
        let id = slotRequestIDs.add(1, ordering: .relaxed).newValue
        let mailbox = mailbox
        let granted = await withTaskGroup(of: Void.self) { group -> Bool in
            if let wait {
                group.addTask { [self] in
                    try? await Task.sleep(for: wait)
                    withdrawSlotRequest(id)
                }
            }
            let granted = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                    let refused = mailbox.state.withLock { inbox -> Bool in
                        if inbox.isClosed || Task.isCancelled { return true }
                        inbox.slotRequests.append(SlotRequest(id: id, webhookID: webhookID, applicationID: applicationID, continuation: continuation))
                        return false
                    }
                    if refused { continuation.resume(returning: false) } else { wakeSignal.signal() }
                }
            } onCancel: {
                withdrawSlotRequest(id)
            }
            group.cancelAll()
            return granted
        }
        guard granted else {
            try Task.checkCancellation()
            throw DispatcherBusyError(webhookID: webhookID, waited: wait ?? .zero, limits: (
                configuration.maxInFlightPerWebhook, configuration.maxInFlightPerApplication, configuration.maxInFlight))
        }
        // The slot exists from the grant on, so a task cancelled in the same instant gives it
        // back (here, or when the slot goes away) instead of leaking it from the loop's counts.
        let signal = wakeSignal
        let slot = SendSlot(webhookID: webhookID) {
            mailbox.state.withLock { $0.finished.append(Finished(webhookID: webhookID, applicationID: applicationID)) }
            signal.signal()
        }
        if Task.isCancelled {
            slot.release()
            throw CancellationError()
        }
        return slot
    }

    /// Takes a waiting slot request back (its deadline passed, or its task was cancelled).
    private func withdrawSlotRequest(_ id: Int) {
        let continuation = mailbox.state.withLock { inbox -> CheckedContinuation<Bool, Never>? in
            guard let index = inbox.slotRequests.firstIndex(where: { $0.id == id }) else { return nil }
            return inbox.slotRequests.remove(at: index).continuation
        }
        continuation?.resume(returning: false)
    }

    /// Sends one delivery now, outside the claim loop ("Send a test", a resend, a recovery), in the
    /// slot taken for it (given back when this returns), records the attempt before returning it,
    /// and never schedules a retry: a failure becomes `failure` (`failed`, or a pending delivery's
    /// old place in its schedule). The delivery must already be leased to `delivery.leaseOwner`, so
    /// no claim sends it too.
    public func sendNow(_ delivery: ClaimedDelivery, slot: SendSlot, failure: DeliveryOutcome = .failed) async throws -> Attempt {
        defer { slot.release() }
        let format = formats[delivery.webhook.format] ?? StandardWebhooksFormat()
        let now = clock.now()
        let keys = delivery.webhook.validSecrets(at: now).map { SigningKey($0, key: format.signingKey(for: $0)) }
        guard var record = await attempt(delivery, format: format, body: format.body(for: delivery.event), keys: keys, failure: failure) else {
            throw CancellationError()
        }
        record.attempt.id = try await store.record([record], releasing: [], now: clock.now()).first ?? nil
        // A 410 disabled the webhook: what the loop holds for it must not go out (as for its own sends).
        if record.disablesWebhook { webhookChanged(id: delivery.webhook.id) }
        return record.attempt
    }

    /// One HTTP request of a delivery and what follows from it; nil when cancelled mid-send. Without
    /// `failure`, a failed attempt is retried on the webhook's schedule.
    private func attempt(
        _ delivery: ClaimedDelivery, format: any WireFormat, body: [UInt8], keys: [SigningKey], failure: DeliveryOutcome? = nil
    ) async -> AttemptRecord? {
        var logger = self.logger
        logger[metadataKey: "delivery.id"] = "\(delivery.id)"
        logger[metadataKey: "webhook.id"] = "\(delivery.webhook.id)"
        var headers = format.headers(for: delivery.event, body: body, sentAt: clock.now(), keys: keys)
        if let token = delivery.webhook.bearerToken, format.name == "okra" {
            headers.append(("authorization", "Bearer " + token))
        }
        let customFrom = headers.count
        for header in delivery.webhook.settings.headers { headers.append((header.name, header.value)) }
        let result = await sender.send(url: delivery.webhook.url, headers: headers, body: body, timeout: format.timeout, logger: logger)
        // A send cut short by cancellation is not an attempt; the lease brings the delivery back.
        if Task.isCancelled { return nil }
        let number = delivery.attemptsMade + 1
        let succeeded = result.status.map(format.isSuccess(status:)) ?? false
        let outcome: DeliveryOutcome
        if succeeded {
            // The common case: no schedule to build, no clock or random number to read.
            outcome = .succeeded
        } else if let failure {
            outcome = failure
        } else {
            var rng = SystemRandomNumberGenerator()
            let step = (delivery.webhook.settings.retrySchedule ?? format.defaultSchedule).nextStep(
                attemptsMade: number, succeeded: succeeded,
                status: result.status, retryAfter: result.retryAfter, retryAfterPolicy: configuration.retryAfter,
                now: clock.now(), using: &rng)
            outcome = switch step {
            case .succeeded: .succeeded
            case .failed: .failed
            case .retry(let at): .retry(at: at)
            }
        }
        logger.debug("attempt finished", metadata: [
            "delivery.attempt": "\(number)", "http.status": "\(result.status.map(String.init) ?? "-")",
            "error.kind": "\(result.errorKind?.rawValue ?? "-")",
        ])
        return AttemptRecord(
            attempt: Attempt(
                deliveryID: delivery.id, number: number, startedAt: result.startedAt,
                durationMicroseconds: result.durationMicroseconds, status: result.status, responseExcerpt: result.excerpt,
                errorKind: result.errorKind, errorMessage: result.errorMessage, requestHeaders: RecordedHeaders.json(headers, customFrom: customFrom)),
            leaseOwner: delivery.leaseOwner, webhookID: delivery.webhook.id, outcome: outcome, disablesWebhook: result.status == 410)
    }
}

/// An in-flight slot held by a send outside the claim loop; given back once, by `release()` or when it goes away.
public final class SendSlot: Sendable {
    public let webhookID: String
    private let giveBack: @Sendable () -> Void
    private let isReleased = Atomic<Bool>(false)

    fileprivate init(webhookID: String, giveBack: @escaping @Sendable () -> Void) {
        self.webhookID = webhookID
        self.giveBack = giveBack
    }

    public func release() {
        if !isReleased.exchange(true, ordering: .acquiringAndReleasing) { giveBack() }
    }

    deinit { release() }
}

/// A send outside the claim loop found no free in-flight slot within its wait.
public struct DispatcherBusyError: Error, CustomStringConvertible {
    public var webhookID: String
    public var waited: Duration
    /// The bounds: per webhook, per application, overall.
    public var limits: (webhook: Int, application: Int, overall: Int)

    public var description: String {
        "webhook \(webhookID) had no free in-flight slot for \(waited) (at most \(limits.webhook) requests in flight per webhook, "
            + "\(limits.application) per application, \(limits.overall) overall)"
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

/// Signing keys derived once per secret and format and reused for every attempt.
private struct SigningKeyCache {
    private struct Key: Hashable {
        var secret: String
        var format: String
    }
    private var keys: [Key: SigningKey] = [:]

    mutating func key(for secret: WebhookSecret, format: any WireFormat) -> SigningKey {
        let cacheKey = Key(secret: secret.text, format: format.name)
        if let key = keys[cacheKey] { return key }
        if keys.count > 10_000 { keys.removeAll() }
        let key = SigningKey(secret, key: format.signingKey(for: secret))
        keys[cacheKey] = key
        return key
    }
}
