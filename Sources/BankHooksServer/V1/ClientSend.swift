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
        // A DispatcherBusyError is answered by `Problem.mapping` (429 with Retry-After).
        try await reserveSendSlot(webhookID: webhookID, applicationID: applicationID, waitingAtMost: sendSlotWait)
    }
}

/// The answer of a send outside the schedule ("Send a test", a resend): the attempt's result.
struct SendResultView: Encodable {
    struct Send: Encodable {
        var eventId: String
        var deliveryId: Int64
        @Null var attemptId: Int64?
        var type: String
        var succeeded: Bool
    }

    var send: Send
    var result: AttemptResultView

    init(_ attempt: Attempt, eventID: String, type: String, succeeded: Bool) {
        send = Send(eventId: eventID, deliveryId: attempt.deliveryID, attemptId: attempt.id, type: type, succeeded: succeeded)
        result = AttemptResultView(attempt)
    }

    /// One object with the members of both parts.
    func encode(to encoder: any Encoder) throws {
        try send.encode(to: encoder)
        try result.encode(to: encoder)
    }
}
