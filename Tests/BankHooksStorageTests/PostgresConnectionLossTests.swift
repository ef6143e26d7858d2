import BankHooksCore
@testable import BankHooksStorage
import BankHooksTestSupport
import Foundation
import PostgresNIO
import Testing

/// A connection PostgreSQL ends under a node (`pg_terminate_backend`, a restart or failover, our
/// 15 s `idle_in_transaction_session_timeout`): the statement that meets it fails at once with
/// `StoreUnavailableError` (the API's 503), never waits for ever, and the store goes on with new
/// connections. PostgresNIO 1.33 drops a statement written to a channel that has already closed
/// without completing it; the store checks and writes on the connection's event loop in one step.
@Suite struct PostgresConnectionLossTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    @Test func aStatementOnATransactionsEndedConnectionFailsAtOnceAndTheStoreGoesOn() async throws {
        let url = try await TestPostgres.freshDatabase()
        let store = try TestPostgres.store(url: url), admin = try TestPostgres.store(url: url)
        let logger = store.logger
        let outcome = await Self.outcome(within: .seconds(10)) { () async throws -> Void in
            try await store.transaction { (connection: PostgresConnection) async throws -> Void in
                let rows = try await connection.result("SELECT pg_backend_pid()", logger: logger)
                let pid: Int32 = try rows.first?.decode(Int32.self) ?? 0
                try await admin.client.result("SELECT pg_terminate_backend(\(pid))", logger: logger)
                // The server's FATAL message and the close reach the client.
                try await Task.sleep(for: .milliseconds(300))
                try await connection.run("SELECT 1", logger: logger)
            }
        }
        let result = try #require(outcome, "the statement on the ended connection returned within 10 s")
        #expect(throws: StoreUnavailableError.self) { try result.get() }
        try await Self.eventually { try await store.application(id: "none") == nil }
    }

    @Test func aStoreWhoseIdleConnectionsWereEndedAnswersPromptly() async throws {
        let url = try await TestPostgres.freshDatabase()
        let store = try TestPostgres.store(url: url, maximumConnections: 4), admin = try TestPostgres.store(url: url)
        try await store.createApplication(Application(id: "app", name: "app", environment: .sandbox, createdAt: t0, webhookLimit: 10))
        for round in 0..<5 {
            // Warm the pool: four connections, idle.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try await store.application(id: "app") } }
                try await group.waitForAll()
            }
            let database = String(url.split(separator: "/").last ?? "")
            try await admin.client.result("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = \(database) AND pid <> pg_backend_pid()
                """, logger: store.logger)
            for _ in 0..<4 {
                let outcome = await Self.outcome(within: .seconds(10)) { try await store.application(id: "app") }
                let result = try #require(outcome, "round \(round): a read after the ends returned within 10 s")
                switch result {
                case .success(let application): #expect(application?.id == "app")
                case .failure(let error): #expect(error is StoreUnavailableError, "round \(round): \(error)")
                }
            }
            try await Self.eventually { try await store.application(id: "app")?.id == "app" }
        }
    }

    /// A database no connection can be made to (down, unreachable, refusing): PostgresNIO's pool
    /// keeps each request waiting while it retries, and after about a minute its circuit breaker
    /// fails them; the store says so as `StoreUnavailableError` (the API's 503), not as an
    /// unknown error (a 500), and fails the next call at once.
    @Test func aDatabaseNoConnectionCanBeMadeToIsUnavailableWithinTheCircuitBreaker() async throws {
        // Port 1 (tcpmux): nothing listens there, so every connection is refused.
        let store = try TestPostgres.store(url: "postgres://bankhooks@127.0.0.1:1/none?sslmode=disable")
        let first = try #require(await Self.outcome(within: .seconds(120)) { try await store.application(id: "app") },
                                 "the first call returned within 120 s")
        #expect(throws: StoreUnavailableError.self) { try first.get() }
        let started = ContinuousClock.now
        let second = try #require(await Self.outcome(within: .seconds(10)) { try await store.application(id: "app") })
        #expect(throws: StoreUnavailableError.self) { try second.get() }
        #expect(ContinuousClock.now - started < .seconds(5), "once the breaker is open a call fails at once")
    }

    /// The result of `body`, or nil when it has not returned within `limit` (it is left running:
    /// a statement PostgresNIO never completes cannot be cancelled).
    static func outcome<T: Sendable>(within limit: Duration, _ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error>? {
        let resumed = Locked(false)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>?, Never>) in
            @Sendable func finish(_ value: Result<T, any Error>?) {
                guard resumed.withLock({ done in defer { done = true }; return !done }) else { return }
                continuation.resume(returning: value)
            }
            Task {
                do { finish(.success(try await body())) } catch { finish(.failure(error)) }
            }
            Task {
                try? await Task.sleep(for: limit)
                finish(nil)
            }
        }
    }

    /// Retries `check` for up to 30 s until it holds (a failed try, such as another ended
    /// connection the pool still lent, counts as not yet). Generous: the new connection it needs is
    /// made beside every other suite's, on a loaded machine (a fresh-clone run once took over 5 s).
    static func eventually(_ check: @escaping @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let outcome = await outcome(within: .seconds(5)) { try await check() }
            if case .success(true)? = outcome { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the store did not recover within 30 s")
    }
}
