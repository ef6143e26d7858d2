import BankHooksCore
import BankHooksSandbox
import Hummingbird

/// `/v1/sandbox/payment-sources` and `/v1/sandbox/payments`: Lean payment sources with a
/// beneficiary cool-off, and payments whose outcome the reference chooses (`reject` → rejected,
/// `pending` → stays pending, anything else → executed), each publishing Lean's and Bridge's events.
struct SandboxPaymentsController {
    let payments: SandboxPayments
    let access: SandboxAccess
    let clock: any WallClock

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("sandbox/payment-sources", use: createSource)
        group.get("sandbox/payment-sources/:id", use: getSource)
        group.post("sandbox/payments", use: createPayment)
        group.get("sandbox/payments/:id", use: getPayment)
    }

    // MARK: Requests

    struct BeneficiaryRequest: Decodable {
        var name: String
        var iban: String

        init(from decoder: any Decoder) throws {
            try decoder.sandboxObject(["name", "iban"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            iban = try container.decode(String.self, forKey: .iban)
        }

        enum CodingKeys: String, CodingKey { case name, iban }
    }

    struct SourceRequest: Decodable {
        var customerID: String?
        var beneficiary: BeneficiaryRequest

        init(from decoder: any Decoder) throws {
            try decoder.sandboxObject(["customerId", "beneficiary"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            customerID = try container.decodeIfPresent(String.self, forKey: .customerID)
            beneficiary = try container.decode(BeneficiaryRequest.self, forKey: .beneficiary)
        }

        enum CodingKeys: String, CodingKey { case customerID = "customerId", beneficiary }

        func validate() throws {
            if let id = customerID, !SandboxInput.text(id) {
                throw Problem.invalidField("/customer_id", "`customer_id` must be 1 to 255 bytes without control characters")
            }
            guard SandboxInput.text(beneficiary.name, maxLength: 140) else {
                throw Problem.invalidField("/beneficiary/name", "`name` must be 1 to 140 bytes without control characters")
            }
            guard SandboxPaymentsController.isIBAN(beneficiary.iban) else {
                throw Problem.invalidField("/beneficiary/iban", "`iban` must be an IBAN: 2 capital letters, 2 digits, then 11 to 30 capital letters or digits (no spaces)")
            }
        }
    }

    struct PaymentRequest: Decodable {
        var amount: String
        var currency: String
        var reference: String
        var paymentSourceID: String?

        init(from decoder: any Decoder) throws {
            try decoder.sandboxObject(["amount", "currency", "reference", "paymentSourceId"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            amount = try container.decode(String.self, forKey: .amount)
            currency = try container.decode(String.self, forKey: .currency)
            reference = try container.decode(String.self, forKey: .reference)
            paymentSourceID = try container.decodeIfPresent(String.self, forKey: .paymentSourceID)
        }

        enum CodingKeys: String, CodingKey { case amount, currency, reference, paymentSourceID = "paymentSourceId" }

        func validate() throws {
            guard SandboxPaymentsController.isAmount(amount) else {
                throw Problem.invalidField("/amount", "`amount` must be a positive decimal string with at most 3 decimals, e.g. \"100.50\"")
            }
            guard currency.utf8.count == 3, currency.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else {
                throw Problem.invalidField("/currency", "`currency` must be an ISO 4217 code such as SAR or EUR")
            }
            guard SandboxInput.text(reference, maxLength: 140) else {
                throw Problem.invalidField("/reference", "`reference` must be 1 to 140 bytes without control characters")
            }
            if let id = paymentSourceID, !SandboxInput.text(id) {
                throw Problem.invalidField("/payment_source_id", "`payment_source_id` must be 1 to 255 bytes")
            }
        }
    }

    /// `CC00` then 11 to 30 letters or digits, capitals only (15 to 34 in all).
    static func isIBAN(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func letter(_ b: UInt8) -> Bool { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b) }
        func digit(_ b: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
        return (15...34).contains(bytes.count) && letter(bytes[0]) && letter(bytes[1]) && digit(bytes[2]) && digit(bytes[3])
            && bytes[4...].allSatisfy { letter($0) || digit($0) }
    }

    /// `123`, `123.4`, `123.45` or `123.456`, no leading zeros (but `0.50`), at most 12 whole digits, more than zero.
    static func isAmount(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = parts.first, (1...12).contains(whole.count),
              whole.allSatisfy({ $0.isASCII && $0.isNumber }), whole == "0" || whole.first != "0" else { return false }
        if parts.count == 2 {
            guard (1...3).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        }
        return text.contains { $0 != "0" && $0 != "." }
    }

    // MARK: Views

    struct BeneficiaryView: Encodable, Sendable {
        var id: String
        var status: String
    }

    struct SourceView: Encodable, Sendable {
        var id: String
        var customerId: String
        var beneficiary: BeneficiaryView
        var createdAt: Timestamp

        init(_ source: SandboxPaymentSource, now: Timestamp) {
            id = source.id
            customerId = source.customerID
            beneficiary = BeneficiaryView(
                id: source.beneficiaryID, status: now >= source.beneficiaryActiveAt ? "ACTIVE" : "AWAITING_BENEFICIARY_COOL_OFF")
            createdAt = source.createdAt
        }
    }

    struct PaymentView: Encodable, Sendable {
        var id: String
        var status: String
        var amount: String
        var currency: String
        var reference: String
        var paymentSourceId: String?
        var createdAt: Timestamp
        var settlesAt: Timestamp

        init(_ payment: SandboxPayment, now: Timestamp) {
            id = payment.id
            status = payment.status(at: now)
            amount = payment.amount
            currency = payment.currency
            reference = payment.reference
            paymentSourceId = payment.paymentSourceID
            createdAt = payment.createdAt
            settlesAt = payment.settlesAt
        }
    }

    // MARK: Handlers

    @Sendable func createSource(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await access.require(Roles.publishers, to: "create payment sources", context: context)
        let body = try await decodeBody(SourceRequest.self, from: request, context: context)
        try body.validate()
        let source = try await payments.createPaymentSource(
            applicationID: application.id, customerID: body.customerID, beneficiaryName: body.beneficiary.name, iban: body.beneficiary.iban)
        return try Response.json(SourceView(source, now: clock.now()), status: .created, context: context)
    }

    @Sendable func getSource(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await access.require(Roles.readers, to: "read payment sources", context: context)
        let id = try context.pathParameter("id")
        guard let source = try await payments.paymentSource(id: id, applicationID: application.id) else {
            throw Problem.notFound("payment source \(id)", field: "path:id")
        }
        return try Response.json(SourceView(source, now: clock.now()), status: .ok, context: context)
    }

    @Sendable func createPayment(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await access.require(Roles.publishers, to: "create payments", context: context)
        let body = try await decodeBody(PaymentRequest.self, from: request, context: context)
        try body.validate()
        if let sourceID = body.paymentSourceID, try await payments.paymentSource(id: sourceID, applicationID: application.id) == nil {
            throw Problem.invalidField("/payment_source_id", "payment source \(sourceID) does not exist")
        }
        let payment = try await payments.createPayment(
            applicationID: application.id, amount: body.amount, currency: body.currency, reference: body.reference,
            paymentSourceID: body.paymentSourceID)
        return try Response.json(PaymentView(payment, now: clock.now()), status: .created, context: context)
    }

    @Sendable func getPayment(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await access.require(Roles.readers, to: "read payments", context: context)
        let id = try context.pathParameter("id")
        guard let payment = try await payments.payment(id: id, applicationID: application.id) else {
            throw Problem.notFound("payment \(id)", field: "path:id")
        }
        return try Response.json(PaymentView(payment, now: clock.now()), status: .ok, context: context)
    }
}
