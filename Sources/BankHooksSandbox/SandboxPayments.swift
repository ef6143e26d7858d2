import BankHooksCore
import BankHooksStorage
import BankHooksVerify
import Foundation

/// Sandbox payments (Lean's payment sources and payments, Bridge's payment transactions): each
/// is stored with the events it sets off in one transaction, and the runner publishes them.
///
/// A payment's outcome is chosen by its reference, case-insensitively: one containing `reject`
/// is rejected (Lean `FAILED`, Bridge `RJCT`), one containing `pending` stays pending (no update
/// is ever sent), any other is accepted (Lean `ACCEPTED_BY_BANK`, Bridge `ACSC`) after
/// `paymentSettlement`. A payment source's beneficiary waits `beneficiaryCoolOff` before it is `ACTIVE`.
public final class SandboxPayments: Sendable {
    /// Lean's statuses as the sandbox uses them.
    public enum LeanStatus {
        public static let pending = "PENDING_WITH_BANK"
        public static let accepted = "ACCEPTED_BY_BANK"
        public static let failed = "FAILED"
        public static let coolOff = "AWAITING_BENEFICIARY_COOL_OFF"
        public static let active = "ACTIVE"
    }

    /// The bank payment sources are created at, as seed 001's `payment_source.created` prints it
    /// (`LEANMB1`, "Lean Mock Bank"; `SandboxInstitution.leanPaymentsBankName` of the built-in bank).
    public static let bankIdentifier = "LEANMB1"
    public static let bankName = "Lean Mock Bank"
    /// Longest reference and beneficiary name accepted.
    public static let maxTextLength = 140

    let store: any SandboxStore
    let clock: any WallClock
    let timings: SandboxTimings
    let wake: @Sendable () -> Void

    public init(store: any SandboxStore, clock: any WallClock, timings: SandboxTimings, wake: @escaping @Sendable () -> Void) {
        self.store = store
        self.clock = clock
        self.timings = timings
        self.wake = wake
    }

    // MARK: Payment sources

    /// Creates a payment source with one beneficiary: Lean `payment_source.created` and
    /// `payment_source.beneficiary.created` (both `AWAITING_BENEFICIARY_COOL_OFF`) now, and
    /// `payment_source.beneficiary.updated` (`ACTIVE`) after the cool-off.
    /// Throws `invalidField` for a customer id that is not a UUID, an empty or overlong name, or a bad IBAN.
    public func createPaymentSource(
        applicationID: String, customerID: String?, beneficiaryName: String, iban: String
    ) async throws -> SandboxPaymentSource {
        let customer = try customerID.map { try Self.uuid($0, at: "/customer_id") } ?? DerivedID.randomUUID()
        let name = SandboxText.trimmed(beneficiaryName)
        guard !name.isEmpty, name.count <= Self.maxTextLength else {
            throw SandboxError(.invalidField, at: "/beneficiary/name", "the beneficiary's name must be 1 to \(Self.maxTextLength) characters")
        }
        let compactIBAN = iban.filter { $0 != " " }.uppercased()
        guard IBAN.isValid(compactIBAN) else {
            throw SandboxError(.invalidField, at: "/beneficiary/iban", "`\(iban)` is not a valid IBAN (its check digits do not hold)")
        }
        let now = clock.now()
        let details = PaymentSourceDetails(
            beneficiaryName: name, iban: compactIBAN, paymentDestinationID: DerivedID.randomUUID(), bankIdentifier: Self.bankIdentifier,
            bankName: Self.bankName)
        let source = SandboxPaymentSource(
            id: DerivedID.randomUUID(), applicationID: applicationID, customerID: customer, beneficiaryID: DerivedID.randomUUID(),
            createdAt: now, beneficiaryActiveAt: now.adding(timings.beneficiaryCoolOff), document: try OrderedJSONEncoder.encode(details))
        var batch = ScheduledEventBatch(applicationID: applicationID, now: now)
        try batch.add(
            LeanPaymentSourceCreated(
                id: source.id, customerID: customer, status: LeanStatus.coolOff, bankIdentifier: details.bankIdentifier, bankName: details.bankName),
            as: "payment_source.created")
        try batch.add(beneficiary(of: source, details: details, status: LeanStatus.coolOff), as: "payment_source.beneficiary.created")
        try batch.add(
            beneficiary(of: source, details: details, status: LeanStatus.active), as: "payment_source.beneficiary.updated",
            after: timings.beneficiaryCoolOff)
        try await store.createPaymentSource(source, events: batch.events)
        wake()
        return source
    }

    public func paymentSource(id: String, applicationID: String) async throws -> SandboxPaymentSource? {
        try await store.paymentSource(id: id, applicationID: applicationID)
    }

