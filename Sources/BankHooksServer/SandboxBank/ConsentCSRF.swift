import BankHooksCore
import Crypto
import Foundation

/// The consent form's CSRF protection: a double-submit cookie bound to the authorisation.
/// The page sets a random cookie (`bh_csrf`: HttpOnly, SameSite=Lax, Path=/sandbox-bank) and
/// embeds `csrf` = HMAC-SHA256(key, cookie + authorisation id) in the form; a POST must carry
/// both, matching. A page from another site can neither read the cookie nor forge the field, and
/// a field lifted from one authorisation's form does not fit another's. Lax, not Strict: the user
/// always arrives by a cross-site navigation from the app, on which a Strict cookie is not sent,
/// so each arrival would mint a new cookie and break a form already open in another tab; Lax is
/// still not sent on a cross-site POST.
struct ConsentCSRF: Sendable {
    static let cookieName = "bh_csrf"
    /// Where the cookie is sent: the bank's pages only, never the API.
    static let cookiePath = "/sandbox-bank"
    /// 32 random bytes, base64url without padding.
    static let cookieLength = 43

    private let key: SymmetricKey
    /// Whether the cookie carries `Secure` (the public URL is https).
    let isSecure: Bool

    /// `key`: 32 or more bytes of secret (derived from the master key, or random per process).
    init(key: SymmetricKey, isSecure: Bool = false) {
        self.key = key
        self.isSecure = isSecure
    }

    /// The HKDF info naming this key's purpose.
    static let keyInfo = "bankhooks consent page csrf v1"
    /// The key of a process without a master key (tests).
    static let processKey = SymmetricKey(size: .bits256)

    /// Keyed by the master key, so a form still verifies after a restart (or the process key without one).
    init(sealer: SecretSealer, isSecure: Bool = false) {
        self.init(key: sealer.box?.derivedKey(info: Self.keyInfo) ?? Self.processKey, isSecure: isSecure)
    }

    /// A key of its own (tests: another server's forms must not verify here).
    static func random(isSecure: Bool = false) -> ConsentCSRF {
        ConsentCSRF(key: SymmetricKey(size: .bits256), isSecure: isSecure)
    }

    /// A fresh cookie value.
    static func newCookieValue() -> String {
        base64url(Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }))
    }

    /// Whether a cookie value is one `newCookieValue` could have made (anything else is replaced).
    static func isWellFormed(_ value: String) -> Bool {
        value.utf8.count == cookieLength && value.utf8.allSatisfy { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }

    /// The form field for this cookie and authorisation (64 lower-case hex).
    func token(cookie: String, authorisationID: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data((cookie + authorisationID).utf8), using: key)
        return mac.map { byte in String(format: "%02x", byte) }.joined()
    }

    /// Whether a POST's cookie and field belong together for this authorisation (constant time).
    func verify(cookie: String?, token: String?, authorisationID: String) -> Bool {
        guard let cookie, let token, Self.isWellFormed(cookie), token.utf8.count == 64 else { return false }
        let expected = Array(self.token(cookie: cookie, authorisationID: authorisationID).utf8)
        var difference: UInt8 = 0
        for (a, b) in zip(expected, Array(token.utf8)) { difference |= a ^ b }
        return difference == 0
    }

    /// The `Set-Cookie` value for `value`.
    func setCookie(_ value: String) -> String {
        "\(Self.cookieName)=\(value); Path=\(Self.cookiePath); HttpOnly; SameSite=Lax" + (isSecure ? "; Secure" : "")
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
