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

/// Receivers written from each provider's own documentation (../shared/research/provider-docs.md),
/// not from BankHooks' code or docs: what an integrator who never heard of BankHooks would write.
enum DocsReceiver {
    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Lean (docs.leantech.me/docs/webhooks, "Request signing and signatures"): the `lean-signature`
    /// value "begins with `sha512=`"; compute HMAC-SHA512 of the raw body with the webhook secret
    /// and compare it with the header's value. One signature, no rotation.
    static func lean(headers: [String: String], body: [UInt8], secret: String) -> Bool {
        guard let value = headers["lean-signature"], value.hasPrefix("sha512=") else { return false }
        let mac = HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return value.dropFirst("sha512=".count).lowercased() == hex(mac)
    }

    /// Bridge (docs.bridgeapi.io/docs/secure-your-webhooks): `BridgeApi-Signature` "contains one or
    /// more signatures", each prefixed by its scheme; only `v1` is valid, other schemes are ignored;
    /// HMAC-SHA256 of the body keyed by the secret. As Bridge's own WooCommerce plugin does it:
    /// split at commas, compare each `v1` with the uppercase hex digest.
    static func bridge(headers: [String: String], body: [UInt8], secret: String) -> Bool {
        guard let value = headers["bridgeapi-signature"] else { return false }
        let expected = hex(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))).uppercased()
        return value.split(separator: ",").contains { entry in
            let parts = entry.split(separator: "=", maxSplits: 1)
            return parts.count == 2 && parts[0] == "v1" && parts[1] == expected
        }
    }

    /// Okra (docs.okra.ng/docs/webhook-overview): nothing is signed; the dashboard's bearer token
    /// comes as `Authorization: Bearer <token>`.
    static func okra(headers: [String: String], token: String) -> Bool {
        headers["authorization"] == "Bearer \(token)"
    }

    /// A receiver that keeps both secrets during a Lean rotation, from BankHooks' lean format doc:
    /// `lean-signature` with the new secret, or `lean-signature-previous` with the old one.
    static func leanWithOverlap(headers: [String: String], body: [UInt8], secrets: [String]) -> Bool {
        secrets.contains { secret in
            lean(headers: headers, body: body, secret: secret)
                || headers["lean-signature-previous"].map { lean(headers: ["lean-signature": $0], body: body, secret: secret) } == true
        }
    }
}

@Suite struct ProviderReceiverTests {
    func json(_ object: Any) throws -> ByteBuffer { ByteBuffer(data: try JSONSerialization.data(withJSONObject: object)) }

    /// Before, during and after a rotation, a receiver written from the provider's documentation
    /// verifies every delivery with the secret it holds (the old one before, the new one from the
    /// rotation on), and BankHooksVerify accepts every valid secret.
    @Test(arguments: ["lean", "bridge", "okra"])
    func aReceiverWrittenFromTheProvidersDocsVerifiesEveryDeliveryAcrossARotation(_ format: String) async throws {
        let clock = ManualClock(now: Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)))
        let f = try await APIFixture(clock: clock)
        let token = "okra-dashboard-token"
        let (type, data) = switch format {
        case "lean": ("results.ready", #"{"id": "dbd310a2-ebd9-4a0f-ae10-0f82f25f1bff"}"#)
        case "bridge": ("user.deleted", #"{"user_uuid": "9a95b38f-f98b-417a-988b-9d0d584893e7"}"#)
        default: ("TRANSACTIONS.INITIAL_TRANSACTIONS", #"{"record": "wz666MBjYWTp2PDzzggYhM6oWWmBb", "error": null, "new_transactions": 19}"#)
        }
        try await TestReceiver.run { receiver in
            try await f.test { client in
                var body: [String: Any] = ["url": receiver.url(), "format": format, "event_types": [type]]
                if format == "okra" { body["bearer_token"] = token }
                let webhook: [String: Any] = try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey), body: try json(body)) { response in
                    #expect(response.status == .created, "\(response.text)")
                    return response.json ?? [:]
                }
                let id = try #require(webhook["id"] as? String)
                let old = try #require(webhook["secret"] as? String)
                func publishAndReceive(_ count: Int) async throws -> TestReceiver.Received {
                    try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey),
                                             body: ByteBuffer(string: #"{"type": "\#(type)", "data": \#(data)}"#)) { response in
                        #expect(response.status == .accepted, "\(response.text)")
                    }
                    return try await receiver.waitForRequests(count)[count - 1]
                }
                func docsReceiverAccepts(_ request: TestReceiver.Received, secret: String) -> Bool {
                    switch format {
                    case "lean": DocsReceiver.lean(headers: request.headers, body: request.body, secret: secret)
                    case "bridge": DocsReceiver.bridge(headers: request.headers, body: request.body, secret: secret)
                    default: DocsReceiver.okra(headers: request.headers, token: token)
                    }
                }
                func library(_ request: TestReceiver.Received, _ secrets: [String]) throws {
                    let parsed = WebhookRequest(headers: request.headers.map { (name: $0.key, value: $0.value) }, body: request.body)
                    try WebhookVerifier.verify(format: format, parsed, secrets: secrets, token: format == "okra" ? token : nil, now: clock.date)
                }

                let before = try await publishAndReceive(1)
                #expect(docsReceiverAccepts(before, secret: old))
                #expect(before.header(LeanFormat.previousSignatureHeader) == nil)
                try library(before, [old])

                let new: String = try await client.execute(uri: "/v1/webhooks/\(id)/rotate-secret", method: .post, headers: auth(f.operatorKey)) { response in
                    #expect(response.status == .ok, "\(response.text)")
                    return response.json?["secret"] as? String ?? ""
                }
                let during = try await publishAndReceive(2)
                #expect(docsReceiverAccepts(during, secret: new), "\(format) during the overlap: \(during.headers)")
                if format == "lean" {
                    // One entry, as Lean documents; the old secret's signature in its own header.
                    #expect(during.header("lean-signature")?.contains(",") == false)
                    #expect(!DocsReceiver.lean(headers: during.headers, body: during.body, secret: old))
                    #expect(DocsReceiver.leanWithOverlap(headers: during.headers, body: during.body, secrets: [old]))
                    #expect(DocsReceiver.leanWithOverlap(headers: during.headers, body: during.body, secrets: [new]))
                }
                if format == "bridge" { #expect(docsReceiverAccepts(during, secret: old)) }
                try library(during, [new])
                if format != "okra" { try library(during, [old]) }

                clock.advance(by: .seconds(24 * 3600 + 1))
                let after = try await publishAndReceive(3)
                #expect(docsReceiverAccepts(after, secret: new))
                #expect(after.header(LeanFormat.previousSignatureHeader) == nil)
                if format != "okra" {
                    #expect(!docsReceiverAccepts(after, secret: old))
                    #expect(throws: VerificationError.self) { try library(after, [old]) }
                }
                try library(after, [new])
            }
        }
    }
}
