import Foundation

// Bridge's webhooks (seed 004): the body is `{"content": {...}, "timestamp": <epoch ms>, "type": "..."}`.
// Each model below is one type's `content` object, which is what a publisher sends as `data`.
//
// Sources:
// - https://docs.bridgeapi.io/docs/webhooks (the `TEST_EVENT` body, as in seed 004)
// - https://docs.bridgeapi.io/docs/webhooks-events (user, item and account events, current version)
// - https://docs.bridgeapi.io/v2021.06.01/docs/webhooks-events (lists the transfer events)
// - https://docs.bridgeapi.io/v2019.2.18/docs/webhooks-events (older examples of the same payloads)
// - https://docs.bridgeapi.io/docs/payments-webhooks and /docs/payments-account-webhooks (payment events)
// - https://docs.bridgeapi.io/docs/payment-links-statuses-1.md, /docs/payments-statuses-2 (status values)
//
// Where those pages do not give a field set (the transfer events, `item.account.deleted`,
// `payment.link.updated`), the definition's description says what BankHooks chose.

// MARK: - Models

/// `user.deleted`: the user that was deleted.
public struct BridgeUserEvent: CatalogEvent, Hashable {
    public var userUUID: String

    enum CodingKeys: String, CodingKey {
        case userUUID = "user_uuid"
    }

    public init(userUUID: String) {
        self.userUUID = userUUID
    }
}

/// `item.created` and `item.deleted`: the item and the user it belongs to.
public struct BridgeItemEvent: CatalogEvent, Hashable {
    public var itemID: Int
    public var userUUID: String

    enum CodingKeys: String, CodingKey {
        case itemID = "item_id"
        case userUUID = "user_uuid"
    }

    public init(itemID: Int, userUUID: String) {
        self.itemID = itemID
        self.userUUID = userUUID
    }
}

/// `item.refreshed`: the item's status after a refresh.
public struct BridgeItemRefreshedEvent: CatalogEvent, Hashable {
    public var itemID: Int
    public var userUUID: String
    /// Bridge's item status code (`0` is OK; for example `1010` asks for a new strong customer authentication).
    public var statusCode: Int
    public var statusCodeInfo: String
    /// Whether Bridge fetched the item's full history.
    public var fullRefresh: Bool
    /// What started the refresh: `connect`, `api` or `scheduler`.
    public var refreshTrigger: String?
    /// Which account types were refreshed (`payment` in Bridge's example).
    public var accountTypes: String?
    /// When the bank authentication expires (ISO 8601).
    public var authenticationExpiresAt: String?

    enum CodingKeys: String, CodingKey {
        case itemID = "item_id"
        case userUUID = "user_uuid"
        case statusCode = "status_code"
        case statusCodeInfo = "status_code_info"
        case fullRefresh = "full_refresh"
        case refreshTrigger = "refresh_trigger"
        case accountTypes = "account_types"
        case authenticationExpiresAt = "authentication_expires_at"
    }

    public init(
        itemID: Int, userUUID: String, statusCode: Int, statusCodeInfo: String, fullRefresh: Bool,
        refreshTrigger: String? = nil, accountTypes: String? = nil, authenticationExpiresAt: String? = nil
    ) {
        self.itemID = itemID
        self.userUUID = userUUID
        self.statusCode = statusCode
        self.statusCodeInfo = statusCodeInfo
        self.fullRefresh = fullRefresh
        self.refreshTrigger = refreshTrigger
        self.accountTypes = accountTypes
        self.authenticationExpiresAt = authenticationExpiresAt
    }
}

/// `item.account.created`: a new account on an item, with its balance.
public struct BridgeAccountCreatedEvent: CatalogEvent, Hashable {
    public var accountID: Int
    public var itemID: Int
    public var userUUID: String
    public var balance: Double

    enum CodingKeys: String, CodingKey {
        case accountID = "account_id"
        case itemID = "item_id"
        case userUUID = "user_uuid"
        case balance
    }

    public init(accountID: Int, itemID: Int, userUUID: String, balance: Double) {
        self.accountID = accountID
        self.itemID = itemID
        self.userUUID = userUUID
        self.balance = balance
    }
}

