import BankHooksCore
import Foundation
import GRDB
import Logging
import ServiceLifecycle

/// Where BankHooks keeps its data, chosen from `--database`: the one place that knows which
/// backend serves the store. The server and the benchmark hold this value, never a backend type.
public struct StorageConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// The backends.
    public enum Backend: Sendable, Hashable {
        /// An embedded SQLite file (created if missing).
        case sqlite(path: String)
    }

    /// How hard a commit waits for the disk.
    public enum Durability: String, Sendable, Hashable, CaseIterable {
        /// Every commit is on disk before it is acknowledged: an acknowledged publish survives power loss.
        case full
        /// Commits survive a process crash; the last ones may be lost on power loss.
        case normal
    }

    public var backend: Backend
    public var durability: Durability
    /// Whether `open` applies pending migrations (the default). When false, a backend whose
    /// schema several nodes share (PostgreSQL) refuses a database missing any of this binary's
    /// migrations, for rolling upgrades that migrate once with `bankhooks migrate`; SQLite, one
    /// process's own file, always migrates.
    public var migrates = true

    public init(backend: Backend, durability: Durability = .full) {
        self.backend = backend
        self.durability = durability
    }

    /// An SQLite file.
    public static func sqlite(path: String, durability: Durability = .full) -> StorageConfiguration {
        StorageConfiguration(backend: .sqlite(path: path), durability: durability)
    }

    /// The backend a `--database` value names: a file path (SQLite). A URL with a scheme is
    /// refused with a clear error until that backend exists.
    public init(database: String, durability: Durability = .full) throws(StoreError) {
        guard !database.isEmpty else { throw StoreError(.invalidValue, "--database must name an SQLite file") }
        if let scheme = database.firstRange(of: "://").map({ database[..<$0.lowerBound].lowercased() }) {
            guard scheme == "file" else {
                throw StoreError(.invalidValue, "--database \(scheme):// is not supported: BankHooks stores its data in an SQLite file (give its path)")
            }
            self.init(backend: .sqlite(path: String(database.dropFirst("file://".count))), durability: durability)
            return
        }
        self.init(backend: .sqlite(path: database), durability: durability)
    }

    /// Whether the master key must be given (a file or the environment): true where several nodes
    /// share the database and so must share its key; an SQLite file keeps its own beside it.
    public var requiresGivenMasterKey: Bool {
        switch backend {
        case .sqlite: false
        }
    }

    /// Where the master key file goes unless one is given: beside an SQLite file.
    public var defaultMasterKeyFile: String {
        switch backend {
        case .sqlite(let path): path + ".key"
        }
    }

    /// The database as a person would name it (in the listening line and in errors).
    public var description: String {
        switch backend {
        case .sqlite(let path): path
        }
    }

    /// Opens the backend (running pending migrations unless `migrates` is false, sealing
    /// credentials stored in plaintext, refusing a master key that does not open them) and returns
    /// its store and the services it needs to run beside the server (a connection pool, for a
    /// backend that has one). Credentials are sealed by `sealer` before they are written.
    public func open(sealer: SecretSealer, logger: Logger) async throws -> OpenedStorage {
        switch backend {
        case .sqlite:
            return try open(sealer: sealer)
        }
    }

    /// Opens an SQLite backend synchronously (tests and tools that hold no task); `open(sealer:logger:)`
    /// opens every backend.
    public func open(sealer: SecretSealer) throws -> OpenedStorage {
        switch backend {
        case .sqlite(let path):
            let store = try SQLiteStore(path: path, durability: durability == .full ? .full : .normal, secretBox: sealer.box)
            return OpenedStorage(store: store, services: [])
        }
    }

    /// Applies the pending migrations (`bankhooks migrate`) and returns the names of those it
    /// applied, in order; none when the schema is up to date. Safe to run from several nodes at once.
    public func migrate(logger: Logger = Logger(label: "bankhooks.migrate")) async throws -> [String] {
        switch backend {
        case .sqlite(let path):
            let before = try Self.appliedSQLiteMigrations(path: path)
            // Opening migrates (and makes a new file private first).
            _ = try SQLiteStore(path: path, durability: durability == .full ? .full : .normal, secretBox: nil)
            return SQLiteStore.migrator.migrations.filter { !before.contains($0) }
        }
    }

    /// The migrations an SQLite file has applied; none for a file that does not exist yet.
    private static func appliedSQLiteMigrations(path: String) throws -> Set<String> {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        return try DatabaseQueue(path: path, configuration: configuration).read { db in
            try db.tableExists("grdb_migrations") ? SQLiteStore.migrator.appliedIdentifiers(db) : []
        }
    }
}

/// An open store and the services its backend needs running (started before, stopped after the others).
public struct OpenedStorage: Sendable {
    public let store: any Store
    public let services: [any Service]

    public init(store: any Store, services: [any Service]) {
        self.store = store
        self.services = services
    }
}
