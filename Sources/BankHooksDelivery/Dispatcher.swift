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
    }

    let store: any Store
    let sender: Sender
    let formats: WireFormats
    let clock: any WallClock
    let configuration: Configuration
    let logger: Logger
    private let wakeSignal = Signal()
    private let finished = Mutex<[Finished]>([])
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
        recorder = AttemptRecorder(store: store, clock: clock, logger: logger) { changed in
            if changed { scheduleChanged.set() }
            signal.signal()
        }
    }

    /// Tells the dispatcher that new deliveries may be due (called after a publish commits).
    public func wake() { wakeSignal.signal() }

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
            // Claimed deliveries waiting for a slot of their webhook (or a global slot), in claim order.
            var queues: [String: [Prepared]] = [:]
            var armedDeadline: Timestamp?
            var keys = SigningKeyCache()
            var claimSequence = 0
            let cap = configuration.maxInFlightPerWebhook
            let claimThreshold = max(1, min(configuration.batchSize, configuration.maxInFlight) / 4)

            func start(_ prepared: Prepared) {
                let webhookID = prepared.delivery.webhook.id
                perWebhook[webhookID, default: 0] += 1
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
                    guard var queue = queues[webhookID] else { continue }
                    var releases: [ReleasedDelivery] = []
                    while let next = queue.first, inFlight < configuration.maxInFlight, perWebhook[webhookID, default: 0] < cap {
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
                // Take in finished sends.
                for done in finished.withLock({ f -> [Finished] in defer { f.removeAll(keepingCapacity: true) }; return f }) {
                    inFlight -= 1
                    let remaining = (perWebhook[done.webhookID] ?? 1) - 1
                    perWebhook[done.webhookID] = remaining > 0 ? remaining : nil
                }
                if Task.isCancelled { break }
                let now = clock.now()
                pump(now: now)
                if isShuttingDown.load(ordering: .relaxed) {
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
                // waiting for their webhook's slot or rate-limit token: they cannot use a free slot).
                let runnable = queues.reduce(0) {
                    $0 + (perWebhook[$1.key, default: 0] < cap && !waitingForToken.contains($1.key) ? $1.value.count : 0)
                }
                let free = configuration.maxInFlight - inFlight - runnable
                if free >= claimThreshold || (inFlight == 0 && free > 0) {
                    let limit = min(configuration.batchSize, free)
                    // Webhooks at their cap, or with deliveries already waiting, are not claimed for.
                    var busy = Set(queues.keys)
                    for (webhookID, count) in perWebhook where count >= cap { busy.insert(webhookID) }
                    claimSequence += 1
                    let leaseUntil = now.adding(configuration.lease)
                    let claimed: [ClaimedDelivery]
                    do {
                        claimed = try await store.claimDue(
                            owner: "\(configuration.owner)/\(claimSequence)", now: now, leaseUntil: leaseUntil,
                            limit: limit, excludingWebhooks: busy)
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
                        if queues[webhookID] == nil, delivery.webhook.settings.rateLimit == nil,
                           perWebhook[webhookID, default: 0] < cap, inFlight < configuration.maxInFlight {
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
            group.cancelAll()
        }
    }

    /// Sends one delivery and hands its attempt to the recorder.
    private func deliver(_ delivery: ClaimedDelivery, format: any WireFormat, body: [UInt8], keys: [SigningKey]) async {
        defer {
            finished.withLock { $0.append(Finished(webhookID: delivery.webhook.id)) }
            wakeSignal.signal()
        }
        guard let record = await attempt(delivery, format: format, body: body, keys: keys) else { return }
        recorder.add(record)
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

    /// Sends one delivery now, outside the claim loop ("Send a test", a resend, a recovery), records
    /// the attempt before returning it, and never schedules a retry: a failure becomes `failure`
    /// (`failed`, or a pending delivery's old place in its schedule). The delivery must already be
    /// leased to `delivery.leaseOwner`, so no claim sends it too.
    public func sendNow(_ delivery: ClaimedDelivery, failure: DeliveryOutcome = .failed) async throws -> Attempt {
        let format = formats[delivery.webhook.format] ?? StandardWebhooksFormat()
        let now = clock.now()
        let keys = delivery.webhook.validSecrets(at: now).map { SigningKey($0, key: format.signingKey(for: $0)) }
        guard var record = await attempt(delivery, format: format, body: format.body(for: delivery.event), keys: keys, failure: failure) else {
            throw CancellationError()
        }
        record.attempt.id = try await store.record([record], releasing: [], now: clock.now()).first ?? nil
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