/// `item.account.updated`: an account's new balance and how many transactions changed.
public struct BridgeAccountUpdatedEvent: CatalogEvent, Hashable {
    public var accountID: Int
    public var itemID: Int
    public var userUUID: String
    public var balance: Double
    public var newTransactions: Int
    public var updatedTransactions: Int
    public var deletedTransactions: Int

    enum CodingKeys: String, CodingKey {
        case accountID = "account_id"
        case itemID = "item_id"
        case userUUID = "user_uuid"
        case balance
        case newTransactions = "nb_new_transactions"
        case updatedTransactions = "nb_updated_transactions"
        case deletedTransactions = "nb_deleted_transactions"
    }

    public init(
        accountID: Int, itemID: Int, userUUID: String, balance: Double,
        newTransactions: Int, updatedTransactions: Int, deletedTransactions: Int
    ) {
        self.accountID = accountID
        self.itemID = itemID
        self.userUUID = userUUID
        self.balance = balance
        self.newTransactions = newTransactions
        self.updatedTransactions = updatedTransactions
        self.deletedTransactions = deletedTransactions
    }
}

/// `item.account.deleted`, `transfer.account.created` and `transfer.account.updated`: which
/// account, on which item, of which user.
public struct BridgeAccountReferenceEvent: CatalogEvent, Hashable {
    public var accountID: Int
    public var itemID: Int
    public var userUUID: String

    enum CodingKeys: String, CodingKey {
        case accountID = "account_id"
        case itemID = "item_id"
        case userUUID = "user_uuid"
    }

    public init(accountID: Int, itemID: Int, userUUID: String) {
        self.accountID = accountID
        self.itemID = itemID
        self.userUUID = userUUID
    }
}

/// `payment.transaction.created`: a payment transaction and the request (and link) it belongs to.
public struct BridgePaymentTransactionCreatedEvent: CatalogEvent, Hashable {
    public var paymentTransactionID: String
    public var paymentRequestID: String
    public var paymentLinkID: String?
    public var clientReference: String?
    public var endToEndID: String?

    enum CodingKeys: String, CodingKey {
        case paymentTransactionID = "payment_transaction_id"
        case paymentRequestID = "payment_request_id"
        case paymentLinkID = "payment_link_id"
        case clientReference = "client_reference"
        case endToEndID = "end_to_end_id"
    }

    public init(
        paymentTransactionID: String, paymentRequestID: String, paymentLinkID: String? = nil,
        clientReference: String? = nil, endToEndID: String? = nil
    ) {
        self.paymentTransactionID = paymentTransactionID
        self.paymentRequestID = paymentRequestID
        self.paymentLinkID = paymentLinkID
        self.clientReference = clientReference
        self.endToEndID = endToEndID
    }
}

/// `payment.transaction.updated`: a payment transaction's new status.
public struct BridgePaymentTransactionUpdatedEvent: CatalogEvent, Hashable {
    public var paymentTransactionID: String
    public var paymentRequestID: String
    /// ISO 20022 status: `CREA`, `ACTC`, `PDNG`, `ACSC`, `RJCT` (older integrations also see `PART`, `CANC`, ...).
    public var status: String
    public var statusReason: String?
    public var paymentLinkID: String?
    public var clientReference: String?
    public var endToEndID: String?
    public var paymentAccountTransactionID: String?
    public var paymentAccountTransactionStatus: String?

    enum CodingKeys: String, CodingKey {
        case paymentTransactionID = "payment_transaction_id"
        case paymentRequestID = "payment_request_id"
        case status
        case statusReason = "status_reason"
        case paymentLinkID = "payment_link_id"
        case clientReference = "client_reference"
        case endToEndID = "end_to_end_id"
        case paymentAccountTransactionID = "payment_account_transaction_id"
        case paymentAccountTransactionStatus = "payment_account_transaction_status"
    }

