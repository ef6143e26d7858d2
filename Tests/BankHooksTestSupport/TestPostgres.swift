import BankHooksCore
@testable import BankHooksStorage
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import PostgresNIO

/// The tests' PostgreSQL: a real server on 127.0.0.1, and a new empty, migrated database for each
/// test that asks (so tests never see each other's rows and may run in parallel).
///
/// The server is the one `BANKHOOKS_TEST_POSTGRES_URL` names (`scripts/test.sh` starts one and
/// sets it); when that is unset (a plain `swift test --filter …`), the first test to ask starts a
/// throwaway one with `scripts/postgres.sh` (fsync off) and it is stopped and removed when the
/// test process exits. Each database is a copy of one template migrated once per process
/// (`CREATE DATABASE … TEMPLATE`), which is much faster than migrating each.
public enum TestPostgres {
    /// The variable `scripts/test.sh` sets to its server's URL (any database on it; the user must
    /// be allowed to create databases).
    public static let urlVariable = "BANKHOOKS_TEST_POSTGRES_URL"

    /// The URL of a new, empty database of its own, with every migration applied (or none, with
    /// `migrated: false`: a database as an operator creates it).
    public static func freshDatabase(migrated: Bool = true) async throws -> String {
        let server = try await shared.value
        let name = "bh_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        // The template may still be closing its last connection just after its migration.
        var attempt = 0
        while true {
            do {
                try await server.admin.query("CREATE DATABASE \(unescaped: name) TEMPLATE \(unescaped: migrated ? server.template : "template0")", logger: logger)
                break
            } catch where PostgresStore.sqlState(of: error) == "55006" && attempt < 50 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return url(server.url, database: name)
    }

    /// A store on a fresh database, running its own connection pool until it is released.
    public static func freshStore(secretBox: SecretBox? = nil, maximumConnections: Int = 8) async throws -> PostgresStore {
        try store(url: try await freshDatabase(), secretBox: secretBox, maximumConnections: maximumConnections)
    }

    /// Another store on the database `url` names (a second node, say), running its own pool.
    public static func store(url: String, secretBox: SecretBox? = nil, maximumConnections: Int = 8) throws -> PostgresStore {
        var configuration = try PostgresStore.configuration(url: url)
        configuration.options.maximumConnections = maximumConnections
        return PostgresStore(configuration: configuration, secretBox: secretBox, logger: logger, runsClient: true)
    }

    /// The URL of the database `name` on the server `server` names.
    public static func url(_ server: String, database name: String) -> String {
        guard var components = URLComponents(string: server) else { return server }
        components.path = "/" + name
        return components.string ?? server
    }

    // MARK: The server

    public static let logger = Logger(label: "bankhooks.test.postgres")

    /// The server, its admin client and the migrated template, made once per test process.
    struct Server: Sendable {
        let url: String
        let admin: PostgresClient
        let template: String
    }

    private static let shared = Task<Server, any Error> {
        let url: String
        if let given = ProcessInfo.processInfo.environment[urlVariable], !given.isEmpty {
            url = given
        } else {
            url = try startThrowawayServer()
        }
        let admin = PostgresClient(configuration: try PostgresStore.configuration(url: url), backgroundLogger: logger)
        // Runs for the process's life: every fresh database is created through it.
        Task { await admin.run() }
        let template = "bh_template_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin.query("CREATE DATABASE \(unescaped: template)", logger: logger)
        // Migrated with a pool of its own, which is closed (connections and all) before any copy.
        let migrator = PostgresStore(
            configuration: try PostgresStore.configuration(url: Self.url(url, database: template)), secretBox: nil, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await migrator.client.run() }
            try await migrator.migrate()
            group.cancelAll()
            try await group.waitForAll()
        }
        return Server(url: url, admin: admin, template: template)
    }

    /// The throwaway server's directory, removed at exit.
    nonisolated(unsafe) private static var throwawayDirectory: String?

    /// Starts `scripts/postgres.sh` in a new temporary directory and arranges its stop at exit.
    private static func startThrowawayServer() throws -> String {
        let directory = NSTemporaryDirectory() + "bankhooks-test-postgres-" + UUID().uuidString
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/postgres.sh").path
        var environment = ProcessInfo.processInfo.environment
        environment["BANKHOOKS_POSTGRES_OPTIONS"] = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=1000"
        let output = try run(script, ["start", directory], environment: environment)
        throwawayDirectory = directory
        atexit {
            guard let directory = TestPostgres.throwawayDirectory else { return }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("scripts/postgres.sh").path
            _ = try? TestPostgres.run(script, ["stop", directory], environment: ProcessInfo.processInfo.environment)
            try? FileManager.default.removeItem(atPath: directory)
        }
        guard let url = output.split(separator: "\n").last.map(String.init), url.hasPrefix("postgres://") else {
            throw TestFailure("scripts/postgres.sh start printed no URL: \(output)")
        }
        return url
    }

    /// Runs `bash program arguments…` to its end and returns what it printed (standard output and
    /// error, through a file), or an error with that text. Spawned and reaped directly: Foundation's
    /// `Process.waitUntilExit` was seen never to return here once the script had started a server.
    static func run(_ program: String, _ arguments: [String], environment: [String: String]) throws -> String {
        let log = NSTemporaryDirectory() + "bankhooks-postgres-sh-" + UUID().uuidString + ".log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = (["/bin/bash", program] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, "/bin/bash", &actions, nil, argv, envp)
        guard spawned == 0 else { throw TestFailure("could not start \(program) (error \(spawned))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw TestFailure("waiting for \(program) failed (errno \(errno))") }
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        // Exited normally with 0: the low 7 bits are the signal (0), the next 8 the exit code.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw TestFailure("\(program) \(arguments.joined(separator: " ")) failed (status \(status)): \(text)")
        }
        return text
    }
}
