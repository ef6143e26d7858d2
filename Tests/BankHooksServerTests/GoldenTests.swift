import BankHooksCore
import BankHooksServer
import BankHooksTestSupport
import BankHooksVerify
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// One JSON example of a seed, as a fixture in `Fixtures/golden/` (each names its seed and any fix
/// made to the example as printed), or a payload a provider really sent, in `Fixtures/provider/`
/// (each names its source: repository, commit and path).
struct GoldenExample: CustomTestStringConvertible, Sendable {
    let file: String
    let format: String
    /// The publish body (`type`, `data`, `id`, `timestamp`), as JSON; nil for "Send a test".
    let publish: Data?
    let expected: Data
    let sendTest: Bool

    var testDescription: String { file }

    var type: String {
        publish.flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }?["type"] as? String ?? BridgeFormat.testEventType
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden")
    static let providerDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/provider")

    /// The seeds' examples.
    static let all: [GoldenExample] = load(directory) { $0["seed"] is String && $0["fixes"] is [Any] }

    /// The payloads gathered from what the providers really send.
    static let gathered: [GoldenExample] = load(providerDirectory) { object in
        guard let source = object["source"] as? [String: Any] else { return false }
        return ["repo", "commit", "path"].allSatisfy { (source[$0] as? String)?.isEmpty == false } && object["notes"] is [String]
    }

    static func load(_ directory: URL, where isValid: ([String: Any]) -> Bool) -> [GoldenExample] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.sorted().compactMap { file in
            guard let data = try? Data(contentsOf: directory.appendingPathComponent(file)),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let format = object["format"] as? String, let expected = object["expected"],
                  isValid(object) else { return nil }
            return GoldenExample(
                file: file, format: format,
                publish: (object["publish"] as? [String: Any]).flatMap { try? JSONSerialization.data(withJSONObject: $0) },
                expected: try! JSONSerialization.data(withJSONObject: expected),
                sendTest: object["send_test"] as? Bool ?? false)
        }
    }
}

/// JSON text with sorted keys, for comparing two documents as JSON (same keys, same values).
func canonicalJSON(_ data: Data) throws -> String {
    let object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
}

/// Signature checks written from each format's description (SPEC "Wire formats"), with
/// swift-crypto directly: they share no code with the formats that sign.
enum IndependentSignature {
    static func hex(_ bytes: some Sequence<UInt8>, uppercase: Bool) -> String {
        bytes.map { String(format: uppercase ? "%02X" : "%02x", $0) }.joined()
    }

    /// `lean-signature: sha512=<hex HMAC-SHA512 of the raw body, keyed by the secret text>`.
    static func lean(body: [UInt8], secret: String) -> String {
        "sha512=" + hex(HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))), uppercase: false)
    }

    /// `BridgeApi-Signature: v1=<UPPERCASE hex HMAC-SHA256 of the raw body, keyed by the secret text>`.
    static func bridge(body: [UInt8], secret: String) -> String {
        "v1=" + hex(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))), uppercase: true)
    }

    /// Standard Webhooks: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the base64-decoded secret.
    static func standard(id: String, timestamp: String, body: [UInt8], secret: String) -> String {
        let key = SymmetricKey(data: Data(base64Encoded: String(secret.dropFirst("whsec_".count)))!)
        let signed = Array("\(id).\(timestamp).".utf8) + body
        return "v1," + Data(HMAC<SHA256>.authenticationCode(for: signed, using: key)).base64EncodedString()
    }
}

@Suite struct GoldenTests {
    @Test func everySeedExampleHasAFixture() {
        // 2 from seed 000, 13 from 001, 9 from 002, the TEST_EVENT of 004.
        #expect(GoldenExample.all.count == 25)
        #expect(GoldenExample.all.filter { $0.file.hasPrefix("000-") }.count == 2)
        #expect(GoldenExample.all.filter { $0.file.hasPrefix("001-") }.count == 13)
        #expect(GoldenExample.all.filter { $0.file.hasPrefix("002-") }.count == 9)
        #expect(GoldenExample.all.filter { $0.file.hasPrefix("004-") }.count == 1)
    }

    /// The catalog's examples are the fixtures' data: every seed example's, and for each type a
    /// provider really sent, one of its payloads (JSON-equal).
    @Test func theCatalogsExamplesAreTheFixturesData() throws {
        func data(_ example: GoldenExample) throws -> String {
            let body = try #require(example.publish)
            let publish = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            let member = try #require(publish["data"])
            return try canonicalJSON(JSONSerialization.data(withJSONObject: member))
        }
        func examples(_ type: String) throws -> [String] {
            try #require(EventCatalog.builtIn[type]).examples.map { try canonicalJSON(Data($0.data.utf8)) }
        }
        for example in GoldenExample.all where example.publish != nil {
            #expect(try examples(example.type).contains(try data(example)), "\(example.file)")
        }
        for type in Set(GoldenExample.gathered.map(\.type)) {
            let payloads = try GoldenExample.gathered.filter { $0.type == type }.map(data)
            #expect(try examples(type).contains { payloads.contains($0) }, "\(type)")
        }
    }

