// Lean's event types: the 13 webhooks of seed 001 (and, in LeanEvents+Gathered.swift, 3 more Lean's
// sandbox sends) and the Callback URL POST of seed 000
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
