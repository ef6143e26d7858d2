import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import BankHooksVerify
import Hummingbird

/// Events BankHooks itself sends to one webhook: the format's test event and Okra's acknowledgement of a new callback URL.
extension WebhooksController {
    /// Publishes the format's test event to this webhook only, already leased so no claim takes it,
    /// sends it at once, and answers with the attempt (recorded like any other; never retried).
    @Sendable func sendTest(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.managers, to: "send test events")
        let id = try context.pathParameter("id")
        guard let webhook = try await store.webhook(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        guard webhook.isEnabled else {
            throw Problem(.conflict, "webhook-disabled", title: "The webhook is disabled",
                          detail: "enable it (PATCH {\"enabled\": true}) before sending a test", field: "path:id")
        }
        // An in-flight slot before anything is published: a test counts against the webhook's bounds (429 when it stays full).
        let slot = try await dispatcher.reserveClientSlot(webhookID: webhook.id, applicationID: webhook.applicationID)
        let format = formats[webhook.format] ?? StandardWebhooksFormat()
        let now = clock.now()
        // The one lease of a send now: owner `test/<id>`, `SendNowLease.length` long.
        let lease = SendNowLease.make(purpose: .test, now: now).publishLease
        let published = try await events.publish(
            format.testEvent(webhookID: webhook.id), as: format.testEventType, applicationID: webhook.applicationID, timestamp: now,
            to: .webhook(webhook.id), lease: lease)
        let event = published.event
        guard let deliveryID = published.result.deliveryIDs.first else {
            throw Problem(.conflict, "webhook-disabled", title: "The webhook is disabled", detail: "it was disabled meanwhile", field: "path:id")
        }
        let attempt = try await dispatcher.sendNow(ClaimedDelivery(
            id: deliveryID, leaseOwner: lease.owner, attemptsMade: 0, dueAt: now, eventKey: 0, event: event,
            webhook: try ClaimedWebhook(webhook, sealer: dispatcher.sealer)), slot: slot)
        let result = SendResultView(attempt, eventID: event.id, type: event.type, succeeded: dispatcher.succeeded(attempt, format: webhook.format))
        return try Response.json(result, status: .ok, context: context)
    }

    /// Okra's `RECORD.WEBHOOK_UPDATE_ACKNOWLEDGED`, sent to the webhook's new URL. BankHooks has one
    /// callback per webhook rather than per record, so `record` is the webhook's id.
    func acknowledgeCallbackChange(_ webhook: Webhook) async throws {
        _ = try await events.publish(
            OkraWebhookUpdateAcknowledged(record: webhook.id, newCallbackURL: webhook.url), as: "RECORD.WEBHOOK_UPDATE_ACKNOWLEDGED",
            applicationID: webhook.applicationID, to: .webhook(webhook.id))
    }
}
