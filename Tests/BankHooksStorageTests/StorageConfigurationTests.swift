import BankHooksCore
@testable import BankHooksStorage
import BankHooksTestSupport
import Logging
import Testing

/// `--database` chooses the backend; the server and the benchmark only hold this value.
@Suite struct StorageConfigurationTests {
    @Test func aPathOrAFileURLIsAnSQLiteFile() throws {
        #expect(try StorageConfiguration(database: "data/bh.sqlite").backend == .sqlite(path: "data/bh.sqlite"))
        #expect(try StorageConfiguration(database: "file:///var/lib/bh.sqlite").backend == .sqlite(path: "/var/lib/bh.sqlite"))
        let configuration = try StorageConfiguration(database: "bh.sqlite", durability: .normal)
        #expect(configuration.durability == .normal)
        #expect(configuration.defaultMasterKeyFile == "bh.sqlite.key")
        #expect(configuration.description == "bh.sqlite")
    }

    @Test func anUnknownSchemeOrNothingIsAClearError() {
        let mysql = #expect(throws: StoreError.self) { try StorageConfiguration(database: "mysql://u@127.0.0.1/bh") }
        #expect(mysql?.message.contains("mysql:// is not supported") == true)
        #expect(throws: StoreError.self) { try StorageConfiguration(database: "") }
    }

    @Test func aPostgresURLIsAPostgreSQLDatabaseNamedWithoutItsPassword() throws {
        for scheme in ["postgres", "postgresql", "POSTGRES"] {
            let url = "\(scheme)://bh:s3cr%40t@db.internal:6432/bankhooks?sslmode=require"
            let configuration = try StorageConfiguration(database: url, durability: .normal)
            #expect(configuration.backend == .postgres(url: url))
            #expect(configuration.durability == .normal)
            #expect(configuration.description == "\(scheme)://bh:***@db.internal:6432/bankhooks?sslmode=require")
            #expect(configuration.requiresGivenMasterKey, "several nodes share the database, so they must share its key")
        }
        let client = try PostgresStore.configuration(url: "postgres://bh:s3cr%40t@db.internal:6432/bankhooks")
        #expect(client.host == "db.internal" && client.port == 6432)
        #expect(client.username == "bh" && client.password == "s3cr@t" && client.database == "bankhooks")
        #expect(try PostgresStore.configuration(url: "postgres://bh@[::1]/bankhooks").host == "::1")
        #expect(try PostgresStore.configuration(url: "postgres://bh@localhost/bankhooks").port == 5432)
    }

    @Test(arguments: [
        ("postgres://127.0.0.1/bh", "names no user"),
        ("postgres://bh:pw@/bh", "names no host"),
        ("postgres://bh:pw@127.0.0.1", "names no database"),
        ("postgres://bh:pw@127.0.0.1/", "names no database"),
        ("postgres://bh:pw@127.0.0.1:0/bh", "has port 0"),
        ("postgres://bh:pw@127.0.0.1:99999/bh", "has port 99999"),
        ("postgres://bh:pw@127.0.0.1:port/bh", "is not a URL"),
        ("postgres://bh:pw@127.0.0.1/bh?sslmode=sometimes", "has sslmode=sometimes"),
        ("postgres://bh:pw@127.0.0.1/bh?timeout=3", "has the parameter timeout"),
    ])
    func aBadPostgresURLIsAClearErrorThatNeverShowsThePassword(_ url: String, _ says: String) {
        let error = #expect(throws: StoreError.self) { try StorageConfiguration(database: url) }
        #expect(error?.code == .invalidValue)
        #expect(error?.message.contains(says) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("pw") == false)
    }

    @Test func openingAPostgresDatabaseMigratesItAndGivesThePoolsClosingService() async throws {
        let url = try await TestPostgres.freshDatabase(migrated: false)
        let storage = try StorageConfiguration(database: url)
        var refusing = storage
        refusing.migrates = false
        let refused = await #expect(throws: StoreError.self) { try await refusing.open(sealer: SecretSealer(box: nil), logger: TestPostgres.logger) }
        #expect(refused?.message.contains("needs migrations") == true)

        #expect(try await storage.migrate() == PostgresStore.migrations.map(\.name))
        #expect(try await storage.migrate().isEmpty, "up to date: nothing to apply")
        let opened = try await refusing.open(sealer: SecretSealer(box: nil), logger: TestPostgres.logger)
        #expect(opened.services.count == 1, "the service that closes the pool after the server's others")
        #expect(opened.store is PostgresStore)
        #expect(try await opened.store.applications().isEmpty)
    }

    @Test func openingGivesAStoreAndTheServicesItsBackendNeeds() async throws {
        let dir = TemporaryDirectory()
        let opened = try StorageConfiguration.sqlite(path: dir.file("open.sqlite")).open(sealer: SecretSealer(box: nil))
        #expect(opened.services.isEmpty, "SQLite runs in process: nothing to start")
        #expect(try await opened.store.applications().isEmpty)
    }

    @Test func migratingAppliesEachPendingMigrationOnceAndNamesIt() async throws {
        let dir = TemporaryDirectory()
        let storage = StorageConfiguration.sqlite(path: dir.file("migrate.sqlite"))
        let first = try await storage.migrate()
        #expect(first.first == "v1-engine" && first.count >= 10, "a new file gets every migration, in order: \(first)")
        #expect(try await storage.migrate().isEmpty, "up to date: nothing to apply")
        let opened = try await storage.open(sealer: SecretSealer(box: nil), logger: Logger(label: "test"))
        #expect(try await opened.store.applications().isEmpty)
    }

    @Test func anSQLiteFileKeepsItsOwnMasterKey() throws {
        #expect(try StorageConfiguration(database: "bh.sqlite").requiresGivenMasterKey == false)
    }
}
