// Lean's event types: the 13 webhooks of seed 001 and the Callback URL POST of seed 000
// (`bank_link.result`). For a webhook the model is its `payload` (what a publisher sends as
// `data`); BankHooks' `lean` format renders `{"type","message","payload","timestamp","event_id"}`.
// For `bank_link.result` the model is the whole Callback URL body, sent as is.
// Types whose payloads have the same shape share one model and one schema.

/// Lean's webhooks (seed 001) and its Callback URL (seed 000).
public enum LeanEvents {
    public static let definitions: [EventTypeDefinition] = [
        EventTypeDefinition(
            name: "entity.created", family: .lean,
            description: "Triggered when your customer successfully connects their account through the Link SDK's connect(). The entity is used to retrieve data from the customer's bank account: its id serves as a token representing the holding bank account.",
            schema: entitySchema, model: LeanEntity.self,
            message: "An entity object has been created."),
        EventTypeDefinition(
            name: "entity.updated", family: .lean,
            description: "Triggered when the consents for the entity change: the customer connects their account again through the Link SDK's connect(), or revokes the consent. The first connection sends entity.created instead.",
            schema: entitySchema, model: LeanEntity.self,
            message: "An entity object has been updated."),
        EventTypeDefinition(
            name: "results.ready", family: .lean,
            description: "Triggered after Lean's system has retrieved data requested to be delivered asynchronously.",
            schema: CatalogSchema.event(required: ["id"], properties: [
                #""id": {"type": "string", "format": "uuid", "description": "The asynchronous request whose results are ready."}"#,
            ]),
            model: LeanResultsReady.self,
            message: "Your results are ready."),
        EventTypeDefinition(
            name: "bank.availability.updated", family: .lean,
            description: "Triggered when a bank is taken offline or online for bank data (Open Banking), by Lean or by you in the Application Dashboard. While a bank is unavailable, end users' use of the LinkSDK is restricted.",
            schema: bankAvailabilityUpdatedSchema, model: LeanBankAvailabilityUpdated.self,
            message: "The bank status has been updated."),
        EventTypeDefinition(
            name: "iban_account_verification.bank.availability.updated", family: .lean,
            description: "Triggered when a bank is taken offline or online for IBAN Account Verification, by Lean or by you in the Application Dashboard. While a bank is unavailable, calls to the IBAN Account Verification API for it return an error.",
            schema: ibanAvailabilityUpdatedSchema, model: LeanIBANAccountVerificationBankAvailabilityUpdated.self,
            message: "IBAN account verification bank availability has been updated"),
        EventTypeDefinition(
            name: "report.generated", family: .lean,
            description: "Triggered when a new report is successfully generated, if you are using HyperLink and Reports via API functionality.",
            schema: CatalogSchema.event(required: ["customer_id", "report_id"], properties: [
                customerIDProperty,
                #""report_id": {"type": "string", "format": "uuid", "description": "The generated report."}"#,
            ]),
            model: LeanReportGenerated.self,
            message: "A report was generated."),
        EventTypeDefinition(
            name: "report.failed", family: .lean,
            description: "Triggered when something goes wrong during data retrieval or report generation, if you are using HyperLink and Reports via API functionality.",
            schema: CatalogSchema.event(required: ["customer_id"], properties: [customerIDProperty]),
            model: LeanReportFailed.self,
            message: "A report couldn't be generated."),
        EventTypeDefinition(
            name: "hyperlink.unsupported_bank_request.created", family: .lean,
            description: "Triggered when a customer asks to connect an account at a bank that Lean does not support yet. Use it to start a fallback flow (e.g. uploading a bank statement).",
            schema: CatalogSchema.event(required: ["customer_id", "bank_identifier"], properties: [
                customerIDProperty,
                #""bank_identifier": {"type": "string", "description": "How Lean identifies the bank the customer asked for (e.g. `STC_SAU`)."}"#,
            ]),
            model: LeanHyperLinkUnsupportedBankRequestCreated.self,
            message: "The customer requested unsupported bank."),
        EventTypeDefinition(
            name: "payment_source.created", family: .lean,
            description: "Triggered when your customer successfully creates a payment source using the Link SDK's Connect() or CreatePaymentSource() functions.",
            schema: CatalogSchema.event(required: ["id", "customer_id", "status", "bank_identifier", "bank_name"], properties: [
                #""id": {"type": "string", "format": "uuid", "description": "The payment source."}"#,
                customerIDProperty,
                #""status": {"type": "string", "description": "The payment source's status (e.g. `AWAITING_BENEFICIARY_COOL_OFF`)."}"#,
                #""bank_identifier": {"type": "string", "description": "How Lean identifies the bank (e.g. `LEANMB1`)."}"#,
                #""bank_name": {"type": "string", "description": "The bank's name."}"#,
                #""end_user_id": {"type": ["string", "null"], "format": "uuid", "description": "The end user the payment source belongs to; Lean's sandbox sends `null`."}"#,
            ]),
            model: LeanPaymentSourceCreated.self,
            message: "A payment source was pre-authorized by your customer."),
        EventTypeDefinition(
            name: "payment_source.beneficiary.created", family: .lean,
            description: "Triggered when a payment source is created, or when the Link SDK's UpdatePaymentSource() adds a destination to one, creating a beneficiary: the pathway between a payment source and a payment destination.",
            schema: beneficiarySchema, model: LeanPaymentSourceBeneficiary.self,
            message: "A beneficiary was added for a payment source."),
        EventTypeDefinition(
            name: "payment_source.beneficiary.updated", family: .lean,
            description: "Triggered when a beneficiary changes status from AWAITING_BENEFICIARY_COOL_OFF to ACTIVE. From then on the payment source can make payments to the beneficiary's payment destination.",
            schema: beneficiarySchema, model: LeanPaymentSourceBeneficiary.self,
            message: "A beneficiary was updated for a payment source."),
        EventTypeDefinition(
            name: "payment.created", family: .lean,
            description: "Triggered when your customer has initiated a payment, or the payment was unsuccessful, in the Link SDK's pay() flow. The payment's status is in the payload's status field.",
            schema: paymentSchema, model: LeanPayment.self,
            message: "A payment object has been created."),
        EventTypeDefinition(
            name: "payment.updated", family: .lean,
            description: "Triggered when there is an update to a specific payment. The payment's new status is in the payload's status field.",
            schema: paymentSchema, model: LeanPayment.self,
            message: "A payment object has been updated."),
    ] + gatheredDefinitions + [
        EventTypeDefinition(
            name: "bank_link.result", family: .lean,
            description: "Lean's Callback URL: one POST after a user connects, or fails to connect, their bank with the Link SDK, with the result and what is needed to proceed. The model is the whole body; data is null on failure.",
            schema: bankLinkResultSchema, model: LeanBankLinkResult.self),
    ]

