import BankHooksTestSupport
import Foundation
import Testing

/// The README's API walk, run exactly as written (with curl) against a fresh `bankhooks serve`, on
/// each backend.
@Suite struct ReadmeWalkTests {
    @Test(arguments: TestBackend.all)
    func theReadmeWalkWorksAsWritten(_ backend: TestBackend) async throws {
        let dir = TemporaryDirectory()
        let database = try await backend.database(in: dir, name: "walk.sqlite")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("scripts/readme-walk.sh").path, ServerProcess.binaryPath, database]
            + (try backend.serveArguments(in: dir))
        process.currentDirectoryURL = root
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("README walk: OK\n"), "\(text)")
    }
}
