// Okra's callbacks (seed 002), one type per `CALLBACK_TYPE.CALLBACK_CODE`. The model is the
// callback body without `callback_type` and `callback_code` (BankHooks' `okra` format writes those
// from the type name, then the event's data members). Types whose bodies have the same shape share
// one model and one schema; `CatalogSchema` (CatalogSchema.swift) writes the schema text.

/// Okra's callbacks (seed 002).
public enum OkraEvents {
    public static let definitions: [EventTypeDefinition] = [
        EventTypeDefinition(
            name: "TRANSACTIONS.INITIAL_TRANSACTIONS", family: .okra,
            description: "Fired when a Record's initial transaction pull is completed. Note: the default pull is 30 days.",
            schema: transactionsSchema, model: OkraTransactionsCallback.self),
        EventTypeDefinition(
            name: "TRANSACTIONS.FULL_TRANSACTIONS", family: .okra,
            description: "Fired when a Record's historical transaction pull is completed. Okra fetches as much data as is available from the bank.",
            schema: transactionsSchema, model: OkraTransactionsCallback.self),
        EventTypeDefinition(
            name: "TRANSACTIONS.PERIODIC_TRANSACTIONS", family: .okra,
            description: "Fired when new transaction data is available as Okra performs its regular updates of the Record.",
            schema: transactionsSchema, model: OkraTransactionsCallback.self),
        EventTypeDefinition(
            name: "TRANSACTIONS.TRANSACTIONS_DELETED", family: .okra,
            description: "Fired when posted transaction(s) for a Record are deleted. The deleted transaction IDs are included in the callback payload.",
            schema: transactionsDeletedSchema, model: OkraTransactionsDeleted.self),
        EventTypeDefinition(
            name: "RECORD.WEBHOOK_UPDATE_ACKNOWLEDGED", family: .okra,
            description: "Fired when a Record's callback is updated.",
            schema: webhookUpdateAcknowledgedSchema, model: OkraWebhookUpdateAcknowledged.self),
        EventTypeDefinition(
            name: "RECORD.ERROR", family: .okra,
            description: "Fired when an error is encountered with a Record, typically one that needs user action such as a changed password. The error can be resolved by having the user go through Link's update mode.",
            schema: recordSchema, model: OkraRecordCallback.self),
        EventTypeDefinition(
            name: "INCOME.PRODUCT_IS_READY", family: .okra,
            description: "Sent when Okra has calculated the Income data for the Record. Once you receive it, make an /income/get API request to retrieve the Income data.",
            schema: recordSchema, model: OkraRecordCallback.self),
        EventTypeDefinition(
            name: "IDENTITY.PRODUCT_IS_READY", family: .okra,
            description: "Sent when Okra has calculated the Identity data for the Record. Once you receive it, make an /identity/get API request to retrieve the Identity data.",
            schema: recordSchema, model: OkraRecordCallback.self),
        EventTypeDefinition(
            name: "BALANCE.INITIAL_BALANCE", family: .okra,
            description: "Fired when a Record's initial balance pull is completed. Note: the default pull is 30 days.",
            schema: balanceSchema, model: OkraBalanceCallback.self),
        EventTypeDefinition(
            name: "BALANCE.PERIODIC_BALANCE", family: .okra,
            description: "Fired when new balance data is available as Okra performs its regular updates of the Record.",
            schema: balanceSchema, model: OkraBalanceCallback.self),
        EventTypeDefinition(
            name: "BALANCE.BALANCE_DELETED", family: .okra,
            description: "Fired when posted balance(s) for a Record are deleted. The deleted balance IDs are included in the callback payload.",
            schema: balanceDeletedSchema, model: OkraBalanceDeleted.self),
        EventTypeDefinition(
            name: "BALANCE.PRODUCT_IS_READY", family: .okra,
            description: "Sent when Okra has calculated the Balance data for the Record. Once you receive it, make a /balance/get API request to retrieve the Balance data.",
            schema: recordSchema, model: OkraRecordCallback.self),
        EventTypeDefinition(
            name: "AUTH.PRODUCT_IS_READY", family: .okra,
            description: "Sent when a Record's Auth result is ready, in the seed's shape. Okra's documentation prints no AUTH callback; BankHooks first chose PRODUCT_IS_READY, and keeps it for receivers that use it. Okra really sends AUTH.AUTH_SUCCESS, which the sandbox bank sends.",
            schema: recordSchema, model: OkraRecordCallback.self),
    ] + gatheredDefinitions

    // MARK: Schemas

