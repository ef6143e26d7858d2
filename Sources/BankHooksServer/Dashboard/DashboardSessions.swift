import BankHooksCore
import Crypto
import Foundation
import Synchronization

/// The dashboard's sessions, kept in this process's memory: a random id in an `HttpOnly`,
/// `SameSite=Strict` cookie names one, which holds the key it was opened with (as a principal:
/// the key text itself is never kept), its CSRF token and a one-time message for the next page.
/// A session ends on sign out, after `idleTimeout` without a request, `lifetime` after sign in,
/// or when its key is revoked. Sessions do not survive a restart and are not shared between
/// nodes (several nodes need sticky routing for the dashboard).
final class DashboardSessions: Sendable {
    /// How long sessions last.
    struct Configuration: Sendable {
        /// Ended after this long without a request.
        var idleTimeout: Duration = .seconds(30 * 60)
        /// Ended this long after sign in, whatever happens.
        var lifetime: Duration = .seconds(12 * 3600)
        /// The most sessions kept; past it, the one idle longest is ended.
        var maxSessions = 10_000
    }

    /// What a page shows once, after a redirect: a message, and a secret or a send's result.
    struct Flash: Sendable {
        enum Kind: String, Sendable { case success, problem }
        var kind: Kind
        var message: String
        /// A webhook's new secret (after create and rotate), shown on this one page only.
        var secret: String?
        /// A send's result ("Send a test", resend).
        var send: SendOutcome?
        /// What `secret` is, as its heading says (nil: a webhook's signing secret).
        var secretLabel: String?
    }

    /// What one send got back, as the API answered it.
    struct SendOutcome: Sendable {
        var succeeded: Bool
        var status: Int?
        var durationMs: Double
        var error: String?
        var responseExcerpt: String?
        var deliveryID: Int64?
    }

    struct Session: Sendable {
        var id: String
        var principal: Principal
        /// The value every form of this session carries as `csrf` (64 hex).
        var csrf: String
        var createdAt: Timestamp
        var lastSeenAt: Timestamp
        var flash: Flash?
    }

    static let cookieName = "bh_session"
    /// Where the cookie is sent: the dashboard only.
    static let cookiePath = "/dashboard"

    let configuration: Configuration
    /// Whether cookies carry `Secure` (the public URL is https).
    let isSecure: Bool
    private let sessions = Mutex<[String: Session]>([:])

    init(configuration: Configuration = Configuration(), isSecure: Bool) {
        self.configuration = configuration
        self.isSecure = isSecure
    }

    /// Opens a session for `principal` and returns it (its id is the cookie's value).
    func open(for principal: Principal, now: Timestamp) -> Session {
        let session = Session(id: Self.randomToken(), principal: principal, csrf: Self.randomHex(), createdAt: now, lastSeenAt: now)
        sessions.withLock { sessions in
            if sessions.count >= configuration.maxSessions {
                sessions = sessions.filter { isLive($0.value, now: now) }
                if sessions.count >= configuration.maxSessions, let oldest = sessions.values.min(by: { $0.lastSeenAt < $1.lastSeenAt }) {
                    sessions.removeValue(forKey: oldest.id)
                }
            }
            sessions[session.id] = session
        }
        return session
    }

    /// The live session a cookie names, marked as seen now; nil (and ended) when it has expired.
    func session(id: String?, now: Timestamp) -> Session? {
        guard let id, id.utf8.count == 43 else { return nil }
        return sessions.withLock { sessions in
            guard var session = sessions[id] else { return nil }
            guard isLive(session, now: now) else {
                sessions.removeValue(forKey: id)
                return nil
            }
            session.lastSeenAt = now
            sessions[id] = session
            return session
        }
    }

    /// Ends a session (sign out, or its key no longer works).
    func end(id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    /// Keeps a message for the session's next page.
    func setFlash(_ flash: Flash, id: String) {
        sessions.withLock { $0[id]?.flash = flash }
    }

    /// The message kept for this page, removed as it is read (a reload does not show it again).
    func takeFlash(id: String) -> Flash? {
        sessions.withLock { sessions in
            let flash = sessions[id]?.flash
            sessions[id]?.flash = nil
            return flash
        }
    }

    private func isLive(_ session: Session, now: Timestamp) -> Bool {
        now < session.lastSeenAt.adding(configuration.idleTimeout) && now < session.createdAt.adding(configuration.lifetime)
    }

    // MARK: Cookies

    /// The `Set-Cookie` value that opens `session` in the browser.
    func setCookie(_ session: Session) -> String {
        let seconds = configuration.lifetime.components.seconds
        return "\(Self.cookieName)=\(session.id); Path=\(Self.cookiePath); Max-Age=\(seconds); HttpOnly; SameSite=Strict" + (isSecure ? "; Secure" : "")
    }

    /// The `Set-Cookie` value that removes the cookie.
    var clearCookie: String {
        "\(Self.cookieName)=; Path=\(Self.cookiePath); Max-Age=0; HttpOnly; SameSite=Strict" + (isSecure ? "; Secure" : "")
    }

    // MARK: Tokens

    /// 32 random bytes, base64url without padding (43 characters).
    static func randomToken() -> String {
        ConsentCSRF.newCookieValue()
    }

    /// 32 random bytes as 64 lower-case hex.
    static func randomHex() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { bytes in bytes.map { String(format: "%02x", $0) }.joined() }
    }

    /// Compares two tokens in time that depends only on their length.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        ConsentPageController.constantTimeEqual(a, b)
    }
}

/// The sign-in form's CSRF protection, before any session exists: a random cookie
/// (`bh_signin`, HttpOnly, SameSite=Strict) and, in the form, HMAC-SHA256 of it under a key of
/// this process. A page from another site can neither read the cookie nor forge the field, so it
/// cannot sign a browser in with a key of its own choosing.
struct DashboardSignInCSRF: Sendable {
    static let cookieName = "bh_signin"
    private let key = SymmetricKey(size: .bits256)

    /// The form field for a cookie value (64 lower-case hex).
    func token(cookie: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(("dashboard sign-in " + cookie).utf8), using: key).map { String(format: "%02x", $0) }.joined()
    }

    func verify(cookie: String?, token: String?) -> Bool {
        guard let cookie, let token, ConsentCSRF.isWellFormed(cookie), token.utf8.count == 64 else { return false }
        return DashboardSessions.constantTimeEquals(self.token(cookie: cookie), token)
    }

    func setCookie(_ value: String, isSecure: Bool) -> String {
        "\(Self.cookieName)=\(value); Path=\(DashboardSessions.cookiePath); HttpOnly; SameSite=Strict" + (isSecure ? "; Secure" : "")
    }
}
