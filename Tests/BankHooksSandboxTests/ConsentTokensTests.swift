import BankHooksCore
import BankHooksSandbox
import Crypto
import Foundation
import Testing

/// Consent tokens and one-time tokens: Yapily's shape, signed HS512 with a key derived from the master key.
@Suite struct ConsentTokensTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    func consent(applicationUserID: String? = "mofe-2") -> Consent {
        Consent(
            id: "56a42244-414a-4b52-8c4f-4ad2a50e82fe", applicationID: "app_a", authorisationID: "56a42244-414a-4b52-8c4f-4ad2a50e82fe",
            institutionID: "modelo-sandbox", applicationUserID: applicationUserID, userUUID: "ca412fdf-5a30-43a2-88b7-5964a24a8e55",
            login: "user", permissions: ["accounts"], createdAt: t0, authorizedAt: t0, expiresAt: t0.adding(.seconds(90 * 86400)),
            leanEntityID: "e", okraRecordID: "r", bridgeItemID: 1)
    }

    /// A JWT part as JSON text.
    static func decodePart(_ part: Substring) throws -> String {
        var base64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return String(decoding: try #require(Data(base64Encoded: base64)), as: UTF8.self)
    }

    static var masterKey: SecretSealer { SecretSealer(box: SecretBox(keyBytes: Array(repeating: 7, count: 32))) }

    /// Header and claims as Yapily's example prints them (auth-flows §3.4), in that order.
    @Test func consentTokenHasYapilysShape() async throws {
        let tokens = ConsentTokens(sealer: Self.masterKey)
        let token = try await tokens.consentToken(for: consent())
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        #expect(token.hasPrefix("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9."))
        #expect(try Self.decodePart(parts[0]) == #"{"typ":"JWT","alg":"HS512"}"#)
        #expect(try Self.decodePart(parts[1]) == #"{"INSTITUTION":"modelo-sandbox","CONSENT":"56a42244-414a-4b52-8c4f-4ad2a50e82fe","#
            + #""APPLICATION_USER_ID":"mofe-2","USER":"ca412fdf-5a30-43a2-88b7-5964a24a8e55","iat":1700000000,"exp":1707776000}"#)
        // HS512: a 64-byte signature.
        #expect(parts[2].count == 86)
        let without = try await tokens.consentToken(for: consent(applicationUserID: nil))
        #expect(!(try Self.decodePart(without.split(separator: ".")[1])).contains("APPLICATION_USER_ID"))
    }

    /// The signature is HMAC-SHA512 under HKDF-SHA256(master key, "bankhooks consent tokens v1", 64 bytes).
    @Test func keyIsDerivedFromTheMasterKey() async throws {
        let token = try await ConsentTokens(sealer: Self.masterKey).consentToken(for: consent())
        let parts = token.split(separator: ".")
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Array(repeating: UInt8(7), count: 32)), info: Array("bankhooks consent tokens v1".utf8),
            outputByteCount: 64)
        let mac = HMAC<SHA512>.authenticationCode(for: Array("\(parts[0]).\(parts[1])".utf8), using: key)
        let expected = Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        #expect(String(parts[2]) == expected)
        // Another master key signs differently, and neither checks the other's tokens.
        let other = ConsentTokens(sealer: SecretSealer(box: SecretBox(keyBytes: Array(repeating: 8, count: 32))))
        await #expect(throws: SandboxError.self) { try await other.verify(consentToken: token) }
    }

    /// A token verifies to its claims; the same consent always gives the same token (nothing stored).
    @Test func verifiesAndIsStable() async throws {
        let tokens = ConsentTokens(sealer: Self.masterKey)
        let token = try await tokens.consentToken(for: consent())
        #expect(try await tokens.consentToken(for: consent()) == token)
        let claims = try await tokens.verify(consentToken: token)
        #expect(claims.consentID == "56a42244-414a-4b52-8c4f-4ad2a50e82fe")
        #expect(claims.institutionID == "modelo-sandbox")
        #expect(claims.applicationUserID == "mofe-2")
        #expect(claims.userUUID == "ca412fdf-5a30-43a2-88b7-5964a24a8e55")
        #expect(claims.expiresAt == t0.adding(.seconds(90 * 86400)))
        // Without a master key: one key for the process, so two instances agree.
        let a = ConsentTokens(sealer: SecretSealer(box: nil)), b = ConsentTokens(sealer: SecretSealer(box: nil))
        _ = try await b.verify(consentToken: try await a.consentToken(for: consent()))
        await #expect(throws: SandboxError.self) { try await tokens.verify(consentToken: try await a.consentToken(for: consent())) }
    }

    /// Forgeries are refused: a changed claim, `alg: none`, another algorithm's header, garbage.
    @Test func forgeriesAreRefused() async throws {
        let tokens = ConsentTokens(sealer: Self.masterKey)
        let token = try await tokens.consentToken(for: consent())
        let parts = token.split(separator: ".").map(String.init)
        func b64(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let otherConsent = b64(#"{"INSTITUTION":"modelo-sandbox","CONSENT":"00000000-0000-4000-8000-000000000000","USER":"u","iat":1,"exp":9999999999}"#)
        let forged = [
            parts[0] + "." + otherConsent + "." + parts[2],
            b64(#"{"typ":"JWT","alg":"none"}"#) + "." + parts[1] + ".",
            b64(#"{"typ":"JWT","alg":"none"}"#) + "." + parts[1] + "." + parts[2],
            b64(#"{"alg":"HS256","typ":"JWT"}"#) + "." + parts[1] + "." + parts[2],
            parts[0] + "." + parts[1] + "." + String(parts[2].reversed()),
            parts[0] + "." + parts[1],
            "", "not a token", "a.b.c", token + ".", " " + token, String(repeating: "a", count: 5000),
        ]
        for text in forged {
            await #expect(throws: SandboxError.self, "\(text.prefix(60))") { try await tokens.verify(consentToken: text) }
        }
        // The signature's last character carries 4 unused bits: every other spelling of the same
        // bytes is refused (review run: `…A` for `…D` verified).
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let last = parts[2].last!, index = alphabet.firstIndex(of: last)!
        #expect(index % 16 == 0)
        for sibling in alphabet[(index / 16 * 16)..<(index / 16 * 16 + 16)] where sibling != last {
            let respelt = token.dropLast() + String(sibling)
            await #expect(throws: SandboxError.self) { try await tokens.verify(consentToken: String(respelt)) }
        }
        // A one-time token is not a consent token.
        let ott = try await tokens.oneTimeToken(for: consent(), expiresAt: t0.adding(.seconds(600)))
        #expect(await tokens.verify(oneTimeToken: ott) != nil)
        for sibling in ["B", "R", "h", "x"] {
            #expect(await tokens.verify(oneTimeToken: String(ott.dropLast()) + sibling) == nil)
        }
        await #expect(throws: SandboxError.self) { try await tokens.verify(consentToken: ott) }
        #expect(await tokens.verify(oneTimeToken: token) == nil)
    }

    /// One-time tokens: JWT HS512 with `INSTITUTION`, a random `UUID`, `exp`; each one different; stored as SHA-256 hex.
    @Test func oneTimeTokens() async throws {
        let tokens = ConsentTokens(sealer: Self.masterKey)
        let expiresAt = t0.adding(.seconds(600))
        let first = try await tokens.oneTimeToken(for: consent(), expiresAt: expiresAt)
        let second = try await tokens.oneTimeToken(for: consent(), expiresAt: expiresAt)
        #expect(first != second)
        #expect(first.hasPrefix("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9."))
        let payload = try Self.decodePart(first.split(separator: ".")[1])
        #expect(payload.hasPrefix(#"{"INSTITUTION":"modelo-sandbox","UUID":""#))
        #expect(payload.hasSuffix(#","exp":1700000600}"#))
        let claims = try #require(await tokens.verify(oneTimeToken: first))
        #expect(claims.institutionID == "modelo-sandbox" && claims.expiresAt == expiresAt)
        #expect(UUID(uuidString: claims.uuid) != nil && claims.uuid == claims.uuid.lowercased())
        #expect(await tokens.verify(oneTimeToken: first + "x") == nil)
        let hash = ConsentTokens.hash(oneTimeToken: first)
        #expect(hash.count == 64 && hash.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(hash == SHA256.hash(data: Array(first.utf8)).map { String(format: "%02x", $0) }.joined())
        #expect(ConsentTokens.hash(oneTimeToken: second) != hash)
    }
}
