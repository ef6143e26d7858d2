import BankHooksCore
import BankHooksVerify

/// What a link (or a failed one, a revoke, an availability change) sets off, in every family's
/// events, as `ScheduledEvent`s to commit with the state change (DESIGN "What a link sets off").
/// Every payload is a catalog model encoded in the provider's member order, so each passes the
/// event service's check; which webhooks get which events is the event service's fan-out.
public struct LinkEmissions: Sendable {
    /// Lean's Callback URL message on success (seed 000).
    public static let leanSuccessMessage = "Success, here's everything you need to retrieve your user's information"
    /// Lean's Callback URL message on a wrong password (seed 000).
    public static let leanWrongPasswordMessage = "The username or password submitted was incorrect"

    public let timings: SandboxTimings

    public init(timings: SandboxTimings) {
        self.timings = timings
    }

    /// A successful link, per consent: Lean `bank_link.result` (200), `entity.created` and, after
    /// `leanResultsReady`, `results.ready`; Okra AUTH (`AUTH_SUCCESS`), then the transactions, balance, identity and
    /// income callbacks over `okraInitialTransactions`…`okraFullTransactions`; Bridge
    /// `item.created`, then `item.refreshed` and one `item.account.created` per account after `bridgeRefresh`.
    public func linked(_ consents: [Consent], institution: SandboxInstitution, now: Timestamp) throws -> [ScheduledEvent] {
        var all: [ScheduledEvent] = []
        for consent in consents {
            var batch = ScheduledEventBatch(applicationID: consent.applicationID, now: now)
            let appUserID = consent.applicationUserID ?? consent.userUUID
            // Lean.
            let details = institution.bankDetails
            try batch.add(
                LeanBankLinkResult(
                    status: LeanBankLinkStatus(code: .success, message: Self.leanSuccessMessage),
                    data: LeanBankLinkData(
                        entity: LeanBankLinkEntity(entityUUID: consent.leanEntityID, appUserID: appUserID, permissions: consent.permissions),
                        bankDetails: LeanBankLinkBankDetails(
                            name: details.name, bankIdentifier: details.identifier, logoURL: details.logo, primaryColor: details.mainColor))),
                as: LeanFormat.callbackEventType)
            try batch.add(Self.leanEntity(consent, institution: institution), as: "entity.created")
            // Lean's asynchronous results: the sandbox's only "request" is the link itself, so the id is the entity's.
            try batch.add(LeanResultsReady(id: consent.leanEntityID), as: "results.ready", after: timings.leanResultsReady)
            // Okra.
            let record = consent.okraRecordID
            // The login's data once per consent (cached per login): the counts and the accounts.
            let data = SandboxData.profile(login: consent.login)
            try batch.add(Self.okraAuthSuccess(record: record, at: now), as: "AUTH.AUTH_SUCCESS")
            try batch.add(
                OkraTransactionsCallback(record: record, newTransactions: data.initialCount), as: "TRANSACTIONS.INITIAL_TRANSACTIONS",
                after: timings.okraInitialTransactions)
            try batch.add(OkraRecordCallback(record: record), as: "BALANCE.PRODUCT_IS_READY", after: timings.okraBalanceIdentity)
            try batch.add(OkraRecordCallback(record: record), as: "IDENTITY.PRODUCT_IS_READY", after: timings.okraBalanceIdentity)
            try batch.add(
                OkraTransactionsCallback(record: record, newTransactions: data.totalCount - data.initialCount), as: "TRANSACTIONS.FULL_TRANSACTIONS",
                after: timings.okraFullTransactions)
            try batch.add(OkraRecordCallback(record: record), as: "INCOME.PRODUCT_IS_READY", after: timings.okraFullTransactions)
            // Bridge.
            let item = Int(consent.bridgeItemID)
            try batch.add(BridgeItemEvent(itemID: item, userUUID: consent.userUUID), as: "item.created")
            try batch.add(
                BridgeItemRefreshedEvent(
                    itemID: item, userUUID: consent.userUUID, statusCode: 0, statusCodeInfo: "ok", fullRefresh: true, refreshTrigger: "connect"),
                as: "item.refreshed", after: timings.bridgeRefresh)
            for account in data.accounts {
                try batch.add(
                    BridgeAccountCreatedEvent(
                        accountID: Self.bridgeAccountID(itemID: consent.bridgeItemID, accountID: account.id), itemID: item,
                        userUUID: consent.userUUID, balance: Double(account.balance) ?? 0),
                    as: "item.account.created", after: timings.bridgeRefresh)
            }
            all += batch.events
        }
        return all
    }

    /// Okra's AUTH callback as Okra sends it (`AUTH_SUCCESS` with its envelope; research/provider-docs.md),
    /// without `callback_url`: the sandbox bank does not know BankHooks' public address (the pull path is
    /// `GET /v2/callback?record=<record>&method=AUTH` there).
    static func okraAuthSuccess(record: String, at now: Timestamp) -> OkraProductCallback {
        OkraProductCallback(
            record: record, method: "AUTH", type: "CALLBACK", code: "AUTH_SUCCESS", env: "sandbox", status: "is_success",
            startedAt: now.iso8601, endedAt: now.iso8601, message: "Successfully fetched auth", recordID: record)
    }

