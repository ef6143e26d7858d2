import ArgumentParser
import BankHooksBenchmark
import BankHooksStorage

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure publish and delivery throughput and latency, claim latency under a backlog, or the sandbox bank's redirect (use a release build).")

    @Option(help: "Events to publish.") var events = 20_000
    @Option(help: "Webhooks, each subscribed to every event.") var webhooks = 10
    @Option(help: "Approximate size of each event's data in bytes.") var payloadBytes = 1024
    @Option(help: "Events per second offered (0: as fast as possible); with --redirect, consent-form completions per second.") var rate = 0
    @Option(help: "Concurrent publishing clients; with --redirect, concurrent browsers posting the consent form.") var publishers = 32
    @Option(help: "SQLite durability: full or normal.") var durability = "full"
    @Option(help: ArgumentHelp(
        "Run on this PostgreSQL server instead of SQLite: postgres://user:password@host:port/database (each store is a new database there, dropped after; the user must be allowed to create databases).",
        valueName: "url"))
    var database: String?
    @Option(help: "Server nodes in this process sharing the PostgreSQL store (1 to 8), each with its own pool, HTTP API, publisher and dispatcher; publishers go round-robin over them.")
    var nodes = 1
    @Option(help: "Requests for the bare-sender baseline (0 skips it).") var bareRequests = 20_000
    @Option(help: "Dispatcher: most requests in flight.") var maxInFlight = 256
    @Option(help: "Dispatcher: most requests in flight per webhook.") var maxInFlightPerWebhook = 32
    @Option(help: "Instead of the throughput run: load this many pending deliveries and measure claim latency.") var backlog: Int?
    @Option(help: ArgumentHelp(
        "Instead of the throughput run: create this many sandbox authorisations, then complete them through the consent form and time each POST -> 302.",
        discussion: "Uses --publishers concurrent clients, --rate completions per second (0: as fast as they go) and --durability."))
    var redirect: Int?
    @Option(help: "Instead of the throughput run: load this many attempted deliveries (over --webhooks), then time every dashboard page.") var dashboard: Int?
    @Option(help: "Keep the databases in this directory (default: a temporary one, removed after).") var directory: String?
    @Option(help: ArgumentHelp(
        "Send the webhooks to this receiver (one you run, e.g. scripts/receiver.py) instead of the in-process one.",
        discussion: "Deliveries are then counted as succeeded in the delivery log and timed to the poll that finds none pending; the publish-to-delivery latency is not measured."))
    var receiverURL: String?

    func run() async throws {
        var options = Benchmark.Options()
        options.events = events
        options.webhooks = webhooks
        options.payloadBytes = payloadBytes
        options.rate = rate
        options.publishers = publishers
        options.bareRequests = bareRequests
        options.maxInFlight = maxInFlight
        options.maxInFlightPerWebhook = maxInFlightPerWebhook
        options.directory = directory
        options.receiverURL = receiverURL
        if let database {
            do { _ = try PostgresStore.configuration(url: database) } catch { throw ValidationError("--database: \(error.message)") }
        }
        guard (1...8).contains(nodes) else { throw ValidationError("--nodes must be 1 to 8, not \(nodes)") }
        guard nodes == 1 || database != nil else { throw ValidationError("--nodes above 1 needs --database postgres://…: an SQLite file has one node") }
        options.database = database
        options.nodes = nodes
        guard let level = StorageConfiguration.Durability(rawValue: durability) else { throw ValidationError("--durability must be full or normal") }
        options.durability = level
        let benchmark = Benchmark(options: options, say: { say($0) })
        if let dashboard {
            guard dashboard > 0, webhooks > 0 else { throw ValidationError("--dashboard and --webhooks must be more than 0") }
            try await benchmark.runDashboard(deliveries: dashboard)
        } else if let redirect {
            guard redirect > 0, publishers > 0 else { throw ValidationError("--redirect and --publishers must be more than 0") }
            try await benchmark.runRedirect(authorisations: redirect)
        } else if let backlog {
            try await benchmark.runBacklog(backlog: backlog)
        } else {
            try await benchmark.runThroughput()
        }
    }
}
