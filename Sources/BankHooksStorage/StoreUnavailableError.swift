import PostgresNIO
import _ConnectionPoolModule

/// The database cannot be reached for this call: the connection was lost (the server ended the
/// session, restarted or failed over, or the network dropped it) or the pool is closed. Nothing
/// the call asked for was committed unless it said so; the caller may retry (the API answers 503
/// with `Retry-After`). A store never waits for ever on a lost connection.
public struct StoreUnavailableError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }

    /// A statement found its connection already closed.
    static let connectionClosed = StoreUnavailableError("the database connection was closed before the statement was sent")

    /// `error` as unavailability when it is one: PostgresNIO's lost-connection and closed-pool errors,
    /// and its pool's: no connection could be made for a while (the server is down or unreachable, or
    /// refuses connections, such as at `max_connections`), so the pool's circuit breaker fails each
    /// request at once until a connection is made again.
    init?(lost error: any Error) {
        if let error = error as? StoreUnavailableError { self = error; return }
        if let error = error as? ConnectionPoolError {
            self.init(error == .connectionCreationCircuitBreakerTripped
                ? "no database connection could be made for a while (the server is down, unreachable or refusing connections)"
                : "the database connection pool refused the request (\(error))")
            return
        }
        guard let error = error as? PSQLError else { return nil }
        switch error.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown, .poolClosed:
            self.init("the database connection was lost (\(error.code))")
        case .server:
            // The server's last word before it closes the session: 57P01 admin shutdown (a
            // `pg_terminate_backend`, a fast shutdown), 57P02 crash, 57P03 not yet accepting
            // connections, 25P03 idle in a transaction too long, class 08 a connection exception.
            let state = error.serverInfo?[.sqlState] ?? ""
            guard state.hasPrefix("57P") || state.hasPrefix("08") || state == "25P03" else { return nil }
            self.init("the database ended the connection (SQLSTATE \(state): \(error.serverInfo?[.message] ?? "no message"))")
        default:
            return nil
        }
    }
}
