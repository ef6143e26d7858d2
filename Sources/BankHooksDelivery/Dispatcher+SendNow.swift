import BankHooksCore
import BankHooksStorage
import Synchronization

// Sends outside the claim loop ("Send a test", a resend, a recovery): one path, slot → lease →
// send → record, with one lease owner scheme and one lease length (`SendNowLease`). "Send a test"
// publishes its delivery already leased with the same lease, then sends it with `sendNow(_:slot:)`.

/// The lease of a send now: one owner scheme and one length for "Send a test", resends and recoveries.
public struct SendNowLease: Hashable, Sendable {
    /// What a send now is for; it names the lease owner.
    public enum Purpose: Hashable, Sendable {
        /// "Send a test": the delivery is published already leased with this lease.
        case test
        /// A resend asked for by a client.
        case resend
        /// One delivery of a recovery job.
        case recovery(jobID: String, deliveryID: Int64)
    }

    /// How long a send now holds its delivery: well past any attempt's deadline (15 s at most), so
    /// no claim takes it while it is sent; a crashed process's lease runs out after this.
    public static let length: Duration = .seconds(120)

    public var owner: String
    public var until: Timestamp

    /// The lease for `purpose` taken at `now`: `test/<id>`, `resend/<id>` or `recovery/<job>/<delivery>`.
    public static func make(purpose: Purpose, now: Timestamp) -> SendNowLease {
        let owner = switch purpose {
        case .test: "test/" + Identifier.make("t", at: now)
        case .resend: "resend/" + Identifier.make("r", at: now)
        case .recovery(let jobID, let deliveryID): "recovery/\(jobID)/\(deliveryID)"
        }
        return SendNowLease(owner: owner, until: now.adding(length))
    }

    /// The same lease, for a publish that creates its delivery already leased ("Send a test").
    public var publishLease: PublishLease { PublishLease(owner: owner, until: until) }
}

/// What a send now of a stored delivery did.
public struct SendNowResult: Sendable {
    /// The recorded attempt.
    public var attempt: Attempt
    /// Whether it counts as delivered in the webhook's format.
    public var succeeded: Bool
    /// The delivery as leased for the send.
    public var delivery: ClaimedDelivery
    /// The state it had before.
    public var previous: DeliveryState
}

extension Dispatcher {
    /// Takes a token of a rate-limited webhook: nil when taken, otherwise how long until the next one.
    /// The bucket fills at this node's share of the webhook's rate.
    func takeToken(_ webhookID: String, rate: Double, now: Timestamp) -> Duration? {
        let rate = nodeRate(rate)
        return rateBuckets.withLock { $0.take(webhookID: webhookID, rate: rate, now: now) }
    }

    /// This node's share of a webhook's rate limit: the budget is split evenly between the nodes
    /// alive on the database, so together they never send faster than the rate (a node that holds
    /// less of the webhook's backlog leaves its share unused; when a node joins or leaves, each
    /// bucket starts again at the new share).
    func nodeRate(_ rate: Double) -> Double {
        let nodes = coordination.liveNodes
        return nodes > 1 ? rate / Double(nodes) : rate
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

    /// How long a send now for `purpose` waits for its slot: a client's ("Send a test", a resend)
    /// `sendSlotWait`, then `DispatcherBusyError`; a recovery's until it gets one (nil).
    public func slotWait(for purpose: SendNowLease.Purpose) -> Duration? {
        if case .recovery = purpose { return nil }
        return sendSlotWait
    }

    /// Sends one stored delivery now (a resend, a recovery): takes an in-flight slot of its webhook
    /// first (waiting `slotWait(for:)`, so a refused send changes nothing), then leases it with
    /// `SendNowLease` for `purpose` whatever its state (`expecting` and `attemptedBefore` as
    /// `leaseForSend` takes them), sends it and records the attempt, and gives the slot back. A
    /// pending delivery that fails again keeps its place in its schedule (due at its old time: the
    /// loop is woken); any other failure is `failed`. Nil when there is no such delivery; the
    /// lease's `StoreError` (`conflict`, `stateChanged`) is thrown as is.
    public func sendNow(
        deliveryID: Int64, webhookID: String, applicationID: String, purpose: SendNowLease.Purpose, expecting: DeliveryState? = nil,
        attemptedBefore: Timestamp? = nil
    ) async throws -> SendNowResult? {
        let slot = try await reserveSendSlot(webhookID: webhookID, applicationID: applicationID, waitingAtMost: slotWait(for: purpose))
        defer { slot.release() }
        let now = clock.now()
        let lease = SendNowLease.make(purpose: purpose, now: now)
        guard let (delivery, previous) = try await store.leaseForSend(
            deliveryID: deliveryID, applicationID: applicationID, owner: lease.owner, until: lease.until, now: now,
            expecting: expecting, attemptedBefore: attemptedBefore)
        else { return nil }
        let failure: DeliveryOutcome = previous == .pending ? .retry(at: delivery.dueAt) : .failed
        let attempt = try await sendNow(delivery, slot: slot, failure: failure)
        // A pending delivery that failed again is due at its old (perhaps past) time.
        if previous == .pending { wake() }
        return SendNowResult(attempt: attempt, succeeded: succeeded(attempt, format: delivery.webhook.format), delivery: delivery, previous: previous)
    }

    /// Sends one delivery already leased to `delivery.leaseOwner` (so no claim sends it too) now, in
    /// the slot taken for it (given back when this returns), records the attempt before returning
    /// it, and never schedules a retry: a failure becomes `failure` (`failed`, or a pending
    /// delivery's old place in its schedule).
    public func sendNow(_ delivery: ClaimedDelivery, slot: SendSlot, failure: DeliveryOutcome = .failed) async throws -> Attempt {
        defer { slot.release() }
        let format = formats[delivery.webhook.format] ?? StandardWebhooksFormat()
        let body = AttemptPipeline.render(delivery.event, format: format)
        guard let credentials = CredentialCache.open(delivery.webhook, format: format, at: clock.now(), sealer: sealer) else {
            throw StoreError(.invalidValue, "the webhook's secret cannot be opened with this master key")
        }
        guard var record = await pipeline.run(delivery, format: format, body: body, credentials: credentials, failure: failure) else {
            throw CancellationError()
        }
        record.attempt.id = try await store.record([record], releasing: [], now: clock.now()).first ?? nil
        // A 410 disabled the webhook: what the loop holds for it must not go out (as for its own sends).
        if record.disablesWebhook { webhookChanged(id: delivery.webhook.id) }
        return record.attempt
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