    /// `RECORD.ERROR` and every `PRODUCT_IS_READY`: `record` and `error` only.
    static let recordSchema = callbackSchema()

    /// `INITIAL_TRANSACTIONS`, `FULL_TRANSACTIONS` and `PERIODIC_TRANSACTIONS`.
    static let transactionsSchema = callbackSchema(
        required: ["new_transactions"],
        #""new_transactions": {"type": "integer", "description": "How many new transactions are available."}"#)

    static let transactionsDeletedSchema = callbackSchema(
        required: ["removed_transactions"],
        #""removed_transactions": {"type": "array", "items": {"type": "string"}, "description": "The IDs of the deleted transactions."}"#)

    static let webhookUpdateAcknowledgedSchema = callbackSchema(
        required: ["new_callback_url"],
        #""new_callback_url": {"type": "string", "format": "uri", "description": "The Record's new callback URL."}"#)

    /// `INITIAL_BALANCE` and `PERIODIC_BALANCE`.
    static let balanceSchema = callbackSchema(
        #""new_balances": {"type": ["integer", "null"], "description": "How many new balances are available, when the publisher says (BankHooks' analogue of `new_transactions`; Okra prints no balance example)."}"#)

    static let balanceDeletedSchema = callbackSchema(
        required: ["removed_balances"],
        #""removed_balances": {"type": "array", "items": {"type": "string"}, "description": "The IDs of the deleted balances (Okra says they are included; the member name follows `removed_transactions`)."}"#)

    /// The schema of a callback body: `record` (required), the given `members`, and `error` (always
    /// sent, possibly `null`, but not required of a publisher). `required` names the members that are.
    static func callbackSchema(required: [String] = [], _ members: String...) -> String {
        CatalogSchema.event(
            required: ["record"] + required,
            properties: [#""record": {"type": "string", "description": "The Record the callback is about."}"#] + members + [errorProperty])
    }

    /// The `error` member of every callback schema (`OkraCallbackError`, or `null`).
    static let errorProperty = #""error": "# + CatalogSchema.object(
        nullable: true,
        description: "The error encountered with the Record; `null` when there is none. Okra always sends the member.",
        required: ["display_message", "error_code", "error_message", "error_type", "status"],
        properties: [
            #""display_message": {"type": "string", "description": "A message that can be shown to the user."}"#,
            #""error_code": {"type": "string", "description": "The error code (e.g. `RECORD_LOGIN_REQUIRED`)."}"#,
            #""error_message": {"type": "string", "description": "The error, for developers."}"#,
            #""error_type": {"type": "string", "description": "The error's broad category (e.g. `RECORD_ERROR`)."}"#,
            #""status": {"type": "integer", "description": "The HTTP status code associated with the error (e.g. `400`)."}"#,
        ])
}

/// The `error` object of an Okra callback.
public struct OkraCallbackError: Codable, Sendable, Hashable {
    /// A message that can be shown to the user.
    public var displayMessage: String
    /// The error code (e.g. `RECORD_LOGIN_REQUIRED`).
    public var errorCode: String
    /// The error, for developers.
    public var errorMessage: String
    /// The error's broad category (e.g. `RECORD_ERROR`).
    public var errorType: String
    /// The HTTP status code associated with the error (e.g. `400`).
    public var status: Int

    public init(displayMessage: String, errorCode: String, errorMessage: String, errorType: String, status: Int) {
        self.displayMessage = displayMessage
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.errorType = errorType
        self.status = status
    }

    enum CodingKeys: String, CodingKey {
        case displayMessage = "display_message"
        case errorCode = "error_code"
        case errorMessage = "error_message"
        case errorType = "error_type"
        case status
    }
}

// Every callback model below writes `null` for an absent `error`, as Okra does, instead of leaving
// the member out: hence their `encode(to:)`.

/// Okra's `RECORD` / `ERROR` callback and every `PRODUCT_IS_READY` callback (`INCOME`, `IDENTITY`,
/// `BALANCE`, and `AUTH`, whose code and shape BankHooks chose, Okra's documentation printing none),
/// without `callback_type` and `callback_code`. For `RECORD.ERROR`, `error` says what went wrong.
public struct OkraRecordCallback: CatalogEvent, Hashable {
    /// The Record the callback is about.
    public var record: String
    /// The error encountered with the Record; `null` when there is none. Okra always sends the member.
    public var error: OkraCallbackError?

    public init(record: String, error: OkraCallbackError? = nil) {
        self.record = record
        self.error = error
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record, forKey: .record)
        try container.encode(error, forKey: .error)
    }
}

/// Okra's `TRANSACTIONS` / `INITIAL_TRANSACTIONS`, `FULL_TRANSACTIONS` and `PERIODIC_TRANSACTIONS`
/// callbacks, without `callback_type` and `callback_code`.
public struct OkraTransactionsCallback: CatalogEvent, Hashable {
    /// The Record the callback is about.
    public var record: String
    /// How many new transactions are available.
    public var newTransactions: Int
    /// The error encountered with the Record; `null` when there is none. Okra always sends the member.
    public var error: OkraCallbackError?

    public init(record: String, newTransactions: Int, error: OkraCallbackError? = nil) {
        self.record = record
        self.newTransactions = newTransactions
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case record
        case newTransactions = "new_transactions"
        case error
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        // In Okra's order (seed 002): record, error, new_transactions.
        try container.encode(record, forKey: .record)
        try container.encode(error, forKey: .error)
        try container.encode(newTransactions, forKey: .newTransactions)
    }
}

/// Okra's `TRANSACTIONS` / `TRANSACTIONS_DELETED` callback, without `callback_type` and `callback_code`.
public struct OkraTransactionsDeleted: CatalogEvent, Hashable {
    /// The Record the callback is about.
    public var record: String
    /// The IDs of the deleted transactions.
    public var removedTransactions: [String]
    /// The error encountered with the Record; `null` when there is none. Okra always sends the member.
    public var error: OkraCallbackError?

    public init(record: String, removedTransactions: [String], error: OkraCallbackError? = nil) {
        self.record = record
        self.removedTransactions = removedTransactions
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case record
        case removedTransactions = "removed_transactions"
        case error
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record, forKey: .record)
        try container.encode(removedTransactions, forKey: .removedTransactions)
        try container.encode(error, forKey: .error)
    }
}

/// Okra's `RECORD` / `WEBHOOK_UPDATE_ACKNOWLEDGED` callback, without `callback_type` and `callback_code`.
public struct OkraWebhookUpdateAcknowledged: CatalogEvent, Hashable {
    /// The Record the callback is about.
    public var record: String
    /// The Record's new callback URL.
    public var newCallbackURL: String
    /// The error encountered with the Record; `null` when there is none. Okra always sends the member.
    public var error: OkraCallbackError?

    public init(record: String, newCallbackURL: String, error: OkraCallbackError? = nil) {
        self.record = record
        self.newCallbackURL = newCallbackURL
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case record
        case newCallbackURL = "new_callback_url"
        case error
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        // In Okra's order (seed 002): record, error, new_callback_url.
        try container.encode(record, forKey: .record)
        try container.encode(error, forKey: .error)
        try container.encode(newCallbackURL, forKey: .newCallbackURL)
    }
}

/// Okra's `BALANCE` / `INITIAL_BALANCE` and `PERIODIC_BALANCE` callbacks, without `callback_type` and `callback_code`.
public struct OkraBalanceCallback: CatalogEvent, Hashable {
    /// The Record the callback is about.
    public var record: String
    /// How many new balances are available, when the publisher says (BankHooks' analogue of `new_transactions`; Okra prints no balance example).
    public var newBalances: Int?
    /// The error encountered with the Record; `null` when there is none. Okra always sends the member.
    public var error: OkraCallbackError?

    public init(record: String, newBalances: Int? = nil, error: OkraCallbackError? = nil) {
        self.record = record
        self.newBalances = newBalances
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case record
        case newBalances = "new_balances"
        case error
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record, forKey: .record)
        try container.encodeIfPresent(newBalances, forKey: .newBalances)
        try container.encode(error, forKey: .error)
    }
}

/// Okra's `BALANCE` / `BALANCE_DELETED` callback, without `callback_type` and `callback_code`.
public struct OkraBalanceDeleted: CatalogEvent, Hashable {
    /// The Record the callback is about.
    public var record: String
    /// The IDs of the deleted balances (Okra says they are included; the member name follows `removed_transactions`).
    public var removedBalances: [String]
    /// The error encountered with the Record; `null` when there is none. Okra always sends the member.
    public var error: OkraCallbackError?

    public init(record: String, removedBalances: [String], error: OkraCallbackError? = nil) {
        self.record = record
        self.removedBalances = removedBalances
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case record
        case removedBalances = "removed_balances"
        case error
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record, forKey: .record)
        try container.encode(removedBalances, forKey: .removedBalances)
        try container.encode(error, forKey: .error)
    }
}
