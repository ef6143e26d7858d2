import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import Hummingbird

// Sends a client waits for ("Send a test", a resend): the slot they take and the answer they give.

extension Dispatcher {
    /// An in-flight slot for a send a client waits for ("Send a test", a resend), counted against the
    /// same bounds as every delivery. When the webhook (or its application, or the whole dispatcher)
    /// stays full for the wait, a 429 problem with `Retry-After`: a flood of tests or resends cannot
    /// open more connections to a receiver than its bound.
    func reserveClientSlot(webhookID: String, applicationID: String) async throws -> SendSlot {
        do {
            return try await reserveSendSlot(webhookID: webhookID, applicationID: applicationID, waitingAtMost: sendSlotWait)
        } catch let error as DispatcherBusyError {
            var problem = Problem(.tooManyRequests, "webhook-busy", title: "The webhook has no free in-flight slot", detail: "\(error); try again shortly")
            problem.headers[.retryAfter] = "1"
            throw problem
        }
    }
}

/// The answer of a send outside the schedule ("Send a test", a resend): the attempt's result.
struct SendResultView: Encodable {
    var eventId: String
    var deliveryId: Int64
    @Null var attemptId: Int64?
    var type: String
    var succeeded: Bool
    @Null var status: Int?
    var durationMs: Double
    @Null var responseExcerpt: String?
    @Null var error: String?
    @Null var errorMessage: String?

    init(_ attempt: Attempt, eventID: String, type: String, succeeded: Bool) {
        eventId = eventID
        deliveryId = attempt.deliveryID
        attemptId = attempt.id
        self.type = type
        self.succeeded = succeeded
        status = attempt.status
        durationMs = Double(attempt.durationMicroseconds) / 1000
        responseExcerpt = attempt.responseExcerpt
        error = attempt.errorKind?.rawValue
        errorMessage = attempt.errorMessage
    }
}
