import ArgumentParser
import BankHooksServer

/// The bounds of `bankhooks serve` that protect it from its clients, its receivers and its
/// tenants: each flag is range-checked here, with its name, before anything uses it.
struct LimitOptions: ParsableArguments {
    @Option(name: .long, help: "Seconds one webhook attempt may take in all (resolution, connect, TLS, head and body), 1 to 15; caps the format's timeout (15 s, Lean 10 s).")
    var requestTimeout: Int?

    @Option(name: .long, help: "Most requests in flight to the webhooks of one application (1 to 10000), so one tenant cannot take every slot.")
    var maxInFlightPerApplication = 64

    @Option(name: .long, help: "Seconds \"Send a test\" and a resend wait for a free in-flight slot of their webhook before answering 429 (1 to 60).")
    var sendSlotWait = 16

    @Option(name: .long, help: "Recovery jobs running at once (1 to 1000).")
    var maxRecoveryJobs = 32

    @Option(name: .long, help: "Recovery jobs of one application running at once (1 to 1000).")
    var maxRecoveryJobsPerApplication = 2

    @Option(name: .long, help: "Requests per second all the keys of one application may make together (bursts of twice that): 0.01 to 1000000, or 0 for no limit. Default: --key-rate-limit.")
    var applicationRateLimit: Double?

    @Option(name: .long, help: "Client connections open at once (1 to 100000); one more is answered 503 and closed.")
    var maxConnections = 512

    @Option(name: .long, help: "Seconds a client connection may sit idle between requests before it is closed (1 to 3600).")
    var idleTimeout = 30

    @Option(name: .long, help: "Seconds a request head (request line and headers) may take to arrive, from its first byte (1 to 600); then 408 and closed.")
    var requestHeadTimeout = 10

    @Option(name: .long, help: "Seconds a request body may take to arrive, from its head (1 to 3600); then the connection is closed.")
    var requestBodyTimeout = 60

    @Option(name: .long, help: "Custom event types one application may register (1 to 100000).")
    var maxEventTypesPerApplication = 100

    @Option(name: .long, help: "Unrevoked API keys one application may hold (1 to 100000).")
    var maxAPIKeysPerApplication = 50

    @Option(name: .long, help: "Bytes of one custom event type's JSON Schema (1 to 1048576).")
    var maxSchemaBytes = 16 * 1024

    @Option(name: .long, help: "Event types one webhook may name in event_types (1 to 10000).")
    var maxEventTypesPerWebhook = 100

    @Option(name: .long, help: "Bytes of one webhook's custom headers, names and values together (1 to 65536).")
    var maxHeaderBytesPerWebhook = 8 * 1024

    @Option(name: .long, help: "Seconds a sandbox one-time token can be exchanged for its consent (10 to 3600); it is single use either way.")
    var oneTimeTokenLifetime = 600

    @Option(name: .long, help: "Seconds a sandbox authorisation request can be completed at the bank after it is created (60 to 86400).")
    var authorisationLifetime = 1800

    @Option(name: .long, help: "Seconds to keep serving after SIGTERM or SIGINT with /readyz answering 503 (draining), so a load balancer stops sending first; then the graceful shutdown (0 to 3600, 0 for none).")
    var drainSeconds = 5

    func validate() throws {
        if let requestTimeout, !(1...15).contains(requestTimeout) {
            throw ValidationError("--request-timeout must be 1 to 15 seconds, not \(requestTimeout)")
        }
        try Self.check("--max-in-flight-per-application", maxInFlightPerApplication, 1...10_000)
        if let applicationRateLimit, applicationRateLimit != 0, !(0.01...1_000_000).contains(applicationRateLimit) {
            throw ValidationError("--application-rate-limit must be 0 (no limit) or 0.01 to 1000000 requests per second, not \(applicationRateLimit)")
        }
        try Self.check("--send-slot-wait", sendSlotWait, 1...60)
        try Self.check("--max-recovery-jobs", maxRecoveryJobs, 1...1000)
        try Self.check("--max-recovery-jobs-per-application", maxRecoveryJobsPerApplication, 1...1000)
        try Self.check("--max-connections", maxConnections, 1...100_000)
        try Self.check("--idle-timeout", idleTimeout, 1...3600)
        try Self.check("--request-head-timeout", requestHeadTimeout, 1...600)
        try Self.check("--request-body-timeout", requestBodyTimeout, 1...3600)
        try Self.check("--max-event-types-per-application", maxEventTypesPerApplication, 1...100_000)
        try Self.check("--max-api-keys-per-application", maxAPIKeysPerApplication, 1...100_000)
        try Self.check("--max-schema-bytes", maxSchemaBytes, 1...1_048_576)
        try Self.check("--max-event-types-per-webhook", maxEventTypesPerWebhook, 1...10_000)
        try Self.check("--max-header-bytes-per-webhook", maxHeaderBytesPerWebhook, 1...65_536)
        try Self.check("--one-time-token-lifetime", oneTimeTokenLifetime, 10...3600)
        try Self.check("--authorisation-lifetime", authorisationLifetime, 60...86_400)
        try Self.check("--drain-seconds", drainSeconds, 0...3600)
    }

    static func check(_ flag: String, _ value: Int, _ range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ValidationError("\(flag) must be \(range.lowerBound) to \(range.upperBound), not \(value)")
        }
    }

    /// Puts the limits into the server's configuration.
    func apply(to configuration: inout ServerConfiguration) {
        configuration.sender.requestTimeoutLimit = requestTimeout.map { .seconds($0) }
        configuration.dispatcher.maxInFlightPerApplication = maxInFlightPerApplication
        configuration.dispatcher.sendSlotWait = .seconds(sendSlotWait)
        configuration.recovery.maxJobs = maxRecoveryJobs
        configuration.recovery.maxJobsPerApplication = maxRecoveryJobsPerApplication
        if let applicationRateLimit {
            configuration.applicationRateLimit =
                applicationRateLimit > 0 ? RateLimiter.Limit(rate: applicationRateLimit, burst: max(1, 2 * applicationRateLimit)) : nil
        }
        configuration.connections.maxConnections = maxConnections
        configuration.connections.idleTimeout = .seconds(idleTimeout)
        configuration.connections.requestHeadTimeout = .seconds(requestHeadTimeout)
        configuration.quotas.eventTypesPerApplication = maxEventTypesPerApplication
        configuration.connections.requestBodyTimeout = .seconds(requestBodyTimeout)
        configuration.quotas.apiKeysPerApplication = maxAPIKeysPerApplication
        configuration.quotas.schemaBytes = maxSchemaBytes
        configuration.quotas.eventTypesPerWebhook = maxEventTypesPerWebhook
        configuration.quotas.headerBytesPerWebhook = maxHeaderBytesPerWebhook
        configuration.sandboxTimings.oneTimeTokenLifetime = .seconds(oneTimeTokenLifetime)
        configuration.sandboxTimings.authorisationLifetime = .seconds(authorisationLifetime)
        configuration.drainPeriod = .seconds(drainSeconds)
    }
}
