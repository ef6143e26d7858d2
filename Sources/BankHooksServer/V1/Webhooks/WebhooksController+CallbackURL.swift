import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import Hummingbird

/// The application's Lean Callback URL (`/v1/callback-url`): a webhook of kind `callbackURL`.
extension WebhooksController {
    /// `PUT /v1/callback-url` body.
    struct CallbackURLRequest: Decodable {
        var url: String
    }

    func callbackWebhook(applicationID: String) async throws -> Webhook? {
        try await store.webhooks(applicationID: applicationID).first { $0.kind == .callbackURL }
    }

    @Sendable func getCallbackURL(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.readers, to: "read the callback URL")
        guard let webhook = try await callbackWebhook(applicationID: principal.applicationID) else {
            throw Problem.notFound("callback URL")
        }
        return try Response.json(WebhookView(webhook, now: clock.now()), status: .ok, context: context)
    }

    /// Sets the application's Lean Callback URL: a lean-format endpoint that receives every
    /// `bank_link.result` (seed 000). Created with its secret on first use, its URL changed after.
    @Sendable func putCallbackURL(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.managers, to: "set the callback URL")
        let body = try await decodeBody(CallbackURLRequest.self, from: request, context: context)
        try WebhookURL.validate(body.url, pointer: "/url")
        try await requireHTTPSIfProduction(body.url, applicationID: principal.applicationID)
        let now = clock.now()
        if let existing = try await callbackWebhook(applicationID: principal.applicationID) {
            guard let webhook = try await store.updateWebhook(
                id: existing.id, applicationID: principal.applicationID, WebhookChange(url: body.url, isEnabled: true), now: now) else {
                throw Problem.notFound("callback URL")
            }
            dispatcher.webhookChanged(id: webhook.id)
            return try Response.json(WebhookView(webhook, now: now), status: .ok, context: context)
        }
        let webhook = Webhook(
            id: Identifier.make("wh", at: now), applicationID: principal.applicationID, url: body.url, name: "Lean Callback URL",
            eventTypes: [LeanFormat.callbackEventType], format: "lean", secret: .generate(), createdAt: now, updatedAt: now,
            kind: .callbackURL)
        try await store.createWebhook(webhook)
        return try Response.json(WebhookView(webhook, showingSecret: true), status: .created, context: context)
    }

    @Sendable func deleteCallbackURL(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.managers, to: "remove the callback URL")
        guard let webhook = try await callbackWebhook(applicationID: principal.applicationID),
              try await store.deleteWebhook(id: webhook.id, applicationID: principal.applicationID) else {
            throw Problem.notFound("callback URL")
        }
        dispatcher.webhookChanged(id: webhook.id)
        return Response(status: .noContent)
    }
}
