import BankHooksCore
import BankHooksDelivery
import BankHooksSandbox
import BankHooksStorage
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Everything `bankhooks serve` can be told.
public struct ServerConfiguration: Sendable {
    /// Where the data lives (`--database`): an SQLite file today.
    public var storage = StorageConfiguration.sqlite(path: "bankhooks.sqlite")
    public var host = "127.0.0.1"
    /// 0 picks a free port (printed when listening).
    public var port = 8080
    /// Non-public destination ranges webhooks may be sent to (e.g. 127.0.0.1/32 for a local receiver).
    public var allowedDestinations: [AddressRange] = []
    /// A bootstrap operator key chosen by the operator instead of a generated one.
    public var adminKey: String?
    /// The master key that encrypts webhook secrets at rest: base64 of 32 bytes. When nil, it is
    /// read from `masterKeyFile`, which is created with a new key on first start.
    public var masterKey: String?
    /// Where the master key is kept when `masterKey` is nil; nil means the storage's default (`<database>.key`).
    public var masterKeyFile: String?
    /// Largest request body accepted.
    public var maxBodySize = 256 * 1024
    /// Client connections: the most open at once, the idle timeout and the request-head deadline.
    public var connections = ConnectionLimits()
    /// What each application may create beyond its webhooks: event types, API keys, sizes.
    public var quotas = TenantQuotas()
    /// Requests per second each API key may make (token bucket); nil for no limit.
    public var keyRateLimit: RateLimiter.Limit? = RateLimiter.Limit(rate: 1000, burst: 2000)
    /// Requests per second all the keys of one application may make together (so more keys do not
    /// give more rate); nil for no limit. Unless set, the same as `keyRateLimit`.
    public var applicationRateLimit: RateLimiter.Limit? {
        get { applicationRateLimitSetting ?? keyRateLimit }
        set { applicationRateLimitSetting = .some(newValue) }
    }
    private var applicationRateLimitSetting: RateLimiter.Limit??
    public var sender = Sender.Configuration()
    public var dispatcher = Dispatcher.Configuration(owner: ServerConfiguration.defaultOwner())
    /// Auto-disable of failing webhooks.
    public var watchdog = WebhookWatchdog.Configuration()
    /// Recovery jobs: page size, sends per job, jobs at once overall and per application.
    public var recovery = RecoveryRunner.Configuration()
    public var logLevel: Logger.Level = .info
    /// Where end users' browsers reach this server (`--public-url`, e.g. `https://bank.example.com`):
    /// the base of each `authorisation_url`. Nil: `http://<the request's Host header>`.
    public var publicURL: String?
    /// The sandbox bank's delays and lifetimes (tests and the demo shorten them).
    public var sandboxTimings = SandboxTimings()
    /// How long a SIGTERM'd server keeps serving with `/readyz` at 503 before it shuts down
    /// (`--drain-seconds`, 5 in `serve`); zero: it shuts down at once.
    public var drainPeriod: Duration = .zero

    public init() {}

    /// `publicURL` as the server uses it: an absolute http(s) URL with a host and nothing after it
    /// (no path: the consent page's form and cookie live at `/sandbox-bank`; no query, fragment or
    /// credentials), without a trailing `/`; nil when unset.
    public static func normalisedPublicURL(_ text: String?) throws -> String? {
        guard var text else { return nil }
        while text.hasSuffix("/") { text.removeLast() }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = components.host, !host.isEmpty, components.query == nil, components.fragment == nil, components.user == nil,
              components.password == nil, components.path.isEmpty, text.utf8.count <= 1024 else {
            throw ConfigurationError("the public URL must be an absolute http(s) URL with a host and nothing after it (no path, query, fragment or credentials), e.g. https://bank.example.com")
        }
        return text
    }

    /// A lease owner name unique to this process.
    public static func defaultOwner() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(Identifier.make("d", at: SystemClock().now()).suffix(8))"
    }
}

/// The parts of a running server, for tests and the benchmark to reach in.
public struct ServerComponents {
    public let store: any Store
    /// What the storage backend needs running (started first, stopped last).
    public let storageServices: [any Service]
    /// How this node works with the others on the database (SQLite: `SoleNode`).
    public let coordination: any NodeCoordination
    public let publisher: Publisher
    public let dispatcher: Dispatcher
    /// Disables webhooks that keep failing and announces disables; must be run with the others.
    public let watchdog: WebhookWatchdog
    /// Runs recovery jobs.
    public let recoveries: RecoveryRunner
    /// The sandbox bank (institutions, authorisations, consents) and its payments.
    public let sandboxBank: SandboxBank
    public let sandboxPayments: SandboxPayments
    /// Publishes what the sandbox scheduled; runs after the publisher starts and stops before it.
    public let sandboxRunner: SandboxEventRunner
    public let router: Router<AppRequestContext>
    /// What `/readyz` answers; draining from the first SIGTERM on.
    public let readiness: Readiness

