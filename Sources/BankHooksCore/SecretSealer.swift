import Foundation

/// How webhook credentials (signing secrets, Okra bearer tokens, custom header values, which may
/// be credentials too) are kept at rest: the one place that decides what is sealed and how, so a
/// backend stores and returns the texts it is given. Sealed with the master key (AES-GCM,
/// `SecretBox`); without one, stored as they are.
public struct SecretSealer: Sendable {
    public let box: SecretBox?

    public init(box: SecretBox?) { self.box = box }

    /// A credential as stored.
    public func seal(_ value: String) throws -> String {
        guard let box else { return value }
        return try box.seal(value)
    }

    public func seal(_ value: String?) throws -> String? {
        try value.map { try seal($0) }
    }

    /// A stored credential's plaintext; nil when it does not open (another master key). A text
    /// stored before encryption existed opens as itself.
    public func open(_ stored: String) -> String? {
        guard let box else { return stored }
        return try? box.open(stored)
    }

    public func open(_ stored: String?) -> String? { stored.flatMap { open($0) } }

    /// A stored signing secret; nil when it does not open or is not a secret.
    public func openSecret(_ stored: String) -> WebhookSecret? { open(stored).flatMap(WebhookSecret.init) }

    /// Custom headers as stored: JSON `[[name, value], ...]`, sealed as one text; nil when there are none.
    public func sealHeaders(_ headers: [HTTPHeader]) throws -> String? {
        guard !headers.isEmpty else { return nil }
        let pairs = headers.map { [$0.name, $0.value] }
        return try seal(String(decoding: try JSONEncoder().encode(pairs), as: UTF8.self))
    }

    /// Stored custom headers; empty when there are none or they do not open.
    public func openHeaders(_ stored: String?) -> [HTTPHeader] {
        guard let text = open(stored), let pairs = try? JSONDecoder().decode([[String]].self, from: Data(text.utf8)) else { return [] }
        return pairs.compactMap { $0.count == 2 ? HTTPHeader(name: $0[0], value: $0[1]) : nil }
    }
}

/// A webhook's credentials as its backend stores them (sealed by `SecretSealer`): what a claim
/// carries to the send path, which opens them once per text in its cache.
public struct StoredCredentials: Hashable, Sendable {
    public var secret: String
    public var previousSecret: String?
    public var previousSecretExpiresAt: Timestamp?
    public var bearerToken: String?
    /// The custom headers (`SecretSealer.sealHeaders`).
    public var headers: String?

    public init(secret: String, previousSecret: String? = nil, previousSecretExpiresAt: Timestamp? = nil, bearerToken: String? = nil, headers: String? = nil) {
        self.secret = secret
        self.previousSecret = previousSecret
        self.previousSecretExpiresAt = previousSecretExpiresAt
        self.bearerToken = bearerToken
        self.headers = headers
    }

    /// The stored secrets that sign at `now`: the current one, and the previous one until its grace period ends.
    public func signingSecrets(at now: Timestamp) -> [String] {
        WebhookSecret.signing(current: secret, previous: previousSecret, previousExpiresAt: previousSecretExpiresAt, at: now)
    }
}
