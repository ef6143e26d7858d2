import Logging
import ServiceLifecycle

/// Runs an HTTP application on a free port for the duration of a body of work: the one way the
/// receiver, the demo's callback page, the demo's server and the benchmark's server start and stop.
public enum LoopbackService {
    /// Makes the service with `make` (which must call `listening` with the bound port once it
    /// listens, or 0 if it could not), runs it, waits for the port and runs `body` with it. The
    /// service is stopped by graceful shutdown (cancelling a Hummingbird server while it accepts a
    /// connection can trip an assertion in NIO), whether `body` returns or throws. A service that
    /// stops before it listens (its port taken) ends the wait: its own error is thrown when it has
    /// one, else `notStarted`.
    public static func run<S: Service, T: Sendable>(
        logger: Logger,
        notStarted: @autoclosure () -> any Error,
        _ make: (_ listening: @escaping @Sendable (Int) -> Void) async throws -> S,
        _ body: (Int) async throws -> T
    ) async throws -> T {
        let ports = AsyncStream.makeStream(of: Int.self)
        let service = try await make { port in
            ports.continuation.yield(port)
            ports.continuation.finish()
        }
        let services = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { ports.continuation.finish() }
                try await services.run()
            }
            var iterator = ports.stream.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else {
                try await group.waitForAll()
                throw notStarted()
            }
            do {
                let result = try await body(port)
                await services.triggerGracefulShutdown()
                try await group.waitForAll()
                return result
            } catch {
                await services.triggerGracefulShutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}
