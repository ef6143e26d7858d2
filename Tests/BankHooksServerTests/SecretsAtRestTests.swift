import BankHooksCore
import BankHooksServer
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Webhook secrets and bearer tokens are encrypted at rest (AES-256-GCM under the master key).
@Suite struct SecretsAtRestTests {
    /// Every byte of the database and its write-ahead log.
    static func databaseBytes(_ path: String) -> Data {
        var all = Data()
        for file in [path, path + "-wal"] { all.append((try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()) }
        return all
    }

    @Test func secretsNeverReachTheDatabaseFileInPlaintext() async throws {
        let f = try await APIFixture()
        let keyFile = f.dir.file("api.sqlite.key")
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "the master key file is private")
        try await f.test { client in
            let body = ByteBuffer(string: #"{"url": "https://example.com/okra", "format": "okra", "bearer_token": "okra-bearer-SECRET-123"}"#)
            let created: [String: Any] = try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey), body: body) { $0.json ?? [:] }
            let id = try #require(created["id"] as? String)
            let first = try #require(created["secret"] as? String)
            let second: String = try await client.execute(uri: "/v1/webhooks/\(id)/rotate-secret", method: .post, headers: auth(f.operatorKey)) {
                $0.json?["secret"] as? String ?? ""
            }
            let bytes = Self.databaseBytes(f.dir.file("api.sqlite"))
            #expect(!bytes.isEmpty)
            for plaintext in [first, second, "okra-bearer-SECRET-123", String(first.dropFirst(6))] {
                #expect(bytes.range(of: Data(plaintext.utf8)) == nil, "\(plaintext.prefix(12))… is stored in plaintext")
            }
            #expect(bytes.range(of: Data(SecretBox.prefix.utf8)) != nil, "sealed values are stored")
            // Read back through the store, they open again.
            let webhook = try #require(try await f.components.store.webhook(id: id, applicationID: defaultApplicationID))
            #expect(webhook.secret.text == second && webhook.previousSecret?.text == first && webhook.bearerToken == "okra-bearer-SECRET-123")
        }
    }

    @Test func plaintextSecretsFromBeforeAreSealedWhenAMasterKeyIsFirstUsed() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("old.sqlite")
        let now = SystemClock().now()
        let secret = WebhookSecret.generate()
        do {
            let plain = try SQLiteStore(path: path)
            try await plain.createApplication(Application(id: "app", name: "a", environment: .sandbox, createdAt: now))
            try await plain.createWebhook(Webhook(id: "wh", applicationID: "app", url: "https://example.com", secret: secret, createdAt: now, updatedAt: now))
        }
        let box = try #require(SecretBox(base64: SecretBox.generateKey()))
        let sealed = try SQLiteStore(path: path, secretBox: box)
        #expect(try await sealed.webhook(id: "wh", applicationID: "app")?.secret == secret)
        let rereadWithoutKey = try SQLiteStore(path: path)
        #expect(try await rereadWithoutKey.webhook(id: "wh", applicationID: "app") == nil, "without the key the stored value is not a secret")
        #expect(throws: StoreError.self, "another master key does not open the secrets: the store refuses to start") {
            _ = try SQLiteStore(path: path, secretBox: try #require(SecretBox(base64: SecretBox.generateKey())))
        }
    }

    @Test func aSealedValueOpensOnlyWithItsKeyAndEachSealDiffers() throws {
        let box = try #require(SecretBox(base64: SecretBox.generateKey()))
        let a = try box.seal("whsec_x"), b = try box.seal("whsec_x")
        #expect(a != b && a.hasPrefix("enc:v1:"))
        #expect(try box.open(a) == "whsec_x")
        var tampered = Array(a.utf8)
        tampered[tampered.count - 3] = tampered[tampered.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: SecretBoxError.self) { try box.open(String(decoding: tampered, as: UTF8.self)) }
        #expect(SecretBox(base64: "c2hvcnQ=") == nil, "a master key must be 32 bytes")
    }
}

/// Rotation, exactly as documented: the replaced secret signs for 24 h; at most two secrets sign,
/// so a second rotation within the 24 h ends the older one at once and the one it replaced signs
/// for 24 h from that second rotation.
@Suite struct RotationTests {
    @Test func aSecondRotationWithinTheOverlapKeepsTheReplacedSecretFor24HoursFromIt() async throws {
        let clock = ManualClock(now: Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)))
        let f = try await APIFixture(clock: clock)
        try await TestReceiver.run { receiver in
            try await f.test { client in
                let created = try await call(client, .post, "/v1/webhooks", key: f.operatorKey,
                                             body: #"{"url": "\#(receiver.url())", "event_types": ["results.ready"]}"#)
                let id = try #require(created.json["id"] as? String)
                let first = try #require(created.json["secret"] as? String)
                let second = try #require(try await call(client, .post, "/v1/webhooks/\(id)/rotate-secret", key: f.operatorKey).json["secret"] as? String)
                clock.advance(by: .seconds(3600))
                let rotated = try await call(client, .post, "/v1/webhooks/\(id)/rotate-secret", key: f.operatorKey)
                let third = try #require(rotated.json["secret"] as? String)
                #expect(rotated.json["previous_secret_expires_at"] as? String == clock.now().adding(.seconds(24 * 3600)).iso8601)
                #expect(Set([first, second, third]).count == 3)

                func publishAndExpect(_ secrets: [String], _ count: Int) async throws {
                    let published = try await call(client, .post, "/v1/events", key: f.operatorKey, body: #"{"type": "results.ready", "data": {"id": "r-\#(count)"}}"#)
                    #expect(published.status == 202)
                    let eventID = try #require(published.json["id"] as? String)
                    try await eventually("the event's request arrived") { receiver.requests.contains { $0.header("webhook-id") == eventID } }
                    let request = try #require(receiver.requests.first { $0.header("webhook-id") == eventID })
                    try FormatAPITests.expectSignatures(request, format: "standard", secrets: secrets, now: clock.date)
                    // Recorded before the clock jumps: a jump past the lease of an unrecorded send
                    // would have it claimed and sent again (at least once), at the new time.
                    try await eventually("the delivery is recorded") {
                        let page = try await call(client, .get, "/v1/events/\(eventID)/deliveries", key: f.operatorKey)
                        return (page.json["data"] as? [[String: Any]])?.first?["state"] as? String == "succeeded"
                    }
                }
                // The newest and the one it replaced sign; the first stopped at the second rotation.
                try await publishAndExpect([third, second], 1)
                // Past the first rotation's 24 h, the second secret still signs: its 24 h run from the second rotation.
                clock.advance(by: .seconds(23 * 3600 + 60))
                try await publishAndExpect([third, second], 2)
                clock.advance(by: .seconds(3600))
                try await publishAndExpect([third], 3)
            }
        }
    }
}
