import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// Runs `body` with the URL of a new, empty database on the server `url` names (created with a
    /// fresh name starting with `prefix`), and drops it after, whatever `body` did. For the benchmark,
    /// whose runs each need an empty store; the user in `url` must be allowed to create databases.
    public static func withScratchDatabase<T: Sendable>(
        url: String, prefix: String, logger: Logger, _ body: (String) async throws -> T
    ) async throws -> T {
        let configuration = try configuration(url: url)
        guard var components = URLComponents(string: url) else { throw StoreError(.invalidValue, "the database URL \(redacted(url: url)) is not a URL") }
        // Letters, digits and _ only, so the name is safe as an identifier (a name cannot be a bind).
        let name = prefix.filter { $0.isLetter && $0.isASCII || $0 == "_" }.lowercased() + "_"
            + String(UInt64.random(in: 1...UInt64.max), radix: 36)
        components.path = "/" + name
        guard let scratchURL = components.string else { throw StoreError(.invalidValue, "no URL for the scratch database \(name)") }
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.result("CREATE DATABASE \(unescaped: name)", logger: logger)
            do {
                let result = try await body(scratchURL)
                try await client.result("DROP DATABASE \(unescaped: name) WITH (FORCE)", logger: logger)
                return result
            } catch {
                _ = try? await client.result("DROP DATABASE \(unescaped: name) WITH (FORCE)", logger: logger)
                throw error
            }
        }
    }
}

extension PostgresStore {
    /// Refreshes the planner's statistics of the queue's tables (`ANALYZE`), as autovacuum does on a
    /// running server within a minute or so of a table's growth. For the benchmark, which measures
    /// claims right after loading a backlog: with the statistics of a near-empty table, PostgreSQL
    /// plans the due scan for a few rows and reads every due row of the backlog instead.
    public func refreshPlannerStatistics() async throws {
        try await client.result("ANALYZE deliveries, events", logger: logger)
    }
}
