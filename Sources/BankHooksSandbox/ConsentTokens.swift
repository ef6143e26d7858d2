import BankHooksCore
import Crypto
import Foundation
import JWTKit

/// What a verified consent token says (Yapily's claims, auth-flows §3.4).
public struct ConsentTokenClaims: Hashable, Sendable {
    /// `CONSENT`.
    public var consentID: String
    /// `INSTITUTION`.
    public var institutionID: String
    /// `APPLICATION_USER_ID` (absent when the authorisation named none).
    public var applicationUserID: String?
    /// `USER`: the user uuid.
    public var userUUID: String
    /// `iat`, whole seconds.
    public var issuedAt: Timestamp
    /// `exp` (the consent's expiry), whole seconds.
    public var expiresAt: Timestamp
}

/// What a verified one-time token says.
public struct OneTimeTokenClaims: Hashable, Sendable {
    /// `INSTITUTION`.
    public var institutionID: String
    /// `UUID`: random, so two tokens for one consent differ.
    public var uuid: String
    /// `exp`, whole seconds.
    public var expiresAt: Timestamp
}

/// Signs and checks the sandbox's tokens: consent tokens (JWT HS512, header
/// `{"typ":"JWT","alg":"HS512"}`, claims `INSTITUTION`, `CONSENT`, `APPLICATION_USER_ID`, `USER`,
/// `iat`, `exp`) and one-time tokens (JWT HS512, `INSTITUTION`, `UUID`, `exp`). The key is derived
/// from the master key (HKDF-SHA256, info `bankhooks consent tokens v1`, 64 bytes as HS512 wants),
/// so tokens survive a restart without a key file of their own; without a master key (tests), a
/// random key for the process. A consent token is a pure function of its consent, so it is never stored.
public struct ConsentTokens: Sendable {
    /// The HKDF info naming this key's purpose.
    public static let keyInfo = "bankhooks consent tokens v1"
    /// The key of a process without a master key: one for the whole process, so every
    /// `ConsentTokens` made from such a sealer checks the others' tokens.
    static let processKey = SymmetricKey(size: SymmetricKeySize(bitCount: keyByteCount * 8))
    /// HS512 keys are at least the hash's output (64 bytes); jwt-kit asserts it.
    static let keyByteCount = 64

    private let key: SymmetricKey

    /// Tokens keyed by the sealer's master key (or the process key when it has none).
    public init(sealer: SecretSealer) {
        key = sealer.box?.derivedKey(info: Self.keyInfo, byteCount: Self.keyByteCount) ?? Self.processKey
    }

    // MARK: Consent tokens

    /// The consent's token: the same text every time for the same consent.
    public func consentToken(for consent: Consent) async throws -> String {
        let payload = ConsentTokenPayload(
            institution: consent.institutionID, consent: consent.id, applicationUserID: consent.applicationUserID, user: consent.userUUID,
            iat: consent.authorizedAt.seconds, exp: consent.expiresAt.seconds)
        return try await keys().sign(payload)
    }

    /// The claims of a consent token this installation signed; throws `consentInvalid` for any
    /// other text (malformed, forged, another key's). Expiry is for the caller to check with its clock.
    public func verify(consentToken: String) async throws -> ConsentTokenClaims {
        guard Self.isPlausibleToken(consentToken), Self.hasExpectedHeader(consentToken),
              let payload = try? await keys().verify(consentToken, as: ConsentTokenPayload.self)
        else { throw SandboxError(.consentInvalid, "the consent token is not valid") }
        return ConsentTokenClaims(
            consentID: payload.consent, institutionID: payload.institution, applicationUserID: payload.applicationUserID,
            userUUID: payload.user, issuedAt: Timestamp(milliseconds: payload.iat &* 1000),
            expiresAt: Timestamp(milliseconds: payload.exp &* 1000))
    }

    // MARK: One-time tokens

    /// A new one-time token for the consent, valid until `expiresAt` (a random `UUID` claim makes each one unique).
    public func oneTimeToken(for consent: Consent, expiresAt: Timestamp) async throws -> String {
        let payload = OneTimeTokenPayload(institution: consent.institutionID, uuid: UUID().uuidString.lowercased(), exp: expiresAt.seconds)
        return try await keys().sign(payload)
    }

