import BankHooksCore
@testable import BankHooksSandbox
import BankHooksStorage
import BankHooksTestSupport
import BankHooksVerify
import Foundation
import Testing

/// Sandbox payments over a real SQLite store: each is stored with the events it sets off, the
/// reference chooses the outcome, and bad input is refused naming the member.
@Suite struct SandboxPaymentsTests {
    struct Fixture {
        let pipeline: SandboxPipeline
        let payments: SandboxPayments

        init(_ pipeline: SandboxPipeline? = nil) throws {
            let pipeline = try pipeline ?? SandboxPipeline()
            self.pipeline = pipeline
            payments = SandboxPayments(store: pipeline.store, clock: pipeline.clock, timings: SandboxTimings()) { [runner = pipeline.runner] in
                runner.wake()
            }
        }

        /// Every scheduled event, earliest first.
        func scheduled() async throws -> [ScheduledEvent] {
            try await pipeline.store.dueScheduledEvents(now: pipeline.clock.now().adding(.seconds(3600)), limit: 100)
        }
    }

    static func text(_ event: ScheduledEvent) -> String { String(decoding: event.data, as: UTF8.self) }

    @Test func aPaymentSourceIsStoredWithItsBeneficiarysCoolOff() async throws {
        let f = try Fixture()
        try await f.pipeline.application()
        let now = f.pipeline.clock.now()
        let source = try await f.payments.createPaymentSource(
            applicationID: "app", customerID: "0FD6D135-A4BE-40AC-9630-1738CED7DA69", beneficiaryName: " Acme Trading ",
            iban: "ae07 0331 2345 6789 0123 456")
        #expect(source.customerID == "0fd6d135-a4be-40ac-9630-1738ced7da69")
        #expect(try await f.payments.paymentSource(id: source.id, applicationID: "app") == source)
        #expect(try await f.payments.paymentSource(id: source.id, applicationID: "other") == nil)
        #expect(source.details?.iban == "AE070331234567890123456")
        #expect(source.details?.beneficiaryName == "Acme Trading")
        #expect(source.beneficiaryStatus(at: now) == "AWAITING_BENEFICIARY_COOL_OFF")
        #expect(source.beneficiaryStatus(at: now.adding(.seconds(5))) == "ACTIVE")
        let events = try await f.scheduled()
        try LinkEmissionsTests.expectCatalogValid(events)
        #expect(events.map(\.type) == ["payment_source.created", "payment_source.beneficiary.created", "payment_source.beneficiary.updated"])
        #expect(events.map { $0.dueAt.milliseconds - now.milliseconds } == [0, 0, 5000])
        let destination = try #require(source.details?.paymentDestinationID)
        #expect(Self.text(events[0]) == #"{"id":"\#(source.id)","customer_id":"\#(source.customerID)","status":"AWAITING_BENEFICIARY_COOL_OFF","bank_identifier":"LEANMB1","bank_name":"Lean Mock Bank"}"#)
        #expect(Self.text(events[1]) == #"{"id":"\#(source.beneficiaryID)","customer_id":"\#(source.customerID)","payment_source_id":"\#(source.id)","payment_destination_id":"\#(destination)","status":"AWAITING_BENEFICIARY_COOL_OFF"}"#)
        #expect(Self.text(events[2]) == Self.text(events[1]).replacingOccurrences(of: "AWAITING_BENEFICIARY_COOL_OFF", with: "ACTIVE"))
    }

