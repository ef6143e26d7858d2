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
        let output = dir.file("readme-walk.out")
        let process = try ChildProcess(
            executable: "/bin/bash",
            arguments: [root.appendingPathComponent("scripts/readme-walk.sh").path, ServerProcess.binaryPath, database]
                + (try backend.serveArguments(in: dir)),
            directory: root.path, output: .file(output))
        await process.exited()
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("README walk: OK\n"), "\(text)")
    }
}
