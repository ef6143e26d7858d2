import BankHooksCore
import BankHooksSandbox
import BankHooksTestSupport
import Foundation
import Testing

/// `/v1/sandbox/payment-sources` and `/v1/sandbox/payments` over HTTP: the beneficiary's cool-off,
/// the outcome the reference chooses, and the Lean and Bridge events each sets off.
@Suite struct SandboxPaymentsAPITests {
    static let iban = "SA0380000000608010167519"

    /// The Lean events the receiver got at `path`: each one's type and `timestamp` (ISO 8601 in one
    /// fixed format, so the strings sort as the instants do).
    static func events(_ receiver: TestReceiver, path: String) -> [(type: String, timestamp: String)] {
        receiver.requests.filter { $0.path == path }.compactMap { request in
            guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
                  let type = body["type"] as? String, let timestamp = body["timestamp"] as? String else { return nil }
            return (type, timestamp)
        }
    }

    /// The event types the receiver got at `path`, in order.
    static func types(_ receiver: TestReceiver, path: String, key: String) -> [String] {
        receiver.requests.filter { $0.path == path }.compactMap { request in
            (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])?[key] as? String
        }
    }

    @Test func aPaymentSourcesBeneficiaryBecomesActiveAfterTheCoolOff() async throws {
        try await TestReceiver.run { receiver in
            try await SandboxServer.run { server in
                _ = try await server.webhook(["url": receiver.url("/lean"), "format": "lean", "event_types": [
                    "payment_source.created", "payment_source.beneficiary.created", "payment_source.beneficiary.updated",
                ]])
                let created = try await server.call(
                    .POST, "/v1/sandbox/payment-sources", template: "/v1/sandbox/payment-sources",
                    body: try jsonText(["customer_id": "6f1d3b5e-4c8a-4e0b-9d57-2a1f0c9e8b7d", "beneficiary": ["name": "Acme Trading", "iban": Self.iban]]))
                #expect(created.status == 201, "\(created.text)")
                let source = try #require(created.json)
                let id = try #require(source["id"] as? String)
                #expect(source["customer_id"] as? String == "6f1d3b5e-4c8a-4e0b-9d57-2a1f0c9e8b7d")
                #expect((source["beneficiary"] as? [String: Any])?["status"] as? String == "AWAITING_BENEFICIARY_COOL_OFF")
                _ = try await receiver.waitForRequests(3)
                // The first two happen together; the update after the cool-off. By the events' own
                // timestamps, not by arrival: webhooks promise no order, and on a loaded machine the
                // creation's first attempt can reach the receiver after the update's.
                let types = Self.events(receiver, path: "/lean").sorted { $0.timestamp < $1.timestamp }.map(\.type)
                #expect(Set(types.prefix(2)) == ["payment_source.created", "payment_source.beneficiary.created"], "\(types)")
                #expect(types.last == "payment_source.beneficiary.updated", "\(types)")
                let active = try await server.call(.GET, "/v1/sandbox/payment-sources/\(id)", template: "/v1/sandbox/payment-sources/{id}")
                #expect((active.json?["beneficiary"] as? [String: Any])?["status"] as? String == "ACTIVE")
                #expect(try await server.call(.GET, "/v1/sandbox/payment-sources/nope", template: "/v1/sandbox/payment-sources/{id}").status == 404)
                // Without a customer id one is made.
                let generated = try await server.call(
                    .POST, "/v1/sandbox/payment-sources", template: "/v1/sandbox/payment-sources", body: try jsonText(["beneficiary": ["name": "B", "iban": Self.iban]]))
                #expect(UUID(uuidString: generated.json?["customer_id"] as? String ?? "") != nil)
            }
        }
    }

    /// The reference chooses the outcome: executed, rejected (Lean FAILED, Bridge RJCT), or pending (no update).
    @Test(arguments: TestBackend.all) func aPaymentReachesTheOutcomeItsReferenceChooses(_ backend: TestBackend) async throws {
        // Settling after 2 s, not the demo's 200 ms: the creation's reply must still say pending
        // when a busy test machine takes a while to answer.
        let timings = { var timings = SandboxTimings.demo; timings.paymentSettlement = .seconds(2); return timings }()
        try await TestReceiver.run { receiver in
            try await SandboxServer.run(timings: timings, backend: backend) { server in
                _ = try await server.webhook(["url": receiver.url("/lean"), "format": "lean", "event_types": ["payment.created", "payment.updated"]])
                _ = try await server.webhook(["url": receiver.url("/bridge"), "format": "bridge", "event_types": ["payment.transaction.created", "payment.transaction.updated"]])
                var ids: [String: String] = [:]
                for reference in ["invoice 1", "Please REJECT this", "stays pending"] {
                    let reply = try await server.call(
                        .POST, "/v1/sandbox/payments", template: "/v1/sandbox/payments",
                        body: try jsonText(["amount": "100.50", "currency": "SAR", "reference": reference]))
                    #expect(reply.status == 201, "\(reply.text)")
                    #expect(reply.json?["status"] as? String == "PENDING_WITH_BANK")
                    #expect(reply.json?["amount"] as? String == "100.50" && reply.json?["currency"] as? String == "SAR")
                    ids[reference] = try #require(reply.json?["id"] as? String)
                }
                // Created ×3 and updated ×2 on each of Lean and Bridge.
                _ = try await receiver.waitForRequests(10)
                try await Task.sleep(for: .milliseconds(300))
                #expect(Self.types(receiver, path: "/lean", key: "type").sorted() == ["payment.created", "payment.created", "payment.created", "payment.updated", "payment.updated"])
                #expect(Self.types(receiver, path: "/bridge", key: "type").filter { $0 == "payment.transaction.updated" }.count == 2)
                for (reference, status) in [("invoice 1", "ACCEPTED_BY_BANK"), ("Please REJECT this", "FAILED"), ("stays pending", "PENDING_WITH_BANK")] {
                    let read = try await server.call(.GET, "/v1/sandbox/payments/\(try #require(ids[reference]))", template: "/v1/sandbox/payments/{id}")
                    #expect(read.json?["status"] as? String == status, "\(reference)")
                    #expect(read.json?["reference"] as? String == reference)
                }
                let rejected = receiver.requests.filter { $0.path == "/bridge" }.compactMap { request -> [String: Any]? in
                    guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
                          body["type"] as? String == "payment.transaction.updated" else { return nil }
                    return body["content"] as? [String: Any]
                }
                #expect(rejected.contains { $0["status"] as? String == "RJCT" }, "\(rejected)")
                #expect(try await server.call(.GET, "/v1/sandbox/payments/nope", template: "/v1/sandbox/payments/{id}").status == 404)
            }
        }
    }

    @Test func badPaymentsAndSourcesAreRefusedNamingTheField() async throws {
        try await SandboxServer.run { server in
            let payments: [([String: Any], String)] = [
                (["currency": "SAR", "reference": "r"], "/amount"), (["amount": "0", "currency": "SAR", "reference": "r"], "/amount"),
                (["amount": "-1", "currency": "SAR", "reference": "r"], "/amount"), (["amount": "1.2345", "currency": "SAR", "reference": "r"], "/amount"),
                (["amount": 10, "currency": "SAR", "reference": "r"], "/amount"), (["amount": "10", "currency": "sar", "reference": "r"], "/currency"),
                (["amount": "10", "currency": "SAR", "reference": ""], "/reference"),
                (["amount": "10", "currency": "SAR", "reference": String(repeating: "r", count: 141)], "/reference"),
                (["amount": "10", "currency": "SAR", "reference": "r", "payment_source_id": "nope"], "/payment_source_id"),
                (["amount": "10", "currency": "SAR", "reference": "r", "memo": "x"], "/memo"),
            ]
            for (body, field) in payments {
                let reply = try await server.call(.POST, "/v1/sandbox/payments", template: "/v1/sandbox/payments", body: try jsonText(body))
                #expect(reply.status == 422 && reply.json?["field"] as? String == field, "\(body): \(reply.text)")
            }
            let sources: [([String: Any], String)] = [
                ([:], "/beneficiary"), (["beneficiary": ["name": "A"]], "/beneficiary/iban"),
                (["beneficiary": ["name": "A", "iban": "SA0480000000608010167519"]], "/beneficiary/iban"),
                (["beneficiary": ["name": "", "iban": Self.iban]], "/beneficiary/name"),
                (["customer_id": "not-a-uuid", "beneficiary": ["name": "A", "iban": Self.iban]], "/customer_id"),
                (["beneficiary": ["name": "A", "iban": Self.iban, "bic": "X"]], "/beneficiary/bic"),
            ]
            for (body, field) in sources {
                let reply = try await server.call(.POST, "/v1/sandbox/payment-sources", template: "/v1/sandbox/payment-sources", body: try jsonText(body))
                #expect(reply.status == 422 && reply.json?["field"] as? String == field, "\(body): \(reply.text)")
            }
            let viewer = try await server.key(.viewer)
            let refused = try await server.call(
                .POST, "/v1/sandbox/payments", template: "/v1/sandbox/payments", body: try jsonText(["amount": "1", "currency": "SAR", "reference": "r"]), key: viewer)
            #expect(refused.status == 403)
        }
    }
}
