import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import Foundation
import Hummingbird
import NIOCore

/// The delivery log and recovery: event lists, deliveries per webhook and per event, a delivery
/// with its attempts, an attempt's request and response, resending one delivery, and recovery
/// jobs. Lists are keyset pages, newest first: `limit` (1–100, default 50) and `cursor` (the
/// previous page's `next_cursor`). New rows never shift a page being read.
struct DeliveryLogController {
    let store: any Store
    let dispatcher: Dispatcher
    let recoveries: RecoveryRunner
    let clock: any WallClock

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("events", use: listEvents)
        group.get("events/:id/deliveries", use: eventDeliveries)
        group.get("webhooks/:id/deliveries", use: webhookDeliveries)
        group.get("deliveries/:id", use: getDelivery)
        group.post("deliveries/:id/resend", use: resend)
        group.get("attempts/:id", use: getAttempt)
        group.post("webhooks/:id/recover", use: recover)
        group.get("recoveries/:id", use: getRecovery)
    }

    // MARK: Views

    /// A path id that must be a positive integer; anything else names nothing (404).
    static func integerID(_ context: AppRequestContext) throws -> Int64 {
        let text = try context.pathParameter("id")
        guard let id = Int64(text), id > 0 else { throw Problem.notFound("`\(text)`", field: "path:id") }
        return id
    }
}