    /// A wrong password: Lean's Callback URL with the 401 body of seed 000, and nothing else (the
    /// authorisation stays open; no entity, record or item exists).
    public func wrongPassword(_ authorisation: Authorisation, institution: SandboxInstitution, now: Timestamp) throws -> [ScheduledEvent] {
        var batch = ScheduledEventBatch(applicationID: authorisation.applicationID, now: now)
        try batch.add(
            LeanBankLinkResult(status: LeanBankLinkStatus(code: .failure, message: Self.leanWrongPasswordMessage), data: nil),
            as: LeanFormat.callbackEventType)
        return batch.events
    }

    /// A failed link (a row of seed 003's error table, or a deny): nothing. Lean's Callback URL
    /// knows only 200 and 401 (no entity was created); Okra's `RECORD.ERROR` is about an existing
    /// record, and a failed first link leaves none; Bridge creates no item. The application learns
    /// of the failure from the redirect's `error` parameters.
    public func failed(
        _ authorisation: Authorisation, institution: SandboxInstitution, bankError: String, now: Timestamp
    ) throws -> [ScheduledEvent] {
        []
    }

    /// A revoked consent: Lean `entity.updated` for its entity (same ids and permissions).
    public func revoked(_ consent: Consent, institution: SandboxInstitution, now: Timestamp) throws -> [ScheduledEvent] {
        var batch = ScheduledEventBatch(applicationID: consent.applicationID, now: now)
        try batch.add(Self.leanEntity(consent, institution: institution), as: "entity.updated")
        return batch.events
    }

    /// An availability change: Lean `bank.availability.updated` when the bank's data/payments
    /// flags changed, `iban_account_verification.bank.availability.updated` when its IBAN
    /// verification changed; nothing when neither did.
    public func availabilityChanged(
        applicationID: String, before: SandboxInstitution, after: SandboxInstitution, now: Timestamp
    ) throws -> [ScheduledEvent] {
        var batch = ScheduledEventBatch(applicationID: applicationID, now: now)
        if before.availability.bank != after.availability.bank {
            try batch.add(
                LeanBankAvailabilityUpdated(identifier: after.bankDetails.identifier, availability: after.availability.bank),
                as: "bank.availability.updated")
        }
        if before.availability.ibanVerification != after.availability.ibanVerification {
            try batch.add(
                LeanIBANAccountVerificationBankAvailabilityUpdated(
                    countryCode: after.countryCode, bankCode: after.bankCode, availability: after.availability.ibanVerification),
                as: "iban_account_verification.bank.availability.updated")
        }
        return batch.events
    }

    // MARK: Derived ids

    /// The Lean customer of an application's user: one per (application, user UUID), the same
    /// for every consent of that user, UUID-shaped.
    public static func leanCustomerID(applicationID: String, userUUID: String) -> String {
        DerivedID.uuid("lean customer", applicationID, userUUID)
    }

    /// Bridge's numeric id of an account of an item (stable: the same account of the same item
    /// always has the same id).
    public static func bridgeAccountID(itemID: Int64, accountID: String) -> Int {
        DerivedID.positiveInt("bridge account", String(itemID), accountID)
    }

    /// The Lean entity a consent stands for (`entity.created`, `entity.updated`).
    static func leanEntity(_ consent: Consent, institution: SandboxInstitution) -> LeanEntity {
        LeanEntity(
            id: consent.leanEntityID, appUserID: consent.applicationUserID ?? consent.userUUID,
            customerID: leanCustomerID(applicationID: consent.applicationID, userUUID: consent.userUUID),
            permissions: consent.permissions, bankDetails: institution.bankDetails)
    }
}

/// The scheduled events one state change sets off, in the order they are added: their ids are
/// time-ordered and increase within the batch, so the store lists events due at the same time in
/// that order (by due time, then id).
struct ScheduledEventBatch {
    let applicationID: String
    let now: Timestamp
    private(set) var events: [ScheduledEvent] = []
    /// The random part of the first id; each next id adds one (room left for any batch size).
    private let base = UInt64.random(in: 0...(UInt64.max >> 2))

    init(applicationID: String, now: Timestamp) {
        self.applicationID = applicationID
        self.now = now
    }

    /// Adds `model` as an event of `type`, due `delay` after `now`, to `webhookID` only when given.
    mutating func add(_ model: some CatalogEvent, as type: String, after delay: Duration = .zero, webhookID: String? = nil) throws {
        var ids = IncreasingIDs(high: base &+ UInt64(events.count))
        events.append(ScheduledEvent(
            id: Identifier.make("sev", at: now, using: &ids), applicationID: applicationID, dueAt: now.adding(delay), type: type,
            data: try OrderedJSONEncoder.encode(model), webhookID: webhookID))
    }

    /// `Identifier.make` draws 64 bits then 16: the first draw is the batch position, the second random.
    private struct IncreasingIDs: RandomNumberGenerator {
        var high: UInt64
        var draws = 0
        mutating func next() -> UInt64 {
            draws += 1
            return draws == 1 ? high : UInt64.random(in: 0...UInt64.max)
        }
    }
}
