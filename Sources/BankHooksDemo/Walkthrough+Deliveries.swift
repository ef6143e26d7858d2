import BankHooksLoopback
import BankHooksVerify
import Foundation

/// What the walk expects its webhooks to receive, the wait for it, and the timeline and checks
/// after it.
extension Walkthrough {
    /// The event types each webhook (by label) must receive, with how many of each. A link, a
    /// wrong password and a payment set these off (docs/sandbox.md, "What a link sets off").
    var expectedDeliveries: [String: [String: Int]] {
        let lean = [
            "entity.created": 1, "results.ready": 1,
            "payment_source.created": 1, "payment_source.beneficiary.created": 1, "payment_source.beneficiary.updated": 1,
            "payment.created": 1, "payment.updated": 1,
        ]
        let okra = [
            "AUTH.AUTH_SUCCESS": 1, "TRANSACTIONS.INITIAL_TRANSACTIONS": 1, "BALANCE.PRODUCT_IS_READY": 1,
            "IDENTITY.PRODUCT_IS_READY": 1, "TRANSACTIONS.FULL_TRANSACTIONS": 1, "INCOME.PRODUCT_IS_READY": 1,
        ]
        let bridge = [
            "item.created": 1, "item.refreshed": 1, "item.account.created": accountCount,
            "payment.transaction.created": 1, "payment.transaction.updated": 1,
        ]
        // The standard format carries every family; `bank_link.result` goes to the Callback URL only.
        let standard = lean.merging(okra) { a, _ in a }.merging(bridge) { a, _ in a }
        return ["standard": standard, "lean": lean, "okra": okra, "bridge": bridge, "Lean Callback URL": ["bank_link.result": 2]]
    }

    /// The hook a request came to, by its path.
    func hook(for request: LoopbackReceiver.Received) -> Hook? { hooks.first { $0.path == request.path } }

    /// A received request as a timeline delivery: its type, and whether it verified and decoded.
    func delivery(_ request: LoopbackReceiver.Received, recordedStatus: Int?) -> Timeline.Delivery {
        guard let hook = hook(for: request) else {
            return Timeline.Delivery(at: request.receivedAt, webhook: request.path, type: "?", status: recordedStatus, verificationError: "no webhook sends to \(request.path)")
        }
        let webhookRequest = WebhookRequest(headers: request.headers.map { (name: $0.key, value: $0.value) }, body: request.body)
        var problem: String?
        do {
            try WebhookVerifier.verify(format: hook.format, webhookRequest, secrets: [hook.secret], token: hook.bearerToken)
        } catch {
            problem = error.description
        }
        var type = "?"
        var detail: String?
        do {
            let envelope = try EventDecoder.envelope(format: hook.format, body: request.body, headers: webhookRequest.headers)
            type = envelope.type
            detail = Self.detail(of: envelope.rawData)
            if problem == nil { _ = try EventDecoder.decode(format: hook.format, webhookRequest) }
        } catch {
            problem = problem ?? "the body does not decode: \(error)"
        }
        return Timeline.Delivery(at: request.receivedAt, webhook: hook.label, type: type, status: recordedStatus, verificationError: problem, detail: detail)
    }

    /// A status worth showing from an event's data: Lean's Callback URL `status.code`, a payment's or a beneficiary's status.
    static func detail(of data: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else { return nil }
        if let status = object["status"] as? [String: Any], let code = status["code"] as? String { return "status.code \(code)" }
        if let status = object["status"] as? String { return "status \(status)" }
        if let beneficiary = object["beneficiary"] as? [String: Any], let status = beneficiary["status"] as? String { return "beneficiary \(status)" }
        return nil
    }

