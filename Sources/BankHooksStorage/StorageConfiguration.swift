import BankHooksCore
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

    /// Opens the backend (running pending migrations) and returns its store and the services it
    /// needs to run beside the server (a connection pool, for a backend that has one). Credentials
    /// are sealed by `sealer` before they are written.
    public func open(sealer: SecretSealer) throws -> OpenedStorage {
        switch backend {
        case .sqlite(let path):
            let store = try SQLiteStore(path: path, durability: durability == .full ? .full : .normal, secretBox: sealer.box)
            return OpenedStorage(store: store, services: [])
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
