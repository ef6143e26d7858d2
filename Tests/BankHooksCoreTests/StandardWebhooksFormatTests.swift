import BankHooksCore
import Crypto
import Foundation
import Testing

@Suite struct StandardWebhooksFormatTests {
    let format = StandardWebhooksFormat()

    /// The published test vector of the Standard Webhooks libraries.
    @Test func signsTheReferenceVector() throws {
        let secret = try #require(WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = StandardWebhooksFormat.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "1614265330", body: Array(#"{"test": 2432232314}"#.utf8), key: secret.signingKey)
        #expect(signature == "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func envelopeKeepsTheDataBytesAsPublished() {
        let event = OutboundEvent(id: "evt_1", type: "payment.updated", timestamp: Timestamp(milliseconds: 1_665_139_425_128),
                                  data: Array(#"{"amount": 670, "x": 10.17}"#.utf8))
        let body = String(decoding: format.body(for: event), as: UTF8.self)
        #expect(body == #"{"type":"payment.updated","timestamp":"2022-10-07T10:43:45.128Z","data":{"amount": 670, "x": 10.17}}"#)
        let parsed = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        #expect(parsed?["type"] as? String == "payment.updated")
    }

    @Test func escapesTheTypeInTheEnvelope() {
        let event = OutboundEvent(id: "e", type: "a\"b", timestamp: Timestamp(milliseconds: 0), data: Array("{}".utf8))
        #expect(String(decoding: format.body(for: event), as: UTF8.self).hasPrefix(#"{"type":"a\"b","#))
    }

    @Test func signsOncePerValidSecretWithIndependentHMAC() throws {
        let first = WebhookSecret.generate(), second = WebhookSecret.generate()
        let event = OutboundEvent(id: "evt_2", type: "t", timestamp: Timestamp(milliseconds: 0), data: Array("{}".utf8))
        let body = format.body(for: event)
        let sentAt = Timestamp(milliseconds: 1_700_000_000_999)
        let headers = Dictionary(uniqueKeysWithValues: format.headers(for: event, body: body, sentAt: sentAt, keys: [SigningKey(first), SigningKey(second)]).map { ($0.name, $0.value) })
        #expect(headers["webhook-id"] == "evt_2")
        #expect(headers["webhook-timestamp"] == "1700000000")
        let parts = try #require(headers["webhook-signature"]).split(separator: " ")
        #expect(parts.count == 2)
        for (part, secret) in zip(parts, [first, second]) {
            // Independent check: Foundation base64 decoding of the secret, CryptoKit-style HMAC over the joined string.
            let key = SymmetricKey(data: Data(base64Encoded: String(secret.text.dropFirst(6)))!)
            let signed = Data("evt_2.1700000000.".utf8) + Data(body)
            let expected = Data(HMAC<SHA256>.authenticationCode(for: signed, using: key)).base64EncodedString()
            #expect(part == "v1,\(expected)"[...])
        }
    }

    @Test func successIsAny2xx() {
        #expect(format.isSuccess(status: 200) && format.isSuccess(status: 204) && format.isSuccess(status: 299))
        #expect(!format.isSuccess(status: 301) && !format.isSuccess(status: 410) && !format.isSuccess(status: 500))
    }

    @Test func secretsAreWhsecBase64OfRandomBytes() throws {
        let secret = WebhookSecret.generate()
        #expect(secret.text.hasPrefix("whsec_"))
        #expect(secret.keyBytes.count == 32)
        #expect(WebhookSecret.generate() != secret)
        #expect(WebhookSecret("whsec_short") == nil)
        #expect(WebhookSecret("nope_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == nil)
    }

    @Test func encodesHexAndBase64LikeFoundation() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Encoding.base64(bytes) == Data(bytes).base64EncodedString())
            #expect(Encoding.hex(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
            #expect(Encoding.hex(bytes, uppercase: true) == bytes.map { String(format: "%02X", $0) }.joined())
        }
    }
}

@Suite struct SecretRotationTests {
    @Test func thePreviousSecretSignsOnlyUntilItsGracePeriodEnds() {
        let current = WebhookSecret.generate(), previous = WebhookSecret.generate()
        let until = Timestamp(milliseconds: 1_000_000)
        let webhook = Webhook(id: "wh", applicationID: "app", url: "https://example.com", secret: current, previousSecret: previous,
                              previousSecretExpiresAt: until, createdAt: Timestamp(milliseconds: 0), updatedAt: Timestamp(milliseconds: 0))
        #expect(webhook.validSecrets(at: Timestamp(milliseconds: 999_999)) == [current, previous])
        #expect(webhook.validSecrets(at: until) == [current])
    }
}
