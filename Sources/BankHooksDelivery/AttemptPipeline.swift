import BankHooksCore
import BankHooksStorage
import Logging

/// One attempt of a delivery in four named steps, render → sign → send → decide (like Svix's
/// `worker.rs`), shared by the claim loop's sends and by sends now (test, resend, recovery). The
/// loop renders once per event and format in a batch and opens credentials once per stored text
/// (`CredentialCache`), so `run` takes the body and credentials.
struct AttemptPipeline: Sendable {
    let sender: Sender
    let clock: any WallClock
    let retryAfter: RetryAfterPolicy
    let logger: Logger

    /// Render: the request body, which depends only on the event and the format.
    static func render(_ event: OutboundEvent, format: any WireFormat) -> [UInt8] { format.body(for: event) }

    /// Sign: the format's signed headers, then the headers the format adds for the webhook, then the
    /// webhook's custom headers (from `customFrom` on, which the log records apart).
    func sign(_ delivery: ClaimedDelivery, format: any WireFormat, body: [UInt8], credentials: SendCredentials) -> (headers: [(name: String, value: String)], customFrom: Int) {
        var headers = format.headers(for: delivery.event, body: body, sentAt: clock.now(), keys: credentials.keys)
        format.appendExtraHeaders(bearerToken: credentials.bearerToken, to: &headers)
        let customFrom = headers.count
        for header in credentials.headers { headers.append((header.name, header.value)) }
        return (headers, customFrom)
    }

    /// Send: one HTTP request within the format's deadline.
    func send(_ delivery: ClaimedDelivery, format: any WireFormat, headers: [(name: String, value: String)], body: [UInt8], logger: Logger) async -> SendResult {
        await sender.send(url: delivery.webhook.url, headers: headers, body: body, timeout: format.timeout, logger: logger)
    }

    /// Decide: success in the webhook's format; otherwise `failure` when given (a send now never
    /// schedules a retry), else the webhook's retry schedule with the answer's `Retry-After`.
    func decide(_ result: SendResult, of delivery: ClaimedDelivery, format: any WireFormat, failure: DeliveryOutcome?) -> DeliveryOutcome {
        // The common case: no schedule to build, no clock or random number to read.
        if result.status.map(format.isSuccess(status:)) ?? false { return .succeeded }
        if let failure { return failure }
        var rng = SystemRandomNumberGenerator()
        let step = (delivery.webhook.settings.retrySchedule ?? format.defaultSchedule).nextStep(
            attemptsMade: delivery.attemptsMade + 1, succeeded: false,
            status: result.status, retryAfter: result.retryAfter, retryAfterPolicy: retryAfter,
            now: clock.now(), using: &rng)
        return switch step {
        case .succeeded: .succeeded
        case .failed: .failed
        case .retry(let at): .retry(at: at)
        }
    }

    /// All four steps after render: the attempt and what follows from it (a 410 disables the
    /// webhook); nil when cancelled mid-send. Without `failure`, a failed attempt is retried on
    /// the webhook's schedule.
    func run(_ delivery: ClaimedDelivery, format: any WireFormat, body: [UInt8], credentials: SendCredentials, failure: DeliveryOutcome? = nil) async -> AttemptRecord? {
        var logger = self.logger
        logger[metadataKey: "delivery.id"] = "\(delivery.id)"
        logger[metadataKey: "webhook.id"] = "\(delivery.webhook.id)"
        let (headers, customFrom) = sign(delivery, format: format, body: body, credentials: credentials)
        let result = await send(delivery, format: format, headers: headers, body: body, logger: logger)
        // A send cut short by cancellation is not an attempt; the lease brings the delivery back.
        if Task.isCancelled { return nil }
        let number = delivery.attemptsMade + 1
        let outcome = decide(result, of: delivery, format: format, failure: failure)
        logger.debug("attempt finished", metadata: [
            "delivery.attempt": "\(number)", "http.status": "\(result.status.map(String.init) ?? "-")",
            "error.kind": "\(result.errorKind?.rawValue ?? "-")",
        ])
        return AttemptRecord(
            attempt: Attempt(
                deliveryID: delivery.id, number: number, startedAt: result.startedAt,
                durationMicroseconds: result.durationMicroseconds, status: result.status, responseExcerpt: result.excerpt,
                errorKind: result.errorKind, errorMessage: result.errorMessage, requestHeaders: RecordedHeaders.json(headers, customFrom: customFrom)),
            leaseOwner: delivery.leaseOwner, webhookID: delivery.webhook.id, outcome: outcome, disablesWebhook: result.status == 410)
    }
}
