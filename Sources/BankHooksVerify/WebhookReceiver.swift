import Foundation

// MARK: - Receiver

/// Verifies a received webhook and decodes its event in one call: the receiving side of one
/// BankHooks webhook. Configure it once with the webhook's format and secrets, then call
/// `receive(_:)` for every request:
///
/// ```swift
/// let receiver = WebhookReceiver(format: "standard", secrets: [current, previous])
/// let event = try receiver.receive(body: body, headers: headers)
/// if let entity = event.data as? LeanEntity { ... }
/// ```
///
/// The signature is checked first (in constant time, with the timestamp tolerance of Standard
/// Webhooks and Okra's), and only a verified body is decoded; the error says which step failed.
public struct WebhookReceiver: Sendable {
    /// The webhook's format: `standard`, `lean`, `okra` or `bridge`.
    public var format: String
    /// The secrets a request may be signed with: the current one, and during a rotation the previous one too.
    public var secrets: [String]
    /// Okra's bearer token (`Authorization: Bearer <token>`), checked when given.
    public var token: String?
    /// How far the `webhook-timestamp` (standard, okra) may be from now, in seconds.
    public var tolerance: TimeInterval
    /// The event types the body is decoded with.
    public var catalog: EventCatalog

    public init(
        format: String, secrets: [String], token: String? = nil, tolerance: TimeInterval = 300, catalog: EventCatalog = .builtIn
    ) {
        self.format = format
        self.secrets = secrets
        self.token = token
        self.tolerance = tolerance
        self.catalog = catalog
    }

    /// Verifies `request` and decodes its event. Throws `.verification` when the signature (or
    /// the timestamp, or the token) does not verify, `.decoding` when a verified body is not an
    /// event of the catalog.
    public func receive(_ request: WebhookRequest, now: Date = Date()) throws(WebhookReceiveError) -> ReceivedEvent {
        do throws(VerificationError) {
            try WebhookVerifier.verify(format: format, request, secrets: secrets, token: token, now: now, tolerance: tolerance)
        } catch {
            throw .verification(error)
        }
        do throws(EventDecodingError) {
            return try EventDecoder.decode(format: format, request, catalog: catalog)
        } catch {
            throw .decoding(error)
        }
    }

    /// `receive(_:now:)` for a body (the raw bytes exactly as received) and its headers.
    public func receive(
        body: [UInt8], headers: [(name: String, value: String)], now: Date = Date()
    ) throws(WebhookReceiveError) -> ReceivedEvent {
        try receive(WebhookRequest(headers: headers, body: body), now: now)
    }
}

// MARK: - Errors

/// Why `WebhookReceiver.receive` refused a request: the step that failed and its error.
public enum WebhookReceiveError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The request did not verify: do not trust its body (answer 401).
    case verification(VerificationError)
    /// The request verified, but its body is not an event the catalog decodes.
    case decoding(EventDecodingError)

    public var description: String {
        switch self {
        case .verification(let error): "the webhook did not verify: \(error.message)"
        case .decoding(let error): "the webhook verified but its event did not decode: \(error.message)"
        }
    }
}
