/// What one application may grow to, beyond its `webhook_limit`: every other thing a tenant can
/// create or enlarge is bounded, so no tenant can fill the database or make a listing huge.
/// Counted quotas (event types, API keys) are checked in the transaction that inserts; over one,
/// a 409 names the quota and its value. Sizes of one request (a schema, a subscription, headers)
/// are a 422 naming the field and the bound.
public struct TenantQuotas: Sendable, Hashable {
    /// Custom event types one application may register.
    public var eventTypesPerApplication = 100
    /// Bytes of one custom event type's JSON Schema, as sent.
    public var schemaBytes = 16 * 1024
    /// Event types one webhook may name in `event_types` (null subscribes to every type).
    public var eventTypesPerWebhook = 100
    /// Unrevoked API keys one application may hold.
    public var apiKeysPerApplication = 50
    /// Bytes of one webhook's custom headers, names and values together.
    public var headerBytesPerWebhook = 8 * 1024

    public init() {}
}

extension Problem {
    /// A counted quota is reached: a 409 naming it and its value.
    static func quotaReached(_ quota: String, limit: Int, what: String, field: String) -> Problem {
        Problem(.conflict, "quota-reached", title: "A quota of the application is reached",
                detail: "\(what); the \(quota) quota is \(limit.formatted()). Delete one first, or ask the operator to raise the quota",
                field: field)
    }
}
