import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import Hummingbird

extension DeliveryLogController {
    /// Sends one delivery again now, whatever its state: one new attempt, recorded, answered like a
    /// test. A pending delivery that fails again keeps its place in its retry schedule.
    @Sendable func resend(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.publishers, to: "resend deliveries")
        let id = try Self.integerID(context)
        guard let target = try await store.delivery(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("delivery \(id)", field: "path:id")
        }
        // The send now takes the in-flight slot first (a 429 when the webhook stays full), then the
        // lease: a refused resend changes nothing.
        let sent: SendNowResult?
        do {
            sent = try await dispatcher.sendNow(deliveryID: id, webhookID: target.webhookID, applicationID: principal.applicationID, purpose: .resend)
        } catch let error as StoreError where error.code == .conflict {
            throw Problem(.conflict, "delivery-busy", title: "The delivery cannot be sent now", detail: error.message, field: "path:id")
        }
        guard let sent else { throw Problem.notFound("delivery \(id)", field: "path:id") }
        let view = SendResultView(sent.attempt, eventID: sent.delivery.event.id, type: sent.delivery.event.type, succeeded: sent.succeeded)
        return try Response.json(view, status: .ok, context: context)
    }
}
