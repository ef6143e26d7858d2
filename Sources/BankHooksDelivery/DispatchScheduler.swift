import BankHooksCore
import BankHooksStorage

/// A claimed delivery ready to send: rendered, with its opened credentials and the end of its lease.
struct PreparedSend: Sendable {
    var delivery: ClaimedDelivery
    var format: any WireFormat
    var body: [UInt8]
    var credentials: SendCredentials
    var leaseUntil: Timestamp

    /// The delivery given back unsent, due again when it was due before the claim.
    var released: ReleasedDelivery { ReleasedDelivery(id: delivery.id, leaseOwner: delivery.leaseOwner, dueAt: delivery.dueAt) }
}

/// The dispatch loop's scheduling state as a value: requests in flight (overall, per webhook, per
/// application), the claimed deliveries waiting per webhook, the webhooks waiting for a rate-limit
/// token, and what the next claim may take. No store, no tasks, no clock: time is passed in, so
/// every bound is tested without a server. The loop owns one and drives it; slots granted to
/// sends outside the loop count here like its own sends.
struct DispatchScheduler {
    /// The in-flight bounds and the claim batch size.
    struct Limits {
        var overall: Int
        var perWebhook: Int
        var perApplication: Int
        var batchSize: Int
    }

    /// What the next claim may take: how many deliveries, and whose it skips.
    struct ClaimPlan: Equatable {
        var limit: Int
        /// Webhooks at their bound or with deliveries already queued, and webhooks gone (410) meanwhile.
        var excludingWebhooks: Set<String>
        /// Applications at their bound: their backlog must not use the batch.
        var excludingApplications: Set<String>
    }

    let limits: Limits
    /// A claim is made once this many slots are free (or when nothing is in flight), so claims come in batches.
    private let claimThreshold: Int
    /// Requests in flight overall: the loop's sends and slots granted to sends outside it.
    private(set) var inFlight = 0
    private var perWebhook: [String: Int] = [:]
    private var perApplication: [String: Int] = [:]
    /// Claimed deliveries waiting for a slot of their webhook (or a global slot, or a token), in claim order.
    private var queues: [String: [PreparedSend]] = [:]
    /// The earliest time a rate-limited webhook gets its next token, as of the last `pump`.
    private(set) var rateDue: Timestamp?
    /// Webhooks whose queued deliveries wait for a token (not for a slot), as of the last `pump`.
    private var waitingForToken: Set<String> = []

    init(limits: Limits) {
        self.limits = limits
        claimThreshold = max(1, min(limits.batchSize, limits.overall) / 4)
    }

    /// Whether one more request to this webhook fits every bound.
    func hasRoom(webhookID: String, applicationID: String) -> Bool {
        inFlight < limits.overall && perWebhook[webhookID, default: 0] < limits.perWebhook
            && perApplication[applicationID, default: 0] < limits.perApplication
    }

    /// Requests in flight to one webhook.
    func inFlight(webhookID: String) -> Int { perWebhook[webhookID, default: 0] }

    /// Requests in flight to the webhooks of one application.
    func inFlight(applicationID: String) -> Int { perApplication[applicationID, default: 0] }

    /// Claimed deliveries of one webhook waiting to be sent.
    func queuedCount(webhookID: String) -> Int { queues[webhookID]?.count ?? 0 }

    /// Counts a slot for a send outside the loop when every bound has room; false leaves it waiting.
    mutating func grantSlot(webhookID: String, applicationID: String) -> Bool {
        guard hasRoom(webhookID: webhookID, applicationID: applicationID) else { return false }
        begin(webhookID: webhookID, applicationID: applicationID)
        return true
    }

    /// A request ended (a send of the loop, or a slot given back).
    mutating func finish(webhookID: String, applicationID: String) {
        inFlight -= 1
        let remaining = (perWebhook[webhookID] ?? 1) - 1
        perWebhook[webhookID] = remaining > 0 ? remaining : nil
        let left = (perApplication[applicationID] ?? 1) - 1
        perApplication[applicationID] = left > 0 ? left : nil
    }

    /// Takes a freshly claimed delivery: true when it starts at once (counted in flight; the caller
    /// sends it), false when it queues behind its webhook's others, a bound, or a rate limit.
    mutating func admit(_ prepared: PreparedSend) -> Bool {
        let webhook = prepared.delivery.webhook
        if queues[webhook.id] == nil, webhook.settings.rateLimit == nil, hasRoom(webhookID: webhook.id, applicationID: webhook.applicationID) {
            begin(webhookID: webhook.id, applicationID: webhook.applicationID)
            return true
        }
        queues[webhook.id, default: []].append(prepared)
        return false
    }