    // MARK: Schemas

    /// The `customer_id` member most payloads carry.
    static let customerIDProperty = #""customer_id": {"type": "string", "format": "uuid", "description": "The Lean customer."}"#

    /// `entity.created` and `entity.updated`.
    static let entitySchema = CatalogSchema.event(
        required: ["id", "app_user_id", "customer_id", "permissions", "bank_details"],
        properties: [
            #""id": {"type": "string", "format": "uuid", "description": "The entity: the token representing the connected bank account, used to retrieve the customer's bank data."}"#,
            #""app_user_id": {"type": "string", "description": "The id your application uses for the customer."}"#,
            #""customer_id": {"type": "string", "format": "uuid", "description": "The Lean customer the entity belongs to."}"#,
            #""permissions": {"type": "array", "items": {"type": "string"}, "description": "The permissions the customer granted (e.g. `transactions`, `identity`, `accounts`, `beneficiaries`)."}"#,
            #""bank_details": "# + CatalogSchema.object(
                description: "The bank that holds the connected account.",
                required: ["logo", "name", "account_type", "identifier", "main_color", "background_color"],
                properties: [
                    #""logo": {"type": "string", "format": "uri", "description": "URL of the bank's logo."}"#,
                    #""name": {"type": "string", "description": "The bank's name."}"#,
                    #""account_type": {"type": "string", "enum": ["BUSINESS", "PERSONAL"], "description": "Whether the connected account is a business or a personal one."}"#,
                    #""identifier": {"type": "string", "description": "How Lean identifies the bank (e.g. `LEA1_SAMAOB_SAU`)."}"#,
                    #""main_color": {"type": "string", "description": "The bank's main colour, as a hex value (e.g. `#1beb75`)."}"#,
                    #""background_color": {"type": "string", "description": "The bank's background colour, as a hex value (e.g. `#ffffff`)."}"#,
                    #""swift_code": {"type": ["string", "null"], "description": "The bank's SWIFT code (e.g. `MOCKSA01`); `null` when Lean has none."}"#,
                    #""bank_type": {"type": ["string", "null"], "description": "The kind of bank (e.g. `RETAIL`)."}"#,
                ]),
        ])

    static let bankAvailabilityUpdatedSchema: String = {
        /// `availability.active` and `availability.enabled`: `LeanProductAvailability`.
        func productAvailability(_ member: String, description: String) -> String {
            "\"\(member)\": " + CatalogSchema.object(description: description, required: ["payments", "data"], properties: [
                #""payments": {"type": "boolean", "description": "For payments."}"#,
                #""data": {"type": "boolean", "description": "For bank data (Open Banking)."}"#,
            ])
        }
        return CatalogSchema.event(required: ["identifier", "availability"], properties: [
            #""identifier": {"type": "string", "description": "How Lean identifies the bank (e.g. `BANK1_KSA`)."}"#,
            #""availability": "# + CatalogSchema.object(
                description: "The bank's availability for payments and for bank data.",
                required: ["active", "enabled"],
                properties: [
                    productAvailability("active", description: "Whether the bank is online, per product."),
                    productAvailability("enabled", description: "Whether the bank is enabled, per product (Lean or you in the Application Dashboard can take it offline)."),
                ]),
        ])
    }()

    static let ibanAvailabilityUpdatedSchema: String = {
        /// A `LeanAvailabilityState` member.
        func state(_ member: String, description: String) -> String {
            #""\#(member)": {"type": "string", "enum": ["enabled", "disabled"], "description": "\#(description)"}"#
        }
        /// `availability.account_type.personal`, `.freelancer` and `.business`: `LeanIBANMatchAvailability`.
        func matchAvailability(_ member: String, description: String) -> String {
            "\"\(member)\": " + CatalogSchema.object(description: description, required: ["match", "no_match"], properties: [
                state("match", description: "Availability of `match` results."),
                state("no_match", description: "Availability of `no_match` results."),
            ])
        }
        return CatalogSchema.event(required: ["country_code", "bank_code", "availability"], properties: [
            #""country_code": {"type": "string", "description": "The bank's country, ISO 3166-1 alpha-2 (e.g. `SA`)."}"#,
            #""bank_code": {"type": "string", "description": "The bank's code in that country (e.g. `80`)."}"#,
            #""availability": "# + CatalogSchema.object(
                description: "The bank's availability for IBAN Account Verification.",
                required: ["global", "account_type"],
                properties: [
                    state("global", description: "Globally enables or disables the bank."),
                    #""account_type": "# + CatalogSchema.object(
                        description: "Availability per account type.",
                        required: ["personal", "freelancer", "business"],
                        properties: [
                            matchAvailability("personal", description: "For personal accounts."),
                            matchAvailability("freelancer", description: "For freelancer accounts."),
                            matchAvailability("business", description: "For business accounts."),
                        ]),
                ]),
        ])
    }()

    /// `payment_source.beneficiary.created` and `payment_source.beneficiary.updated`.
    static let beneficiarySchema = CatalogSchema.event(
        required: ["id", "customer_id", "payment_source_id", "payment_destination_id", "status"],
        properties: [
            #""id": {"type": "string", "format": "uuid", "description": "The beneficiary: the pathway between a payment source and a payment destination."}"#,
            customerIDProperty,
            #""payment_source_id": {"type": "string", "format": "uuid", "description": "The payment source the beneficiary belongs to."}"#,
            #""payment_destination_id": {"type": "string", "format": "uuid", "description": "The payment destination the beneficiary pays to."}"#,
            #""status": {"type": "string", "description": "The beneficiary's status (`AWAITING_BENEFICIARY_COOL_OFF`, then `ACTIVE`)."}"#,
            #""payment_source_bank_identifier": {"type": ["string", "null"], "description": "How Lean identifies the payment source's bank (e.g. `LEAN_OF_RETAIL_UAE`)."}"#,
        ])

    /// `payment.created` and `payment.updated`: what Lean always sends is required (seed 001 and
    /// Lean's Postman webhooks); `end_user_id` is in seed 001's `payment.updated` only, and Lean's
    /// sandbox sends `reason`, `metadata` and `payment_destination_id` besides.
    static let paymentSchema = CatalogSchema.event(
        required: ["id", "customer_id", "intent_id", "status", "amount", "currency", "bank_transaction_reference"],
        properties: [
            #""id": {"type": "string", "format": "uuid", "description": "The payment."}"#,
            customerIDProperty,
            #""intent_id": {"type": "string", "format": "uuid", "description": "The payment intent the payment was made for."}"#,
            #""status": {"type": "string", "description": "The payment's status (e.g. `ACCEPTED_BY_BANK`)."}"#,
            #""amount": {"type": "number", "description": "The amount paid, in `currency`."}"#,
            #""currency": {"type": "string", "description": "ISO 4217 currency code (e.g. `AED`)."}"#,
            #""bank_transaction_reference": {"type": "string", "description": "The bank's reference for the transaction."}"#,
            #""end_user_id": {"type": ["string", "null"], "format": "uuid", "description": "The end user who made the payment (in seed 001's `payment.updated`; Lean's sandbox leaves it out)."}"#,
            #""payment_destination_id": {"type": ["string", "null"], "format": "uuid", "description": "The payment destination paid."}"#,
            #""reason": {"type": ["string", "null"], "description": "The payment's reason, as given when the payment intent was created."}"#,
            #""metadata": {"type": ["object", "null"], "description": "Your metadata of the payment intent, as you gave it.", "additionalProperties": true}"#,
        ])

    static let bankLinkResultSchema = CatalogSchema.event(required: ["status"], properties: [
        #""status": "# + CatalogSchema.object(
            description: "Information about the status of the request.",
            required: ["code", "message"],
            properties: [
                #""code": {"type": "string", "enum": ["200", "401"], "description": "The status code of the authorization: `200` is a success and `401` is a fail."}"#,
                #""message": {"type": "string", "description": "Description of the status; on a failure it gives more detail."}"#,
            ]),
        #""data": "# + CatalogSchema.object(
            nullable: true,
            description: "The entity created and its bank; `null` when the link failed.",
            required: ["entity", "bank_details"],
            properties: [
                #""entity": "# + CatalogSchema.object(
                    description: "Information about the entity created.",
                    required: ["entity_uuid", "app_user_id", "permissions"],
                    properties: [
                        #""entity_uuid": {"type": "string", "format": "uuid", "description": "The identifier to use with data calls to refer to the user's bank account."}"#,
                        #""app_user_id": {"type": "string", "description": "The id your application uses to reference the user."}"#,
                        #""permissions": {"type": "array", "items": {"type": "string"}, "description": "The permissions the user granted to you."}"#,
                    ]),
                #""bank_details": "# + CatalogSchema.object(
                    description: "Information about the bank in which the user's entity exists.",
                    required: ["name", "bank_identifier", "logo_url", "primary_color"],
                    properties: [
                        #""name": {"type": "string", "description": "The name of the bank where the user's entity and accounts exist."}"#,
                        #""bank_identifier": {"type": "string", "description": "How Lean internally refers to the bank (e.g. `LEANMB1`)."}"#,
                        #""logo_url": {"type": "string", "description": "A URL pointing to an image of the bank's logo (may be empty)."}"#,
                        #""primary_color": {"type": "string", "description": "The HEX value of the primary color the bank uses, for display purposes."}"#,
                    ]),
            ]),
    ])
}

