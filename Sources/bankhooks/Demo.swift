import ArgumentParser
import BankHooksDemo
import Foundation

/// `bankhooks demo`: one command that shows the whole system working (see `SandboxDemo`).
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server, a webhook receiver and a callback page, link a sandbox bank, make a payment, and print what happened.",
        discussion: """
            Uses an embedded SQLite database in a temporary folder (removed after) and needs no set-up. \
            Walks through the public HTTP API: one webhook per format and the Lean Callback URL, a \
            successful link with a one-time token through the bank's consent form and its exchange, a \
            failed link, a payment; waits for every delivery it expects and prints the timeline with each \
            delivery's status and whether its signature verified. Exits 0, or 1 with what did not happen.
            """)

    @Flag(help: "Afterwards keep everything up and print the URLs to open (an authorisation to try in a browser, the API, the keys) until Ctrl-C.")
    var keepRunning = false

    @Option(help: "Seconds to wait for the expected deliveries before failing (1 to 600).")
    var timeout = 30

    @Option(help: "The server's port, 0 to 65535 (0 picks a free one).")
    var port = 0

    func validate() throws {
        guard (1...600).contains(timeout) else { throw ValidationError("--timeout must be 1 to 600 seconds, not \(timeout)") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535, not \(port)") }
    }

    func run() async throws {
        var options = SandboxDemo.Options()
        options.keepRunning = keepRunning
        options.timeout = .seconds(timeout)
        options.port = port
        do {
            try await SandboxDemo(options: options, say: { say($0) }).run()
        } catch {
            // A DemoFailure says what did not happen; anything else (a refused connection) is shown as it is.
            try? FileHandle.standardError.write(contentsOf: Data("demo: FAILED: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