    /// Waits until every expected delivery has arrived (then a moment more, to show any extra);
    /// throws naming what is missing after the timeout.
    func waitForDeliveries() async throws -> [Timeline.Delivery] {
        let expected = expectedDeliveries
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var missing: [String] = []
        repeat {
            let received = receiver.requests.map { delivery($0, recordedStatus: nil) }
            missing = Self.missing(expected, in: received)
            if missing.isEmpty { break }
            try await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < deadline
        guard missing.isEmpty else {
            throw DemoFailure("within \(timeout) these deliveries did not arrive: \(missing.joined(separator: ", "))")
        }
        timeline.step("receiver", "every expected delivery has arrived")
        try await Task.sleep(for: .milliseconds(300))
        return try await withRecordedStatuses(receiver.requests)
    }

    /// `webhook type (got n of m)` for each expected delivery not (yet) received.
    static func missing(_ expected: [String: [String: Int]], in received: [Timeline.Delivery]) -> [String] {
        var counts: [String: [String: Int]] = [:]
        for delivery in received { counts[delivery.webhook, default: [:]][delivery.type, default: 0] += 1 }
        var missing: [String] = []
        for (webhook, types) in expected.sorted(by: { $0.key < $1.key }) {
            for (type, count) in types.sorted(by: { $0.key < $1.key }) {
                let got = counts[webhook]?[type] ?? 0
                if got < count { missing.append("\(webhook) \(type) (got \(got) of \(count))") }
            }
        }
        return missing
    }

    /// The received requests with the status the delivery log recorded for each: waits until no
    /// delivery of the demo's webhooks is pending, then pairs each webhook's deliveries of a type
    /// with its requests of that type in order.
    func withRecordedStatuses(_ requests: [LoopbackReceiver.Received]) async throws -> [Timeline.Delivery] {
        var statuses: [String: [String: [Int?]]] = [:]
        let deadline = ContinuousClock.now.advanced(by: timeout)
        for hook in hooks {
            while true {
                let reply = try await call(client, .GET, "/v1/webhooks/\(hook.id)/deliveries?limit=100", nil, expect: 200)
                let rows = (reply.json?["data"] as? [[String: Any]]) ?? []
                if rows.contains(where: { $0["state"] as? String == "pending" }) {
                    guard ContinuousClock.now < deadline else { throw DemoFailure("deliveries to the \(hook.label) webhook are still pending after \(timeout)") }
                    try await Task.sleep(for: .milliseconds(50))
                    continue
                }
                // Oldest first, as they were sent.
                for row in rows.reversed() {
                    guard let type = row["event_type"] as? String else { continue }
                    let state = row["state"] as? String ?? "?"
                    guard state == "succeeded" else { throw DemoFailure("a \(type) delivery to the \(hook.label) webhook is \(state): \(row)") }
                    statuses[hook.label, default: [:]][type, default: []].append(row["last_status"] as? Int)
                }
                break
            }
        }
        var taken: [String: [String: Int]] = [:]
        return requests.map { request in
            var delivery = delivery(request, recordedStatus: nil)
            let index = taken[delivery.webhook]?[delivery.type] ?? 0
            taken[delivery.webhook, default: [:]][delivery.type] = index + 1
            let recorded = statuses[delivery.webhook]?[delivery.type] ?? []
            delivery.status = index < recorded.count ? recorded[index] : nil
            return delivery
        }
    }

    /// Prints every step, visit and delivery in time order.
    func printTimeline(_ deliveries: [Timeline.Delivery]) {
        say("Timeline:")
        let entries = timeline.recordedSteps + page.visits.map { Timeline.Entry.visit($0) } + deliveries.map { Timeline.Entry.delivery($0) }
        for line in timeline.render(entries) { say(line) }
        say("")
    }

    /// Okra's pull path: the record's latest TRANSACTIONS callback, read back as Okra's body.
    func pullOkraCallback() async throws {
        let okra = receiver.requests.first { $0.path == "/hooks/okra" }
        guard let body = okra.flatMap({ try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any] }),
              let record = body["record"] as? String else {
            throw DemoFailure("the okra webhook's first delivery names no record")
        }
        let pulled = try await call(client, .GET, "/v1/callback?record=\(record)&method=TRANSACTIONS", nil, expect: 200)
        let code = pulled.json?["callback_code"] as? String ?? "?"
        timeline.step("api", "GET /v1/callback?record=\(record)&method=TRANSACTIONS -> 200: Okra's pull path gives the latest, \(code)")
    }

    /// Every delivery verified and decoded, the log agrees with what arrived, the payment settled.
    func finalChecks(_ deliveries: [Timeline.Delivery]) async throws {
        let unverified = deliveries.filter { $0.verificationError != nil }
        guard unverified.isEmpty else {
            throw DemoFailure("\(unverified.count) deliveries did not verify: "
                + unverified.map { "\($0.webhook) \($0.type): \($0.verificationError ?? "")" }.joined(separator: "; "))
        }
        let unrecorded = deliveries.filter { $0.status != 200 }
        guard unrecorded.isEmpty else {
            throw DemoFailure("the delivery log has no succeeded delivery for: " + unrecorded.map { "\($0.webhook) \($0.type)" }.joined(separator: ", "))
        }
        let payment = try await call(client, .GET, "/v1/sandbox/payments/\(paymentID)", nil, expect: 200)
        let expectedCount = expectedDeliveries.values.reduce(0) { $0 + $1.values.reduce(0, +) }
        say("demo: OK: \(deliveries.count) deliveries (\(expectedCount) expected) to \(hooks.count) webhooks, every signature verified with its "
            + "webhook's secret and every delivery succeeded in the delivery log; payment \(paymentID) is \(payment.json?["status"] as? String ?? "?")")
    }
}
