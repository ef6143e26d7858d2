import ArgumentParser
import BankHooksCore
import BankHooksStorage
import Foundation

/// `--database`, shared by `serve`, `migrate` and `bench`: an SQLite file, or a PostgreSQL URL.
struct DatabaseOptions: ParsableArguments {
    /// Read when `--database` is not given (a URL with a password stays out of `ps`).
    static let environmentVariable = "BANKHOOKS_DATABASE_URL"
    static let defaultSQLite = "bankhooks.sqlite"

    @Option(name: .long, help: ArgumentHelp(
        "An SQLite file (created if missing), or postgres://user:password@host:port/database[?sslmode=disable|prefer|require] for several nodes on one PostgreSQL database. Default: $BANKHOOKS_DATABASE_URL, else bankhooks.sqlite.",
        valueName: "path-or-url"))
    var database: String?

    /// The flag, else the environment variable, else the SQLite default.
    var resolved: String {
        database ?? ProcessInfo.processInfo.environment[Self.environmentVariable].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultSQLite
    }

    /// The storage the database names, or a usage error that says what is wrong with it (never the password).
    func storage(durability: StorageConfiguration.Durability = .full) throws -> StorageConfiguration {
        do {
            return try StorageConfiguration(database: resolved, durability: durability)
        } catch {
            throw ValidationError(database == nil && ProcessInfo.processInfo.environment[Self.environmentVariable] != nil
                ? "\(Self.environmentVariable): \(error.message)" : error.message)
        }
    }
}

/// `bankhooks migrate`: applies the pending schema migrations and exits, printing each one it
/// applied, so rolling upgrades can migrate once before nodes start with `serve --no-migrate`.
/// Several at once are safe (the backend serialises them) and running it again applies nothing.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations and exit (PostgreSQL: before rolling nodes that start with --no-migrate).")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let storage = try database.storage()
        let applied: [String]
        do {
            applied = try await storage.migrate()
        } catch let error as StoreError {
            throw ValidationError(error.message)
        }
        for name in applied { say("applied \(name)") }
        say(applied.isEmpty
            ? "\(storage): up to date, nothing to apply"
            : "\(storage): applied \(applied.count) migration\(applied.count == 1 ? "" : "s")")
    }
}
