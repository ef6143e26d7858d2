import BankHooksCore
import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode behind one GRDB `DatabasePool` (one writer,
/// many readers). SQLite allows a single writer, so every claim is naturally exclusive; leases
/// still matter for crashed processes and for several processes sharing a file.
public final class SQLiteStore: Store {
    /// How hard a commit waits for the disk.
    public enum Durability: String, Sendable, CaseIterable {
        /// fsync the WAL on every commit: an acknowledged publish survives power loss.
        case full
        /// fsync only at checkpoints: survives a process crash, may lose the last commits on power loss.
        case normal
    }

    let pool: DatabasePool

    /// Seals webhook credentials before they are written and opens them in management reads (the
    /// rule is `SecretSealer`'s; claims carry them sealed, for the send path to open).
    let sealer: SecretSealer

    /// Opens (creating if needed) the database at `path` and runs pending migrations. Without a
    /// `secretBox`, credentials are stored as they are.
    public init(path: String, durability: Durability = .full, secretBox: SecretBox? = nil) throws {
        sealer = SecretSealer(box: secretBox)
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.foreignKeysEnabled = true
        try Self.makePrivate(databasePath: path)
        pool = try DatabasePool(path: path, configuration: configuration)
        // DatabasePool sets synchronous=NORMAL after prepareDatabase; choose our level after opening.
        let level = durability == .full ? "FULL" : "NORMAL"
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(level)") }
        try Self.migrator.migrate(pool)
        if let secretBox {
            try Self.sealPlaintextSecrets(pool, box: secretBox)
            // A wrong master key would make every webhook unusable: refuse to start instead.
            let sample = try pool.read { db in try String.fetchOne(db, sql: "SELECT secret FROM webhooks WHERE secret LIKE 'enc:v1:%' LIMIT 1") }
            if let sample {
                do { _ = try secretBox.open(sample) } catch {
                    throw StoreError(.invalidValue, "the master key does not open the webhook secrets stored in \(path): start with the key they were sealed with")
                }
            }
        }
    }

    /// Seals secrets written before encryption at rest (or by a store without a box), in one transaction.
    static func sealPlaintextSecrets(_ pool: DatabasePool, box: SecretBox) throws {
        try pool.write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, secret, previous_secret, bearer_token FROM webhooks")
            for row in rows {
                var changed = false
                func sealed(_ value: String?) throws -> String? {
                    guard let value, !SecretBox.isSealed(value) else { return value }
                    changed = true
                    return try box.seal(value)
                }
                let secret = try sealed(row["secret"]), previous = try sealed(row["previous_secret"]), token = try sealed(row["bearer_token"])
                if changed {
                    try db.execute(sql: "UPDATE webhooks SET secret = ?, previous_secret = ?, bearer_token = ? WHERE id = ?",
                                   arguments: [secret, previous, token, row["id"] as String])
                }
            }
        }
    }


    // MARK: Helpers

    /// Refuses an insert past a quota (`limitReached`), counted in the insert's own transaction so
    /// concurrent requests cannot overshoot it; no limit (`.max`) counts nothing.
    static func checkQuota(
        _ db: Database, count sql: String, _ arguments: StatementArguments, limit: Int, message: (Int) -> String
    ) throws {
        guard limit < .max else { return }
        let count = try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0
        guard count < limit else { throw StoreError(.limitReached, message(count)) }
    }

    /// The delivery states as SQL literals, for statements a partial index (`WHERE state = 0`) must
    /// serve: the planner uses such an index only when the statement's own text names the state.
    static let pending = StoredDeliveryState.pending.sqlLiteral
    static let failed = StoredDeliveryState.failed.sqlLiteral

    /// A JSON array of strings, bound as one parameter and read with `json_each`.
    static func jsonArray(_ values: Set<String>) -> String {
        var out = [UInt8(ascii: "[")]
        for (i, value) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(value, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON array of integers, bound as one parameter and read with `json_each`.
    static func jsonArray(_ values: [Int64]) -> String {
        var out = "["
        out.reserveCapacity(values.count * 8 + 2)
        for (i, value) in values.enumerated() {
            if i > 0 { out.append(",") }
            out.append(String(value))
        }
        out.append("]")
        return out
    }
}

extension StoredDeliveryState {
    /// The state's stored code as SQL text (the one place a state becomes a literal).
    var sqlLiteral: String { String(rawValue) }
}
