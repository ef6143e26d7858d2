import BankHooksStorage
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Whether this node should be sent traffic (`GET /readyz`): its store answers a cheap query within
/// `deadline` and has every migration this binary knows, and it is not draining. `/healthz` is
/// liveness only and asks nothing of the store.
public final class Readiness: Sendable {
    private let draining = Atomic<Bool>(false)
    /// The pending migrations' names; throws when the store does not answer.
    private let probe: @Sendable () async throws -> [String]
    /// The probe under way, which every `/readyz` meanwhile waits for (a load balancer polling a
    /// hung database leaves one query waiting, not one per poll), with its number.
    private let inFlight = Mutex<(number: UInt64, task: Task<[String], any Error>)?>(nil)
    private let probes = Atomic<UInt64>(0)
    /// How long the store may take to answer a probe before it counts as unavailable.
    public let deadline: Duration

    public convenience init(store: any Store, deadline: Duration = .seconds(1)) {
        if let schema = store as? any SchemaReadiness {
            self.init(deadline: deadline) { try await schema.pendingMigrationNames() }
        } else {
            self.init(deadline: deadline) { _ = try await store.application(id: defaultApplicationID); return [] }
        }
    }

    init(deadline: Duration, probe: @escaping @Sendable () async throws -> [String]) {
        self.deadline = deadline
        self.probe = probe
    }

    /// True from `beginDraining()` on: `/readyz` answers 503 whatever the store says.
    public var isDraining: Bool { draining.load(ordering: .acquiring) }

    /// Stops answering ready, at once and for good (the server is shutting down).
    public func beginDraining() { draining.store(true, ordering: .releasing) }

    /// Nil when ready; otherwise the 503 `/readyz` answers, saying why.
    func problem() async -> Problem? {
        if isDraining { return .draining }
        let probe = sharedProbe()
        let outcome = await Self.outcome(within: deadline) { try await probe.value }
        if isDraining { return .draining }
        switch outcome {
        case nil:
            return .storeUnavailable("the store did not answer within \(deadline)")
        case .failure(let error as StoreUnavailableError):
            return .storeUnavailable("the store did not answer: \(error)")
        case .failure:
            // Anyone may ask `/readyz`: another error's text (a database path, a statement) stays out of the answer.
            return .storeUnavailable("the store failed to answer")
        case .success(let pending) where !pending.isEmpty:
            return Problem(.serviceUnavailable, "migrations-pending", title: "Migrations are pending",
                           detail: "the database lacks migrations this server needs (\(pending.joined(separator: ", "))): run bankhooks migrate")
        case .success:
            return nil
        }
    }

    /// The probe under way, or a new one.
    private func sharedProbe() -> Task<[String], any Error> {
        inFlight.withLock { current in
            if let current { return current.task }
            let number = probes.wrappingAdd(1, ordering: .relaxed).newValue
            let task = Task { [weak self, probe] in
                defer { self?.inFlight.withLock { if $0?.number == number { $0 = nil } } }
                return try await probe()
            }
            current = (number, task)
            return task
        }
    }

    /// The result of `body`, or nil when it has not returned within `limit`. A hung database may
    /// never complete a statement, so `body` is cancelled and left running rather than awaited.
    static func outcome<T: Sendable>(within limit: Duration, _ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error>? {
        await withCheckedContinuation { continuation in
            let answer = FirstAnswer(continuation)
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                answer.give(result)
            }
            Task {
                try? await Task.sleep(for: limit)
                if answer.give(nil) { work.cancel() }
            }
        }
    }
}

/// Resumes a continuation once, with whichever answer comes first.
private final class FirstAnswer<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T?, Never>?>

    init(_ continuation: CheckedContinuation<T?, Never>) { self.continuation = Mutex(continuation) }

    /// Resumes with `value` unless another answer came first; says whether this one was taken.
    @discardableResult
    func give(_ value: T?) -> Bool {
        guard let continuation = continuation.withLock({ $0.take() }) else { return false }
        continuation.resume(returning: value)
        return true
    }
}

extension Problem {
    static let draining = Problem(.serviceUnavailable, "draining", title: "The server is draining",
                                  detail: "this node is shutting down: send new requests to another one")

    static func storeUnavailable(_ detail: String) -> Problem {
        Problem(.serviceUnavailable, "store-unavailable", title: "The store is unavailable", detail: detail)
    }
}

/// `GET /healthz` (liveness: the process answers) and `GET /readyz` (readiness), both without a key.
func addHealthRoutes(to router: Router<AppRequestContext>, readiness: Readiness) {
    router.get("healthz") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
    }
    router.get("readyz") { request, context in
        if let problem = await readiness.problem() {
            var problem = problem
            problem.headers[.retryAfter] = "1"
            return try problem.response(from: request, context: context)
        }
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ready"}"#)))
    }
}

/// The drain a load balancer can follow: on graceful shutdown (SIGTERM), `/readyz` answers 503 at
/// once while the server keeps serving for `period`; then it returns, and the group goes on to
/// shut down the HTTP server and the services behind it as before. A cancellation ends it early.
public struct DrainService: Service {
    let readiness: Readiness
    let period: Duration
    let logger: Logger

    public init(readiness: Readiness, period: Duration, logger: Logger) {
        self.readiness = readiness
        self.period = period
        self.logger = logger
    }

    public func run() async throws {
        do { try await gracefulShutdown() } catch { return }
        readiness.beginDraining()
        guard period > .zero else { return }
        logger.notice("draining before shutdown: /readyz answers 503 while requests are still served", metadata: ["drain.period": "\(period)"])
        try? await Task.sleep(for: period)
    }
}

/// The server as `bankhooks serve` runs it: the Hummingbird application with a `DrainService`
/// after it, which a graceful shutdown reaches first (services stop in reverse order).
public struct DrainingApplication<App: Service>: Service {
    let app: App
    let drain: DrainService
    let logger: Logger

    public func run() async throws {
        try await ServiceGroup(configuration: .init(services: [app, drain], logger: logger)).run()
    }

    /// Runs it until SIGTERM or SIGINT, which start the drain.
    public func runService() async throws {
        try await ServiceGroup(configuration: .init(services: [self], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
    }
}
