import GRDB

/// A store that can say, with one cheap query, whether it answers now and has every migration
/// this binary knows: what `/readyz` asks on each probe.
public protocol SchemaReadiness: Sendable {
    /// The names of this binary's migrations the database has not applied, in order (empty: ready).
    /// Throws when the database does not answer.
    func pendingMigrationNames() async throws -> [String]
}

extension SQLiteStore: SchemaReadiness {
    public func pendingMigrationNames() async throws -> [String] {
        let migrator = Self.migrator
        let applied = Set(try await pool.read { db in try migrator.appliedIdentifiers(db) })
        return migrator.migrations.filter { !applied.contains($0) }
    }
}

extension PostgresStore: SchemaReadiness {
    public func pendingMigrationNames() async throws -> [String] {
        do {
            return try await pendingMigrations()
        } catch {
            throw Self.mapped(error)
        }
    }
}
