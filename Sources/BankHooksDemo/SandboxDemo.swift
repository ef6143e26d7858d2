import AsyncHTTPClient
import BankHooksCore
import BankHooksLoopback
import BankHooksSandbox
import BankHooksServer
import Foundation
import Logging
import ServiceLifecycle

/// `bankhooks demo`: the whole system in one process, walked through its public HTTP API. It
/// starts BankHooks on embedded SQLite in a temporary folder, a local webhook receiver and a local
/// callback page, registers one webhook per format and the Lean Callback URL, then links a bank
/// with a one-time token through the consent form (as a browser would), exchanges the token,
/// fails a link, makes a payment, waits for every delivery it expects and prints the timeline.
public struct SandboxDemo: Sendable {
    /// What to run.
    public struct Options: Sendable {
        /// After the walk, keep everything up and print the URLs to open, until SIGINT or SIGTERM.
        public var keepRunning = false
        /// How long to wait for the expected deliveries (and each step) before failing.
        public var timeout: Duration = .seconds(30)
        /// The server's port (0: a free one).
        public var port = 0
        public init() {}
    }

    let options: Options
    let say: @Sendable (String) -> Void

    public init(options: Options, say: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.say = say
    }

    /// Runs the demo; throws `DemoFailure` saying what did not happen.
    public func run() async throws {
        let directory = NSTemporaryDirectory() + "bankhooks-demo-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let http = ConsentFormClient.makeHTTPClient()
        do {
            try await LoopbackReceiver.run { receiver in
                try await CallbackPage.run { page in
                    try await withServer(directory: directory) { baseURL, operatorKey in
                        var walk = Walkthrough(
                            baseURL: baseURL, operator: APIClient(baseURL: baseURL, key: operatorKey, http: http),
                            form: ConsentFormClient(http: http), receiver: receiver, page: page, timeout: options.timeout, say: say)
                        try await walk.run()
                        if options.keepRunning { try await keepRunning(walk, operatorKey: operatorKey) }
                    }
                }
            }
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    /// Runs BankHooks for the duration of `body`, which gets its base URL and operator key.
    private func withServer(directory: String, _ body: @Sendable (String, String) async throws -> Void) async throws {
        let operatorKey = "bhk_demo_" + Self.randomText(32)
        var configuration = ServerConfiguration()
        configuration.storage = .sqlite(path: directory + "/demo.sqlite")
        configuration.port = options.port
        configuration.adminKey = operatorKey
        // Kept in memory only: the folder and its database go when the demo ends.
        configuration.masterKey = SecretBox.generateKey()
        // The receiver and the callback page listen on this machine.
        configuration.allowedDestinations = AddressRange("127.0.0.1/32").map { [$0] } ?? []
        configuration.sandboxTimings = .demo
        var logger = Logger(label: "bankhooks-demo")
        logger.logLevel = options.keepRunning ? .warning : .error
        // A server that stops before it listens (its port taken) says why with its own error.
        try await LoopbackService.run(logger: logger, notStarted: DemoFailure("the server did not start")) { listening in
            try await buildApplication(configuration, logger: logger, announce: { _ in }, onListening: { address in listening(address?.port ?? 0) })
        } _: { port in
            try await body("http://127.0.0.1:\(port)", operatorKey)
        }
    }

    /// `--keep-running`: a fresh authorisation to open in a browser, the URLs and keys, then every
    /// new delivery and callback visit as it comes, until SIGINT or SIGTERM.
    private func keepRunning(_ walk: Walkthrough, operatorKey: String) async throws {
        let tryIt = try await walk.createAuthorisation(
            applicationUserID: "browser-user", callback: walk.page.url("/callback?from=browser"), oneTimeToken: false, record: false)
        say("")
        say("Everything stays up until Ctrl-C (the temporary database is removed then):")
        say("  open in a browser:  \(tryIt.authorisationURL)")
        say("                      log in as user / user (any magic login: docs/sandbox.md); the bank sends you to the callback page")
        say("  API base:           \(walk.baseURL)/v1   (OpenAPI: \(walk.baseURL)/openapi.json)")
        say("  operator key:       \(operatorKey)")
        say("  application key:    \(walk.application.key)   (admin of \(walk.application.id), \"Demo shop\")")
        say("  callback page:      \(walk.page.url("/callback"))")
        say("  webhook receiver:   \(walk.receiver.url("/hooks/<format>"))")
        say("")
        say("New deliveries and callback visits:")
        let seen = (walk.receiver.requests.count, walk.page.visits.count)
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var (requests, visits) = seen
                while !Task.isCancelled {
                    try await Task.sleep(for: .milliseconds(100))
                    let all = walk.receiver.requests
                    for request in all.dropFirst(requests) { say(walk.timeline.line(for: .delivery(walk.delivery(request, recordedStatus: nil)))) }
                    requests = all.count
                    let pages = walk.page.visits
                    for visit in pages.dropFirst(visits) { say(walk.timeline.line(for: .visit(visit))) }
                    visits = pages.count
                }
            }
            await Self.waitForStopSignal()
            group.cancelAll()
            try? await group.waitForAll()
        }
        say("Stopping.")
    }

    /// Returns on the first SIGINT or SIGTERM.
    static func waitForStopSignal() async {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        for await _ in stream { break }
        for source in sources { source.cancel() }
    }

    static func randomText(_ count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }
}
