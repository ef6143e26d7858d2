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
        /// A PostgreSQL database that several nodes share: `postgres://user:password@host:port/database`.
        case postgres(url: String)
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

    /// A PostgreSQL database (the URL is checked here, so a mistake is a clear error before anything starts).
    public static func postgres(url: String) throws(StoreError) -> StorageConfiguration {
        _ = try PostgresStore.configuration(url: url)
        return StorageConfiguration(backend: .postgres(url: url))
    }

    /// The backend a `--database` value names: a `postgres://` or `postgresql://` URL (PostgreSQL),
    /// else a file path or `file://` URL (SQLite). Another scheme is a clear error.
    public init(database: String, durability: Durability = .full) throws(StoreError) {
        guard !database.isEmpty else { throw StoreError(.invalidValue, "--database must name an SQLite file or a postgres:// URL") }
        if let scheme = database.firstRange(of: "://").map({ database[..<$0.lowerBound].lowercased() }) {
            if scheme == "postgres" || scheme == "postgresql" {
                self = try .postgres(url: database)
                self.durability = durability
                return
            }
            guard scheme == "file" else {
                throw StoreError(.invalidValue, "--database \(scheme):// is not supported: give an SQLite file's path or a postgres:// URL")
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
        case .postgres: true
        }
    }

    /// Where the master key file goes unless one is given: beside an SQLite file. A PostgreSQL
    /// database has none (`requiresGivenMasterKey`): `bankhooks.key` in the working directory is
    /// named only so the value exists; the server refuses to start without a given key first.
    public var defaultMasterKeyFile: String {
        switch backend {
        case .sqlite(let path): path + ".key"
        case .postgres: "bankhooks.key"
        }
    }

    /// The database as a person would name it (in the listening line and in errors).
    public var description: String {
        switch backend {
        case .sqlite(let path): path
        case .postgres(let url): PostgresStore.redacted(url: url)
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
        case .postgres(let url):
            // The store runs its pool from now on (migrations and the key check need it before the
            // server's services start); its closing service ends the pool after the others.
            let store = PostgresStore(configuration: try PostgresStore.configuration(url: url), secretBox: sealer.box, logger: logger, runsClient: true)
            do {
                try await store.prepare(migrates: migrates, database: description)
            } catch {
                await store.close()
                throw error
            }
            return OpenedStorage(store: store, services: [store.closingService])
        }
    }

    /// Opens an SQLite backend synchronously (tests and tools that hold no task); `open(sealer:logger:)`
    /// opens every backend.
    public func open(sealer: SecretSealer) throws -> OpenedStorage {
        switch backend {
        case .sqlite(let path):
            let store = try SQLiteStore(path: path, durability: durability == .full ? .full : .normal, secretBox: sealer.box)
            return OpenedStorage(store: store, services: [])
        case .postgres:
            throw StoreError(.invalidValue, "\(description): a PostgreSQL database is opened with open(sealer:logger:)")
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
        case .postgres(let url):
            let store = PostgresStore(configuration: try PostgresStore.configuration(url: url), secretBox: nil, logger: logger, runsClient: true)
            do {
                let applied = try await store.migrate()
                await store.close()
                return applied
            } catch {
                await store.close()
                throw error
            }
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