    private func beneficiary(of source: SandboxPaymentSource, details: PaymentSourceDetails, status: String) -> LeanPaymentSourceBeneficiary {
        LeanPaymentSourceBeneficiary(
            id: source.beneficiaryID, customerID: source.customerID, paymentSourceID: source.id,
            paymentDestinationID: details.paymentDestinationID, status: status)
    }

    // MARK: Payments

    /// Creates a payment: Lean `payment.created` (`PENDING_WITH_BANK`) and Bridge
    /// `payment.transaction.created` now, Lean `payment.updated` and Bridge
    /// `payment.transaction.updated` with the outcome after `paymentSettlement` (none for a
    /// pending one). Throws `invalidField` for an amount that is not a positive decimal (at most
    /// 3 places), a currency that is not 3 capital letters, an empty or overlong reference, or a
    /// payment source the application does not have.
    public func createPayment(
        applicationID: String, amount: String, currency: String, reference: String, paymentSourceID: String?
    ) async throws -> SandboxPayment {
        guard let value = Self.positiveAmount(amount) else {
            throw SandboxError(.invalidField, at: "/amount", "`\(amount)` is not a positive decimal amount with at most 3 decimal places (e.g. `10.17`)")
        }
        guard currency.utf8.count == 3, currency.utf8.allSatisfy({ (0x41...0x5A).contains($0) }) else {
            throw SandboxError(.invalidField, at: "/currency", "`\(currency)` is not an ISO 4217 currency code (3 capital letters, e.g. `AED`)")
        }
        let trimmedReference = SandboxText.trimmed(reference)
        guard !trimmedReference.isEmpty, trimmedReference.count <= Self.maxTextLength else {
            throw SandboxError(.invalidField, at: "/reference", "the reference must be 1 to \(Self.maxTextLength) characters")
        }
        var customerID = DerivedID.randomUUID()
        if let paymentSourceID {
            guard let source = try await store.paymentSource(id: paymentSourceID, applicationID: applicationID) else {
                throw SandboxError(.invalidField, at: "/payment_source_id", "`\(paymentSourceID)` is not a payment source of this application")
            }
            customerID = source.customerID
        }
        let outcome = SandboxPaymentOutcome(reference: trimmedReference)
        let now = clock.now()
        let details = SandboxPaymentDetails(
            outcome: outcome, customerID: customerID, intentID: DerivedID.randomUUID(), endUserID: DerivedID.randomUUID(),
            bankTransactionReference: Self.bankTransactionReference(), bridgePaymentRequestID: DerivedID.randomUUID(),
            bridgeFinalStatus: outcome.bridgeStatus, bridgeStatusReason: outcome == .rejected ? "MS03" : nil)
        let payment = SandboxPayment(
            id: DerivedID.randomUUID(), applicationID: applicationID, paymentSourceID: paymentSourceID, amount: amount, currency: currency,
            reference: trimmedReference, initialStatus: LeanStatus.pending, finalStatus: outcome.leanStatus, createdAt: now,
            settlesAt: now.adding(timings.paymentSettlement), document: try OrderedJSONEncoder.encode(details))
        var batch = ScheduledEventBatch(applicationID: applicationID, now: now)
        try batch.add(
            LeanPaymentCreated(
                id: payment.id, customerID: customerID, intentID: details.intentID, status: LeanStatus.pending, amount: value,
                currency: currency, bankTransactionReference: details.bankTransactionReference, endUserID: details.endUserID),
            as: "payment.created")
        try batch.add(
            BridgePaymentTransactionCreatedEvent(
                paymentTransactionID: payment.id, paymentRequestID: details.bridgePaymentRequestID, clientReference: trimmedReference),
            as: "payment.transaction.created")
        if outcome != .pending {
            try batch.add(
                LeanPaymentUpdated(
                    id: payment.id, customerID: customerID, intentID: details.intentID, status: outcome.leanStatus, amount: value,
                    currency: currency, bankTransactionReference: details.bankTransactionReference, endUserID: details.endUserID),
                as: "payment.updated", after: timings.paymentSettlement)
            try batch.add(
                BridgePaymentTransactionUpdatedEvent(
                    paymentTransactionID: payment.id, paymentRequestID: details.bridgePaymentRequestID, status: outcome.bridgeStatus,
                    statusReason: details.bridgeStatusReason, clientReference: trimmedReference),
                as: "payment.transaction.updated", after: timings.paymentSettlement)
        }
        try await store.createPayment(payment, events: batch.events)
        wake()
        return payment
    }

    public func payment(id: String, applicationID: String) async throws -> SandboxPayment? {
        try await store.payment(id: id, applicationID: applicationID)
    }