    public init(
        paymentTransactionID: String, paymentRequestID: String, status: String, statusReason: String? = nil,
        paymentLinkID: String? = nil, clientReference: String? = nil, endToEndID: String? = nil,
        paymentAccountTransactionID: String? = nil, paymentAccountTransactionStatus: String? = nil
    ) {
        self.paymentTransactionID = paymentTransactionID
        self.paymentRequestID = paymentRequestID
        self.status = status
        self.statusReason = statusReason
        self.paymentLinkID = paymentLinkID
        self.clientReference = clientReference
        self.endToEndID = endToEndID
        self.paymentAccountTransactionID = paymentAccountTransactionID
        self.paymentAccountTransactionStatus = paymentAccountTransactionStatus
    }
}

/// `payment.link.updated`: a payment link's new status.
public struct BridgePaymentLinkUpdatedEvent: CatalogEvent, Hashable {
    public var paymentLinkID: String
    /// `valid`, `expired`, `revoked` or `completed` (upper case in Bridge's 2021 API version).
    public var paymentLinkStatus: String
    public var paymentLinkClientReference: String?
    /// The status of the payment made through the link, for example `initiated_in_success`.
    public var paymentStatus: String?

    enum CodingKeys: String, CodingKey {
        case paymentLinkID = "payment_link_id"
        case paymentLinkStatus = "payment_link_status"
        case paymentLinkClientReference = "payment_link_client_reference"
        case paymentStatus = "payment_status"
    }

    public init(
        paymentLinkID: String, paymentLinkStatus: String, paymentLinkClientReference: String? = nil,
        paymentStatus: String? = nil
    ) {
        self.paymentLinkID = paymentLinkID
        self.paymentLinkStatus = paymentLinkStatus
        self.paymentLinkClientReference = paymentLinkClientReference
        self.paymentStatus = paymentStatus
    }
}

/// `transfer.created` and `transfer.updated`: a Bridge Pay transfer and its status.
public struct BridgeTransferEvent: CatalogEvent, Hashable {
    public var transferID: String
    public var userUUID: String
    /// For example `created`, `initiated`, `executed` or `failed`.
    public var status: String
    public var statusReason: String?

    enum CodingKeys: String, CodingKey {
        case transferID = "transfer_id"
        case userUUID = "user_uuid"
        case status
        case statusReason = "status_reason"
    }

    public init(transferID: String, userUUID: String, status: String, statusReason: String? = nil) {
        self.transferID = transferID
        self.userUUID = userUUID
        self.status = status
        self.statusReason = statusReason
    }
}

/// `TEST_EVENT`: the fixed body of the dashboard's "Send a test".
public struct BridgeTestEvent: CatalogEvent, Hashable {
    public var itemID: Int
    public var status: Int
    public var userUUID: String

    enum CodingKeys: String, CodingKey {
        case itemID = "item_id"
        case status
        case userUUID = "user_uuid"
    }

    public init(itemID: Int, status: Int, userUUID: String) {
        self.itemID = itemID
        self.status = status
        self.userUUID = userUUID
    }

    /// Exactly the content Bridge sends for "Send a test" (seed 004).
    public static let sample = BridgeTestEvent(
        itemID: 1_234_567_890, status: 0, userUUID: "9a95b38f-f98b-417a-988b-9d0d584893e7")
}

// MARK: - Definitions

