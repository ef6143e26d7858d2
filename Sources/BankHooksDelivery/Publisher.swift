import BankHooksCore
import BankHooksStorage
import Logging
import ServiceLifecycle
import Synchronization

/// The publisher is shutting down and takes no more events.
public struct PublisherClosedError: Error, CustomStringConvertible {
    public var description: String { "the server is shutting down" }
}

/// Group commit for publishes: each request waits until its event and deliveries are committed,
/// but all requests that arrive while one transaction is being written go into the next one
/// together. Durable before acknowledged, at the cost of one commit per batch instead of one
/// per event.
public final class Publisher: Service {
    private struct Pending {
        var request: PublishRequest
        var reply: Reply
    }
    /// Who waits for a request's result: one caller, or a member of a group queued together.
    private enum Reply {
        case one(CheckedContinuation<PublishResult, any Error>)
        case member(GroupReply, Int)

        func resume(with result: Result<PublishResult, any Error>) {
            switch self {
            case .one(let continuation): continuation.resume(with: result)
            case .member(let group, let index): group.deliver(result, at: index)
            }
        }
    }
    /// The results of requests queued together, answered once all of them are in.
    private final class GroupReply: Sendable {
        private struct Results {
            var results: [Result<PublishResult, any Error>?]
            var missing: Int
        }
        private let results: Mutex<Results>
        private let continuation: CheckedContinuation<[Result<PublishResult, any Error>], Never>

        init(count: Int, continuation: CheckedContinuation<[Result<PublishResult, any Error>], Never>) {
            results = Mutex(Results(results: Array(repeating: nil, count: count), missing: count))
            self.continuation = continuation
        }

        func deliver(_ result: Result<PublishResult, any Error>, at index: Int) {
            let complete = results.withLock { r -> [Result<PublishResult, any Error>]? in
                if case .some = r.results[index] { return nil }
                r.results[index] = result
                r.missing -= 1
                return r.missing == 0 ? r.results.map { $0 ?? .failure(PublisherClosedError()) } : nil
            }
            if let complete { continuation.resume(returning: complete) }
        }
    }
    private struct State {
        var queue: [Pending] = []
        var isClosed = false
    }
    private let state = Mutex(State())
    private let signal = Signal()
    private let store: any DeliveryQueue
    private let clock: any WallClock
    private let logger: Logger
    private let maxBatch: Int
    private let onCommit: @Sendable () -> Void

    /// - Parameter onCommit: called after every commit that created deliveries (wakes the dispatcher).
    public init(store: any DeliveryQueue, clock: any WallClock = SystemClock(), logger: Logger, maxBatch: Int = 512, onCommit: @escaping @Sendable () -> Void) {
        self.store = store
        self.clock = clock
        self.logger = logger
        self.maxBatch = maxBatch
        self.onCommit = onCommit
    }

    /// How many publishes wait for the next commit (tests queue a batch before the loop runs).
    public var queuedCount: Int { state.withLock { $0.queue.count } }

    /// Commits one event and its deliveries; returns once they are durable.
    public func publish(_ request: PublishRequest) async throws -> PublishResult {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = state.withLock { s in
                guard !s.isClosed else { return false }
                s.queue.append(Pending(request: request, reply: .one(continuation)))
                return true
            }
            if accepted {
                signal.signal()
            } else {
                continuation.resume(throwing: PublisherClosedError())
            }
        }
    }

    /// Commits several events in the order given: they are queued together, one after the other,
    /// so they reach the event log in that order (in as few commits as the batch size allows),
    /// and each gets its own result (one refused event fails alone). Returns once every one is
    /// durable or failed.
    public func publish(inOrder requests: [PublishRequest]) async -> [Result<PublishResult, any Error>] {
        guard !requests.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let group = GroupReply(count: requests.count, continuation: continuation)
            let accepted = state.withLock { s in
                guard !s.isClosed else { return false }
                s.queue.reserveCapacity(s.queue.count + requests.count)
                for (index, request) in requests.enumerated() {
                    s.queue.append(Pending(request: request, reply: .member(group, index)))
                }
                return true
            }
            if accepted {
                signal.signal()
            } else {
                for index in requests.indices { group.deliver(.failure(PublisherClosedError()), at: index) }
            }
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.writeLoop()
        } onGracefulShutdown: {
            self.state.withLock { $0.isClosed = true }
            self.signal.signal()
        }
    }

    private func writeLoop() async {
        while true {
            let (batch, isClosed) = state.withLock { s -> ([Pending], Bool) in
                let count = min(s.queue.count, maxBatch)
                let batch = Array(s.queue.prefix(count))
                s.queue.removeFirst(count)
                return (batch, s.isClosed)
            }
            if batch.isEmpty {
                if isClosed || Task.isCancelled { break }
                await signal.wait()
                continue
            }
            do {
                let results = try await store.publish(batch.map(\.request), now: clock.now())
                if Self.answer(batch, with: results) { onCommit() }
            } catch {
                await commitOneByOne(batch, after: error)
            }
        }
        // Anything still queued after close is refused rather than left hanging.
        let leftover = state.withLock { s in
            s.isClosed = true
            defer { s.queue.removeAll() }
            return s.queue
        }
        for pending in leftover { pending.reply.resume(with: .failure(PublisherClosedError())) }
    }

    /// Resumes each waiting request with its result; true when one created deliveries. A request
    /// the store returned no result for fails rather than waiting forever.
    private static func answer(_ batch: [Pending], with results: [PublishResult]) -> Bool {
        for (index, pending) in batch.enumerated() {
            if index < results.count {
                pending.reply.resume(with: .success(results[index]))
            } else {
                pending.reply.resume(with: .failure(StoreError(.stateChanged, "the store returned no result for event \(pending.request.eventID)")))
            }
        }
        return results.contains { !$0.isReplay && $0.deliveryCount > 0 }
    }

    /// A batch is one transaction, so one bad row (its application deleted meanwhile) fails it
    /// whole. Then each request is committed on its own, so only the bad one fails, with its own
    /// error; the others are still durable before they are answered. Only on this error path.
    private func commitOneByOne(_ batch: [Pending], after batchError: any Error) async {
        guard batch.count > 1 else {
            log(batchError, events: 1)
            batch.first?.reply.resume(with: .failure(batchError))
            return
        }
        logger.notice("publish batch failed; committing its events one by one",
                      metadata: ["error": "\(batchError)", "events.count": "\(batch.count)"])
        var created = false
        for pending in batch {
            do {
                let results = try await store.publish([pending.request], now: clock.now())
                created = Self.answer([pending], with: results) || created
            } catch {
                log(error, events: 1)
                pending.reply.resume(with: .failure(error))
            }
        }
        if created { onCommit() }
    }

    /// A row the client made impossible is a notice; anything else is a store failure.
    private func log(_ error: any Error, events: Int) {
        if let storeError = error as? StoreError, storeError.code == .notFound {
            logger.notice("publish refused", metadata: ["error": "\(storeError)"])
        } else {
            logger.error("publish commit failed", metadata: ["error": "\(error)", "events.count": "\(events)"])
        }
    }
}