    // MARK: Validation

    /// The amount as a number when it is a plain positive decimal: digits, then optionally a point
    /// and 1 to 3 digits, at most 12 digits before the point.
    static func positiveAmount(_ text: String) -> Double? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, (1...12).contains(whole.count), whole.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if parts.count == 2 {
            guard (1...3).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        }
        guard let value = Double(text), value > 0 else { return nil }
        return value
    }

    /// A UUID, lower-cased; `invalidField` at `pointer` otherwise.
    static func uuid(_ text: String, at pointer: String) throws -> String {
        guard let uuid = UUID(uuidString: text) else {
            throw SandboxError(.invalidField, at: pointer, "`\(text)` is not a UUID")
        }
        return uuid.uuidString.lowercased()
    }

    /// Like Lean's `0H129D0RT04YY`: 13 capital letters and digits.
    static func bankTransactionReference() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return String((0..<13).map { _ in alphabet.randomElement()! })
    }
}

/// What a sandbox payment comes to, chosen by its reference.
public enum SandboxPaymentOutcome: String, Codable, Hashable, Sendable {
    case accepted
    case rejected
    case pending

    /// `reject` anywhere in the reference (any case) rejects, else `pending` keeps it pending, else accepted.
    public init(reference: String) {
        let lowered = reference.lowercased()
        if lowered.contains("reject") {
            self = .rejected
        } else if lowered.contains("pending") {
            self = .pending
        } else {
            self = .accepted
        }
    }

    /// Lean's final status.
    public var leanStatus: String {
        switch self {
        case .accepted: SandboxPayments.LeanStatus.accepted
        case .rejected: SandboxPayments.LeanStatus.failed
        case .pending: SandboxPayments.LeanStatus.pending
        }
    }

    /// Bridge's final ISO 20022 status.
    public var bridgeStatus: String {
        switch self {
        case .accepted: "ACSC"
        case .rejected: "RJCT"
        case .pending: "PDNG"
        }
    }
}

/// What the sandbox keeps about a payment beyond its columns (`SandboxPayment.document`).
public struct SandboxPaymentDetails: Codable, Hashable, Sendable {
    public var outcome: SandboxPaymentOutcome
    /// Lean's customer: the payment source's, or a new one.
    public var customerID: String
    public var intentID: String
    public var endUserID: String
    public var bankTransactionReference: String
    public var bridgePaymentRequestID: String
    /// Bridge's status once settled (`ACSC`, `RJCT`; `PDNG` for one that stays pending).
    public var bridgeFinalStatus: String
    /// ISO 20022 reason of a rejection (`MS03`).
    public var bridgeStatusReason: String?

    enum CodingKeys: String, CodingKey {
        case outcome
        case customerID = "customer_id"
        case intentID = "intent_id"
        case endUserID = "end_user_id"
        case bankTransactionReference = "bank_transaction_reference"
        case bridgePaymentRequestID = "bridge_payment_request_id"
        case bridgeFinalStatus = "bridge_final_status"
        case bridgeStatusReason = "bridge_status_reason"
    }
}

/// What the sandbox keeps about a payment source beyond its columns (`SandboxPaymentSource.document`).
public struct PaymentSourceDetails: Codable, Hashable, Sendable {
    public var beneficiaryName: String
    /// Without spaces, upper case.
    public var iban: String
    public var paymentDestinationID: String
    public var bankIdentifier: String
    public var bankName: String

    enum CodingKeys: String, CodingKey {
        case beneficiaryName = "beneficiary_name"
        case iban
        case paymentDestinationID = "payment_destination_id"
        case bankIdentifier = "bank_identifier"
        case bankName = "bank_name"
    }
}

extension SandboxPayment {
    /// The details in `document`; nil when the document is not one the sandbox wrote.
    public var details: SandboxPaymentDetails? { try? JSONDecoder().decode(SandboxPaymentDetails.self, from: Data(document)) }

    /// Bridge's status at `now`: `PDNG` until it settles, then the final one.
    public func bridgeStatus(at now: Timestamp) -> String {
        now >= settlesAt ? (details?.bridgeFinalStatus ?? "PDNG") : "PDNG"
    }
}

extension SandboxPaymentSource {
    /// The details in `document`; nil when the document is not one the sandbox wrote.
    public var details: PaymentSourceDetails? { try? JSONDecoder().decode(PaymentSourceDetails.self, from: Data(document)) }

    /// The beneficiary's (and the source's) Lean status at `now`.
    public func beneficiaryStatus(at now: Timestamp) -> String {
        now >= beneficiaryActiveAt ? SandboxPayments.LeanStatus.active : SandboxPayments.LeanStatus.coolOff
    }
}
