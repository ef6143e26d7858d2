import BankHooksCore
import Logging
import PostgresNIO

/// Start-up, as `SQLiteStore.init` does it: the schema, then the credentials at rest.
extension PostgresStore {
    /// Makes the database ready to serve: applies pending migrations (or, with `migrates` false,
    /// refuses a database missing any of this binary's), then with a master key seals credentials
    /// stored in plaintext and refuses a key that does not open the sealed ones. `database` names
    /// the database in errors (without its password).
    public func prepare(migrates: Bool = true, database: String) async throws {
        if migrates {
            try await migrate()
        } else {
            let missing = try await pendingMigrations()
            guard missing.isEmpty else {
                throw StoreError(.invalidValue, "the database \(database) needs migrations (\(missing.joined(separator: ", "))): run bankhooks migrate --database … first, or start without --no-migrate")
            }
        }
        guard let box = sealer.box else { return }
        try await sealPlaintextSecrets(box: box)
        // A wrong master key would make every webhook unusable: refuse to start instead.
        let sample = try await client.result(
            "SELECT secret FROM webhooks WHERE secret LIKE \(SecretBox.prefix + "%") LIMIT 1", logger: logger
        ).first.map { try $0.decode(String.self) }
        if let sample {
            do { _ = try box.open(sample) } catch {
                throw StoreError(.invalidValue, "the master key does not open the webhook secrets stored in \(database): start with the key they were sealed with")
            }
        }
    }

    /// The names of this binary's migrations the database has not applied, in order.
    func pendingMigrations() async throws -> [String] {
        let ledger = try await client.result("SELECT to_regclass('bankhooks_migrations') IS NOT NULL", logger: logger)
        guard try ledger.first?.decode(Bool.self) == true else { return Self.migrations.map(\.name) }
        let applied = try await client.result("SELECT name FROM bankhooks_migrations", logger: logger)
        let names = Set(try applied.map { try $0.decode(String.self) })
        return Self.migrations.map(\.name).filter { !names.contains($0) }
    }

    /// Seals secrets written before encryption at rest (or by a store without a box), in one
    /// transaction. Several nodes starting at once: each locks the rows it would seal
    /// (`FOR UPDATE`), and a node that waited re-reads them sealed, so nothing is sealed twice.
    func sealPlaintextSecrets(box: SecretBox) async throws {
        let sealed = SecretBox.prefix + "%"
        try await transaction { connection in
            let rows = try await connection.result("""
                SELECT id, secret, previous_secret, bearer_token FROM webhooks
                WHERE secret NOT LIKE \(sealed) OR previous_secret NOT LIKE \(sealed) OR bearer_token NOT LIKE \(sealed)
                ORDER BY id FOR UPDATE
                """, logger: logger)
            for row in rows {
                let (id, secret, previous, token) = try row.decode((String, String, String?, String?).self)
                func seal(_ value: String?) throws -> String? {
                    guard let value, !SecretBox.isSealed(value) else { return value }
                    return try box.seal(value)
                }
                try await connection.run("""
                    UPDATE webhooks SET secret = \(try seal(secret) ?? secret), previous_secret = \(try seal(previous)),
                        bearer_token = \(try seal(token))
                    WHERE id = \(id)
                    """, logger: logger)
            }
        }
    }
}
