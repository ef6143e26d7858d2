import BankHooksCore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The store for several nodes: one PostgreSQL database behind PostgresNIO's `PostgresClient`
/// pool. PostgreSQL runs at READ COMMITTED with many writers, so where the SQLite store relies on
/// its single writer, each method here takes an explicit lock in its own transaction (and says which).
///
/// The client only lends connections while its `run()` is running: the server runs `client` as a
/// service (`StorageConfiguration.open`); tests and tools pass `runsClient: true` and the store runs
/// it for its own lifetime.
public final class PostgresStore: Sendable {
    /// PostgresNIO's connection pool.
    let client: PostgresClient

    /// Seals webhook credentials before they are written and opens them in management reads (as
    /// `SQLiteStore.sealer`; claims carry them sealed, for the send path to open).
    let sealer: SecretSealer

    /// Given to every query and transaction (PostgresNIO logs at debug and below).
    let logger: Logger

    /// Runs `client` when the store was made with `runsClient: true`; cancelled (closing the pool) in `deinit`.
    private let runTask: Task<Void, Never>?

    /// A store on the database `configuration` names; nothing is queried yet (call `migrate()`).
    /// Without a `secretBox`, credentials are stored as they are. With `runsClient`, the store runs
    /// its client until it is released; otherwise the caller runs `client` (a `Service`).
    public init(configuration: PostgresClient.Configuration, secretBox: SecretBox?, logger: Logger, runsClient: Bool = false) {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.sealer = SecretSealer(box: secretBox)
        self.logger = logger
        self.runTask = runsClient ? Task { await client.run() } : nil
    }

    deinit { runTask?.cancel() }

    /// Closes the pool the store runs itself (`runsClient: true`) and waits until its connections
    /// are closed; queries after this fail. Without `runsClient`, stop the `service` instead.
    public func close() async {
        runTask?.cancel()
        await runTask?.value
    }

    /// For a store that runs its own client: a service that, on graceful shutdown, closes the pool.
    /// Listed first in a `ServiceGroup`, it is shut down last, after every service that queries.
    public var closingService: any Service { ClosingService(store: self) }

    private struct ClosingService: Service {
        let store: PostgresStore
        func run() async throws {
            // Cancellation ends the wait as well as a graceful shutdown: either way the pool closes.
            try? await gracefulShutdown()
            await store.close()
        }
    }

    /// The service that runs the connection pool, for a `ServiceGroup` (started before the server's
    /// other services, stopped after them).
    public var service: any Service { client }

    // MARK: Connection configuration

