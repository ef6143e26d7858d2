import BankHooksCore
import BankHooksStorage
import Hummingbird

extension WebhooksController {
    /// How long a rotated-out secret keeps signing.
    static let rotationGracePeriod: Duration = .seconds(24 * 3600)

    @Sendable func rotateSecret(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.managers, to: "rotate webhook secrets")
        let id = try context.pathParameter("id")
        let now = clock.now()
        guard let webhook = try await store.rotateSecret(
            id: id, applicationID: principal.applicationID, newSecret: .generate(),
            previousValidUntil: now.adding(Self.rotationGracePeriod), now: now) else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        dispatcher.webhookChanged(id: webhook.id)
        return try Response.json(WebhookView(webhook, showingSecret: true, now: now), status: .ok, context: context)
    }
}
