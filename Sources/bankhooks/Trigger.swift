import ArgumentParser
import BankHooksLoopback
import Foundation

/// `bankhooks trigger TYPE`: publishes the catalog example of an event type (with overrides) to a
/// BankHooks server through its HTTP API, and prints what each webhook received.
struct Trigger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish an event type's catalog example (with overrides) to a server, and print what each webhook received.",
        discussion: """
            Reads the type with GET /v1/event-types/TYPE and publishes its first example (or --data) with \
            POST /v1/events, after applying each --set; then follows the event's deliveries in the delivery \
            log until every webhook's first attempt is done (or --wait runs out) and prints one line per \
            webhook: its id, format, the HTTP status (or why there was none), the duration and the delivery's \
            state. Exits 0 when every first attempt is done (whatever the receiver answered), 1 when the \
            server refused a request or an attempt did not happen within --wait, 2 for a bad --set, --data, \
            --url or key (then nothing is published).
            """)

    @Argument(help: "The event type: a built-in one (see --list) or one the application registered.")
    var type: String?

    @Flag(help: "List the event types, grouped by family, and exit.")
    var list = false

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Override one member of the data (repeatable): a dotted path (a.b.0.c; a number indexes an array) and a value, parsed as JSON if it parses, else a string. Only the last member of the path may be new.",
        valueName: "path=value"))
    var overrides: [String] = []

    @Option(help: ArgumentHelp("The data to publish instead of the type's example: a JSON object (--set applies to it).", valueName: "json"))
    var data: String?

    @Option(help: "The server's base URL (env BANKHOOKS_URL), e.g. http://127.0.0.1:8080.")
    var url: String?

    @Option(help: "An API key allowed to publish (env BANKHOOKS_API_KEY).")
    var key: String?

    @Option(help: "Seconds to wait for every webhook's first attempt (0 to 600; 0 publishes without waiting).")
    var wait = 10.0

    func validate() throws {
        if list {
            guard type == nil else { throw ValidationError("give either --list or an event type, not both") }
        } else {
            guard type != nil else { throw ValidationError("give an event type (bankhooks trigger --list shows them)") }
        }
        // `>= 0` and `<= 600` are both false for NaN, so it is refused too.
        guard wait >= 0, wait <= 600 else { throw ValidationError("--wait must be 0 to 600 seconds, not \(wait)") }
    }

    func run() async throws {
        do {
            let api = try server()
            if list {
                try await TriggerCatalog(api: api).printList()
                return
            }
            guard let type else { return }
            let published = try await TriggerCatalog(api: api).publish(type: type, data: data, overrides: overrides)
            let complete = try await TriggerDeliveries(api: api, wait: .milliseconds(Int64(wait * 1000))).report(published)
            if !complete { throw ExitCode(1) }
        } catch let failure as TriggerFailure {
            try? FileHandle.standardError.write(contentsOf: Data("trigger: \(failure.message)\n".utf8))
            throw ExitCode(failure.exitCode)
        }
    }

    /// The API client for --url and --key, or their environment variables.
    func server() throws(TriggerFailure) -> APIClient {
        let environment = ProcessInfo.processInfo.environment
        guard var base = url ?? environment["BANKHOOKS_URL"], !base.isEmpty else {
            throw .usage("give the server with --url or BANKHOOKS_URL (e.g. http://127.0.0.1:8080)")
        }
        guard let key = key ?? environment["BANKHOOKS_API_KEY"], !key.isEmpty else {
            throw .usage("give an API key with --key or BANKHOOKS_API_KEY")
        }
        let lowered = base.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://"), URL(string: base)?.host != nil else {
            throw .usage("the server URL must be an absolute http(s) URL with a host, not \(base)")
        }
        while base.hasSuffix("/") { base.removeLast() }
        return APIClient(baseURL: base, key: key)
    }
}

/// Why `trigger` stopped: a message for standard error and the exit code (2 for a bad argument,
/// 1 for what the server refused or did not do).
struct TriggerFailure: Error {
    var message: String
    var exitCode: Int32

    static func usage(_ message: String) -> TriggerFailure { TriggerFailure(message: message, exitCode: 2) }
    static func server(_ message: String) -> TriggerFailure { TriggerFailure(message: message, exitCode: 1) }
}

/// Standard output for `trigger`: a line at a time, unbuffered; a reader that went away (`| head`)
/// ends the output quietly instead of the process.
enum TriggerOutput {
    static func line(_ text: String) {
        try? FileHandle.standardOutput.write(contentsOf: Data((text + "\n").utf8))
    }
}
