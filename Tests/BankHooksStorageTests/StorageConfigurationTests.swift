import BankHooksCore
import BankHooksStorage
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
        let postgres = #expect(throws: StoreError.self) { try StorageConfiguration(database: "postgres://u@127.0.0.1/bh") }
        #expect(postgres?.message.contains("postgres:// is not supported") == true)
        #expect(throws: StoreError.self) { try StorageConfiguration(database: "") }
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
