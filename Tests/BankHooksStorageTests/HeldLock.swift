import BankHooksCore
@testable import BankHooksStorage
import BankHooksTestSupport
import Foundation
import PostgresNIO

/// Runs `body` while another session (`holder`'s) holds the locks `statement` takes, in an open
/// transaction; returns whether `body` finished within `patience` with the locks still held, and then
/// whether it finished at all once they were let go.
func whileLocked(
    by holder: PostgresStore, _ statement: PostgresQuery, patience: Duration, _ body: @escaping @Sendable () async throws -> Void
) async throws -> (whileHeld: Bool, afterwards: Bool) {
    let finished = Locked(false)
    let (held, release) = AsyncStream<Void>.makeStream()
    let (taken, lockTaken) = AsyncStream<Void>.makeStream()
    let logger = holder.logger
    var whileHeld = false
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            try await holder.transaction { (connection: PostgresConnection) async throws -> Void in
                try await connection.run(statement, logger: logger)
                lockTaken.yield()
                for await _ in held { break }
            }
        }
        for await _ in taken { break }
        group.addTask {
            try await body()
            finished.withLock { $0 = true }
        }
        let deadline = ContinuousClock.now.advanced(by: patience)
        while ContinuousClock.now < deadline, !finished.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
        whileHeld = finished.withLock { $0 }
        release.yield()
        release.finish()
        try await group.waitForAll()
    }
    return (whileHeld, finished.withLock { $0 })
}
