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
        // The in-flight slot first (a 429 when the webhook stays full), then the lease: a refused resend changes nothing.
        let slot = try await dispatcher.reserveClientSlot(webhookID: target.webhookID, applicationID: principal.applicationID)
        let now = clock.now()
        let owner = "resend/" + Identifier.make("r", at: now)
        let leased: (delivery: ClaimedDelivery, previous: DeliveryState)?
        do {
            leased = try await store.leaseForSend(
                deliveryID: id, applicationID: principal.applicationID, owner: owner, until: now.adding(.seconds(120)), now: now,
                expecting: nil, attemptedBefore: nil)
        } catch let error as StoreError where error.code == .conflict {
            slot.release()
            throw Problem(.conflict, "delivery-busy", title: "The delivery cannot be sent now", detail: error.message, field: "path:id")
        }
        guard let (delivery, previous) = leased else {
            slot.release()
            throw Problem.notFound("delivery \(id)", field: "path:id")
        }
        let failure: DeliveryOutcome = previous == .pending ? .retry(at: delivery.dueAt) : .failed
        let attempt = try await dispatcher.sendNow(delivery, slot: slot, failure: failure)
        // A pending delivery that failed again is due at its old (perhaps past) time.
        if previous == .pending { dispatcher.wake() }
        let view = SendResultView(
            attempt, eventID: delivery.event.id, type: delivery.event.type, succeeded: dispatcher.succeeded(attempt, format: delivery.webhook.format))
        return try Response.json(view, status: .ok, context: context)
    }
}