    /// The client configuration a `postgres://user:password@host:port/database?sslmode=…` URL (or
    /// `postgresql://`) names. User, host and database are required; the port defaults to 5432;
    /// `sslmode` is `disable`, `prefer` (the default) or `require`, and `verify-full` is `require`
    /// (PostgresNIO always verifies the certificate when TLS is used). Percent-escapes in the user and
    /// password are decoded. Every mistake is a `StoreError(.invalidValue)` naming the part.
    public static func configuration(url: String) throws(StoreError) -> PostgresClient.Configuration {
        // The password is never repeated in an error.
        let shown = redacted(url: url)
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw StoreError(.invalidValue, "the database URL \(shown) is not a URL: give postgres://user:password@host:port/database")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw StoreError(.invalidValue, "the database URL \(shown) must start with postgres:// or postgresql://")
        }
        guard let user = components.user?.removingPercentEncoding, !user.isEmpty else {
            throw StoreError(.invalidValue, "the database URL \(shown) names no user: give postgres://user@host/database")
        }
        guard let host = components.host, !host.isEmpty else {
            throw StoreError(.invalidValue, "the database URL \(shown) names no host: give postgres://user@host/database")
        }
        // URLComponents reads a port that is not a number as no URL at all, and keeps any Int.
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else {
            throw StoreError(.invalidValue, "the database URL \(shown) has port \(port): a port is 1 to 65535")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !database.isEmpty, !database.contains("/"), let database = database.removingPercentEncoding else {
            throw StoreError(.invalidValue, "the database URL \(shown) names no database: give postgres://user@host/database")
        }
        let password = components.password?.removingPercentEncoding
        var tls = PostgresClient.Configuration.TLS.prefer(.makeClientConfiguration())
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value ?? "" {
                case "disable": tls = .disable
                case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
                case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
                case let mode:
                    throw StoreError(.invalidValue, "the database URL \(shown) has sslmode=\(mode): use disable, prefer or require")
                }
            default:
                throw StoreError(.invalidValue, "the database URL \(shown) has the parameter \(item.name), which BankHooks does not know: only sslmode is read")
            }
        }
        // An IPv6 literal comes bracketed; the client wants the address itself.
        let address = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var configuration = PostgresClient.Configuration(host: address, port: port, username: user, password: password, database: database, tls: tls)
        // A node that stops mid-transaction (frozen, cut off) must not hold its locks (a publish
        // lock, webhook rows) for the hours the server takes to notice: every transaction here is
        // short, so the server ends one idle for 15 s and frees what it held. Keepalives find a
        // vanished client (partition, dead host) in about 25 s instead of the kernel's 2 hours, so
        // its session's locks (a node's job leadership) go to another node; the node itself stops
        // leading when its heartbeat stalls (PostgresWakeups).
        configuration.options.additionalStartupParameters = [
            ("idle_in_transaction_session_timeout", "15s"),
            ("tcp_keepalives_idle", "10"), ("tcp_keepalives_interval", "5"), ("tcp_keepalives_count", "3"),
        ]
        return configuration
    }

    /// The URL without its password (`postgres://user:***@host/db`), for logs and errors.
    public static func redacted(url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://"),
              let at = url[schemeEnd.upperBound...].lastIndex(of: "@"),
              let colon = url[schemeEnd.upperBound..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }

    // MARK: Transactions and queries

    /// Runs `body` in one transaction on one pooled connection (committed when it returns, rolled
    /// back when it throws) and throws what `body` threw, as it threw it. `BEGIN`, `COMMIT` and
    /// `ROLLBACK` go through the checked path (`PostgresConnection.result`): on a connection the
    /// server has ended, each fails at once (`StoreUnavailableError`) rather than waiting for ever,
    /// and no `ROLLBACK` is sent on a closed one (the server rolled back when it ended the session).
    func transaction<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let logger = self.logger
        do {
            return try await client.withConnection { connection in try await connection.transaction(logger: logger, body) }
        } catch {
            throw Self.mapped(error)
        }
    }

    /// The error a caller should see: a text PostgreSQL cannot hold (a NUL character, SQLSTATE
    /// `22021`, or an indexed text past a btree entry, `54000`; SQLite stores both) becomes
    /// `StoreError(.invalidValue)`, anything else is itself.
    /// A lost connection or pool (the server ended the session, restarted, is unreachable) becomes
    /// `StoreUnavailableError`. `transaction` and the `result`/`rows`/`row`/`run` helpers apply it.
    static func mapped(_ error: any Error) -> any Error {
        if let lost = StoreUnavailableError(lost: error) { return lost }
        return switch sqlState(of: error) {
        case "22021": StoreError(.invalidValue, "text may not contain a NUL character")
        // An indexed text longer than a btree entry holds (about 2.7 kB): SQLite takes it.
        case "54000": StoreError(.invalidValue, "a text is too long to be stored (an indexed value holds at most about 2,700 bytes)")
        default: error
        }
    }

    /// The error inside PostgresNIO's transaction wrapper: what the body threw, else what the
    /// commit or the `BEGIN` threw.
    static func unwrapped(_ error: PostgresTransactionError) -> any Error {
        error.closureError ?? error.commitError ?? error.beginError ?? error
    }

    /// Takes a lock on `key` held until the transaction ends (`pg_advisory_xact_lock(hashtext(key))`),
    /// for invariants with no row to lock: name the key `'<what>:' + id`, e.g. `"publish:" + applicationID`.
    static func lock(_ key: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.run("SELECT pg_advisory_xact_lock(hashtext(\(key)))", logger: logger)
    }

    /// The delivery states as SQL literals, for statements a partial index (`WHERE state = 0`) must
    /// serve (write them with `\(unescaped: Self.pending)`).
    static let pending = StoredDeliveryState.pending.sqlLiteral
    static let failed = StoredDeliveryState.failed.sqlLiteral

    // MARK: Errors

    /// The SQLSTATE of a PostgreSQL server error (`23505` unique, `23503` foreign key, …), looking
    /// through a transaction's wrapper; nil for any other error.
    static func sqlState(of error: any Error) -> String? {
        if let error = error as? PSQLError { return error.serverInfo?[.sqlState] }
        if let error = error as? PostgresTransactionError {
            let inner = unwrapped(error)
            return inner is PostgresTransactionError ? nil : sqlState(of: inner)
        }
        return nil
    }

    /// The constraint a server error names (`events_application_idempotency_key`, …), if any.
    static func constraint(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.constraintName]
    }

    /// Whether `error` is a unique (or primary key) violation, of `constraint` when one is named.
    /// Map it to `StoreError(.conflict, …)` or to the method's documented result, as SQLite does
    /// for `SQLITE_CONSTRAINT`:
    /// ```swift
    /// do { … } catch let error where Self.isUniqueViolation(error) { throw StoreError(.conflict, "application \(id) exists") }
    /// ```
    static func isUniqueViolation(_ error: any Error, constraint: String? = nil) -> Bool {
        sqlState(of: error) == "23505" && (constraint == nil || Self.constraint(of: error) == constraint)
    }

    /// Whether `error` is a foreign-key violation (a parent row missing), of `constraint` when one
    /// is named: map it to `StoreError(.notFound, …)` where SQLite maps `SQLITE_CONSTRAINT_FOREIGNKEY`.
    static func isForeignKeyViolation(_ error: any Error, constraint: String? = nil) -> Bool {
        sqlState(of: error) == "23503" && (constraint == nil || Self.constraint(of: error) == constraint)
    }

    /// Whether `error` is a CHECK violation (`23514`), e.g. a negative webhook limit.
    static func isCheckViolation(_ error: any Error) -> Bool { sqlState(of: error) == "23514" }
}

