import BankHooksTestSupport
import Foundation
import Testing

/// `bankhooks serve` refuses numeric flags that its time and count arithmetic cannot hold, with
/// a usage error naming the flag (exit status 64), instead of trapping or starting broken.
@Suite struct ServeFlagTests {
    /// Runs `bankhooks serve` with `flags`; returns its exit status and output, or nil when it was
    /// still running (it started) after `timeout`, in which case it is killed.
    static func serve(_ flags: [String], timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String, signalled: Bool)? {
        let dir = TemporaryDirectory()
        let outputFile = dir.file("output")
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "BANKHOOKS_ADMIN_KEY")
        let process = try ChildProcess(
            executable: ServerProcess.binaryPath,
            arguments: ["serve", "--database", dir.file("flags.sqlite"), "--port", "0", "--log-level", "error"] + flags,
            environment: environment, output: .file(outputFile))
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning {
            let printed = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
            if printed.contains("listening on") || ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "", process.wasSignalled)
    }

    @Test(arguments: [
        (["--lease", "9223372036854775807"], "--lease"), (["--lease", "0"], "--lease"), (["--lease", "86401"], "--lease"),
        (["--lease", "1e300"], "--lease"),
        (["--auto-disable-after-hours", "1e300"], "--auto-disable-after-hours"), (["--auto-disable-after-hours", "inf"], "--auto-disable-after-hours"),
        (["--auto-disable-after-hours", "nan"], "--auto-disable-after-hours"), (["--auto-disable-after-hours", "0"], "--auto-disable-after-hours"),
        (["--auto-disable-after-hours", "87601"], "--auto-disable-after-hours"),
        (["--key-rate-limit", "1e300"], "--key-rate-limit"), (["--key-rate-limit", "inf"], "--key-rate-limit"),
        (["--key-rate-limit", "nan"], "--key-rate-limit"), (["--key-rate-limit", "-1"], "--key-rate-limit"), (["--key-rate-limit", "0.001"], "--key-rate-limit"),
        (["--max-in-flight", "0"], "--max-in-flight"), (["--max-in-flight", "9223372036854775807"], "--max-in-flight"),
        (["--max-in-flight-per-webhook", "-1"], "--max-in-flight-per-webhook"), (["--max-in-flight-per-webhook", "10001"], "--max-in-flight-per-webhook"),
        (["--port", "70000"], "--port"), (["--port", "-1"], "--port"),
        (["--max-body-size", "-1"], "--max-body-size"), (["--max-body-size", "0"], "--max-body-size"),
        (["--max-body-size", "9223372036854775807"], "--max-body-size"),
        (["--request-timeout", "0"], "--request-timeout"), (["--request-timeout", "16"], "--request-timeout"),
        (["--max-in-flight-per-application", "0"], "--max-in-flight-per-application"),
        (["--application-rate-limit", "inf"], "--application-rate-limit"), (["--application-rate-limit", "nan"], "--application-rate-limit"),
        (["--max-connections", "0"], "--max-connections"), (["--idle-timeout", "9223372036854775807"], "--idle-timeout"),
        (["--request-head-timeout", "0"], "--request-head-timeout"), (["--request-body-timeout", "3601"], "--request-body-timeout"),
        (["--send-slot-wait", "61"], "--send-slot-wait"), (["--max-recovery-jobs", "0"], "--max-recovery-jobs"),
        (["--max-recovery-jobs-per-application", "-1"], "--max-recovery-jobs-per-application"),
        (["--max-event-types-per-application", "0"], "--max-event-types-per-application"),
        (["--max-api-keys-per-application", "0"], "--max-api-keys-per-application"), (["--max-schema-bytes", "0"], "--max-schema-bytes"),
        (["--max-event-types-per-webhook", "0"], "--max-event-types-per-webhook"),
        (["--max-header-bytes-per-webhook", "65537"], "--max-header-bytes-per-webhook"),
        (["--one-time-token-lifetime", "9"], "--one-time-token-lifetime"), (["--one-time-token-lifetime", "3601"], "--one-time-token-lifetime"),
        (["--authorisation-lifetime", "59"], "--authorisation-lifetime"), (["--authorisation-lifetime", "86401"], "--authorisation-lifetime"),
    ])
    func anOutOfRangeFlagIsAUsageErrorNamingIt(_ flags: [String], _ name: String) async throws {
        let outcome = try await Self.serve(flags)
        let (status, output, signalled) = try #require(outcome, "serve \(flags) started instead of refusing the flag")
        #expect(!signalled, "serve \(flags) died of a signal (status \(status)): \(output)")
        #expect(status == 64, "serve \(flags) exited \(status): \(output)")
        #expect(output.contains(name), "the error names \(name): \(output)")
    }

    /// The bounds themselves are accepted: the server starts with each flag at its limit.
    @Test func flagsAtTheirBoundsStart() async throws {
        let outcome = try await Self.serve([
            "--lease", "86400", "--auto-disable-after-hours", "87600", "--key-rate-limit", "1000000", "--max-in-flight", "10000",
            "--max-in-flight-per-webhook", "10000", "--max-body-size", "67108864",
            "--request-timeout", "15", "--max-in-flight-per-application", "10000", "--application-rate-limit", "1000000",
            "--max-connections", "100000", "--idle-timeout", "3600", "--request-head-timeout", "600", "--request-body-timeout", "3600",
            "--send-slot-wait", "60", "--max-recovery-jobs", "1000", "--max-recovery-jobs-per-application", "1000",
            "--max-event-types-per-application", "100000", "--max-api-keys-per-application", "100000", "--max-schema-bytes", "1048576",
            "--max-event-types-per-webhook", "10000", "--max-header-bytes-per-webhook", "65536",
            "--one-time-token-lifetime", "3600", "--authorisation-lifetime", "86400",
        ])
        #expect(outcome == nil, "serve did not start: \(outcome.map { "\($0.status) \($0.output)" } ?? "")")
    }
}
