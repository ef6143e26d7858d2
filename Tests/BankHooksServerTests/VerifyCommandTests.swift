import BankHooksCore
import BankHooksTestSupport
import Foundation
import Testing

/// `bankhooks verify` on saved requests, signed here from each format's description.
@Suite struct VerifyCommandTests {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    func run(_ saved: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let dir = TemporaryDirectory()
        let file = dir.file("request.txt")
        try Data(saved.utf8).write(to: URL(fileURLWithPath: file))
        return try runCommand(ServerProcess.binaryPath, ["verify"] + arguments + [file])
    }

    @Test func bridgeTestEventVerifiesWithItsSecretOnly() throws {
        let body = #"{"content":{"item_id":1234567890,"status":0,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"},"timestamp":1611681789,"type":"TEST_EVENT"}"#
        let signature = IndependentSignature.bridge(body: Array(body.utf8), secret: secret)
        let saved = "POST /hook HTTP/1.1\r\nContent-Type: application/json\r\nBridgeApi-Signature: \(signature)\r\n\r\n\(body)"
        let good = try run(saved, ["--format", "bridge", "--secret", secret])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("valid: bridge TEST_EVENT"), "\(good.output)")
        let bad = try run(saved, ["--format", "bridge", "--secret", "whsec_" + String(repeating: "A", count: 32)])
        #expect(bad.status == 1)
        #expect(bad.output.contains("invalid:"), "\(bad.output)")
    }

    @Test func standardVerifiesAnOldCaptureWithNow() throws {
        let body = #"{"type":"results.ready","timestamp":"2021-09-02T15:38:54.573741Z","data":{"id":"dbd310a2-ebd9-4a0f-ae10-0f82f25f1bff"}}"#
        let signature = IndependentSignature.standard(id: "evt_1", timestamp: "1630597134", body: Array(body.utf8), secret: secret)
        let saved = "webhook-id: evt_1\nwebhook-timestamp: 1630597134\nwebhook-signature: \(signature)\n\n\(body)"
        let old = try run(saved, ["--format", "standard", "--secret", secret])
        #expect(old.status == 1, "a capture from 2021 is outside the tolerance: \(old.output)")
        let replayed = try run(saved, ["--format", "standard", "--secret", secret, "--now", "1630597200"])
        #expect(replayed.status == 0, "\(replayed.output)")
        #expect(replayed.output.contains("results.ready"))
    }

    @Test func leanSignatureOverTheExactBody() throws {
        let body = "{\"type\":\"results.ready\",\"message\":\"Your results are ready.\",\"payload\":{\"id\":\"x\"},\"timestamp\":\"2021-09-02T15:38:54.573741Z\",\"event_id\":\"f8752072-cef2-4056-9ff0-d5d2aa1e4558\"}\n"
        let signature = IndependentSignature.lean(body: Array(body.utf8), secret: secret)
        let saved = "lean-signature: \(signature)\n\n\(body)"
        #expect(try run(saved, ["--format", "lean", "--secret", secret]).status == 0)
        // One byte less (the trailing newline) is another body.
        #expect(try run(String(saved.dropLast()), ["--format", "lean", "--secret", secret]).status == 1)
    }
}
