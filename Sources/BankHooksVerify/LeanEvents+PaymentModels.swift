// The models of Lean's payment webhooks (seed 001) and of its Callback URL body (seed 000).

/// The `payload` of Lean's `payment_source.created` webhook (a Payment Source).
public struct LeanPaymentSourceCreated: CatalogEvent, Hashable {
    /// The payment source.
    public var id: String
    /// The Lean customer.
    public var customerID: String
    /// The payment source's status (e.g. `AWAITING_BENEFICIARY_COOL_OFF`).
    public var status: String
    /// How Lean identifies the bank (e.g. `LEANMB1`).
    public var bankIdentifier: String
    /// The bank's name.
    public var bankName: String
    /// The end user the payment source belongs to; Lean's sandbox sends `null`.
    public var endUserID: String?

    public init(id: String, customerID: String, status: String, bankIdentifier: String, bankName: String, endUserID: String? = nil) {
        self.id = id
        self.customerID = customerID
        self.status = status
        self.bankIdentifier = bankIdentifier
        self.bankName = bankName
        self.endUserID = endUserID
    }

    enum CodingKeys: String, CodingKey {
        case id
        case customerID = "customer_id"
        case status
        case bankIdentifier = "bank_identifier"
        case bankName = "bank_name"
        case endUserID = "end_user_id"
    }
}

/// The `payload` of Lean's `payment_source.beneficiary.created` and `payment_source.beneficiary.updated` webhooks
/// (a Payment Source Beneficiary).
public struct LeanPaymentSourceBeneficiary: CatalogEvent, Hashable {
    /// The beneficiary: the pathway between a payment source and a payment destination.
    public var id: String
    /// The Lean customer.
    public var customerID: String
    /// The payment source the beneficiary belongs to.
    public var paymentSourceID: String
    /// The payment destination the beneficiary pays to.
    public var paymentDestinationID: String
    /// The beneficiary's status (`AWAITING_BENEFICIARY_COOL_OFF`, then `ACTIVE`).
    public var status: String
    /// How Lean identifies the payment source's bank (e.g. `LEAN_OF_RETAIL_UAE`).
    public var paymentSourceBankIdentifier: String?

    public init(
        id: String, customerID: String, paymentSourceID: String, paymentDestinationID: String, status: String,
        paymentSourceBankIdentifier: String? = nil
    ) {
        self.id = id
        self.customerID = customerID
        self.paymentSourceID = paymentSourceID
        self.paymentDestinationID = paymentDestinationID
        self.status = status
        self.paymentSourceBankIdentifier = paymentSourceBankIdentifier
    }

    enum CodingKeys: String, CodingKey {
        case id
        case customerID = "customer_id"
        case paymentSourceID = "payment_source_id"
        case paymentDestinationID = "payment_destination_id"
        case status
        case paymentSourceBankIdentifier = "payment_source_bank_identifier"
    }
}

/// The `payload` of Lean's `payment.created` and `payment.updated` webhooks (a Payment).
public struct LeanPayment: CatalogEvent, Hashable {
    /// The payment.
    public var id: String
    /// The Lean customer.
    public var customerID: String
    /// The payment intent the payment was made for.
    public var intentID: String
    /// The payment's status (e.g. `ACCEPTED_BY_BANK`).
    public var status: String
    /// The amount paid, in `currency`.
    public var amount: Double
    /// ISO 4217 currency code (e.g. `AED`).
    public var currency: String
    /// The bank's reference for the transaction.
    public var bankTransactionReference: String
    /// The end user who made the payment (in seed 001's `payment.updated`; Lean's sandbox leaves it out).
    public var endUserID: String?
    /// The payment destination paid.
    public var paymentDestinationID: String?
    /// The payment's reason, as given when the payment intent was created.
    public var reason: String?
    /// Your metadata of the payment intent, as you gave it.
    public var metadata: [String: CatalogValue]?

    public init(
        id: String, customerID: String, intentID: String, status: String, amount: Double, currency: String, bankTransactionReference: String,
        endUserID: String? = nil, paymentDestinationID: String? = nil, reason: String? = nil, metadata: [String: CatalogValue]? = nil
    ) {
        self.id = id
        self.customerID = customerID
        self.intentID = intentID
        self.status = status
        self.amount = amount
        self.currency = currency
        self.bankTransactionReference = bankTransactionReference
        self.endUserID = endUserID
        self.paymentDestinationID = paymentDestinationID
        self.reason = reason
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case id
        case customerID = "customer_id"
        case intentID = "intent_id"
        case status
        case amount
        case currency
        case bankTransactionReference = "bank_transaction_reference"
        case endUserID = "end_user_id"
        case paymentDestinationID = "payment_destination_id"
        case reason
        case metadata
    }
}

