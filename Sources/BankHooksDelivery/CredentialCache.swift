import BankHooksCore
import BankHooksStorage

/// What one send needs that is secret, opened from a webhook's stored credentials.
struct SendCredentials: Sendable {
    /// One key per secret that signs now (the previous one during its grace period).
    var keys: [SigningKey]
    var bearerToken: String?
    var headers: [HTTPHeader]
}

/// Opens stored (sealed) credentials where they are used, in the send path: each stored text is
/// opened once and each signing key derived once per format, then reused for every attempt, so a
/// claim batch does no decryption for webhooks already seen.
struct CredentialCache {
    private struct KeyID: Hashable {
        var secret: String
        var format: String
    }

    let sealer: SecretSealer
    private var keys: [KeyID: SigningKey] = [:]
    private var tokens: [String: String] = [:]
    private var headerLists: [String: [HTTPHeader]] = [:]
    /// Stored secrets already reported as not opening.
    private var reported: Set<String> = []
    /// Most entries each map keeps before it starts over (rotations leave old texts behind).
    private let capacity = 10_000

    init(sealer: SecretSealer) { self.sealer = sealer }

    /// The credentials of `webhook` for a send at `now` in `format`; nil when its current secret
    /// does not open (a database sealed under another master key).
    mutating func credentials(for webhook: ClaimedWebhook, format: any WireFormat, at now: Timestamp) -> SendCredentials? {
        let stored = webhook.credentials
        var signing: [SigningKey] = []
        for (index, text) in stored.signingSecrets(at: now).enumerated() {
            if let key = key(for: text, format: format) {
                signing.append(key)
            } else if index == 0 {
                return nil
            }
        }
        return SendCredentials(keys: signing, bearerToken: stored.bearerToken.flatMap { token(for: $0) }, headers: headers(for: stored.headers))
    }

    /// Whether `webhook`'s current secret is reported for the first time (so a secret that does not
    /// open is logged once, not on every claim of each of its deliveries).
    mutating func isFirstReport(of webhook: ClaimedWebhook) -> Bool {
        if reported.count >= capacity { reported.removeAll() }
        return reported.insert(webhook.credentials.secret).inserted
    }

    /// The credentials for one send outside the loop (a test, a resend, a recovery), without a cache.
    static func open(_ webhook: ClaimedWebhook, format: any WireFormat, at now: Timestamp, sealer: SecretSealer) -> SendCredentials? {
        var cache = CredentialCache(sealer: sealer)
        return cache.credentials(for: webhook, format: format, at: now)
    }

    private mutating func key(for stored: String, format: any WireFormat) -> SigningKey? {
        let id = KeyID(secret: stored, format: format.name)
        if let key = keys[id] { return key }
        guard let secret = sealer.openSecret(stored) else { return nil }
        if keys.count >= capacity { keys.removeAll() }
        let key = SigningKey(secret, key: format.signingKey(for: secret))
        keys[id] = key
        return key
    }

    private mutating func token(for stored: String) -> String? {
        if let token = tokens[stored] { return token }
        guard let token = sealer.open(stored) else { return nil }
        if tokens.count >= capacity { tokens.removeAll() }
        tokens[stored] = token
        return token
    }

    private mutating func headers(for stored: String?) -> [HTTPHeader] {
        guard let stored else { return [] }
        if let list = headerLists[stored] { return list }
        let list = sealer.openHeaders(stored)
        if headerLists.count >= capacity { headerLists.removeAll() }
        headerLists[stored] = list
        return list
    }
}
