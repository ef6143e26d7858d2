import BankHooksCore
import BankHooksStorage
import Logging
import Synchronization

/// Group commit for finished attempts: sends hand their records over and go on; one loop writes
/// everything that piled up since its last write in a single transaction. Under load a commit
/// carries hundreds of records; when idle, each record is written at once.
final class AttemptRecorder: Sendable {
    private struct State {
        var records: [AttemptRecord] = []
        var releases: [ReleasedDelivery] = []
        var isFinishing = false
    }
    private let state = Mutex(State())
    private let signal = Signal()
    private let store: any DeliveryQueue
    private let clock: any WallClock
    private let logger: Logger
    /// Called after each write: whether it scheduled retries or gave deliveries back (so the next due
    /// time may have moved), and the webhooks it disabled (a 410).
    private let onFlush: @Sendable (_ changedSchedule: Bool, _ disabledWebhooks: Set<String>) -> Void

    init(
        store: any DeliveryQueue, clock: any WallClock, logger: Logger,
        onFlush: @escaping @Sendable (_ changedSchedule: Bool, _ disabledWebhooks: Set<String>) -> Void
    ) {
        self.store = store
        self.clock = clock
        self.logger = logger
        self.onFlush = onFlush
    }

    func add(_ record: AttemptRecord) {
        state.withLock { $0.records.append(record) }
        signal.signal()
    }

    func release(_ deliveries: [ReleasedDelivery]) {
        state.withLock { $0.releases.append(contentsOf: deliveries) }
        signal.signal()
    }

    /// Asks the loop to write what is left and return.
    func finish() {
        state.withLock { $0.isFinishing = true }
        signal.signal()
    }

    /// Writes batches until `finish()` and the buffer is empty. A failed write is retried: the
    /// records stay in memory (their leases keep the deliveries from being sent twice meanwhile).
    func run() async {
        var backoff = Duration.milliseconds(50)
        while true {
            let (records, releases, isFinishing) = state.withLock { s in
                let taken = (s.records, s.releases, s.isFinishing)
                s.records.removeAll(keepingCapacity: true)
                s.releases.removeAll(keepingCapacity: true)
                return taken
            }
            if records.isEmpty && releases.isEmpty {
                // Cancelled means the process is going away: unrecorded attempts come back with their lease.
                if isFinishing || Task.isCancelled { return }
                await signal.wait()
                continue
            }
            do {
                try await store.record(records, releasing: releases, now: clock.now())
                backoff = .milliseconds(50)
                var disabled: Set<String> = []
                for record in records where record.disablesWebhook { disabled.insert(record.webhookID) }
                onFlush(!releases.isEmpty || records.contains { if case .retry = $0.outcome { true } else { false } }, disabled)
            } catch {
                if Task.isCancelled { return }
                logger.error("recording attempts failed; retrying", metadata: ["error": "\(error)", "attempts.count": "\(records.count)"])
                state.withLock { s in
                    s.records.insert(contentsOf: records, at: 0)
                    s.releases.insert(contentsOf: releases, at: 0)
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }
}
