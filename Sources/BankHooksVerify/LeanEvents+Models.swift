// The models of Lean's webhook payloads (seed 001): entities, bank availability, reports. Payments
// and the Callback URL body are in LeanEvents+PaymentModels.swift; the definitions in LeanEvents.swift.

/// `bank_details.account_type` of `entity.created` / `entity.updated`: the kind of account connected.
public enum LeanAccountType: String, Codable, Sendable, Hashable, CaseIterable {
    case business = "BUSINESS"
    case personal = "PERSONAL"
}

/// `bank_details` of `entity.created` and `entity.updated`: the bank that holds the connected account.
public struct LeanEntityBankDetails: Codable, Sendable, Hashable {
    /// URL of the bank's logo.
    public var logo: String
    /// The bank's name.
    public var name: String
    /// Whether the connected account is a business or a personal one.
    public var accountType: LeanAccountType
    /// How Lean identifies the bank (e.g. `LEA1_SAMAOB_SAU`).
    public var identifier: String
    /// The bank's main colour, as a hex value (e.g. `#1beb75`).
    public var mainColor: String
    /// The bank's background colour, as a hex value (e.g. `#ffffff`).
    public var backgroundColor: String
    /// The bank's SWIFT code (e.g. `MOCKSA01`); `null` when Lean has none.
    public var swiftCode: String?
    /// The kind of bank (e.g. `RETAIL`).
    public var bankType: String?

    public init(
        logo: String, name: String, accountType: LeanAccountType, identifier: String, mainColor: String, backgroundColor: String,
        swiftCode: String? = nil, bankType: String? = nil
    ) {
        self.logo = logo
        self.name = name
        self.accountType = accountType
        self.identifier = identifier
        self.mainColor = mainColor
        self.backgroundColor = backgroundColor
        self.swiftCode = swiftCode
        self.bankType = bankType
    }

    enum CodingKeys: String, CodingKey {
        case logo
        case name
        case accountType = "account_type"
        case identifier
        case mainColor = "main_color"
        case backgroundColor = "background_color"
        case swiftCode = "swift_code"
        case bankType = "bank_type"
    }
}

/// The `payload` of Lean's `entity.created` and `entity.updated` webhooks: the connected entity.
public struct LeanEntity: CatalogEvent, Hashable {
    /// The entity: the token representing the connected bank account, used to retrieve the customer's bank data.
    public var id: String
    /// The id your application uses for the customer.
    public var appUserID: String
    /// The Lean customer the entity belongs to.
    public var customerID: String
    /// The permissions the customer granted (e.g. `transactions`, `identity`, `accounts`, `beneficiaries`).
    public var permissions: [String]
    /// The bank that holds the connected account.
    public var bankDetails: LeanEntityBankDetails

    public init(id: String, appUserID: String, customerID: String, permissions: [String], bankDetails: LeanEntityBankDetails) {
        self.id = id
        self.appUserID = appUserID
        self.customerID = customerID
        self.permissions = permissions
        self.bankDetails = bankDetails
    }

    enum CodingKeys: String, CodingKey {
        case id
        case appUserID = "app_user_id"
        case customerID = "customer_id"
        case permissions
        case bankDetails = "bank_details"
    }
}

/// The `payload` of Lean's `results.ready` webhook.
public struct LeanResultsReady: CatalogEvent, Hashable {
    /// The asynchronous request whose results are ready.
    public var id: String

    public init(id: String) {
        self.id = id
    }
}

/// Availability of a bank per Lean product (`availability.active` and `availability.enabled` of `bank.availability.updated`).
public struct LeanProductAvailability: Codable, Sendable, Hashable {
    /// For payments.
    public var payments: Bool
    /// For bank data (Open Banking).
    public var data: Bool

    public init(payments: Bool, data: Bool) {
        self.payments = payments
        self.data = data
    }
}

/// `availability` of `bank.availability.updated`.
public struct LeanBankAvailability: Codable, Sendable, Hashable {
    /// Whether the bank is online, per product.
    public var active: LeanProductAvailability
    /// Whether the bank is enabled, per product (Lean or you in the Application Dashboard can take it offline).
    public var enabled: LeanProductAvailability

    public init(active: LeanProductAvailability, enabled: LeanProductAvailability) {
        self.active = active
        self.enabled = enabled
    }
}

