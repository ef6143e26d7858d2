import ArgumentParser
import BankHooksCore
import BankHooksServer
import BankHooksStorage
import Foundation
import Hummingbird
import Logging

@main
struct BankHooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bankhooks",
        abstract: "Webhook and callback server for open banking.",
        subcommands: [Serve.self, Migrate.self, Bench.self, Verify.self, Demo.self, Trigger.self],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server on an embedded SQLite database, or as one of several nodes on one PostgreSQL database.")

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .customLong("no-migrate"), help: "PostgreSQL: do not apply pending migrations at start (run `bankhooks migrate` first); refuse to start on a database that lacks one. SQLite always migrates.")
    var noMigrate = false

    @Option(name: .long, help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on, 0 to 65535 (0 picks a free one).")
    var port = 8080

    @Option(name: .customLong("allow-destination"), help: ArgumentHelp(
        "Allow webhooks to a non-public address range (CIDR, repeatable), e.g. 127.0.0.1/32 for a receiver on this machine.",
        valueName: "cidr"))
    var allowDestinations: [String] = []

    @Option(name: .long, help: "Use this operator key instead of generating one (env BANKHOOKS_ADMIN_KEY).")
    var adminKey: String?

    @Option(name: .long, help: "SQLite durability: full (fsync each commit) or normal (survives process crashes only); PostgreSQL follows the server's own settings.")
    var durability = "full"

    @Option(name: .long, help: "Largest request body in bytes (1 to 67108864).")
    var maxBodySize = 256 * 1024

    @Option(name: .long, help: "File holding the master key (base64 of 32 bytes) that encrypts webhook secrets at rest. SQLite: created on first start, default <database>.key. PostgreSQL: required (every node shares it), never created. BANKHOOKS_MASTER_KEY gives the key itself instead.")
    var masterKeyFile: String?

    @Option(name: .long, help: "Hours a webhook may fail without a single success before it is disabled (with a webhook.disabled event); more than 0, at most 87600 (10 years).")
    var autoDisableAfterHours = 120.0

    @Option(name: .long, help: "Requests per second each API key may make (bursts of twice that): 0.01 to 1000000, or 0 for no limit.")
    var keyRateLimit = 1000.0

    @Option(name: .long, help: "Seconds a claimed delivery stays leased (1 to 86400); a crashed server's claims are retried after this.")
    var lease = 60

    @Option(name: .long, help: "Most requests in flight overall (1 to 10000).")
    var maxInFlight = 256

    @Option(name: .long, help: "Most requests in flight to one webhook (1 to 10000).")
    var maxInFlightPerWebhook = 32

    @Option(name: .long, help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel = "info"

    @Option(name: .customLong("public-url"), help: ArgumentHelp(
        "The URL end users' browsers reach this server at, the base of each authorisation_url (default: http://<the request's Host header>).",
        valueName: "url"))
    var publicURL: String?

    @OptionGroup(title: "Limits")
    var limits: LimitOptions

    /// Bounds of the numeric flags: each value is used in time and count arithmetic, so one out of
    /// range is refused here with the flag's name rather than trapping (or misbehaving) later.
    enum Bounds {
        static let port = 0...65_535
        static let maxBodySize = 1...(64 * 1024 * 1024)
        static let autoDisableAfterHours = 87_600.0
        static let keyRateLimit = 0.01...1_000_000.0
        static let lease = 1...86_400
        static let inFlight = 1...10_000
    }

    func validate() throws {
        guard Bounds.port.contains(port) else { throw ValidationError("--port must be 0 to 65535, not \(port)") }
        guard Bounds.maxBodySize.contains(maxBodySize) else {
            throw ValidationError("--max-body-size must be 1 to \(Bounds.maxBodySize.upperBound) bytes, not \(maxBodySize)")
        }
        // `> 0` and `<= max` are both false for NaN, so it is refused too.
        guard autoDisableAfterHours > 0, autoDisableAfterHours <= Bounds.autoDisableAfterHours else {
            throw ValidationError("--auto-disable-after-hours must be more than 0 and at most \(Int(Bounds.autoDisableAfterHours)) (10 years), not \(autoDisableAfterHours)")
        }
        guard keyRateLimit == 0 || Bounds.keyRateLimit.contains(keyRateLimit) else {
            throw ValidationError("--key-rate-limit must be 0 (no limit) or 0.01 to 1000000 requests per second, not \(keyRateLimit)")
        }
        guard Bounds.lease.contains(lease) else { throw ValidationError("--lease must be 1 to 86400 seconds, not \(lease)") }
        guard Bounds.inFlight.contains(maxInFlight) else { throw ValidationError("--max-in-flight must be 1 to 10000, not \(maxInFlight)") }
        guard Bounds.inFlight.contains(maxInFlightPerWebhook) else {
            throw ValidationError("--max-in-flight-per-webhook must be 1 to 10000, not \(maxInFlightPerWebhook)")
        }
        do {
            _ = try ServerConfiguration.normalisedPublicURL(publicURL)
        } catch {
            throw ValidationError("--public-url: \(error)")
        }
    }

    func run() async throws {
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.maxBodySize = maxBodySize
        configuration.masterKeyFile = masterKeyFile
        configuration.publicURL = publicURL
        configuration.watchdog.autoDisableAfter = .seconds(autoDisableAfterHours * 3600)
        configuration.masterKey = ProcessInfo.processInfo.environment["BANKHOOKS_MASTER_KEY"]
        configuration.keyRateLimit = keyRateLimit > 0 ? RateLimiter.Limit(rate: keyRateLimit, burst: max(1, 2 * keyRateLimit)) : nil
        configuration.adminKey = adminKey ?? ProcessInfo.processInfo.environment["BANKHOOKS_ADMIN_KEY"]
        configuration.dispatcher.lease = .seconds(lease)
        configuration.dispatcher.maxInFlight = maxInFlight
        configuration.dispatcher.maxInFlightPerWebhook = maxInFlightPerWebhook
        configuration.sender.connectionsPerHost = max(maxInFlightPerWebhook, 8)
        limits.apply(to: &configuration)
        guard let level = StorageConfiguration.Durability(rawValue: durability) else {
            throw ValidationError("--durability must be full or normal")
        }
        configuration.storage = try database.storage(durability: level)
        configuration.storage.migrates = !noMigrate
        if configuration.storage.requiresGivenMasterKey, masterKeyFile == nil, configuration.masterKey == nil {
            throw ValidationError(
                "--database \(configuration.storage): a PostgreSQL database is shared by several nodes, so they must share its master key: "
                    + "give --master-key-file FILE or BANKHOOKS_MASTER_KEY (make one with: openssl rand -base64 32)")
        }
        configuration.allowedDestinations = try allowDestinations.map { text in
            guard let range = AddressRange(text) else { throw ValidationError("--allow-destination \(text) is not an address or CIDR range") }
            return range
        }
        guard let logLevel = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown --log-level \(logLevel)") }
        var logger = Logger(label: "bankhooks")
        logger.logLevel = logLevel
        let database = configuration.storage.description
        let host = host
        let app = try await buildApplication(
            configuration, logger: logger,
            announce: { line in say(line) },
            onListening: { address in
                let port = address?.port.map(String.init) ?? "?"
                say("BankHooks listening on http://\(host):\(port) (database \(database))")
            })
        try await app.runService()
    }
}

/// Writes a line to standard output unbuffered, so a parent process reading a pipe sees it at once.
func say(_ line: String) {
    // Not `write(_:)`, which traps when standard output is a closed pipe (`bankhooks serve | head -1`).
    try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
}
