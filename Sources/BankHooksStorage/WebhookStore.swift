import BankHooksCore

/// What a webhook update changes; nil fields stay as they are.
public struct WebhookChange: Sendable {
    public var url: String?
    public var name: String??
    /// `.some(nil)` subscribes to every type.
    public var eventTypes: [String]??
    public var isEnabled: Bool?
    /// `.some(nil)` removes the bearer token.
    public var bearerToken: String??
    /// Replaces the custom headers.
    public var headers: [HTTPHeader]?
    /// `.some(nil)` goes back to the format's schedule.
    public var retryDelays: [Int]??
    /// `.some(nil)` removes the limit.
    public var rateLimit: Double??

    public init(
        url: String? = nil, name: String?? = nil, eventTypes: [String]?? = nil, isEnabled: Bool? = nil, bearerToken: String?? = nil,
        headers: [HTTPHeader]? = nil, retryDelays: [Int]?? = nil, rateLimit: Double?? = nil
    ) {
        self.headers = headers
        self.retryDelays = retryDelays
        self.rateLimit = rateLimit
        self.bearerToken = bearerToken
        self.url = url
        self.name = name
        self.eventTypes = eventTypes
        self.isEnabled = isEnabled
    }
}

/// A webhook BankHooks disabled, for its `webhook.disabled` announcement.
public struct DisabledWebhook: Sendable {
    public var webhook: Webhook
    public var disabledAt: Timestamp
    public var failingSince: Timestamp?

    public init(webhook: Webhook, disabledAt: Timestamp, failingSince: Timestamp?) {
        self.webhook = webhook
        self.disabledAt = disabledAt
        self.failingSince = failingSince
    }
}

/// Webhooks: their settings and secrets, and their disabling (by hand, for failing, for a 410) with its announcement.
public protocol WebhookStore: Sendable {
    /// Stores a webhook. A `webhook` kind beyond its application's webhook limit is refused with
    /// `limitReached`, checked in the same transaction as the insert.
    func createWebhook(_ webhook: Webhook) async throws
    func webhooks(applicationID: String) async throws -> [Webhook]
    func webhook(id: String, applicationID: String) async throws -> Webhook?
    /// Changes a webhook's URL, name, event types or enabled flag in one transaction, and returns it
    /// (nil when there is none). Disabling holds its pending deliveries; enabling again makes the
    /// held ones due at `now` and clears `disabledReason`.
    func updateWebhook(id: String, applicationID: String, _ change: WebhookChange, now: Timestamp) async throws -> Webhook?
    /// Deletes a webhook with its deliveries and attempts; false when there was none.
    func deleteWebhook(id: String, applicationID: String) async throws -> Bool
    /// Makes `newSecret` the webhook's secret; the one it replaces keeps signing until
    /// `previousValidUntil` (an older previous secret stops at once: at most two are valid).
    func rotateSecret(id: String, applicationID: String, newSecret: WebhookSecret, previousValidUntil: Timestamp, now: Timestamp) async throws -> Webhook?
    /// Disables every enabled webhook whose deliveries have failed without a success since
    /// `failingSince` or earlier (reason `failing`), holding their pending deliveries; returns their ids.
    func disableFailingWebhooks(failingSince: Timestamp, now: Timestamp) async throws -> [String]
    /// Webhooks BankHooks disabled (failing, gone) whose `webhook.disabled` event is not yet published.
    func unannouncedDisabledWebhooks() async throws -> [DisabledWebhook]
    /// Records that the disable of `disabledAt` was announced.
    func markDisableAnnounced(webhookID: String, disabledAt: Timestamp) async throws
}