    /// The services to run beside the HTTP server, in start order (they stop in reverse).
    public var services: [any Service] { storageServices + coordination.services + [dispatcher, publisher, sandboxRunner, watchdog, recoveries] }
}

/// The id of the application that operator keys act on and first start creates.
public let defaultApplicationID = "app_default"

/// Opens the store, bootstraps the operator key, and wires the API, publisher and dispatcher.
/// The dispatcher must be run (it owns the outbound HTTP client and shuts it down).
/// `announce` receives the lines a person must see once (the bootstrap key).
public func buildComponents(
    _ configuration: ServerConfiguration,
    clock: any WallClock = SystemClock(),
    resolver: any HostResolver = SystemHostResolver(),
    logger: Logger,
    announce: @Sendable (String) -> Void
) async throws -> ServerComponents {
    let sealer = SecretSealer(box: try loadMasterKey(configuration, announce: announce))
    let storage = try await configuration.storage.open(sealer: sealer, logger: logger)
    let store = storage.store
    let coordination = storage.makeCoordination(nodeName: configuration.dispatcher.owner)
    try await bootstrap(store: store, adminKey: configuration.adminKey, clock: clock, announce: announce)
    let destinations = DestinationGuard(policy: DestinationPolicy(allowedRanges: configuration.allowedDestinations), resolver: resolver)
    let sender = Sender(configuration: configuration.sender, destinations: destinations, clock: clock)
    let dispatcher = Dispatcher(
        store: store, sender: sender, clock: clock, configuration: configuration.dispatcher, logger: logger, sealer: sealer, coordination: coordination)
    // Work is due here and, on a shared database, at every other node (told after the commit).
    let workDue: @Sendable () -> Void = {
        dispatcher.wake()
        coordination.announce(.due)
    }
    let publisher = Publisher(store: store, clock: clock, logger: logger, onCommit: workDue)
    let events = EventService(publisher: publisher, registry: EventTypeRegistry(store: store), clock: clock)
    let recoveries = RecoveryRunner(
        store: store, dispatcher: dispatcher, clock: clock, logger: logger, configuration: configuration.recovery, coordination: coordination)
    // What another node announces: a publish there (work due here), a recovery job, a changed webhook.
    coordination.setHandlers(NodeEventHandlers(
        due: { dispatcher.wake() }, recoveries: { recoveries.wakeLocally() }, webhookChanged: { dispatcher.webhookChangedElsewhere(id: $0) }))
    let publicURL = try ServerConfiguration.normalisedPublicURL(configuration.publicURL)
    let sandboxRunner = SandboxEventRunner(store: store, events: events, clock: clock, logger: logger)
    let sandboxBank = SandboxBank(
        store: store, tokens: ConsentTokens(sealer: sealer), clock: clock, timings: configuration.sandboxTimings) { sandboxRunner.wake() }
    let sandboxPayments = SandboxPayments(store: store, clock: clock, timings: configuration.sandboxTimings) { sandboxRunner.wake() }
    let sandbox = SandboxRoutes(
        bank: sandboxBank, payments: sandboxPayments, publicURL: publicURL,
        csrf: ConsentCSRF(sealer: sealer, isSecure: publicURL?.lowercased().hasPrefix("https://") ?? false))
    let readiness = Readiness(store: store)
    let router = buildRouter(
        store: store, events: events, dispatcher: dispatcher, recoveries: recoveries, clock: clock, maxBodySize: configuration.maxBodySize,
        rateLimiter: RateLimiter(key: configuration.keyRateLimit, application: configuration.applicationRateLimit), quotas: configuration.quotas,
        sandbox: sandbox, readiness: readiness, wakeDispatcher: workDue)
    let watchdog = WebhookWatchdog(
        store: store, events: events, clock: clock, configuration: configuration.watchdog, logger: logger, coordination: coordination,
        onDisable: dispatcher.webhookChanged)
    return ServerComponents(
        store: store, storageServices: storage.services, coordination: coordination, publisher: publisher, dispatcher: dispatcher, watchdog: watchdog, recoveries: recoveries,
        sandboxBank: sandboxBank, sandboxPayments: sandboxPayments, sandboxRunner: sandboxRunner, router: router,
        readiness: readiness)
}

