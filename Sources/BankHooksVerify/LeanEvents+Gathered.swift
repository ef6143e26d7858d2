// Lean webhook types that seed 001 does not print but Lean's sandbox sends (Lean's public Postman
// collection, github leantechnologies/lean-postman, KSA/Webhooks and UAE/Webhooks). Required
// members are those every gathered payload carries; the rest are optional, and members Lean adds
// later pass through (every object schema allows more members).

extension LeanEvents {
    static let gatheredDefinitions: [EventTypeDefinition] = [
        EventTypeDefinition(
            name: "entity.data.refresh.updated", family: .lean,
            description: "Triggered when the state of an entity's data refresh changes: Lean has fetched (or could not fetch) each product's data for each account. Not in seed 001; as Lean's sandbox sends it (lean-postman).",
            schema: entityDataRefreshSchema, model: LeanEntityDataRefreshUpdated.self,
            message: "An entity data refresh state has been updated."),
        EventTypeDefinition(
            name: "payment_intent.created", family: .lean,
            description: "Triggered when a payment intent is created. Not in seed 001; as Lean's sandbox sends it (lean-postman).",
            schema: paymentIntentSchema, model: LeanPaymentIntentCreated.self,
            message: "Payment intent created"),
        EventTypeDefinition(
            name: "payment.reconciliation.updated", family: .lean,
            description: "Triggered when a payment's reconciliation changes (e.g. to `RECONCILED`). Not in seed 001; as Lean's sandbox sends it (lean-postman, a webhook log entry's request).",
            schema: paymentReconciliationSchema, model: LeanPaymentReconciliationUpdated.self,
            message: "A payment's reconciliation object has been updated."),
    ]

    static let entityDataRefreshSchema = CatalogSchema.event(
        required: ["entity_id", "refresh_id", "customer_id", "app_user_id", "status", "data_status"],
        properties: [
            #""entity_id": {"type": "string", "format": "uuid", "description": "The entity whose data was refreshed."}"#,
            #""refresh_id": {"type": "string", "format": "uuid", "description": "The refresh."}"#,
            customerIDProperty,
            #""app_user_id": {"type": "string", "description": "The id your application uses for the customer."}"#,
            #""status": {"type": "string", "description": "The refresh's state (`FINISHED` and `OK` in Lean's sandbox)."}"#,
            #""data_status": "# + CatalogSchema.object(
                description: "What was fetched, per product and per account.",
                required: ["accounts", "identity", "account_data"],
                properties: [
                    #""accounts": {"type": "string", "description": "The accounts list's state (e.g. `OK`)."}"#,
                    #""identity": {"type": "string", "description": "The identity's state (e.g. `OK`)."}"#,
                    #""account_data": {"type": "array", "description": "One entry per account.", "items": "# + CatalogSchema.object(
                        description: "One account's data states: `OK`, `UNSUPPORTED`, ….",
                        required: ["account_id"],
                        properties: [
                            #""account_id": {"type": "string", "format": "uuid", "description": "The account."}"#,
                            #""balance": {"type": ["string", "null"], "description": "The balance's state."}"#,
                            #""identity": {"type": ["string", "null"], "description": "The account identity's state."}"#,
                            #""transactions": {"type": ["string", "null"], "description": "The transactions' state."}"#,
                            #""scheduled_payments": {"type": ["string", "null"], "description": "The scheduled payments' state."}"#,
                            #""direct_debits": {"type": ["string", "null"], "description": "The direct debits' state."}"#,
                            #""standing_orders": {"type": ["string", "null"], "description": "The standing orders' state."}"#,
                            #""beneficiaries": {"type": ["string", "null"], "description": "The beneficiaries' state."}"#,
                            #""transaction_availability": "# + CatalogSchema.object(
                                nullable: true,
                                description: "The period the fetched transactions cover.",
                                required: ["start", "end"],
                                properties: [
                                    #""start": {"type": "string", "format": "date", "description": "The first day covered."}"#,
                                    #""end": {"type": "string", "format": "date", "description": "The last day covered."}"#,
                                    #""complete_months": {"type": ["integer", "null"], "description": "How many whole months that is."}"#,
                                ]),
                        ]) + "}",
                ]),
        ])

    static let paymentIntentSchema = CatalogSchema.event(
        required: ["intent_id", "status", "amount", "currency"],
        properties: [
            #""intent_id": {"type": "string", "format": "uuid", "description": "The payment intent."}"#,
            #""status": {"type": "string", "description": "The intent's status (`INTENT_CREATED`)."}"#,
            #""amount": {"type": "number", "description": "The amount to pay, in `currency`."}"#,
            #""currency": {"type": "string", "description": "ISO 4217 currency code (e.g. `AED`)."}"#,
            #""reason": {"type": ["string", "null"], "description": "The payment's reason."}"#,
            #""metadata": {"type": ["object", "null"], "description": "Your metadata, as you gave it.", "additionalProperties": true}"#,
        ])

    static let paymentReconciliationSchema = CatalogSchema.event(
        required: ["payment_id", "payment_intent_id", "status", "amount", "currency", "reference"],
        properties: [
            #""payment_id": {"type": "string", "format": "uuid", "description": "The payment."}"#,
            #""payment_intent_id": {"type": "string", "format": "uuid", "description": "The payment intent the payment was made for."}"#,
            #""status": {"type": "string", "description": "The reconciliation's status (e.g. `RECONCILED`)."}"#,
            #""amount": {"type": "number", "description": "The amount, in `currency`."}"#,
            #""currency": {"type": "string", "description": "ISO 4217 currency code (e.g. `AED`)."}"#,
            #""reference": {"type": "string", "description": "The payment's reference."}"#,
            #""payment_description": {"type": ["string", "null"], "description": "The payment's description."}"#,
            #""consent_id": {"type": ["string", "null"], "description": "The consent the payment was made under, when there is one."}"#,
            #""additional_property": {"type": ["object", "null"], "description": "More about the reconciliation, when Lean has it.", "additionalProperties": true}"#,
        ])
}

