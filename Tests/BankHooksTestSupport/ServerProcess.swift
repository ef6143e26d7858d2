import Foundation
import Synchronization

/// `bankhooks serve` as a child process, on a free port, reading what it prints.
public final class ServerProcess: Sendable {
    private let process: Process
    private final class Output: Sendable {
        let text = Mutex<String>("")
    }
    private let output = Output()
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

    /// Starts the server and waits until it listens.
    public init(database: String, arguments: [String] = [], logFile: String? = nil) async throws {
        let binary = Self.binaryPath
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestFailure("no bankhooks binary at \(binary): run `swift build --build-tests` first")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--database", database, "--port", "0", "--log-level", "warning"] + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        if let logFile {
            FileManager.default.createFile(atPath: logFile, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: logFile)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "BANKHOOKS_ADMIN_KEY")
        process.environment = environment
        self.process = process
        let output = self.output
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            output.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        var port: Int?
        while port == nil {
            let text = output.text.withLock { $0 }
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
        let text = output.text.withLock { $0 }
        bootstrapKey = text.split(separator: "\n").first { $0.contains("Bootstrap operator key") }?
            .split(separator: " ").last.map(String.init)
    }

    /// Everything it printed to standard output.
    public var printed: String { output.text.withLock { $0 } }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public var isRunning: Bool { process.isRunning }

    /// Kills it at once (SIGKILL): no shutdown code runs.
    public func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Asks it to stop (SIGTERM) and waits.
    public func terminate() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }
}

/// Runs a command to completion and returns its exit status and output.
public func runCommand(_ executable: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
