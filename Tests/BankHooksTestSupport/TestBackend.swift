import BankHooksCore
import BankHooksStorage
import Foundation

/// A backend the end-to-end tests run a whole server on: SQLite (a file in the test's directory)
/// or PostgreSQL (a new database of its own on the tests' server, `TestPostgres`). Pass
/// `TestBackend.all` as a test's arguments to run it once on each.
public struct TestBackend: Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case sqlite, postgres }
    public let kind: Kind

    public static let sqlite = TestBackend(kind: .sqlite)
    public static let postgres = TestBackend(kind: .postgres)
    /// Every backend a server runs on.
    public static let all = [sqlite, postgres]

    public var description: String {
        switch kind {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }

    /// What `--database` names for a new, empty store: the file `name` in `dir`, or a new database.
    public func database(in dir: TemporaryDirectory, name: String) async throws -> String {
        switch kind {
        case .sqlite: dir.file(name)
        case .postgres: try await TestPostgres.freshDatabase(migrated: false)
        }
    }

    /// The storage of an in-process server on a new, empty store (see `database(in:name:)`).
    /// (A PostgreSQL one comes migrated, from the template: faster than migrating each.)
    public func storage(in dir: TemporaryDirectory, name: String) async throws -> StorageConfiguration {
        switch kind {
        case .sqlite: .sqlite(path: dir.file(name))
        case .postgres: try StorageConfiguration(database: try await TestPostgres.freshDatabase())
        }
    }

    /// What `bankhooks serve` needs beside `--database`: on PostgreSQL, the master key that nodes
    /// sharing the database share (a file in `dir`, the same one each call, so a restart reads
    /// the secrets it stored); SQLite keeps its own key beside its file.
    public func serveArguments(in dir: TemporaryDirectory) throws -> [String] {
        switch kind {
        case .sqlite:
            return []
        case .postgres:
            let path = dir.file("master.key")
            if !FileManager.default.fileExists(atPath: path) {
                try (SecretBox.generateKey() + "\n").write(toFile: path, atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            }
            return ["--master-key-file", path]
        }
    }
}