/// Writes the catalog's JSON Schema text (Lean's, Okra's and Bridge's) from JSON fragments, so that
/// what every object schema repeats (`"type": "object"`, `properties`, `required`,
/// `"additionalProperties": true`, and the `$schema` URI at the top) is written once. Every argument
/// is JSON text: a property is one object member (`"name": {...}`), a description the content of a
/// JSON string (escapes included). The result is plain JSON text.
enum CatalogSchema {
    /// The schema of an event's `data`: an object whose `required` members must be present and
    /// which may carry members beyond `properties`.
    static func event(description: String? = nil, required: [String], properties: [String]) -> String {
        render(
            [#""$schema": "https://json-schema.org/draft/2020-12/schema""#, #""type": "object""#]
                + (description.map { [#""description": "\#($0)""#] } ?? []),
            required: required, properties: properties)
    }

    /// The schema of a member whose value is an object (or `null`, when `nullable`), to follow `"name": `.
    static func object(nullable: Bool = false, description: String, required: [String], properties: [String]) -> String {
        render(
            [nullable ? #""type": ["object", "null"]"# : #""type": "object""#, #""description": "\#(description)""#],
            required: required, properties: properties)
    }

    private static func render(_ head: [String], required: [String], properties: [String]) -> String {
        func indented(_ text: String) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n    ")
        }
        return """
            {
              \(head.joined(separator: ",\n  ")),
              "properties": {
                \(properties.map(indented).joined(separator: ",\n    "))
              },
              "required": [\(required.map { "\"\($0)\"" }.joined(separator: ", "))],
              "additionalProperties": true
            }
            """
    }
}

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