public enum BridgeEvents {
    public static let definitions: [EventTypeDefinition] = [
        EventTypeDefinition(
            name: "user.deleted", family: .bridge,
            description: "A Bridge user was deleted, for example by GDPR automation.",
            schema: userSchema, model: BridgeUserEvent.self),
        EventTypeDefinition(
            name: "item.created", family: .bridge,
            description: "An item (a bank connection) is being created: the user entered credentials in Bridge Connect and asked to add the account.",
            schema: itemCreatedSchema, model: BridgeItemEvent.self),
        EventTypeDefinition(
            name: "item.refreshed", family: .bridge,
            description: "An item was refreshed; `status_code` tells whether it is now OK or in error.",
            schema: itemRefreshedSchema, model: BridgeItemRefreshedEvent.self),
        EventTypeDefinition(
            name: "item.deleted", family: .bridge,
            description: "An item was deleted, for example by GDPR automation.",
            schema: itemDeletedSchema, model: BridgeItemEvent.self),
        EventTypeDefinition(
            name: "item.account.created", family: .bridge,
            description: "A new account was detected on an item, at the item's creation or later.",
            schema: accountCreatedSchema, model: BridgeAccountCreatedEvent.self),
        EventTypeDefinition(
            name: "item.account.updated", family: .bridge,
            description: "An account changed: transactions were added, updated or deleted, or its balance changed.",
            schema: accountUpdatedSchema, model: BridgeAccountUpdatedEvent.self),
        EventTypeDefinition(
            name: "item.account.deleted", family: .bridge,
            description: "The bank no longer reports an account; if it reappears, `item.account.updated` events resume. The Bridge docs BankHooks found do not show this body, so BankHooks chose the account's identifiers (`account_id`, `item_id`, `user_uuid`).",
            schema: accountDeletedSchema, model: BridgeAccountReferenceEvent.self),
        EventTypeDefinition(
            name: "payment.transaction.created", family: .bridge,
            description: "A payment transaction was created for a payment request.",
            schema: paymentTransactionCreatedSchema, model: BridgePaymentTransactionCreatedEvent.self),
        EventTypeDefinition(
            name: "payment.transaction.updated", family: .bridge,
            description: "A payment transaction changed, usually its ISO 20022 `status`.",
            schema: paymentTransactionUpdatedSchema, model: BridgePaymentTransactionUpdatedEvent.self),
        EventTypeDefinition(
            name: "payment.link.updated", family: .bridge,
            description: "A payment link changed status, for example to `completed` once a payment was initiated from it. The fields follow Bridge's example as quoted by integrations (the docs text BankHooks found was cut off), and BankHooks chose which are required.",
            schema: paymentLinkUpdatedSchema, model: BridgePaymentLinkUpdatedEvent.self),
        EventTypeDefinition(
            name: "transfer.account.created", family: .bridge,
            description: "An account that can send Bridge Pay transfers was created. Bridge names the event without giving its type or body, so BankHooks chose the name and the fields (`account_id`, `item_id`, `user_uuid`).",
            schema: transferAccountCreatedSchema, model: BridgeAccountReferenceEvent.self),
        EventTypeDefinition(
            name: "transfer.account.updated", family: .bridge,
            description: "An account that can send Bridge Pay transfers was updated. Bridge names the event without giving its type or body, so BankHooks chose the name and the fields (`account_id`, `item_id`, `user_uuid`).",
            schema: transferAccountUpdatedSchema, model: BridgeAccountReferenceEvent.self),
        EventTypeDefinition(
            name: "transfer.created", family: .bridge,
            description: "A Bridge Pay transfer was created. Bridge names the event without giving its type or body, so BankHooks chose the name and the fields (`transfer_id`, `user_uuid`, `status`, `status_reason`).",
            schema: transferCreatedSchema, model: BridgeTransferEvent.self),
        EventTypeDefinition(
            name: "transfer.updated", family: .bridge,
            description: "A Bridge Pay transfer changed status (for example to `executed` or `failed`). Bridge names the event without giving its type or body, so BankHooks chose the name and the fields (`transfer_id`, `user_uuid`, `status`, `status_reason`).",
            schema: transferUpdatedSchema, model: BridgeTransferEvent.self),
        EventTypeDefinition(
            name: "TEST_EVENT", family: .bridge,
            description: "The fake event the dashboard's \"Send a test\" posts; its content is always the same.",
            schema: testEventSchema, model: BridgeTestEvent.self),
    ]

    // MARK: Schemas
    //
    // Each type keeps its own descriptions; `CatalogSchema` (CatalogSchema.swift) writes the object
    // boilerplate, and the members several types describe alike are written once below.

