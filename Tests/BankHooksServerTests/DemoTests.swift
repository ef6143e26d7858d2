import AsyncHTTPClient
import BankHooksTestSupport
import Foundation
import Synchronization
import Testing

/// `bankhooks demo` as a newcomer runs it: the README's command (`scripts/demo.sh`, here on the
/// built binary), a child process that must exit 0 with the whole timeline, `--keep-running`
/// until SIGTERM, and a clear failure when it cannot run.
@Suite(.serialized) struct DemoTests {
    /// A child process whose standard output and error are collected together (in a file).
    final class Child: Sendable {
        let process: ChildProcess
        private let directory = TemporaryDirectory()

        init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
            process = try ChildProcess(
                executable: executable, arguments: arguments,
                environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
                output: .file(directory.file("output")))
        }

        var output: String { (try? String(contentsOfFile: directory.file("output"), encoding: .utf8)) ?? "" }

        /// Waits for it to exit (killing it after `timeout`); returns its status.
        func exitStatus(within timeout: Duration) async throws -> Int32 {
            let deadline = ContinuousClock.now.advanced(by: timeout)
            while process.isRunning {
                guard ContinuousClock.now < deadline else {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    throw TestFailure("still running after \(timeout); printed:\n\(output)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            return process.terminationStatus
        }

        /// Waits until it printed `text`; throws (after killing it) if it exits or `timeout` passes first.
        func waitFor(_ text: String, within timeout: Duration) async throws {
            let deadline = ContinuousClock.now.advanced(by: timeout)
            while !output.contains(text) {
                guard process.isRunning, ContinuousClock.now < deadline else {
                    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                    throw TestFailure("never printed \(text); printed:\n\(output)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

    }

    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func theReadmeCommandRunsTheWholeDemoGreen() async throws {
        let demo = try Child("/bin/bash", [Self.root.appendingPathComponent("scripts/demo.sh").path],
                             environment: ["BANKHOOKS_BIN": ServerProcess.binaryPath])
        let status = try await demo.exitStatus(within: .seconds(120))
        let output = demo.output
        #expect(status == 0, "\(output)")
        #expect(output.contains("demo: OK:"), "\(output)")
        #expect(!output.contains("NOT verified"), "\(output)")
        // The journeys: a link with a one-time token through the form, its exchange, a failed link, a payment.
        #expect(output.contains("POST the form as user, approve -> 302"), "\(output)")
        #expect(output.contains("one-time-token="), "\(output)")
        #expect(output.contains("POST /v1/consent-one-time-token -> 201"), "\(output)")
        #expect(output.contains("(the same token again) -> 400"), "\(output)")
        #expect(output.contains("wrong password -> 200"), "\(output)")
        #expect(output.contains("error-source=institution"), "\(output)")
        #expect(output.contains("POST /v1/sandbox/payments"), "\(output)")
        // Each format's events, each with its status and a verified signature, on one line.
        let deliveries = output.split(separator: "\n").filter { $0.contains(" webhook ") && $0.contains("HTTP 200") && $0.contains("signature verified") }
        for (webhook, type) in [
            ("Lean Callback URL", "bank_link.result"), ("lean", "entity.created"), ("lean", "results.ready"), ("lean", "payment.updated"),
            ("okra", "AUTH.AUTH_SUCCESS"), ("okra", "TRANSACTIONS.FULL_TRANSACTIONS"), ("bridge", "item.created"),
            ("bridge", "item.account.created"), ("bridge", "payment.transaction.updated"), ("standard", "entity.created"),
            ("standard", "item.refreshed"),
        ] {
            #expect(deliveries.contains { $0.contains(" \(webhook) ") && $0.contains(" \(type) ") }, "no verified \(webhook) \(type) in:\n\(output)")
        }
        // The Lean Callback URL got seed 000's success, then the wrong password's 401.
        #expect(deliveries.contains { $0.contains("bank_link.result") && $0.contains("status.code 200") }, "\(output)")
        #expect(deliveries.contains { $0.contains("bank_link.result") && $0.contains("status.code 401") }, "\(output)")
    }

    @Test func keepRunningPrintsAnAuthorisationToOpenAndStopsOnSIGTERM() async throws {
        let demo = try Child(ServerProcess.binaryPath, ["demo", "--keep-running"])
        try await demo.waitFor("New deliveries and callback visits:", within: .seconds(120))
        let line = try #require(demo.output.split(separator: "\n").first { $0.contains("open in a browser:") })
        let url = try #require(line.split(separator: " ").last.map(String.init))
        // The URL printed is the bank's consent page, live.
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let page = String(buffer: try await response.body.collect(upTo: 1 << 20))
        #expect(response.status == .ok)
        #expect(page.contains("<form"), "\(page.prefix(500))")
        #expect(demo.output.contains("operator key:       bhk_"), "\(demo.output)")
        demo.process.send(SIGTERM)
        let status = try await demo.exitStatus(within: .seconds(30))
        #expect(status == 0, "\(demo.output)")
        #expect(demo.output.contains("Stopping."))
    }

    @Test func aDemoThatCannotRunSaysWhyAndExitsNonZero() async throws {
        // Its port is taken by another server.
        try await TestReceiver.run { receiver in
            let demo = try Child(ServerProcess.binaryPath, ["demo", "--port", "\(receiver.port)"])
            let status = try await demo.exitStatus(within: .seconds(60))
            #expect(status == 1, "\(demo.output)")
            #expect(demo.output.contains("demo: FAILED:"), "\(demo.output)")
            #expect(!demo.output.contains("demo: OK"))
        }
    }
}
