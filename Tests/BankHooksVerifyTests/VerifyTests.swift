import Foundation
import Testing

@testable import BankHooksVerify

// Every expected signature below was computed independently with Python's hmac, hashlib and
// base64 (see the comment above each vector), never with the code under test.

/// The error `body` throws, or nil if it succeeds. Any other error is a test failure.
private func failure(_ body: () throws -> Void) -> VerificationError? {
    do {
        try body()
        return nil
    } catch let error as VerificationError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

private func request(_ headers: [(String, String)], _ body: String) -> WebhookRequest {
    WebhookRequest(headers: headers.map { (name: $0.0, value: $0.1) }, body: Array(body.utf8))
}

private func at(_ seconds: TimeInterval) -> Date { Date(timeIntervalSince1970: seconds) }

// MARK: - Vectors

/// The Standard Webhooks reference vector (also published in the Standard Webhooks libraries):
///   key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
///   base64.b64encode(hmac.new(key, b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}', hashlib.sha256).digest())
private enum StandardReference {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestamp = "1614265330"
    static let body = #"{"test": 2432232314}"#
    static let signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    static let now = at(1_614_265_330)

    static func request(id: String = id, timestamp: String = timestamp, signature: String = signature, body: String = body) -> WebhookRequest {
        BankHooksVerifyTests.request(
            [("webhook-id", id), ("webhook-timestamp", timestamp), ("webhook-signature", signature)], body)
    }
}

/// A Standard Webhooks delivery of a `TEST_EVENT`:
///   sec2 = "whsec_" + base64.b64encode(bytes(range(32))).decode()
///   key2 = base64.b64decode(sec2[6:])
///   base64.b64encode(hmac.new(key2, b"evt_2Yd3Qm8Jk1.1700000000." + body, hashlib.sha256).digest())
private enum StandardOurs {
    static let secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    static let id = "evt_2Yd3Qm8Jk1"
    static let timestamp = "1700000000"
    static let data = #"{"item_id":1234567890,"status":0,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"}"#
    static let body = #"{"type":"TEST_EVENT","timestamp":"2024-01-02T03:04:05.678Z","data":"# + data + "}"
    static let signature = "v1,4PNyaWMGQJ4sB3HzPInT46/ChfCkY91S5Az+el5k2EQ="
    static let headers: [(String, String)] = [
        ("webhook-id", id), ("webhook-timestamp", timestamp), ("webhook-signature", signature),
    ]
}

/// Lean: the secret's text, prefix included, is the key:
///   hmac.new(b"whsec_bGVhbi1zZWNyZXQtZm9yLXRlc3Rz", body, hashlib.sha512).hexdigest()
private enum LeanVector {
    static let secret = "whsec_bGVhbi1zZWNyZXQtZm9yLXRlc3Rz"
    static let payload = #"{"id":"e1"}"#
    static let body = #"{"type":"entity.created","message":"An entity object has been created.","payload":"# + payload
        + #","timestamp":"2024-01-02T03:04:05.678Z","event_id":"5b7a3c3e-9f5e-4a4e-8f0b-1c2d3e4f5a6b"}"#
    static let hex = "97d556c7a156c3d3d9cda85288d4b3a8ff9ca34614c5ba471d8fb4278d44098aacf31013810c3e9f514b2cf09f708849292c30d0bae3fdf702a3f89913f9dc25"
    static let signature = "sha512=" + hex
}

/// Bridge: uppercase hex of HMAC-SHA256 of the body keyed by the secret's text:
///   hmac.new(b"bridge-old-secret", body, hashlib.sha256).hexdigest().upper()
///   hmac.new(b"bridge-new-secret", body, hashlib.sha256).hexdigest().upper()
private enum BridgeVector {
    static let oldSecret = "bridge-old-secret"
    static let newSecret = "bridge-new-secret"
    static let content = #"{"item_id":1234567890,"status":0,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"}"#
    static let body = #"{"content":"# + content + #","timestamp":1700000000000,"type":"TEST_EVENT"}"#
    static let oldHex = "F064B812365F6070EF78801381CFC4C463B0B0CBA3164E8A5A4BB633CB44D93D"
    static let newHex = "DE3571E16C22EF41F4796ABAD8E729BB40BD3CC33178535E98BF0110C66D1EFC"
}

/// Okra: Standard Webhooks headers over the Okra body, with StandardOurs.secret:
///   base64.b64encode(hmac.new(key2, b"evt_okra_1.1700000000." + body, hashlib.sha256).digest())
private enum OkraVector {
    static let body = #"{"callback_type":"TRANSACTIONS","callback_code":"INITIAL_TRANSACTIONS","record":"rec_1","new_transactions":3}"#
    static let signature = "v1,BjigVgg0WTK9Ual5GPmmc9vJSiiaV6nUoKvPP0vC33U="
    static let headers: [(String, String)] = [
        ("webhook-id", "evt_okra_1"), ("webhook-timestamp", "1700000000"), ("webhook-signature", signature),
    ]
}

// MARK: - Standard Webhooks

@Suite struct StandardVerificationTests {
    @Test func referenceVectorVerifies() throws {
        try WebhookVerifier.verifyStandard(StandardReference.request(), secret: StandardReference.secret, now: StandardReference.now)
    }

    @Test func secretWithoutPrefixVerifies() throws {
        try WebhookVerifier.verifyStandard(
            StandardReference.request(), secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", now: StandardReference.now)
    }

    @Test func ourVectorVerifies() throws {
        try WebhookVerifier.verifyStandard(
            request(StandardOurs.headers, StandardOurs.body), secret: StandardOurs.secret, now: at(1_700_000_000))
    }

    @Test func anyV1EntryMatchesAndOtherVersionsAreIgnored() throws {
        let signature = "v1a,whatever v2,Zm9v v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " + StandardReference.signature
        try WebhookVerifier.verifyStandard(
            StandardReference.request(signature: signature), secret: StandardReference.secret, now: StandardReference.now)
    }

    @Test func headerNamesAreCaseInsensitive() throws {
        let request = request(
            [("Webhook-Id", StandardReference.id), ("WEBHOOK-TIMESTAMP", StandardReference.timestamp),
             ("Webhook-Signature", StandardReference.signature)],
            StandardReference.body)
        try WebhookVerifier.verifyStandard(request, secret: StandardReference.secret, now: StandardReference.now)
    }

    @Test func tamperedBodyIsRejected() {
        let error = failure {
            try WebhookVerifier.verifyStandard(
                StandardReference.request(body: #"{"test": 2432232315}"#), secret: StandardReference.secret, now: StandardReference.now)
        }
        #expect(error?.kind == .signatureMismatch)
        #expect(error?.message.contains("webhook-signature") == true)
    }

    @Test func tamperedIDIsRejected() {
        let error = failure {
            try WebhookVerifier.verifyStandard(
                StandardReference.request(id: "msg_other"), secret: StandardReference.secret, now: StandardReference.now)
        }
        #expect(error?.kind == .signatureMismatch)
    }

    @Test func wrongSecretIsRejected() {
        let error = failure {
            try WebhookVerifier.verifyStandard(StandardReference.request(), secret: StandardOurs.secret, now: StandardReference.now)
        }
        #expect(error?.kind == .signatureMismatch)
    }

    @Test func mismatchSaysHowManySignaturesWereChecked() {
        let signature = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1,AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        let error = failure {
            try WebhookVerifier.verifyStandard(
                StandardReference.request(signature: signature), secret: StandardReference.secret, now: StandardReference.now)
        }
        #expect(error?.kind == .signatureMismatch)
        #expect(error?.message.contains("2") == true)
    }

    @Test(arguments: ["webhook-id", "webhook-timestamp", "webhook-signature"])
    func missingHeaderIsNamed(_ name: String) {
        var request = StandardReference.request()
        request.headers.removeAll { $0.name == name }
        let error = failure {
            try WebhookVerifier.verifyStandard(request, secret: StandardReference.secret, now: StandardReference.now)
        }
        #expect(error?.kind == .missingHeader)
        #expect(error?.message.contains(name) == true)
    }

    @Test func malformedTimestampIsRejected() {
        let error = failure {
            try WebhookVerifier.verifyStandard(
                StandardReference.request(timestamp: "yesterday"), secret: StandardReference.secret, now: StandardReference.now)
        }
        #expect(error?.kind == .malformedHeader)
        #expect(error?.message.contains("webhook-timestamp") == true)
    }

    @Test(arguments: ["v1,not base64!", "v2,Zm9v", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1,Zm9v", ""])
    func malformedSignatureHeaderIsRejected(_ signature: String) {
        let error = failure {
            try WebhookVerifier.verifyStandard(
                StandardReference.request(signature: signature), secret: StandardReference.secret, now: StandardReference.now)
        }
        #expect(error?.kind == .malformedHeader)
        #expect(error?.message.contains("webhook-signature") == true)
    }

    @Test func timestampTooOldIsRejected() {
        let error = failure {
            try WebhookVerifier.verifyStandard(
                StandardReference.request(), secret: StandardReference.secret, now: at(1_614_265_330 + 301))
        }
        #expect(error?.kind == .timestampTooOld)
        #expect(error?.message.contains("301 s") == true)
    }

    @Test func timestampInFutureIsRejected() {
        let error = failure {
            try WebhookVerifier.verifyStandard(
                StandardReference.request(), secret: StandardReference.secret, now: at(1_614_265_330 - 301))
        }
        #expect(error?.kind == .timestampInFuture)
        #expect(error?.message.contains("301 s") == true)
    }

    @Test func timestampAtTheToleranceIsAccepted() throws {
        try WebhookVerifier.verifyStandard(StandardReference.request(), secret: StandardReference.secret, now: at(1_614_265_330 + 300))
        try WebhookVerifier.verifyStandard(StandardReference.request(), secret: StandardReference.secret, now: at(1_614_265_330 - 300))
        try WebhookVerifier.verifyStandard(
            StandardReference.request(), secret: StandardReference.secret, now: at(1_614_265_330 + 3600), tolerance: 3600)
    }

    @Test(arguments: ["whsec_", "whsec_***", ""])
    func unusableSecretIsRejected(_ secret: String) {
        let error = failure {
            try WebhookVerifier.verifyStandard(StandardReference.request(), secret: secret, now: StandardReference.now)
        }
        #expect(error?.kind == .invalidSecret)
    }
}

// MARK: - Lean

@Suite struct LeanVerificationTests {
    private func request(signature: String? = LeanVector.signature, body: String = LeanVector.body) -> WebhookRequest {
        BankHooksVerifyTests.request(signature.map { [("lean-signature", $0)] } ?? [("content-type", "application/json")], body)
    }

    @Test func validSignatureVerifies() throws {
        try WebhookVerifier.verifyLean(request(), secret: LeanVector.secret)
    }

    @Test func uppercaseHexIsAccepted() throws {
        try WebhookVerifier.verifyLean(request(signature: "sha512=" + LeanVector.hex.uppercased()), secret: LeanVector.secret)
    }

    /// During a rotation `lean-signature` is the new secret's; the old one's is in `lean-signature-previous`.
    @Test func thePreviousSecretsSignatureInItsOwnHeaderVerifies() throws {
        let rotated = BankHooksVerifyTests.request(
            [("lean-signature", "sha512=" + String(repeating: "ab", count: 64)), ("lean-signature-previous", LeanVector.signature)], LeanVector.body)
        try WebhookVerifier.verifyLean(rotated, secret: LeanVector.secret)
        let error = failure { try WebhookVerifier.verifyLean(rotated, secret: "whsec_other") }
        #expect(error?.kind == .signatureMismatch)
        // Without lean-signature the request is not Lean's, whatever the other header holds.
        let alone = BankHooksVerifyTests.request([("lean-signature-previous", LeanVector.signature)], LeanVector.body)
        #expect(failure { try WebhookVerifier.verifyLean(alone, secret: LeanVector.secret) }?.kind == .missingHeader)
    }

    @Test func theKeyIsTheWholeSecretTextNotItsDecoding() {
        let error = failure {
            try WebhookVerifier.verifyLean(request(), secret: "bGVhbi1zZWNyZXQtZm9yLXRlc3Rz")
        }
        #expect(error?.kind == .signatureMismatch)
    }

    @Test func tamperedBodyIsRejected() {
        let error = failure {
            try WebhookVerifier.verifyLean(request(body: LeanVector.body.replacingOccurrences(of: "e1", with: "e2")), secret: LeanVector.secret)
        }
        #expect(error?.kind == .signatureMismatch)
        #expect(error?.message.contains("lean-signature") == true)
    }

    @Test func wrongSecretIsRejected() {
        let error = failure { try WebhookVerifier.verifyLean(request(), secret: "whsec_other") }
        #expect(error?.kind == .signatureMismatch)
    }

    @Test func missingHeaderIsNamed() {
        let error = failure { try WebhookVerifier.verifyLean(request(signature: nil), secret: LeanVector.secret) }
        #expect(error?.kind == .missingHeader)
        #expect(error?.message.contains("lean-signature") == true)
    }

    @Test(arguments: [LeanVector.hex, "sha256=" + LeanVector.hex, "sha512=" + LeanVector.hex.dropLast(2), "sha512=zz" + LeanVector.hex.dropFirst(2)])
    func malformedHeaderIsRejected(_ signature: String) {
        let error = failure { try WebhookVerifier.verifyLean(request(signature: signature), secret: LeanVector.secret) }
        #expect(error?.kind == .malformedHeader)
        #expect(error?.message.contains("lean-signature") == true)
    }

    @Test func emptySecretIsRejected() {
        let error = failure { try WebhookVerifier.verifyLean(request(), secret: "") }
        #expect(error?.kind == .invalidSecret)
    }
}

// MARK: - Bridge

@Suite struct BridgeVerificationTests {
    private func request(signature: String?, body: String = BridgeVector.body) -> WebhookRequest {
        BankHooksVerifyTests.request(signature.map { [("BridgeApi-Signature", $0)] } ?? [], body)
    }

    @Test func validSignatureVerifies() throws {
        try WebhookVerifier.verifyBridge(request(signature: "v1=" + BridgeVector.oldHex), secrets: [BridgeVector.oldSecret])
    }

    @Test func twoSignaturesWhereOnlyTheSecondMatches() throws {
        let header = "v1=\(BridgeVector.oldHex),v1=\(BridgeVector.newHex)"
        try WebhookVerifier.verifyBridge(request(signature: header), secrets: [BridgeVector.newSecret])
        try WebhookVerifier.verifyBridge(request(signature: "v1=\(BridgeVector.oldHex), v1=\(BridgeVector.newHex)"), secrets: [BridgeVector.newSecret])
    }

    @Test func anySecretMayMatch() throws {
        try WebhookVerifier.verifyBridge(
            request(signature: "v1=" + BridgeVector.newHex), secrets: [BridgeVector.oldSecret, BridgeVector.newSecret])
    }

    @Test func lowercaseHexIsAccepted() throws {
        try WebhookVerifier.verifyBridge(request(signature: "v1=" + BridgeVector.newHex.lowercased()), secrets: [BridgeVector.newSecret])
    }

    @Test func headerNameIsCaseInsensitive() throws {
        let request = BankHooksVerifyTests.request([("bridgeapi-signature", "v1=" + BridgeVector.newHex)], BridgeVector.body)
        try WebhookVerifier.verifyBridge(request, secrets: [BridgeVector.newSecret])
    }

    @Test func tamperedBodyIsRejected() {
        let body = BridgeVector.body.replacingOccurrences(of: "1700000000000", with: "1700000000001")
        let error = failure {
            try WebhookVerifier.verifyBridge(
                request(signature: "v1=\(BridgeVector.oldHex),v1=\(BridgeVector.newHex)", body: body),
                secrets: [BridgeVector.oldSecret, BridgeVector.newSecret])
        }
        #expect(error?.kind == .signatureMismatch)
        #expect(error?.message.contains("2 v1 signatures") == true)
        #expect(error?.message.contains("BridgeApi-Signature") == true)
    }

    @Test func wrongSecretIsRejected() {
        let error = failure {
            try WebhookVerifier.verifyBridge(request(signature: "v1=" + BridgeVector.newHex), secrets: [BridgeVector.oldSecret])
        }
        #expect(error?.kind == .signatureMismatch)
    }

    @Test func missingHeaderIsNamed() {
        let error = failure { try WebhookVerifier.verifyBridge(request(signature: nil), secrets: [BridgeVector.newSecret]) }
        #expect(error?.kind == .missingHeader)
        #expect(error?.message.contains("BridgeApi-Signature") == true)
    }

    @Test(arguments: [BridgeVector.newHex, "v1=XYZ", "v2=" + BridgeVector.newHex, "v1=" + BridgeVector.newHex.dropLast(2), ""])
    func malformedHeaderIsRejected(_ signature: String) {
        let error = failure { try WebhookVerifier.verifyBridge(request(signature: signature), secrets: [BridgeVector.newSecret]) }
        #expect(error?.kind == .malformedHeader)
        #expect(error?.message.contains("BridgeApi-Signature") == true)
    }

    @Test func noSecretIsRejected() {
        let error = failure { try WebhookVerifier.verifyBridge(request(signature: "v1=" + BridgeVector.newHex), secrets: []) }
        #expect(error?.kind == .invalidSecret)
    }
}

// MARK: - Okra

@Suite struct OkraVerificationTests {
    private func request(authorization: String?, signed: Bool = false, body: String = OkraVector.body) -> WebhookRequest {
        var headers: [(String, String)] = signed ? OkraVector.headers : []
        if let authorization { headers.append(("Authorization", authorization)) }
        return BankHooksVerifyTests.request(headers, body)
    }

    @Test func rightTokenVerifies() throws {
        try WebhookVerifier.verifyOkra(request(authorization: "Bearer tok_123"), token: "tok_123", secret: nil)
    }

    @Test(arguments: ["Bearer tok_124", "Bearer tok_12", "Bearer tok_1234", "Bearer  tok_123"])
    func wrongTokenIsRejected(_ authorization: String) {
        let error = failure { try WebhookVerifier.verifyOkra(request(authorization: authorization), token: "tok_123", secret: nil) }
        #expect(error?.kind == .tokenMismatch)
    }

    @Test func notABearerTokenIsMalformed() {
        let error = failure { try WebhookVerifier.verifyOkra(request(authorization: "Basic dG9rXzEyMw=="), token: "tok_123", secret: nil) }
        #expect(error?.kind == .malformedHeader)
        #expect(error?.message.contains("Authorization") == true)
    }

    @Test func missingAuthorizationIsNamed() {
        let error = failure { try WebhookVerifier.verifyOkra(request(authorization: nil), token: "tok_123", secret: nil) }
        #expect(error?.kind == .missingHeader)
        #expect(error?.message.contains("Authorization") == true)
    }

    @Test func standardHeadersVerifyWithTheSecret() throws {
        try WebhookVerifier.verifyOkra(
            request(authorization: nil, signed: true), token: nil, secret: StandardOurs.secret, now: at(1_700_000_000))
        try WebhookVerifier.verifyOkra(
            request(authorization: "Bearer tok_123", signed: true), token: "tok_123", secret: StandardOurs.secret, now: at(1_700_000_000))
    }

    @Test func tamperedBodyIsRejectedWithTheSecret() {
        let error = failure {
            try WebhookVerifier.verifyOkra(
                request(authorization: "Bearer tok_123", signed: true, body: OkraVector.body.replacingOccurrences(of: "3}", with: "4}")),
                token: "tok_123", secret: StandardOurs.secret, now: at(1_700_000_000))
        }
        #expect(error?.kind == .signatureMismatch)
    }

    @Test func rightTokenDoesNotExcuseAMissingSignature() {
        let error = failure {
            try WebhookVerifier.verifyOkra(request(authorization: "Bearer tok_123"), token: "tok_123", secret: StandardOurs.secret, now: at(1_700_000_000))
        }
        #expect(error?.kind == .missingHeader)
    }

    @Test func neitherTokenNorSecretIsAnError() {
        let error = failure { try WebhookVerifier.verifyOkra(request(authorization: "Bearer tok_123"), token: nil, secret: nil) }
        #expect(error?.kind == .malformedRequest)
    }
}

// MARK: - Dispatch and helpers

@Suite struct DispatchTests {
    @Test func standardWithSeveralSecretsVerifiesIfAnyMatches() throws {
        try WebhookVerifier.verify(
            format: "standard", StandardReference.request(), secrets: [StandardOurs.secret, StandardReference.secret],
            now: StandardReference.now)
    }

    @Test func eachFormatDispatches() throws {
        try WebhookVerifier.verify(
            format: "lean", request([("lean-signature", LeanVector.signature)], LeanVector.body), secrets: ["x", LeanVector.secret])
        try WebhookVerifier.verify(
            format: "bridge", request([("BridgeApi-Signature", "v1=" + BridgeVector.newHex)], BridgeVector.body),
            secrets: [BridgeVector.newSecret])
        try WebhookVerifier.verify(
            format: "okra", request([("Authorization", "Bearer t")], OkraVector.body), secrets: [], token: "t")
        try WebhookVerifier.verify(
            format: "okra", request(OkraVector.headers, OkraVector.body), secrets: [StandardOurs.secret], now: at(1_700_000_000))
    }

    @Test func theWrongFormatFails() {
        let error = failure {
            try WebhookVerifier.verify(
                format: "lean", request([("BridgeApi-Signature", "v1=" + BridgeVector.newHex)], BridgeVector.body),
                secrets: [BridgeVector.newSecret])
        }
        #expect(error?.kind == .missingHeader)
    }

    @Test func unknownFormatIsAnError() {
        let error = failure { try WebhookVerifier.verify(format: "plaid", StandardReference.request(), secrets: [StandardReference.secret]) }
        #expect(error?.kind == .malformedRequest)
        #expect(error?.message.contains("plaid") == true)
    }

    @Test func constantTimeEqualComparesWholeArrays() {
        #expect(WebhookVerifier.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!WebhookVerifier.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!WebhookVerifier.constantTimeEqual([9, 2, 3], [1, 2, 3]))
        #expect(!WebhookVerifier.constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(WebhookVerifier.constantTimeEqual([], []))
    }

    @Test func hexDecodingAcceptsEitherCase() {
        #expect(WebhookVerifier.decodeHex("00ffAB") == [0x00, 0xFF, 0xAB])
        #expect(WebhookVerifier.decodeHex("0") == nil)
        #expect(WebhookVerifier.decodeHex("0g") == nil)
    }
}

// MARK: - Saved requests

@Suite struct SavedRequestTests {
    /// Python: hmac.new(b"bridge-new-secret", blank_body, hashlib.sha256).hexdigest().upper()
    static let blankBody = "{\"content\":{\"item_id\":1234567890,\"status\":0,\"user_uuid\":\"9a95b38f-f98b-417a-988b-9d0d584893e7\"},\r\n\r\n\"timestamp\":1700000000000,\n\n\"type\":\"TEST_EVENT\"}\n\n"
    static let blankBodyHex = "42FF54DF6E645C76AF2D690E3C0E2BEEDDC1E63E12560102A19ECCD260D5A80F"

    @Test func crlfWithRequestLineAndBlankLinesInTheBody() throws {
        let saved = "POST /hooks/bridge HTTP/1.1\r\nHost: example.test\r\nContent-Type: application/json\r\nBridgeApi-Signature:   v1=\(Self.blankBodyHex)  \r\n\r\n" + Self.blankBody
        let request = try WebhookRequest.parse(saved: Array(saved.utf8))
        #expect(request.headers.count == 3)
        #expect(request.header("host") == "example.test")
        #expect(request.header("CONTENT-TYPE") == "application/json")
        #expect(request.header("BridgeApi-Signature") == "v1=\(Self.blankBodyHex)")
        #expect(request.body == Array(Self.blankBody.utf8))
        try WebhookVerifier.verifyBridge(request, secrets: [BridgeVector.newSecret])
        let event = try EventDecoder.decode(format: "bridge", request)
        #expect(event.type == "TEST_EVENT")
    }

    @Test func lfWithoutRequestLine() throws {
        let saved = "Content-Type: application/json\nBridgeApi-Signature: v1=\(Self.blankBodyHex)\n\n" + Self.blankBody
        let request = try WebhookRequest.parse(saved: Array(saved.utf8))
        #expect(request.headers.map(\.name) == ["Content-Type", "BridgeApi-Signature"])
        #expect(request.body == Array(Self.blankBody.utf8))
        try WebhookVerifier.verifyBridge(request, secrets: [BridgeVector.newSecret])
    }

    @Test func lfWithRequestLineAndStandardHeaders() throws {
        let saved = "POST http://127.0.0.1:9000/hook HTTP/1.1\nwebhook-id: \(StandardReference.id)\nwebhook-timestamp: \(StandardReference.timestamp)\nwebhook-signature: \(StandardReference.signature)\n\n\(StandardReference.body)"
        let request = try WebhookRequest.parse(saved: Array(saved.utf8))
        #expect(request.headers.count == 3)
        try WebhookVerifier.verifyStandard(request, secret: StandardReference.secret, now: StandardReference.now)
    }

    @Test func firstValueWinsAndBodyMayBeEmpty() throws {
        let request = try WebhookRequest.parse(saved: Array("X-A: 1\r\nx-a: 2\r\n\r\n".utf8))
        #expect(request.header("X-A") == "1")
        #expect(request.body.isEmpty)
        let unterminated = try WebhookRequest.parse(saved: Array("X-A: 1\n".utf8))
        #expect(unterminated.header("x-a") == "1")
        #expect(unterminated.body.isEmpty)
    }

    @Test func bodyBytesAreKeptExactly() throws {
        var saved = Array("A: b\r\n\r\n".utf8)
        let body: [UInt8] = [0x0D, 0x0A, 0x00, 0xFF, 0x20, 0x0A, 0x0A]
        saved += body
        #expect(try WebhookRequest.parse(saved: saved).body == body)
    }

    @Test(arguments: ["", "{\"type\":\"x\"}\n\n{}", "Good: 1\nno colon here\n\n", ": empty name\n\n"])
    func malformedSavedRequestIsRejected(_ saved: String) {
        let error = failure { _ = try WebhookRequest.parse(saved: Array(saved.utf8)) }
        #expect(error?.kind == .malformedRequest)
    }
}

// MARK: - Event decoding

/// Test-only models, so envelope tests do not depend on the built-in models' shapes.
private struct PayloadID: CatalogEvent, Equatable {
    var id: String
}

private struct OkraTransactionsData: CatalogEvent, Equatable {
    var record: String
    var newTransactions: Int
    enum CodingKeys: String, CodingKey {
        case record
        case newTransactions = "new_transactions"
    }
}

private let testCatalog = EventCatalog([
    EventTypeDefinition(name: "entity.created", family: .lean, description: "test", schema: #"{"type":"object"}"#, model: PayloadID.self),
    EventTypeDefinition(
        name: "TRANSACTIONS.INITIAL_TRANSACTIONS", family: .okra, description: "test",
        schema: #"{"type":"object","properties":{"record":{"type":"string"},"new_transactions":{"type":"integer"}}}"#,
        model: OkraTransactionsData.self),
])

/// Whether two JSON texts are the same JSON value.
private func sameJSON(_ a: [UInt8], _ b: String) throws -> Bool {
    let left = try JSONSerialization.jsonObject(with: Data(a), options: [.fragmentsAllowed])
    let right = try JSONSerialization.jsonObject(with: Data(b.utf8), options: [.fragmentsAllowed])
    return NSArray(array: [left]).isEqual(NSArray(array: [right]))
}

private func encoded(_ event: any CatalogEvent) throws -> [UInt8] {
    Array(try JSONEncoder().encode(event))
}

private func decodingFailure(_ body: () throws -> Void) -> EventDecodingError? {
    do {
        try body()
        return nil
    } catch let error as EventDecodingError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

private func headers(_ pairs: [(String, String)]) -> [(name: String, value: String)] {
    pairs.map { (name: $0.0, value: $0.1) }
}

@Suite struct EventDecoderTests {
    @Test func standardEnvelope() throws {
        let event = try EventDecoder.decode(format: "standard", body: Array(StandardOurs.body.utf8), headers: headers(StandardOurs.headers))
        #expect(event.type == "TEST_EVENT")
        #expect(event.eventID == StandardOurs.id)
        #expect(event.timestamp == "2024-01-02T03:04:05.678Z")
        #expect(event.rawData == Array(StandardOurs.data.utf8))
        #expect(try sameJSON(encoded(event.data), StandardOurs.data))
    }

    @Test func leanWebhookEnvelope() throws {
        let event = try EventDecoder.decode(
            format: "lean", body: Array(LeanVector.body.utf8), headers: headers([("lean-signature", LeanVector.signature)]),
            catalog: testCatalog)
        #expect(event.type == "entity.created")
        #expect(event.eventID == "5b7a3c3e-9f5e-4a4e-8f0b-1c2d3e4f5a6b")
        #expect(event.timestamp == "2024-01-02T03:04:05.678Z")
        #expect(event.rawData == Array(LeanVector.payload.utf8))
        #expect(event.data as? PayloadID == PayloadID(id: "e1"))
    }

    @Test func leanCallbackBody() throws {
        let body = #"{"status":{"code":"401","message":"x"},"data":null}"#
        let event = try EventDecoder.decode(format: "lean", body: Array(body.utf8), headers: [])
        #expect(event.type == "bank_link.result")
        #expect(event.eventID == nil)
        #expect(event.timestamp == nil)
        #expect(event.rawData == Array(body.utf8))
        #expect(try sameJSON(encoded(event.data), body))
    }

    @Test func okraEnvelope() throws {
        let event = try EventDecoder.decode(
            format: "okra", body: Array(OkraVector.body.utf8), headers: headers(OkraVector.headers), catalog: testCatalog)
        #expect(event.type == "TRANSACTIONS.INITIAL_TRANSACTIONS")
        #expect(event.eventID == "evt_okra_1")
        #expect(event.timestamp == nil)
        #expect(event.rawData == Array(#"{"record":"rec_1","new_transactions":3}"#.utf8))
        #expect(event.data as? OkraTransactionsData == OkraTransactionsData(record: "rec_1", newTransactions: 3))
    }

    @Test func bridgeEnvelope() throws {
        let event = try EventDecoder.decode(format: "bridge", body: Array(BridgeVector.body.utf8), headers: [])
        #expect(event.type == "TEST_EVENT")
        #expect(event.eventID == nil)
        #expect(event.timestamp == "1700000000000")
        #expect(event.rawData == Array(BridgeVector.content.utf8))
        #expect(try sameJSON(encoded(event.data), BridgeVector.content))
    }

    @Test func escapedStringsAndWhitespaceAreRead() throws {
        let body = "{ \"type\" : \"TEST\\u005FEVENT\" ,\n \"timestamp\": 1700000000000, \"content\" : {\"item_id\":1,\"status\":0,\"user_uuid\":\"a\\\"b\"} }"
        let event = try EventDecoder.decode(format: "bridge", body: Array(body.utf8), headers: [])
        #expect(event.type == "TEST_EVENT")
        #expect(event.rawData == Array(#"{"item_id":1,"status":0,"user_uuid":"a\"b"}"#.utf8))
    }

    @Test func unknownTypeIsNamed() {
        let error = decodingFailure {
            _ = try EventDecoder.decode(format: "standard", body: Array(#"{"type":"no.such.type","data":{}}"#.utf8), headers: [])
        }
        #expect(error?.kind == .unknownType)
        #expect(error?.message.contains("no.such.type") == true)
    }

    @Test func dataThatDoesNotMatchTheModelSaysWhere() {
        let body = #"{"content":{"status":0,"user_uuid":"x"},"timestamp":1,"type":"TEST_EVENT"}"#
        let error = decodingFailure { _ = try EventDecoder.decode(format: "bridge", body: Array(body.utf8), headers: []) }
        #expect(error?.kind == .invalidData)
        #expect(error?.dataError?.pointer == "/item_id")
        #expect(error?.message.contains("TEST_EVENT") == true)
    }

    @Test(arguments: [
        ("standard", "not json", EventDecodingError.Kind.malformedBody),
        ("standard", "[1,2]", .malformedBody),
        ("standard", #"{"type":"TEST_EVENT"} trailing"#, .malformedBody),
        ("standard", #"{"type":"TEST_EVENT","timestamp":"t"}"#, .missingField),
        ("standard", #"{"type":7,"data":{}}"#, .missingField),
        ("lean", #"{"type":"entity.created"}"#, .missingField),
        ("okra", #"{"callback_type":"TRANSACTIONS","record":"r"}"#, .missingField),
        ("bridge", #"{"content":{},"timestamp":"soon","type":"TEST_EVENT"}"#, .invalidData),
        ("bridge", #"{"content":{},"timestamp":1.5,"type":"TEST_EVENT"}"#, .missingField),
        ("plaid", "{}", .unknownFormat),
    ])
    func malformedEnvelopesSayWhatIsWrong(_ format: String, _ body: String, _ kind: EventDecodingError.Kind) {
        let error = decodingFailure { _ = try EventDecoder.decode(format: format, body: Array(body.utf8), headers: []) }
        #expect(error?.kind == kind)
    }

    @Test func envelopeNeedsNoCatalog() throws {
        let envelope = try EventDecoder.envelope(
            format: "standard", body: Array(#"{"type":"app.custom","timestamp":"t","data":{"a":[1,{"b":null}]}}"#.utf8), headers: [])
        #expect(envelope.type == "app.custom")
        #expect(envelope.rawData == Array(#"{"a":[1,{"b":null}]}"#.utf8))
    }
}