    static let userSchema = CatalogSchema.event(
        description: "Content of Bridge's user.deleted event.",
        required: ["user_uuid"],
        properties: [#""user_uuid": {"type": "string", "format": "uuid", "description": "UUID of the deleted Bridge user."}"#])

    static let itemCreatedSchema = CatalogSchema.event(
        description: "Content of Bridge's item.created event.",
        required: ["item_id", "user_uuid"],
        properties: [#""item_id": {"type": "integer", "description": "Bridge ID of the item being created."}"#, userOwningItem])

    static let itemDeletedSchema = CatalogSchema.event(
        description: "Content of Bridge's item.deleted event.",
        required: ["item_id", "user_uuid"],
        properties: [
            #""item_id": {"type": "integer", "description": "Bridge ID of the deleted item."}"#,
            #""user_uuid": {"type": "string", "format": "uuid", "description": "UUID of the Bridge user who owned the item."}"#,
        ])

    static let itemRefreshedSchema = CatalogSchema.event(
        description: "Content of Bridge's item.refreshed event.",
        required: ["item_id", "user_uuid", "status_code", "status_code_info", "full_refresh"],
        properties: [
            #""item_id": {"type": "integer", "description": "Bridge ID of the refreshed item."}"#,
            userOwningItem,
            #""status_code": {"type": "integer", "description": "The item's status code after the refresh; 0 means OK."}"#,
            #""status_code_info": {"type": "string", "description": "Short text for the status code, such as \"ok\"."}"#,
            #""full_refresh": {"type": "boolean", "description": "Whether Bridge fetched the item's full history."}"#,
            #""refresh_trigger": {"type": ["string", "null"], "description": "What started the refresh: connect (the Connect flow), api (your API integration) or scheduler (Bridge's automatic refresh)."}"#,
            #""account_types": {"type": ["string", "null"], "description": "Which account types were refreshed, such as \"payment\"."}"#,
            #""authentication_expires_at": {"type": ["string", "null"], "format": "date-time", "description": "When the item's bank authentication expires."}"#,
        ])

    static let accountCreatedSchema = CatalogSchema.event(
        description: "Content of Bridge's item.account.created event.",
        required: ["account_id", "item_id", "user_uuid", "balance"],
        properties: [
            #""account_id": {"type": "integer", "description": "Bridge ID of the new account."}"#,
            itemOfAccount, userOwningItem,
            #""balance": {"type": "number", "description": "The account's balance."}"#,
        ])

    static let accountUpdatedSchema = CatalogSchema.event(
        description: "Content of Bridge's item.account.updated event.",
        required: ["account_id", "item_id", "user_uuid", "balance", "nb_new_transactions", "nb_updated_transactions", "nb_deleted_transactions"],
        properties: [
            #""account_id": {"type": "integer", "description": "Bridge ID of the updated account."}"#,
            itemOfAccount, userOwningItem,
            #""balance": {"type": "number", "description": "The account's balance after the update."}"#,
            #""nb_new_transactions": {"type": "integer", "description": "How many transactions were added."}"#,
            #""nb_updated_transactions": {"type": "integer", "description": "How many transactions were updated."}"#,
            #""nb_deleted_transactions": {"type": "integer", "description": "How many transactions were deleted."}"#,
        ])

    static let accountDeletedSchema = accountReferenceSchema(
        "Content of Bridge's item.account.deleted event (fields chosen by BankHooks).",
        accountID: "Bridge ID of the account the bank no longer reports.")

    static let paymentTransactionCreatedSchema = CatalogSchema.event(
        description: "Content of Bridge's payment.transaction.created event.",
        required: ["payment_transaction_id", "payment_request_id"],
        properties: paymentTransactionIDs + paymentReferences)

    static let paymentTransactionUpdatedSchema = CatalogSchema.event(
        description: "Content of Bridge's payment.transaction.updated event.",
        required: ["payment_transaction_id", "payment_request_id", "status"],
        properties: paymentTransactionIDs + [
            #""status": {"type": "string", "description": "ISO 20022 status of the transaction: CREA, ACTC, PDNG, ACSC or RJCT (older integrations may also see PART, CANC and others)."}"#,
            #""status_reason": {"type": ["string", "null"], "description": "ISO 20022 reason code of a rejection, such as MS03; absent when there is none."}"#,
        ] + paymentReferences + [
            #""payment_account_transaction_id": {"type": ["string", "null"], "description": "ID of the matching transaction on your Bridge payment account, once received."}"#,
            #""payment_account_transaction_status": {"type": ["string", "null"], "description": "Status of that payment account transaction, such as \"received\"."}"#,
        ])

    static let paymentLinkUpdatedSchema = CatalogSchema.event(
        description: "Content of Bridge's payment.link.updated event.",
        required: ["payment_link_id", "payment_link_status"],
        properties: [
            #""payment_link_id": {"type": "string", "description": "ID of the payment link."}"#,
            #""payment_link_status": {"type": "string", "description": "The link's new status: valid, expired, revoked or completed (upper case in Bridge's 2021 API version)."}"#,
            #""payment_link_client_reference": {"type": ["string", "null"], "description": "Your reference for the payment link, when you set one."}"#,
            #""payment_status": {"type": ["string", "null"], "description": "Status of the payment made through the link, such as \"initiated_in_success\"."}"#,
        ])

    static let transferAccountCreatedSchema = accountReferenceSchema(
        "Content of the transfer.account.created event (name and fields chosen by BankHooks).",
        accountID: "Bridge ID of the account that can now send transfers.")

    static let transferAccountUpdatedSchema = accountReferenceSchema(
        "Content of the transfer.account.updated event (name and fields chosen by BankHooks).",
        accountID: "Bridge ID of the updated transfer account.")

    static let transferCreatedSchema = transferSchema(
        "Content of the transfer.created event (name and fields chosen by BankHooks).",
        status: "The transfer's status, such as created, initiated, executed or failed.")

    static let transferUpdatedSchema = transferSchema(
        "Content of the transfer.updated event (name and fields chosen by BankHooks).",
        status: "The transfer's new status, such as initiated, executed or failed.")

    static let testEventSchema = CatalogSchema.event(
        description: #"Content of Bridge's TEST_EVENT, always {\"item_id\": 1234567890, \"status\": 0, \"user_uuid\": \"9a95b38f-f98b-417a-988b-9d0d584893e7\"}."#,
        required: ["item_id", "status", "user_uuid"],
        properties: [
            #""item_id": {"type": "integer", "description": "A fake item ID (1234567890)."}"#,
            #""status": {"type": "integer", "description": "A fake item status (0)."}"#,
            #""user_uuid": {"type": "string", "format": "uuid", "description": "A fake user UUID."}"#,
        ])

    // MARK: Shared members

    static let userOwningItem = #""user_uuid": {"type": "string", "format": "uuid", "description": "UUID of the Bridge user who owns the item."}"#
    static let itemOfAccount = #""item_id": {"type": "integer", "description": "Bridge ID of the item the account belongs to."}"#

    /// `payment_transaction_id` and `payment_request_id` of the payment transaction events.
    static let paymentTransactionIDs = [
        #""payment_transaction_id": {"type": "string", "description": "ID of the payment transaction."}"#,
        #""payment_request_id": {"type": "string", "description": "ID of the payment request the transaction belongs to."}"#,
    ]

    /// The optional references of the payment transaction events.
    static let paymentReferences = [
        #""payment_link_id": {"type": ["string", "null"], "description": "ID of the payment link, when the payment came from one; absent otherwise."}"#,
        #""client_reference": {"type": ["string", "null"], "description": "Your reference for the payment, when you set one."}"#,
        #""end_to_end_id": {"type": ["string", "null"], "description": "End-to-end identifier of the transfer, when known."}"#,
    ]

    /// `BridgeAccountReferenceEvent`'s schema, with the event's and `account_id`'s descriptions.
    static func accountReferenceSchema(_ description: String, accountID: String) -> String {
        CatalogSchema.event(
            description: description,
            required: ["account_id", "item_id", "user_uuid"],
            properties: [#""account_id": {"type": "integer", "description": "\#(accountID)"}"#, itemOfAccount, userOwningItem])
    }

    /// `BridgeTransferEvent`'s schema, with the event's and `status`'s descriptions.
    static func transferSchema(_ description: String, status: String) -> String {
        CatalogSchema.event(
            description: description,
            required: ["transfer_id", "user_uuid", "status"],
            properties: [
                #""transfer_id": {"type": "string", "description": "ID of the Bridge Pay transfer."}"#,
                #""user_uuid": {"type": "string", "format": "uuid", "description": "UUID of the Bridge user who sends the transfer."}"#,
                #""status": {"type": "string", "description": "\#(status)"}"#,
                #""status_reason": {"type": ["string", "null"], "description": "Why the transfer failed, when it did."}"#,
            ])
    }
}
