import BankHooksCore
import BankHooksStorage
import BankHooksTestSupport
import Testing

/// The store keeps credentials as `SecretSealer` seals them and hands claims their stored form:
/// opening them is the send path's work.
@Suite struct SealedCredentialsTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    func seeded(_ path: String, box: SecretBox) async throws -> (store: SQLiteStore, webhook: Webhook, deliveryID: Int64) {
        let store = try SQLiteStore(path: path, secretBox: box)
        try await store.createApplication(Application(id: "app", name: "A", environment: .sandbox, createdAt: t0))
        let webhook = Webhook(
            id: "wh", applicationID: "app", url: "http://127.0.0.1:9/", format: "okra", secret: .generate(), createdAt: t0, updatedAt: t0,
            bearerToken: "tok", settings: DeliverySettings(headers: [HTTPHeader(name: "x-team", value: "secret-value")]))
        try await store.createWebhook(webhook)
        _ = try await store.publish([PublishRequest(
            applicationID: "app", eventID: "e1", idempotencyKey: nil, type: "t", timestamp: t0, data: Array("{}".utf8))], now: t0)
        return (store, webhook, try #require(try await store.deliveries(eventID: "e1", applicationID: "app").first?.id))
    }

    @Test func aClaimCarriesTheCredentialsSealedAndAManagementReadOpensThem() async throws {
        let dir = TemporaryDirectory()
        let box = try #require(SecretBox(base64: SecretBox.generateKey()))
        let (store, webhook, _) = try await seeded(dir.file("s.sqlite"), box: box)
        let claimed = try #require(try await store.claimDue(owner: "p/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 10, excludingWebhooks: []).first)
        let credentials = claimed.webhook.credentials
        #expect(SecretBox.isSealed(credentials.secret) && SecretBox.isSealed(credentials.bearerToken ?? ""))
        #expect(!(credentials.headers ?? "").contains("secret-value"))
        let sealer = SecretSealer(box: box)
        #expect(sealer.openSecret(credentials.secret) == webhook.secret)
        #expect(sealer.openHeaders(credentials.headers) == webhook.settings.headers)
        #expect(try await store.webhook(id: "wh", applicationID: "app")?.bearerToken == "tok")
    }

    @Test func aSendNowOfASecretThatDoesNotOpenChangesNothing() async throws {
        let dir = TemporaryDirectory()
        let box = try #require(SecretBox(base64: SecretBox.generateKey()))
        let (_, _, deliveryID) = try await seeded(dir.file("s.sqlite"), box: box)
        // The same file without its master key: the stored secret does not open.
        let keyless = try SQLiteStore(path: dir.file("s.sqlite"))
        let error = await #expect(throws: StoreError.self) {
            try await keyless.leaseForSend(
                deliveryID: deliveryID, applicationID: "app", owner: "resend/1", until: t0.adding(.seconds(120)), now: t0,
                expecting: nil, attemptedBefore: nil)
        }
        #expect(error?.code == .invalidValue)
        // Not leased: a claim (with the key) still finds it due at once.
        let store = try SQLiteStore(path: dir.file("s.sqlite"), secretBox: box)
        let due = try await store.claimDue(owner: "p/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 10, excludingWebhooks: [])
        #expect(due.map(\.id) == [deliveryID])
    }
}