/// Every aggregate's store, each in its own file (`PostgresStore+Tenants.swift`, `+Webhooks`,
/// `+EventTypes`, `+Recoveries`, `+Publish`/`+Queue`, `+DeliveryLog`, `+Sandbox`), as SQLite's.
extension PostgresStore: Store {}

// MARK: Rows

/// One result row read by column name, throwing (never trapping, as PostgresNIO's own subscript
/// does) on a missing column or a type that does not decode. By-name lookup builds a small table
/// per row: on the hot path (claims) decode positionally with `row.decode((Int64, String, …).self)`.
///
/// Column types: `BIGINT` → `Int64` (or `Int`), `SMALLINT`/`INTEGER` → `Int`, `BOOLEAN` → `Bool`,
/// `TEXT` → `String`, `BYTEA` → `ByteBuffer` or `Data` (never `[UInt8]`: PostgresNIO reads and binds
/// that as `"char"[]`; bind `Data` or `ByteBuffer`), `DOUBLE PRECISION` → `Double`; a nullable column as `T?`.
struct StoredRow {
    private let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

    /// The column's value as `T` (`T?` for a nullable column).
    func callAsFunction<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard row.contains(column) else { throw StoreError(.invalidValue, "the query returned no column \(column)") }
        return try row[column].decode(T.self)
    }

    /// A milliseconds column as a timestamp.
    func timestamp(_ column: String) throws -> Timestamp {
        Timestamp(milliseconds: try self(column, as: Int64.self))
    }

    /// A nullable milliseconds column as a timestamp.
    func timestampIfPresent(_ column: String) throws -> Timestamp? {
        try self(column, as: Int64?.self).map(Timestamp.init(milliseconds:))
    }

    /// A `BYTEA` column's bytes as `Data`.
    func data(_ column: String) throws -> Data {
        Data(try self(column, as: ByteBuffer.self).readableBytesView)
    }
}

extension PostgresConnection {
    /// Every row of `query`, as PostgresNIO decodes them (positionally, `row.decode(…)`, on the hot
    /// path). The one way this store sends a statement: it checks that the connection is open and
    /// hands the statement to it in one step on the connection's event loop. PostgresNIO 1.33's own
    /// `query` writes without that check, and a statement written after the channel closed (its
    /// handlers gone) is dropped without its reply ever completing: the caller waits for ever.
    func result(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        let future = eventLoop.flatSubmit { () -> EventLoopFuture<PostgresQueryResult> in
            guard !self.isClosed else { return self.eventLoop.makeFailedFuture(StoreUnavailableError.connectionClosed) }
            return self.query(query, logger: logger)
        }
        do {
            return try await future.get().rows
        } catch {
            throw PostgresStore.mapped(error)
        }
    }

    /// Every row of `query` as `StoredRow`s.
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [StoredRow] {
        try await result(query, logger: logger).map(StoredRow.init)
    }

    /// The first row of `query`, if any.
    func row(_ query: PostgresQuery, logger: Logger) async throws -> StoredRow? {
        try await result(query, logger: logger).first.map(StoredRow.init)
    }

    /// Runs `body` in one transaction on this connection (committed when it returns, rolled back when
    /// it throws), its `BEGIN`, `COMMIT` and `ROLLBACK` through `result`; no `ROLLBACK` is sent on a
    /// closed connection (the server rolled back when the session ended).
    func transaction<Result: Sendable>(
        logger: Logger, isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await run("BEGIN", logger: logger)
        let result: Result
        do {
            result = try await body(self)
        } catch {
            if !isClosed { _ = try? await self.result("ROLLBACK", logger: logger) }
            throw error
        }
        try await run("COMMIT", logger: logger)
        return result
    }

    /// Runs a statement and drops its rows. PostgresNIO does not report a changed-row count here: to
    /// learn whether a row changed, add `RETURNING` and use `row(_:logger:)`.
    func run(_ query: PostgresQuery, logger: Logger) async throws {
        _ = try await result(query, logger: logger)
    }
}

extension PostgresClient {
    /// Every row of `query`, on a connection the pool lends for it, through the checked path
    /// (`PostgresConnection.result`); a lost connection or a closed pool is `StoreUnavailableError`.
    @discardableResult
    func result(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        do {
            return try await withConnection { connection in try await connection.result(query, logger: logger) }
        } catch {
            throw PostgresStore.mapped(error)
        }
    }
}

extension [PostgresRow] {
    /// Every row decoded positionally, as `PostgresRowSequence.decode` does.
    func decode<each Column: PostgresDecodable>(_ columns: (repeat each Column).Type) throws -> [(repeat each Column)] {
        try map { try $0.decode(columns) }
    }
}
