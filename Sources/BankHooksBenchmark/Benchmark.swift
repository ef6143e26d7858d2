import BankHooksStorage
import Foundation
import Logging

/// `bankhooks bench`: the whole server in this process (HTTP API, publisher, dispatcher, store),
/// a receiver on 127.0.0.1 (or one the user runs), and publishing clients, measured end to end.
public struct Benchmark: Sendable {
    /// What to run and how hard.
    public struct Options: Sendable {
        public var events = 20_000
        public var webhooks = 10
        public var payloadBytes = 1024
        /// Events per second offered; 0 publishes as fast as the clients can.
        public var rate = 0
        public var publishers = 32
        /// How hard the store's commits wait for the disk.
        public var durability: StorageConfiguration.Durability = .full
        public var bareRequests = 20_000
        public var maxInFlight = 256
        public var maxInFlightPerWebhook = 32
        /// Where the databases go; nil is a temporary directory, removed after.
        public var directory: String?
        /// Send every webhook to this URL (a receiver the user runs) instead of the in-process
        /// receiver; deliveries are then counted and timed through the delivery log.
        public var receiverURL: String?
        /// A PostgreSQL server (`postgres://…`) to run on instead of SQLite: each store of a run is a
        /// new database there, dropped after.
        public var database: String?
        /// Server nodes in this process sharing the store (PostgreSQL only), each with its own pool,
        /// HTTP API, publisher and dispatcher; the publishing clients go round-robin over them.
        public var nodes = 1
        public init() {}
    }

    let options: Options
    let say: @Sendable (String) -> Void

    public init(options: Options, say: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.say = say
    }

    /// The store of one run: an SQLite file `name` in the run's directory (the benchmark measures
    /// the embedded store; the backend is chosen through the storage configuration like the server's).
    func storage(_ directory: String, _ name: String) -> StorageConfiguration {
        .sqlite(path: directory + "/" + name, durability: options.durability)
    }

    /// The store of one run for `body`: an SQLite file `name` in the run's directory, or with
    /// `database` a new PostgreSQL database on that server, dropped after.
    func withStorage<T: Sendable>(_ directory: String, _ name: String, _ body: (StorageConfiguration) async throws -> T) async throws -> T {
        guard let server = options.database else { return try await body(storage(directory, name)) }
        let logger = { var logger = Logger(label: "bench.postgres"); logger.logLevel = .error; return logger }()
        let prefix = "bench_" + (name.split(separator: ".").first.map(String.init) ?? "store")
        return try await PostgresStore.withScratchDatabase(url: server, prefix: prefix, logger: logger) { url in
            try await body(try StorageConfiguration(database: url))
        }
    }

    /// Where the run's store is, for the header line.
    var backendName: String {
        options.database.map { "PostgreSQL \(PostgresStore.redacted(url: $0)), \(options.nodes) node\(options.nodes == 1 ? "" : "s")" }
            ?? "durability \(options.durability.rawValue)"
    }

    /// Runs `body` with the run's directory: `--directory`, or a temporary one removed after.
    func withDirectory<T>(_ prefix: String, _ body: (String) async throws -> T) async throws -> T {
        let dir = options.directory ?? NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if options.directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
        return try await body(dir)
    }
}