/// Any JSON value: the model of members whose content is the publisher's own (Lean's `metadata`).
public enum CatalogValue: Codable, Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([CatalogValue])
    case object([String: CatalogValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([CatalogValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: CatalogValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// `data_status.account_data[].transaction_availability` of `entity.data.refresh.updated`.
public struct LeanTransactionAvailability: Codable, Sendable, Hashable {
    public var start: String
    public var end: String
    public var completeMonths: Int?

    enum CodingKeys: String, CodingKey {
        case start, end
        case completeMonths = "complete_months"
    }
}

/// One account of `data_status.account_data` of `entity.data.refresh.updated`: each product's state.
public struct LeanAccountDataStatus: Codable, Sendable, Hashable {
    public var accountID: String
    public var balance: String?
    public var identity: String?
    public var transactions: String?
    public var scheduledPayments: String?
    public var directDebits: String?
    public var standingOrders: String?
    public var beneficiaries: String?
    public var transactionAvailability: LeanTransactionAvailability?

    enum CodingKeys: String, CodingKey {
        case accountID = "account_id"
        case balance, identity, transactions
        case scheduledPayments = "scheduled_payments"
        case directDebits = "direct_debits"
        case standingOrders = "standing_orders"
        case beneficiaries
        case transactionAvailability = "transaction_availability"
    }
}

/// `data_status` of `entity.data.refresh.updated`.
public struct LeanDataStatus: Codable, Sendable, Hashable {
    public var accounts: String
    public var identity: String
    public var accountData: [LeanAccountDataStatus]

    enum CodingKeys: String, CodingKey {
        case accounts, identity
        case accountData = "account_data"
    }
}

/// The `payload` of Lean's `entity.data.refresh.updated` webhook.
public struct LeanEntityDataRefreshUpdated: CatalogEvent, Hashable {
    public var entityID: String
    public var refreshID: String
    public var customerID: String
    public var appUserID: String
    public var status: String
    public var dataStatus: LeanDataStatus

    enum CodingKeys: String, CodingKey {
        case entityID = "entity_id"
        case refreshID = "refresh_id"
        case customerID = "customer_id"
        case appUserID = "app_user_id"
        case status
        case dataStatus = "data_status"
    }
}

/// The `payload` of Lean's `payment_intent.created` webhook.
public struct LeanPaymentIntentCreated: CatalogEvent, Hashable {
    public var intentID: String
    public var status: String
    public var amount: Double
    public var currency: String
    public var reason: String?
    public var metadata: [String: CatalogValue]?

    enum CodingKeys: String, CodingKey {
        case intentID = "intent_id"
        case status, amount, currency, reason, metadata
    }
}

/// The `payload` of Lean's `payment.reconciliation.updated` webhook.
public struct LeanPaymentReconciliationUpdated: CatalogEvent, Hashable {
    public var paymentID: String
    public var paymentIntentID: String
    public var status: String
    public var amount: Double
    public var currency: String
    public var reference: String
    public var paymentDescription: String?
    public var consentID: String?
    public var additionalProperty: [String: CatalogValue]?

    enum CodingKeys: String, CodingKey {
        case paymentID = "payment_id"
        case paymentIntentID = "payment_intent_id"
        case status, amount, currency, reference
        case paymentDescription = "payment_description"
        case consentID = "consent_id"
        case additionalProperty = "additional_property"
    }
}
