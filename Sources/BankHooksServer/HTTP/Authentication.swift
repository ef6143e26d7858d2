import BankHooksCore
import BankHooksStorage
import Crypto
import Hummingbird
import Synchronization

/// API keys: `bhk_<id>_<secret>`. The id finds the stored record; the whole key is compared by
/// its SHA-256 hash in constant time. Only the hash is stored.
public enum APIKey {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    /// A new key text and the record that stores it.
    public static func generate(applicationID: String, role: Role, now: Timestamp) -> (text: String, record: APIKeyRecord) {
        var rng = SystemRandomNumberGenerator()
        func random(_ n: Int) -> String { String((0..<n).map { _ in alphabet.randomElement(using: &rng)! }) }
        let id = random(12)
        let text = "bhk_\(id)_\(random(40))"
        return (text, APIKeyRecord(id: id, applicationID: applicationID, role: role, hash: hash(text), createdAt: now))
    }

    /// The record for a key text chosen by the operator (e.g. `--admin-key`); nil if malformed.
    public static func record(forText text: String, applicationID: String, role: Role, now: Timestamp) -> APIKeyRecord? {
        guard let id = id(of: text) else { return nil }
        return APIKeyRecord(id: id, applicationID: applicationID, role: role, hash: hash(text), createdAt: now)
    }

    /// The id part of a well-formed key.
    static func id(of text: String) -> String? {
        guard text.hasPrefix("bhk_") else { return nil }
        let parts = text.dropFirst(4).split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, (4...64).contains(parts[0].count), parts[1].count >= 16,
              parts[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }),
              parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else { return nil }
        return String(parts[0])
    }

    static func hash(_ text: String) -> [UInt8] { Array(SHA256.hash(data: Array(text.utf8))) }

    /// Compares two byte strings in time that depends only on their length.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// Resolves bearer tokens to principals, caching records briefly so the hot path (publish) does
/// not read the key table on every request. A revocation takes effect within `cacheTTL`.
public final class KeyAuthenticator: Sendable {
    let store: any Store
    let cacheTTL: Duration
    private let cache = Mutex<[String: (record: APIKeyRecord, expires: ContinuousClock.Instant)]>([:])

    public init(store: any Store, cacheTTL: Duration = .seconds(10)) {
        self.store = store
        self.cacheTTL = cacheTTL
    }

    /// Drops a key's cached record (after it was revoked here), so it stops working at once.
    public func forget(keyID: String) {
        _ = cache.withLock { $0.removeValue(forKey: keyID) }
    }

    /// Drops every cached key of an application (after it was deleted here).
    public func forget(applicationID: String) {
        cache.withLock { cache in cache = cache.filter { $0.value.record.applicationID != applicationID } }
    }

    /// The principal for a key text, or nil when the key is unknown, wrong or revoked.
    public func principal(for text: String) async throws -> Principal? {
        guard let id = APIKey.id(of: text) else { return nil }
        let now = ContinuousClock.now
        var record = cache.withLock { $0[id] }.flatMap { $0.expires > now ? $0.record : nil }
        if record == nil {
            record = try await store.apiKey(id: id)
            if let record {
                cache.withLock { c in
                    if c.count > 10_000 { c.removeAll() }
                    c[id] = (record, now.advanced(by: cacheTTL))
                }
            }
        }
        guard let record, record.revokedAt == nil, APIKey.constantTimeEquals(record.hash, APIKey.hash(text)) else { return nil }
        return Principal(keyID: record.id, applicationID: record.applicationID, role: record.role)
    }
}

/// Authenticates `Authorization: Bearer <key>`; a missing or bad key is a 401.
/// Then applies the key's and its application's request rate limits: over either, a 429 with `Retry-After`.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let authenticator: KeyAuthenticator
    let rateLimiter: RateLimiter?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.count > 7,
              header.prefix(7).lowercased() == "bearer " else {
            throw Problem(.unauthorized, "unauthorized", title: "Authentication required",
                          detail: "send Authorization: Bearer <API key>", field: "header:Authorization")
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        guard let principal = try await authenticator.principal(for: token) else {
            throw Problem(.unauthorized, "invalid-key", title: "Invalid API key",
                          detail: "the API key is unknown or revoked", field: "header:Authorization")
        }
        if let rateLimiter, let (wait, scope) = rateLimiter.take(key: principal.keyID, application: principal.applicationID) {
            let seconds = max(1, (wait.components.seconds) + (wait.components.attoseconds > 0 ? 1 : 0))
            let limit = (scope == .key ? rateLimiter.keyLimit : rateLimiter.applicationLimit) ?? RateLimiter.Limit(rate: 0, burst: 0)
            let who = scope == .key ? "this API key" : "all the API keys of this application together"
            var problem = Problem(.tooManyRequests, "rate-limited", title: "Too many requests",
                                  detail: "\(who) may make \(limit.rate.formatted()) requests per second (bursts of \(Int(limit.burst))); retry after \(seconds) s",
                                  field: "header:Authorization")
            problem.headers[.retryAfter] = String(seconds)
            throw problem
        }
        var context = context
        context.principal = principal
        return try await next(request, context)
    }
}