/// The whole server as a Hummingbird application: the HTTP API plus the publisher and the
/// dispatcher as services in its ServiceGroup, behind the drain a graceful shutdown starts with.
public func buildApplication(
    _ configuration: ServerConfiguration,
    clock: any WallClock = SystemClock(),
    logger: Logger,
    announce: @escaping @Sendable (String) -> Void,
    onListening: @escaping @Sendable (SocketAddress?) async -> Void = { _ in }
) async throws -> DrainingApplication<some ApplicationProtocol> {
    let components = try await buildComponents(configuration, clock: clock, logger: logger, announce: announce)
    var app = Application(
        router: components.router,
        server: .http1(limits: configuration.connections),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "BankHooks"),
        onServerRunning: { channel in await onListening(channel.localAddress) },
        logger: logger)
    // Services stop in reverse order: the server first, then the others, the dispatcher last.
    for service in components.services { app.addServices(service) }
    return DrainingApplication(
        app: app, drain: DrainService(readiness: components.readiness, period: configuration.drainPeriod, logger: logger), logger: logger)
}

/// First start: creates the default application and an operator key, and announces the key once.
/// With `adminKey`, that key is registered instead (idempotently) and nothing is announced.
func bootstrap(store: any Store, adminKey: String?, clock: any WallClock, announce: @Sendable (String) -> Void) async throws {
    let now = clock.now()
    if try await store.application(id: defaultApplicationID) == nil {
        try await store.createApplication(Application(id: defaultApplicationID, name: "Default", environment: .sandbox, createdAt: now))
    }
    if let adminKey {
        guard let record = APIKey.record(forText: adminKey, applicationID: defaultApplicationID, role: .operator, now: now) else {
            throw ConfigurationError("the admin key must look like bhk_<4-64 letters or digits>_<16 or more letters, digits, _ or ->")
        }
        if let existing = try await store.apiKey(id: record.id) {
            guard existing.hash == record.hash else { throw ConfigurationError("another key with the admin key's id already exists") }
        } else {
            try await store.createAPIKey(record)
        }
        return
    }
    guard try await !store.hasOperatorKey() else { return }
    let (text, record) = APIKey.generate(applicationID: defaultApplicationID, role: .operator, now: now)
    try await store.createAPIKey(record)
    announce("Bootstrap operator key (shown once, keep it): \(text)")
}

/// The master key from the configuration, or from its file, creating the file (mode 0600) with a
/// new key on first start and saying where.
func loadMasterKey(_ configuration: ServerConfiguration, announce: @Sendable (String) -> Void) throws -> SecretBox {
    if let text = configuration.masterKey {
        guard let box = SecretBox(base64: text) else { throw ConfigurationError("the master key must be base64 of 32 bytes (openssl rand -base64 32)") }
        return box
    }
    // Several nodes share a PostgreSQL database, so they must share its key: never a default, never made here.
    let shared = configuration.storage.requiresGivenMasterKey
    guard let path = configuration.masterKeyFile ?? (shared ? nil : configuration.storage.defaultMasterKeyFile) else {
        throw ConfigurationError("\(configuration.storage) is shared by several nodes, so they must share its master key: give it (--master-key-file or BANKHOOKS_MASTER_KEY)")
    }
    if FileManager.default.fileExists(atPath: path) {
        // A key file made readable by others (copied, restored) is made private again.
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0 { _ = chmod(path, info.st_mode & 0o700) }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let box = SecretBox(base64: text) else { throw ConfigurationError("\(path) must hold base64 of 32 bytes (the master key)") }
        return box
    }
    guard !shared else {
        throw ConfigurationError("the master key file \(path) does not exist: every node of \(configuration.storage) must read the same key, so make it once (openssl rand -base64 32 > \(path)) and give it to each")
    }
    let key = SecretBox.generateKey()
    // Created private from the start (never readable by others, not even briefly), and never over an existing file.
    let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o600)
    guard descriptor >= 0 else { throw ConfigurationError("could not create the master key file \(path) (errno \(errno))") }
    defer { close(descriptor) }
    let line = Array((key + "\n").utf8)
    guard write(descriptor, line, line.count) == line.count else { throw ConfigurationError("could not write the master key file \(path)") }
    announce("Created the master key that encrypts webhook secrets at \(path) (mode 0600); back it up with the database: without it, stored secrets cannot be read")
    guard let box = SecretBox(base64: key) else { throw ConfigurationError("a generated master key could not be read back") }
    return box
}

/// A configuration that cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