    /// The claims of a one-time token this installation signed; nil for any other text.
    public func verify(oneTimeToken: String) async -> OneTimeTokenClaims? {
        guard Self.isPlausibleToken(oneTimeToken), Self.hasExpectedHeader(oneTimeToken),
              let payload = try? await keys().verify(oneTimeToken, as: OneTimeTokenPayload.self)
        else { return nil }
        return OneTimeTokenClaims(institutionID: payload.institution, uuid: payload.uuid, expiresAt: Timestamp(milliseconds: payload.exp &* 1000))
    }

    /// How a one-time token is stored: the SHA-256 of its text, lower-case hex.
    public static func hash(oneTimeToken: String) -> String {
        SHA256.hash(data: Array(oneTimeToken.utf8)).map { byte in
            let hex = Array("0123456789abcdef".utf8)
            return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
        }.joined()
    }

    // MARK: Parts

    /// A key collection with the one HS512 key (cheap: an actor and an HMAC signer).
    private func keys() async -> JWTKeyCollection {
        let serializer = DefaultJWTSerializer(jsonEncoder: TokenJSONEncoder())
        return await JWTKeyCollection().add(hmac: HMACKey(key: key), digestAlgorithm: .sha512, serializer: serializer)
    }

    /// Longest token text looked at (a consent token is a few hundred bytes).
    static let maxTokenLength = 4096

    /// Three base64url parts, within the length bound.
    static func isPlausibleToken(_ text: String) -> Bool {
        guard text.utf8.count <= maxTokenLength else { return false }
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        // An HS512 signature is 64 bytes: 86 base64url characters whose last carries 2 bits and
        // 4 zero bits (A, Q, g or w). Any other last character decodes to the same bytes, so
        // without this one signed token would have several spellings that all verify.
        guard parts.count == 3, parts[2].count == 86, let last = parts[2].last, Array("AQgw".utf8).contains(last) else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.allSatisfy { byte in
                (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: "_")
            }
        }
    }

    /// The header the sandbox writes, byte for byte: nothing else (`alg: none`, another algorithm) is even tried.
    static func hasExpectedHeader(_ text: String) -> Bool {
        text.hasPrefix(TokenJSONEncoder.encodedHeader + ".")
    }
}

/// A consent token's claims, in Yapily's order.
struct ConsentTokenPayload: JWTPayload {
    var institution: String
    var consent: String
    var applicationUserID: String?
    var user: String
    var iat: Int64
    var exp: Int64

    enum CodingKeys: String, CodingKey {
        case institution = "INSTITUTION"
        case consent = "CONSENT"
        case applicationUserID = "APPLICATION_USER_ID"
        case user = "USER"
        case iat
        case exp
    }

    /// Expiry is checked by the bank against its injected clock, not here.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// A one-time token's claims.
struct OneTimeTokenPayload: JWTPayload {
    var institution: String
    var uuid: String
    var exp: Int64

    enum CodingKeys: String, CodingKey {
        case institution = "INSTITUTION"
        case uuid = "UUID"
        case exp
    }

    /// Expiry is checked by the store (the redeem compares with the bank's clock).
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Writes tokens' JSON in a fixed order: the header as Yapily's (`{"typ":"JWT","alg":"HS512"}`,
/// Foundation would order a dictionary by hash), the claims in their declared order.
struct TokenJSONEncoder: JWTJSONEncoder {
    static let header = #"{"typ":"JWT","alg":"HS512"}"#
    /// `header`, base64url without padding.
    static let encodedHeader = Data(header.utf8).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")

    func encode<T: Encodable>(_ value: T) throws -> Data {
        if let header = value as? JWTHeader {
            guard header.fields.count == 2, header.fields["typ"]?.asString == "JWT", header.fields["alg"]?.asString == "HS512" else {
                throw SandboxError(.invalidField, "the sandbox signs HS512 JWTs only")
            }
            return Data(Self.header.utf8)
        }
        return Data(try OrderedJSONEncoder.encode(value))
    }
}
