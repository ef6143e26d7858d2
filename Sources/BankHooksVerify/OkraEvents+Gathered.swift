// Okra callbacks as Okra really sends them (../shared/research/provider-docs.md: callbacks received
// by github Michael-Lyon/payskul-demo in 2023), and seed 002's Income example as printed. The real
// callbacks carry a richer envelope than the seed (`method`, `type: "CALLBACK"`, `code`, `status`,
// `env`, `started_at`, `ended_at`, `message`, `callback_url` at `/v2/callback`, the bank and the
// customer) and the product's data; every Okra callback, seed or real, carries `record`, so that is
// the one required member, and the rest pass through as sent.

extension OkraEvents {
    static let gatheredDefinitions: [EventTypeDefinition] = [
        EventTypeDefinition(
            name: "INCOME.PDOCUT_IS_READY", family: .okra,
            description: "Seed 002's Income ready callback exactly as printed (`PDOCUT_IS_READY`, sic), for receivers written against the seed; the same callback as INCOME.PRODUCT_IS_READY.",
            schema: recordSchema, model: OkraRecordCallback.self),
        EventTypeDefinition(
            name: "AUTH.AUTH_SUCCESS", family: .okra,
            description: "The Record's Auth result is ready (Okra's real callback code; the sandbox bank sends it after a link). `auth` holds the result; GET /v2/callback?record=&method=AUTH returns it too.",
            schema: productCallbackSchema("auth", "The Auth result (e.g. `clientId`, `type`, `status`, `reauth`, `record`, `data`)."),
            model: OkraProductCallback.self),
        EventTypeDefinition(
            name: "IDENTITY.IDENTITY_IS_READY", family: .okra,
            description: "The Record's Identity data is ready (Okra's real callback code); `identity` holds it. Make an /identity/get API request for the full data.",
            schema: productCallbackSchema("identity", "The identity Okra fetched."),
            model: OkraProductCallback.self),
        EventTypeDefinition(
            name: "BALANCE.BALANCE_SUCCESS", family: .okra,
            description: "The Record's Balance data is ready (Okra's real callback code); `balance` holds it. Make a /balance/get API request for the full data.",
            schema: productCallbackSchema("balance", "The balance Okra fetched (e.g. `ledger_balance`, `available_balance`, `currency`)."),
            model: OkraProductCallback.self),
        EventTypeDefinition(
            name: "ACCOUNTS.ACCOUNTS_SUCCESS", family: .okra,
            description: "The Record's accounts are fetched (Okra's real ACCOUNTS callback); `account` holds the account.",
            schema: productCallbackSchema("account", "The account Okra fetched (e.g. `nuban`, `name`, balances, `accountId`)."),
            model: OkraProductCallback.self),
    ]

    /// A real callback's schema: `record` required, the envelope and `product`'s data optional.
    static func productCallbackSchema(_ product: String, _ description: String) -> String {
        func text(_ name: String, _ description: String, format: String? = nil) -> String {
            #""\#(name)": {"type": ["string", "null"], \#(format.map { #""format": "\#($0)", "# } ?? "")"description": "\#(description)"}"#
        }
        return CatalogSchema.event(
            required: ["record"],
            properties: [
                #""record": {"type": "string", "description": "The Record the callback is about."}"#,
                text("method", "The product (`AUTH`, `IDENTITY`, `BALANCE`, `ACCOUNTS`, …): the pull path's `method`."),
                text("type", "`CALLBACK`."),
                text("code", "The callback code again (e.g. `AUTH_SUCCESS`)."),
                text("status", "`is_success` when the product was fetched."),
                text("env", "Okra's environment (`production`, `production-sandbox`; `sandbox` from BankHooks' sandbox bank)."),
                text("started_at", "When Okra started fetching.", format: "date-time"),
                text("ended_at", "When Okra finished.", format: "date-time"),
                text("message", "What happened (e.g. `Successfully fetched auth`)."),
                text("recordId", "The Record again."),
                text("callback_url", "Where to pull this callback again: Okra's `/v2/callback?record=…&method=…`.", format: "uri"),
                text("bankName", "The bank's name."),
                text("bankId", "Okra's id of the bank."),
                text("bankSlug", "The bank's slug (e.g. `kuda-bank`)."),
                text("customerId", "Okra's id of the customer."),
                text("country", "The customer's country, ISO 3166-1 alpha-2 (e.g. `NG`)."),
                #""\#(product)": {"type": ["object", "null"], "description": "\#(description)", "additionalProperties": true}"#,
                errorProperty,
            ])
    }
}

/// Okra's real `AUTH_SUCCESS`, `IDENTITY_IS_READY`, `BALANCE_SUCCESS` and `ACCOUNTS_SUCCESS`
/// callbacks, without `callback_type` and `callback_code`: the envelope and the product's data.
/// Members the model does not name pass through a publish as sent; encoding writes what is set,
/// in Okra's order.
public struct OkraProductCallback: CatalogEvent, Hashable {
    public var method: String?
    public var type: String?
    public var code: String?
    public var env: String?
    public var status: String?
    public var startedAt: String?
    public var endedAt: String?
    public var message: String?
    public var bankName: String?
    public var bankID: String?
    public var bankSlug: String?
    /// The Record the callback is about.
    public var record: String
    public var recordID: String?
    public var callbackURL: String?
    public var customerID: String?
    public var country: String?
    public var auth: [String: CatalogValue]?
    public var identity: [String: CatalogValue]?
    public var balance: [String: CatalogValue]?
    public var account: [String: CatalogValue]?
    public var error: OkraCallbackError?

    public init(
        record: String, method: String? = nil, type: String? = nil, code: String? = nil, env: String? = nil, status: String? = nil,
        startedAt: String? = nil, endedAt: String? = nil, message: String? = nil, recordID: String? = nil, callbackURL: String? = nil
    ) {
        self.record = record
        self.method = method
        self.type = type
        self.code = code
        self.env = env
        self.status = status
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.message = message
        self.recordID = recordID
        self.callbackURL = callbackURL
    }

    enum CodingKeys: String, CodingKey {
        case method, type, code, env, status
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case message, bankName
        case bankID = "bankId"
        case bankSlug, record
        case recordID = "recordId"
        case callbackURL = "callback_url"
        case customerID = "customerId"
        case country, auth, identity, balance, account, error
    }
}
