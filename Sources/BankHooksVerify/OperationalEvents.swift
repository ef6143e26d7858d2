/// BankHooks' own events about its webhooks, carried by the `standard` format.
public enum OperationalEvents {
    public static let definitions: [EventTypeDefinition] = [
        EventTypeDefinition(
            name: "webhook.test", family: .bankhooks,
            description: "Sent by \"Send a test\" (`POST /v1/webhooks/{id}/test`) to one webhook of the standard, lean or okra format; a bridge webhook gets Bridge's own TEST_EVENT instead.",
            schema: #"""
            {
              "$schema": "https://json-schema.org/draft/2020-12/schema",
              "type": "object",
              "properties": {
                "webhook_id": {"type": "string", "description": "The webhook the test was sent to."},
                "message": {"type": "string", "description": "A fixed text saying this is a test."}
              },
              "required": ["webhook_id", "message"],
              "additionalProperties": true
            }
            """#,
            model: WebhookTest.self,
            message: "A test event from BankHooks."),
        EventTypeDefinition(
            name: "webhook.disabled", family: .bankhooks,
            description: "A webhook was disabled: by BankHooks after its deliveries failed without a single success for the auto-disable period, or after its receiver answered 410 Gone.",
            schema: #"""
            {
              "$schema": "https://json-schema.org/draft/2020-12/schema",
              "type": "object",
              "properties": {
                "webhook_id": {"type": "string", "description": "The disabled webhook."},
                "url": {"type": "string", "description": "Its URL."},
                "reason": {"type": "string", "enum": ["failing", "gone"], "description": "`failing`: no success for the auto-disable period; `gone`: the receiver answered 410."},
                "failing_since": {"type": ["string", "null"], "format": "date-time", "description": "The first failed attempt since the last success, when the reason is `failing`."}
              },
              "required": ["webhook_id", "url", "reason"],
              "additionalProperties": true
            }
            """#,
            model: WebhookDisabled.self),
    ]
}

/// `webhook.test`.
public struct WebhookTest: CatalogEvent, Hashable {
    public var webhookID: String
    public var message: String

    public init(webhookID: String, message: String) {
        self.webhookID = webhookID
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case webhookID = "webhook_id"
        case message
    }
}

/// `webhook.disabled`.
public struct WebhookDisabled: CatalogEvent, Hashable {
    public enum Reason: String, Codable, Sendable { case failing, gone }
    public var webhookID: String
    public var url: String
    public var reason: Reason
    public var failingSince: String?

    public init(webhookID: String, url: String, reason: Reason, failingSince: String? = nil) {
        self.webhookID = webhookID
        self.url = url
        self.reason = reason
        self.failingSince = failingSince
    }

    enum CodingKeys: String, CodingKey {
        case webhookID = "webhook_id"
        case url, reason
        case failingSince = "failing_since"
    }

    /// Writes `null` for an absent `failing_since` (a 410 disable) instead of leaving the member out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(webhookID, forKey: .webhookID)
        try container.encode(url, forKey: .url)
        try container.encode(reason, forKey: .reason)
        try container.encode(failingSince, forKey: .failingSince)
    }
}