    @Test func aBadPaymentSourceIsRefusedNamingTheMemberAndStoresNothing() async throws {
        let f = try Fixture()
        try await f.pipeline.application()
        let cases: [(String?, String, String, String)] = [
            ("not-a-uuid", "Acme", "AE070331234567890123456", "/customer_id"),
            (nil, "  ", "AE070331234567890123456", "/beneficiary/name"),
            (nil, String(repeating: "a", count: 141), "AE070331234567890123456", "/beneficiary/name"),
            (nil, "Acme", "AE070331234567890123457", "/beneficiary/iban"),
            (nil, "Acme", "", "/beneficiary/iban"),
            (nil, "Acme", "not an iban at all", "/beneficiary/iban"),
        ]
        for (customer, name, iban, pointer) in cases {
            let error = await #expect(throws: SandboxError.self) {
                try await f.payments.createPaymentSource(applicationID: "app", customerID: customer, beneficiaryName: name, iban: iban)
            }
            #expect(error?.code == .invalidField)
            #expect(error?.pointer == pointer, "\(name) \(iban)")
        }
        #expect(try await f.pipeline.store.nextScheduledEventDue() == nil)
    }

    @Test func theReferenceChoosesTheOutcome() async throws {
        let f = try Fixture()
        try await f.pipeline.application()
        let now = f.pipeline.clock.now()
        for (reference, lean, bridge) in [("Invoice 42", "ACCEPTED_BY_BANK", "ACSC"), ("please REJECT me", "FAILED", "RJCT")] {
            let payment = try await f.payments.createPayment(
                applicationID: "app", amount: "10.17", currency: "AED", reference: reference, paymentSourceID: nil)
            #expect(try await f.payments.payment(id: payment.id, applicationID: "app") == payment)
            #expect(payment.status(at: now) == "PENDING_WITH_BANK")
            #expect(payment.status(at: now.adding(.seconds(2))) == lean)
            #expect(payment.bridgeStatus(at: now) == "PDNG")
            #expect(payment.bridgeStatus(at: now.adding(.seconds(2))) == bridge)
            let events = try await f.scheduled().filter { Self.text($0).contains(payment.id) }
            try LinkEmissionsTests.expectCatalogValid(events)
            #expect(events.map(\.type) == ["payment.created", "payment.transaction.created", "payment.updated", "payment.transaction.updated"])
            #expect(events.map { $0.dueAt.milliseconds - now.milliseconds } == [0, 0, 2000, 2000])
            let details = try #require(payment.details)
            #expect(Self.text(events[0]) == #"{"id":"\#(payment.id)","customer_id":"\#(details.customerID)","intent_id":"\#(details.intentID)","status":"PENDING_WITH_BANK","amount":10.17,"currency":"AED","bank_transaction_reference":"\#(details.bankTransactionReference)","end_user_id":"\#(details.endUserID)"}"#)
            #expect(Self.text(events[2]) == Self.text(events[0]).replacingOccurrences(of: "PENDING_WITH_BANK", with: lean))
            #expect(Self.text(events[1]) == #"{"payment_transaction_id":"\#(payment.id)","payment_request_id":"\#(details.bridgePaymentRequestID)","client_reference":"\#(reference)"}"#)
            let reason = bridge == "RJCT" ? #","status_reason":"MS03""# : ""
            #expect(Self.text(events[3]) == #"{"payment_transaction_id":"\#(payment.id)","payment_request_id":"\#(details.bridgePaymentRequestID)","status":"\#(bridge)"\#(reason),"client_reference":"\#(reference)"}"#)
        }
        // Pending: created, and never updated.
        let pending = try await f.payments.createPayment(
            applicationID: "app", amount: "5", currency: "SAR", reference: "Pending forever", paymentSourceID: nil)
        #expect(pending.status(at: now.adding(.seconds(3600))) == "PENDING_WITH_BANK")
        #expect(pending.bridgeStatus(at: now.adding(.seconds(3600))) == "PDNG")
        #expect(try await f.scheduled().filter { Self.text($0).contains(pending.id) }.map(\.type) == ["payment.created", "payment.transaction.created"])
    }

    @Test func aPaymentFromASourceIsTheSourcesCustomers() async throws {
        let f = try Fixture()
        try await f.pipeline.application()
        let source = try await f.payments.createPaymentSource(
            applicationID: "app", customerID: nil, beneficiaryName: "Acme", iban: "AE070331234567890123456")
        let payment = try await f.payments.createPayment(
            applicationID: "app", amount: "1.5", currency: "AED", reference: "r", paymentSourceID: source.id)
        #expect(payment.paymentSourceID == source.id)
        #expect(payment.details?.customerID == source.customerID)
        let unknown = await #expect(throws: SandboxError.self) {
            try await f.payments.createPayment(applicationID: "app", amount: "1", currency: "AED", reference: "r", paymentSourceID: "nope")
        }
        #expect(unknown?.pointer == "/payment_source_id")
        try await f.pipeline.application("other")
        let foreign = await #expect(throws: SandboxError.self) {
            try await f.payments.createPayment(applicationID: "other", amount: "1", currency: "AED", reference: "r", paymentSourceID: source.id)
        }
        #expect(foreign?.pointer == "/payment_source_id", "another application's source is not found either")
    }

    @Test func aBadPaymentIsRefusedNamingTheMember() async throws {
        let f = try Fixture()
        try await f.pipeline.application()
        for amount in ["0", "0.00", "-1", "1e3", "10.", ".5", "1,00", "10.1234", "", " 10", "NaN", "Infinity", "1234567890123", "١٢"] {
            let error = await #expect(throws: SandboxError.self, "\(amount)") {
                try await f.payments.createPayment(applicationID: "app", amount: amount, currency: "AED", reference: "r", paymentSourceID: nil)
            }
            #expect(error?.pointer == "/amount", "\(amount)")
        }
        for currency in ["aed", "AE", "AEDX", "", "A1D"] {
            let error = await #expect(throws: SandboxError.self) {
                try await f.payments.createPayment(applicationID: "app", amount: "1", currency: currency, reference: "r", paymentSourceID: nil)
            }
            #expect(error?.pointer == "/currency", "\(currency)")
        }
        for reference in ["", "   ", String(repeating: "r", count: 141)] {
            let error = await #expect(throws: SandboxError.self) {
                try await f.payments.createPayment(applicationID: "app", amount: "1", currency: "AED", reference: reference, paymentSourceID: nil)
            }
            #expect(error?.pointer == "/reference")
        }
        #expect(try await f.pipeline.store.nextScheduledEventDue() == nil)
        for amount in ["10", "10.17", "0.001", "999999999999.99"] {
            _ = try await f.payments.createPayment(applicationID: "app", amount: amount, currency: "AED", reference: "ok", paymentSourceID: nil)
        }
    }

    @Test func outcomesByReferenceAreCaseInsensitive() {
        #expect(SandboxPaymentOutcome(reference: "Rejected") == .rejected)
        #expect(SandboxPaymentOutcome(reference: "pending-reject") == .rejected, "reject wins")
        #expect(SandboxPaymentOutcome(reference: "PENDING") == .pending)
        #expect(SandboxPaymentOutcome(reference: "rent") == .accepted)
    }

    /// End to end: the payment's events reach Lean and Bridge webhooks when due.
    @Test func aPaymentsEventsAreDeliveredWhenDue() async throws {
        try await TestReceiver.run { receiver in
            let f = try Fixture(try await LinkEmissionsDeliveryTests.pipeline(receiver))
            let p = f.pipeline
            try await p.run {
                let source = try await f.payments.createPaymentSource(
                    applicationID: "app", customerID: nil, beneficiaryName: "Acme", iban: "AE070331234567890123456")
                let payment = try await f.payments.createPayment(
                    applicationID: "app", amount: "670", currency: "AED", reference: "rent", paymentSourceID: source.id)
                let rejected = try await f.payments.createPayment(
                    applicationID: "app", amount: "10.17", currency: "AED", reference: "REJECT", paymentSourceID: nil)
                _ = try await receiver.waitForRequests(6)
                try await Task.sleep(for: .milliseconds(200))
                #expect(receiver.requests.count == 6, "nothing before it is due")
                p.clock.advance(by: .seconds(2))
                _ = try await receiver.waitForRequests(10)
                p.clock.advance(by: .seconds(3))
                _ = try await receiver.waitForRequests(11)
                let failed = receiver.requests.map(\.bodyText).filter { $0.contains(rejected.id) }
                #expect(failed.contains { $0.hasPrefix(#"{"type":"payment.updated","#) && $0.contains(#""status":"FAILED","amount":10.17,"#) })
                #expect(failed.contains { $0.contains(#""status":"RJCT","status_reason":"MS03","client_reference":"REJECT"}"#) })
                try await eventually("every scheduled event deleted") { try await p.store.nextScheduledEventDue() == nil }
                let lean = LinkEmissionsDeliveryTests.bodies(receiver, "/lean") { body in
                    body.contains(rejected.id) ? nil : LinkEmissionsDeliveryTests.member("type", of: body)
                }
                #expect(Set(lean.keys) == [
                    "payment_source.created", "payment_source.beneficiary.created", "payment_source.beneficiary.updated", "payment.created",
                    "payment.updated",
                ])
                #expect(lean["payment.updated"]?.contains(#""payload":{"id":"\#(payment.id)","customer_id":"\#(source.customerID)","#) == true)
                #expect(lean["payment.updated"]?.contains(#""status":"ACCEPTED_BY_BANK","amount":670,"currency":"AED","#) == true)
                let bridge = receiver.requests.filter { $0.path == "/bridge" && $0.bodyText.contains(payment.id) }.map(\.bodyText)
                #expect(bridge.count == 2)
                #expect(bridge.contains { $0.contains(#""status":"ACSC""#) && $0.hasSuffix(#""type":"payment.transaction.updated"}"#) })
            }
        }
    }
}