/// The `payload` of Lean's `payment.created` webhook.
public typealias LeanPaymentCreated = LeanPayment
/// The `payload` of Lean's `payment.updated` webhook.
public typealias LeanPaymentUpdated = LeanPayment

/// `status.code` of the Lean Callback URL body: `200` is a success and `401` is a fail.
public enum LeanBankLinkStatusCode: String, Codable, Sendable, Hashable, CaseIterable {
    case success = "200"
    case failure = "401"
}

/// `status` of the Lean Callback URL body: information about the status of the request.
public struct LeanBankLinkStatus: Codable, Sendable, Hashable {
    /// The status code of the authorization: `200` is a success and `401` is a fail.
    public var code: LeanBankLinkStatusCode
    /// Description of the status; on a failure it gives more detail.
    public var message: String

    public init(code: LeanBankLinkStatusCode, message: String) {
        self.code = code
        self.message = message
    }
}

/// `data.entity` of the Lean Callback URL body: the entity created.
public struct LeanBankLinkEntity: Codable, Sendable, Hashable {
    /// The identifier to use with data calls to refer to the user's bank account.
    public var entityUUID: String
    /// The id your application uses to reference the user.
    public var appUserID: String
    /// The permissions the user granted to you.
    public var permissions: [String]

    public init(entityUUID: String, appUserID: String, permissions: [String]) {
        self.entityUUID = entityUUID
        self.appUserID = appUserID
        self.permissions = permissions
    }

    enum CodingKeys: String, CodingKey {
        case entityUUID = "entity_uuid"
        case appUserID = "app_user_id"
        case permissions
    }
}

/// `data.bank_details` of the Lean Callback URL body: the bank in which the user's entity exists.
public struct LeanBankLinkBankDetails: Codable, Sendable, Hashable {
    /// The name of the bank where the user's entity and accounts exist.
    public var name: String
    /// How Lean internally refers to the bank (e.g. `LEANMB1`).
    public var bankIdentifier: String
    /// A URL pointing to an image of the bank's logo (may be empty).
    public var logoURL: String
    /// The HEX value of the primary color the bank uses, for display purposes.
    public var primaryColor: String

    public init(name: String, bankIdentifier: String, logoURL: String, primaryColor: String) {
        self.name = name
        self.bankIdentifier = bankIdentifier
        self.logoURL = logoURL
        self.primaryColor = primaryColor
    }

    enum CodingKeys: String, CodingKey {
        case name
        case bankIdentifier = "bank_identifier"
        case logoURL = "logo_url"
        case primaryColor = "primary_color"
    }
}

/// `data` of a successful Lean Callback URL body.
public struct LeanBankLinkData: Codable, Sendable, Hashable {
    /// Information about the entity created.
    public var entity: LeanBankLinkEntity
    /// Information about the bank in which the user's entity exists.
    public var bankDetails: LeanBankLinkBankDetails

    public init(entity: LeanBankLinkEntity, bankDetails: LeanBankLinkBankDetails) {
        self.entity = entity
        self.bankDetails = bankDetails
    }

    enum CodingKeys: String, CodingKey {
        case entity
        case bankDetails = "bank_details"
    }
}

/// The whole body of Lean's Callback URL POST (`bank_link.result`): the result of one bank-link attempt.
/// Lean sends `"data": null` on failure; encoding writes `null` for a nil `data` too.
public struct LeanBankLinkResult: CatalogEvent, Hashable {
    /// Information about the status of the request.
    public var status: LeanBankLinkStatus
    /// The entity created and its bank; `null` when the link failed.
    public var data: LeanBankLinkData?

    public init(status: LeanBankLinkStatus, data: LeanBankLinkData? = nil) {
        self.status = status
        self.data = data
    }

    /// Writes `null` for an absent `data`, as the provider does, instead of leaving the member out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status, forKey: .status)
        try container.encode(data, forKey: .data)
    }
}