    @Test func everyGatheredPayloadHasAFixtureWithItsSource() throws {
        // Lean's Postman webhooks (11 at the newest commit, payment.reconciliation.updated at an
        // older one) and Okra's callbacks received in 2023 (auth_payload.json, dd.py's four).
        let files = (try FileManager.default.contentsOfDirectory(atPath: GoldenExample.providerDirectory.path)).filter { $0.hasSuffix(".json") }
        #expect(GoldenExample.gathered.count == files.count, "every fixture names its source")
        #expect(GoldenExample.gathered.filter { $0.format == "lean" }.count == 12)
        #expect(GoldenExample.gathered.filter { $0.format == "okra" }.count == 5)
        let leanTypes = Set(GoldenExample.gathered.filter { $0.format == "lean" }.map(\.type))
        #expect(leanTypes.isSuperset(of: ["entity.data.refresh.updated", "payment_intent.created", "payment.reconciliation.updated", "payment.updated"]))
        let okraTypes = Set(GoldenExample.gathered.filter { $0.format == "okra" }.map(\.type))
        #expect(okraTypes == ["AUTH.AUTH_SUCCESS", "IDENTITY.IDENTITY_IS_READY", "BALANCE.BALANCE_SUCCESS", "ACCOUNTS.ACCOUNTS_SUCCESS"])
    }

    /// Publishes the example's event to a webhook of its format and compares what a real receiver
    /// on 127.0.0.1 got with the seed's JSON; then checks the signature independently and with
    /// `BankHooksVerify`, and decodes the typed event.
    @Test(arguments: TestBackend.all, GoldenExample.all)
    func seedExampleComesOutExactly(_ backend: TestBackend, _ example: GoldenExample) async throws {
        try await Self.publishAndCompare(example, backend: backend)
    }

    /// What Lean and Okra really send, published to a webhook of their format: it arrives JSON-equal,
    /// extra members and all.
    @Test(arguments: TestBackend.all, GoldenExample.gathered)
    func gatheredPayloadComesOutExactly(_ backend: TestBackend, _ example: GoldenExample) async throws {
        try await Self.publishAndCompare(example, backend: backend)
    }

    static func publishAndCompare(_ example: GoldenExample, backend: TestBackend) async throws {
        let f = try await APIFixture(backend: backend)
        let key = try await f.key(.admin, application: "app_golden")
        let okraToken = "okra-callback-token-1"
        try await TestReceiver.run { receiver in
            try await f.test { client in
                // The endpoint: the Lean Callback URL for bank-link results, a webhook otherwise.
                var secret = ""
                var webhookID = ""
                if example.type == LeanFormat.callbackEventType {
                    let body = try JSONSerialization.data(withJSONObject: ["url": receiver.url("/callback")])
                    try await client.execute(uri: "/v1/callback-url", method: .put, headers: auth(key), body: ByteBuffer(data: body)) { response in
                        #expect(response.status == .created, "\(response.text)")
                        secret = response.json?["secret"] as? String ?? ""
                        webhookID = response.json?["id"] as? String ?? ""
                    }
                } else {
                    var webhook: [String: Any] = ["url": receiver.url("/hook"), "format": example.format]
                    if !example.sendTest { webhook["event_types"] = [example.type] }
                    if example.format == "okra" { webhook["bearer_token"] = okraToken }
                    let body = try JSONSerialization.data(withJSONObject: webhook)
                    try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(key), body: ByteBuffer(data: body)) { response in
                        #expect(response.status == .created, "\(response.text)")
                        secret = response.json?["secret"] as? String ?? ""
                        webhookID = response.json?["id"] as? String ?? ""
                    }
                }
                if example.sendTest {
                    try await client.execute(uri: "/v1/webhooks/\(webhookID)/test", method: .post, headers: auth(key)) { response in
                        #expect(response.status == .ok, "\(response.text)")
                        #expect(response.json?["succeeded"] as? Bool == true, "\(response.text)")
                        #expect(response.json?["status"] as? Int == 200)
                    }
                } else {
                    try await client.execute(
                        uri: "/v1/events", method: .post, headers: auth(key), body: ByteBuffer(data: example.publish!)
                    ) { response in
                        #expect(response.status == .accepted, "\(response.text)")
                        #expect(response.json?["deliveries"] as? Int == 1, "\(response.text)")
                    }
                }
                let received = try #require(try await receiver.waitForRequests(1).first)
                #expect(try canonicalJSON(Data(received.body)) == canonicalJSON(example.expected), "\(example.file)")

                // The signature, checked from the format's description.
                switch example.format {
                case "lean":
                    #expect(received.header("lean-signature") == IndependentSignature.lean(body: received.body, secret: secret))
                case "bridge":
                    #expect(received.header("BridgeApi-Signature") == IndependentSignature.bridge(body: received.body, secret: secret))
                case "okra":
                    #expect(received.header("Authorization") == "Bearer \(okraToken)")
                    let id = try #require(received.header("webhook-id")), timestamp = try #require(received.header("webhook-timestamp"))
                    #expect(received.header("webhook-signature") == IndependentSignature.standard(id: id, timestamp: timestamp, body: received.body, secret: secret))
                default:
                    Issue.record("unexpected format \(example.format)")
                }
                // And with the receiver library: valid as sent, invalid once the body changes.
                let request = WebhookRequest(headers: received.headers.map { (name: $0.key, value: $0.value) }, body: received.body)
                try WebhookVerifier.verify(format: example.format, request, secrets: [secret], token: example.format == "okra" ? okraToken : nil)
                var tampered = request
                tampered.body[tampered.body.count / 2] ^= 0x01
                #expect(throws: VerificationError.self) {
                    try WebhookVerifier.verify(format: example.format, tampered, secrets: [secret], token: nil)
                }
                let decoded = try EventDecoder.decode(format: example.format, body: received.body, headers: request.headers)
                #expect(decoded.type == example.type)
            }
        }
    }
}
