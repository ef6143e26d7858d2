import BankHooksCore
@testable import BankHooksDelivery
import BankHooksStorage
import Testing

/// Credentials travel sealed from the store to the send path, which opens them in its cache.
@Suite struct CredentialCacheTests {
    static func sealer() throws -> SecretSealer { SecretSealer(box: try #require(SecretBox(base64: SecretBox.generateKey()))) }

    static func webhook(_ secret: WebhookSecret, previous: WebhookSecret? = nil, until: Timestamp? = nil, sealer: SecretSealer) throws -> ClaimedWebhook {
        let now = Timestamp(milliseconds: 1_000)
        return try ClaimedWebhook(
            Webhook(
                id: "wh", applicationID: "app", url: "https://example.com/", format: "okra", secret: secret, previousSecret: previous,
                previousSecretExpiresAt: until, createdAt: now, updatedAt: now, bearerToken: "tok",
                settings: DeliverySettings(headers: [HTTPHeader(name: "x-team", value: "v")])),
            sealer: sealer)
    }

    @Test func aClaimCarriesItsCredentialsSealedAndTheCacheOpensThem() throws {
        let sealer = try Self.sealer()
        let current = WebhookSecret.generate(), previous = WebhookSecret.generate()
        let webhook = try Self.webhook(current, previous: previous, until: Timestamp(milliseconds: 5_000), sealer: sealer)
        // Nothing secret is readable in what the store hands over.
        #expect(SecretBox.isSealed(webhook.credentials.secret))
        #expect(SecretBox.isSealed(webhook.credentials.bearerToken ?? ""))
        #expect(!(webhook.credentials.headers ?? "").contains("x-team"))
        var cache = CredentialCache(sealer: sealer)
        let opened = cache.credentials(for: webhook, format: OkraFormat(), at: Timestamp(milliseconds: 4_999))
        let during = try #require(opened)
        #expect(during.keys.map(\.secret) == [current, previous])
        #expect(during.bearerToken == "tok")
        #expect(during.headers == [HTTPHeader(name: "x-team", value: "v")])
        let later = cache.credentials(for: webhook, format: OkraFormat(), at: Timestamp(milliseconds: 5_000))
        let after = try #require(later)
        #expect(after.keys.map(\.secret) == [current])
    }

    @Test func credentialsSealedUnderAnotherMasterKeyDoNotOpen() throws {
        let webhook = try Self.webhook(.generate(), sealer: try Self.sealer())
        var cache = CredentialCache(sealer: try Self.sealer())
        let opened = cache.credentials(for: webhook, format: StandardWebhooksFormat(), at: Timestamp(milliseconds: 1))
        #expect(opened == nil)
        let first = cache.isFirstReport(of: webhook), second = cache.isFirstReport(of: webhook)
        #expect(first && !second, "reported once, not on every claim")
        #expect(CredentialCache.open(webhook, format: StandardWebhooksFormat(), at: Timestamp(milliseconds: 1), sealer: SecretSealer(box: nil)) == nil)
    }
}