    /// Starts queued deliveries, in claim order per webhook, while their webhook, application and
    /// the whole dispatcher have room and a rate-limited webhook has a token (`takeToken` answers
    /// nil when it took one, else how long until the next). One whose lease would run out before
    /// its request could finish is given back instead: returned, for the store.
    mutating func pump(
        now: Timestamp, takeToken: (_ webhookID: String, _ rate: Double, _ now: Timestamp) -> Duration?, start: (PreparedSend) -> Void
    ) -> [ReleasedDelivery] {
        rateDue = nil
        waitingForToken.removeAll(keepingCapacity: true)
        var releases: [ReleasedDelivery] = []
        for webhookID in Array(queues.keys) where inFlight < limits.overall {
            guard var queue = queues[webhookID], let applicationID = queue.first?.delivery.webhook.applicationID else { continue }
            while let next = queue.first, hasRoom(webhookID: webhookID, applicationID: applicationID) {
                if now.adding(next.format.timeout) >= next.leaseUntil {
                    queue.removeFirst()
                    releases.append(next.released)
                    continue
                }
                if let rate = next.delivery.webhook.settings.rateLimit, let wait = takeToken(webhookID, rate, now) {
                    let due = now.adding(wait)
                    rateDue = min(rateDue ?? due, due)
                    waitingForToken.insert(webhookID)
                    break
                }
                queue.removeFirst()
                begin(webhookID: webhookID, applicationID: applicationID)
                start(next)
            }
            queues[webhookID] = queue.isEmpty ? nil : queue
        }
        return releases
    }

    /// Takes a webhook's queued deliveries out (it changed: they go back, to be claimed with its new settings).
    mutating func dropQueue(webhookID: String) -> [ReleasedDelivery] {
        queues.removeValue(forKey: webhookID)?.map(\.released) ?? []
    }

    /// Takes every queued delivery out (shutting down: claimed but unsent ones go back).
    mutating func drainQueues() -> [ReleasedDelivery] {
        defer { queues.removeAll() }
        return queues.values.flatMap { $0 }.map(\.released)
    }

    /// What the next claim may take, or nil while too few slots are free to claim. Deliveries queued
    /// only for a global slot count against the budget; those waiting for their webhook's or
    /// application's slot or a token do not (they cannot use a free slot). `gone` are webhooks that
    /// answered 410 whose disable is not written yet.
    func claimPlan(excluding gone: Set<String>) -> ClaimPlan? {
        let runnable = queues.reduce(0) { total, entry in
            let applicationID = entry.value.first?.delivery.webhook.applicationID ?? ""
            let blocked = perWebhook[entry.key, default: 0] >= limits.perWebhook
                || perApplication[applicationID, default: 0] >= limits.perApplication || waitingForToken.contains(entry.key)
            return total + (blocked ? 0 : entry.value.count)
        }
        let free = limits.overall - inFlight - runnable
        guard free >= claimThreshold || (inFlight == 0 && free > 0) else { return nil }
        var busy = Set(queues.keys)
        for (webhookID, count) in perWebhook where count >= limits.perWebhook { busy.insert(webhookID) }
        busy.formUnion(gone)
        var busyApplications: Set<String> = []
        for (applicationID, count) in perApplication where count >= limits.perApplication { busyApplications.insert(applicationID) }
        return ClaimPlan(limit: min(limits.batchSize, free), excludingWebhooks: busy, excludingApplications: busyApplications)
    }

    private mutating func begin(webhookID: String, applicationID: String) {
        perWebhook[webhookID, default: 0] += 1
        perApplication[applicationID, default: 0] += 1
        inFlight += 1
    }
}

/// Token buckets of rate-limited webhooks, shared by the loop and sends outside it (recovery).
struct RateBuckets {
    private var buckets: [String: TokenBucket] = [:]

    /// Takes a token of a rate-limited webhook: nil when taken, otherwise how long until the next one.
    /// The bucket holds one second's worth (at least one delivery); a changed rate starts a full one.
    mutating func take(webhookID: String, rate: Double, now: Timestamp) -> Duration? {
        let seconds = Double(now.milliseconds) / 1000
        if buckets[webhookID]?.rate != rate { buckets[webhookID] = TokenBucket(rate: rate, burst: max(1, rate), now: seconds) }
        guard let wait = buckets[webhookID]?.take(now: seconds) else { return nil }
        // At most an hour: a stored rate below the API's floor must not overflow the conversion.
        return .milliseconds(max(1, Int64(min(3_600_000, (wait * 1000).rounded(.up)))))
    }
}