/// The `payload` of Lean's `bank.availability.updated` webhook.
public struct LeanBankAvailabilityUpdated: CatalogEvent, Hashable {
    /// How Lean identifies the bank (e.g. `BANK1_KSA`).
    public var identifier: String
    /// The bank's availability for payments and for bank data.
    public var availability: LeanBankAvailability

    public init(identifier: String, availability: LeanBankAvailability) {
        self.identifier = identifier
        self.availability = availability
    }
}

/// An availability switch of `iban_account_verification.bank.availability.updated`.
public enum LeanAvailabilityState: String, Codable, Sendable, Hashable, CaseIterable {
    case enabled
    case disabled
}

/// IBAN Account Verification availability for one account type.
public struct LeanIBANMatchAvailability: Codable, Sendable, Hashable {
    /// Availability of `match` results.
    public var match: LeanAvailabilityState
    /// Availability of `no_match` results.
    public var noMatch: LeanAvailabilityState

    public init(match: LeanAvailabilityState, noMatch: LeanAvailabilityState) {
        self.match = match
        self.noMatch = noMatch
    }

    enum CodingKeys: String, CodingKey {
        case match
        case noMatch = "no_match"
    }
}

/// `availability.account_type` of `iban_account_verification.bank.availability.updated`.
public struct LeanIBANAccountTypeAvailability: Codable, Sendable, Hashable {
    /// For personal accounts.
    public var personal: LeanIBANMatchAvailability
    /// For freelancer accounts.
    public var freelancer: LeanIBANMatchAvailability
    /// For business accounts.
    public var business: LeanIBANMatchAvailability

    public init(personal: LeanIBANMatchAvailability, freelancer: LeanIBANMatchAvailability, business: LeanIBANMatchAvailability) {
        self.personal = personal
        self.freelancer = freelancer
        self.business = business
    }
}

/// `availability` of `iban_account_verification.bank.availability.updated`.
public struct LeanIBANAvailability: Codable, Sendable, Hashable {
    /// Globally enables or disables the bank.
    public var global: LeanAvailabilityState
    /// Availability per account type.
    public var accountType: LeanIBANAccountTypeAvailability

    public init(global: LeanAvailabilityState, accountType: LeanIBANAccountTypeAvailability) {
        self.global = global
        self.accountType = accountType
    }

    enum CodingKeys: String, CodingKey {
        case global
        case accountType = "account_type"
    }
}

/// The `payload` of Lean's `iban_account_verification.bank.availability.updated` webhook.
public struct LeanIBANAccountVerificationBankAvailabilityUpdated: CatalogEvent, Hashable {
    /// The bank's country, ISO 3166-1 alpha-2 (e.g. `SA`).
    public var countryCode: String
    /// The bank's code in that country (e.g. `80`).
    public var bankCode: String
    /// The bank's availability for IBAN Account Verification.
    public var availability: LeanIBANAvailability

    public init(countryCode: String, bankCode: String, availability: LeanIBANAvailability) {
        self.countryCode = countryCode
        self.bankCode = bankCode
        self.availability = availability
    }

    enum CodingKeys: String, CodingKey {
        case countryCode = "country_code"
        case bankCode = "bank_code"
        case availability
    }
}

/// The `payload` of Lean's `report.generated` webhook.
public struct LeanReportGenerated: CatalogEvent, Hashable {
    /// The Lean customer.
    public var customerID: String
    /// The generated report.
    public var reportID: String

    public init(customerID: String, reportID: String) {
        self.customerID = customerID
        self.reportID = reportID
    }

    enum CodingKeys: String, CodingKey {
        case customerID = "customer_id"
        case reportID = "report_id"
    }
}

/// The `payload` of Lean's `report.failed` webhook.
public struct LeanReportFailed: CatalogEvent, Hashable {
    /// The Lean customer.
    public var customerID: String

    public init(customerID: String) {
        self.customerID = customerID
    }

    enum CodingKeys: String, CodingKey {
        case customerID = "customer_id"
    }
}

/// The `payload` of Lean's `hyperlink.unsupported_bank_request.created` webhook.
public struct LeanHyperLinkUnsupportedBankRequestCreated: CatalogEvent, Hashable {
    /// The Lean customer.
    public var customerID: String
    /// How Lean identifies the bank the customer asked for (e.g. `STC_SAU`).
    public var bankIdentifier: String

    public init(customerID: String, bankIdentifier: String) {
        self.customerID = customerID
        self.bankIdentifier = bankIdentifier
    }

    enum CodingKeys: String, CodingKey {
        case customerID = "customer_id"
        case bankIdentifier = "bank_identifier"
    }
}
