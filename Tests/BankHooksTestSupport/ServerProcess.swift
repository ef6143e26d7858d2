import Foundation
import Synchronization

/// `bankhooks serve` as a child process, on a free port, reading what it prints.
public final class ServerProcess: Sendable {
    private let process: ChildProcess
    /// Where its standard output goes (a file, read as it grows).
    private let outputDirectory = TemporaryDirectory()
    /// The port it listens on.
    public let port: Int
    /// The bootstrap key it printed (nil when it printed none, e.g. on a restart).
    public let bootstrapKey: String?

    /// The `bankhooks` binary beside the test bundle (built by `swift build --build-tests`), or `$BANKHOOKS_BIN`.
    public static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["BANKHOOKS_BIN"] { return path }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = testBinary.deletingLastPathComponent()
        // The test binary sits in the build folder itself, or inside a .xctest bundle there.
        while !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("bankhooks").path), dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("bankhooks").path
    }

    /// Starts the server and waits until it listens. Without a drain after SIGTERM (`--drain-seconds 0`)
    /// unless `arguments` give one (the last value of a flag wins).
    public init(database: String, arguments: [String] = [], logFile: String? = nil) async throws {
        let binary = Self.binaryPath
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestFailure("no bankhooks binary at \(binary): run `swift build --build-tests` first")
        }
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "BANKHOOKS_ADMIN_KEY")
        let process = try ChildProcess(
            executable: binary, arguments: ["serve", "--database", database, "--port", "0", "--log-level", "warning", "--drain-seconds", "0"] + arguments,
            environment: environment, output: .file(outputDirectory.file("stdout")), errors: logFile.map { .file($0) } ?? .null)
        self.process = process
        let outputFile = outputDirectory.file("stdout")
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        var port: Int?
        while port == nil {
            let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
            // "… listening on http://host:port (database …)": the port ends the address (the database may hold colons too).
            if let line = text.split(separator: "\n").first(where: { $0.contains("listening on http://") }),
               let address = line.split(separator: "listening on http://").last?.split(separator: " ").first,
               let portText = address.split(separator: ":").last {
                port = Int(portText)
            }
            if port == nil {
                guard process.isRunning else { throw TestFailure("bankhooks serve exited: \(text)") }
                // A server that never said where it listens is not left running (no deinit runs for a failed init).
                guard ContinuousClock.now < deadline else {
                    Foundation.kill(process.processIdentifier, SIGKILL)
                    throw TestFailure("bankhooks serve did not start: \(text)")
                }
                do { try await Task.sleep(for: .milliseconds(20)) } catch {
                    Foundation.kill(process.processIdentifier, SIGKILL)
                    throw error
                }
            }
        }
        self.port = port ?? 0
        let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        bootstrapKey = text.split(separator: "\n").first { $0.contains("Bootstrap operator key") }?
            .split(separator: " ").last.map(String.init)
    }

    /// Everything it printed to standard output.
    public var printed: String { (try? String(contentsOfFile: outputDirectory.file("stdout"), encoding: .utf8)) ?? "" }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public var isRunning: Bool { process.isRunning }

    /// Kills it at once (SIGKILL): no shutdown code runs.
    public func kill() {
        process.send(SIGKILL)
        process.waitUntilExit()
    }

    /// Asks it to stop (SIGTERM) and waits.
    public func terminate() -> Int32 {
        process.send(SIGTERM)
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// Runs a command to completion and returns its exit status and output.
public func runCommand(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let directory = TemporaryDirectory()
    let process = try ChildProcess(executable: "/usr/bin/env", arguments: [executable] + arguments, output: .file(directory.file("output")))
    process.waitUntilExit()
    return (process.terminationStatus, (try? String(contentsOfFile: directory.file("output"), encoding: .utf8)) ?? "")
}
