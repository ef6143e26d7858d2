import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Foundation
import Hummingbird

/// The account data behind a consent (header `consent`): `GET /accounts`,
/// `GET /accounts/{accountId}/balances`, `GET /accounts/{accountId}/transactions`, `GET /identity`,
/// from the sandbox's deterministic data. A consent that is not AUTHORIZED (revoked, expired,
/// awaiting re-authorisation, or a token that does not verify) and a payment consent are Yapily's 403.
extension YapilyAPI {
    func addAccountRoutes(to api: RouterGroup<AppRequestContext>) {
        api.get("accounts", use: listAccounts)
        api.get("accounts/:accountId/balances", use: accountBalances)
        api.get("accounts/:accountId/transactions", use: accountTransactions)
        api.get("identity", use: identity)
    }

    @Sendable func listAccounts(_ request: Request, context: AppRequestContext) async throws -> Response {
        let consent = try await dataConsent(request, context: context)
        let holder = SandboxData.identity(login: consent.login).fullName
        return try YapilyJSON.response(YapilyListEnvelope(SandboxData.accounts(login: consent.login).map { YapilyAccountView($0, holder: holder) }))
    }

    @Sendable func accountBalances(_ request: Request, context: AppRequestContext) async throws -> Response {
        let consent = try await dataConsent(request, context: context)
        let account = try Self.account(try pathParameter("accountId", context), of: consent)
        let closing = YapilyAccountView.closingBalance(account)
        return try YapilyJSON.response(YapilyEnvelope(YapilyBalancesView(mainBalanceAmount: closing.balanceAmount, balances: [closing])))
    }

    /// Newest first (`sort=-date`, the default) or oldest first (`sort=date`), within `from` /
    /// `before`, then `offset` and `limit` (1 to 1,000; default 1,000).
    @Sendable func accountTransactions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let consent = try await dataConsent(request, context: context)
        let account = try Self.account(try pathParameter("accountId", context), of: consent)
        let query = try Self.query(request)
        let from = try Self.dateTime(query, "from"), before = try Self.dateTime(query, "before")
        let limit = try Self.integer(query, "limit", in: 1...1000)
        let offset = try Self.integer(query, "offset", in: 0...1_000_000) ?? 0
        let sort = try Self.single(query, "sort") ?? "-date"
        guard sort == "date" || sort == "-date" else { throw YapilyError.badRequest("sort must be date or -date") }
        if try Self.single(query, "cursor") != nil { throw YapilyError.badRequest("cursor is not supported here; page with offset and limit") }
        var views = SandboxData.transactions(login: consent.login, accountID: account.id).map(YapilyTransactionView.init).filter { view in
            guard let time = Timestamp(iso8601: view.date) else { return false }
            if let from, time < from { return false }
            if let before, time >= before { return false }
            return true
        }
        if sort == "date" { views.reverse() }
        let total = views.count
        let page = Array(views.dropFirst(offset).prefix(limit ?? 1000))
        let pagination = YapilyListEnvelope<YapilyTransactionView>.Pagination(totalCount: total, self: .init(limit: limit, sort: sort, offset: offset))
        return try YapilyJSON.response(YapilyListEnvelope(page, pagination: pagination))
    }

    @Sendable func identity(_ request: Request, context: AppRequestContext) async throws -> Response {
        let consent = try await dataConsent(request, context: context)
        return try YapilyJSON.response(YapilyEnvelope(YapilyIdentityView(SandboxData.identity(login: consent.login))))
    }

    // MARK: Steps

    /// The authorised account consent of the `consent` header.
    func dataConsent(_ request: Request, context: AppRequestContext) async throws -> Consent {
        let application = try await application(context)
        let consent = try await consent(fromHeader: request, application: application)
        guard try await kind(consent.authorisationID, applicationID: application.id) == .account else {
            throw YapilyError(.forbidden, "The consent is a payment consent; it grants no access to account information")
        }
        try await requireNotAwaitingReauthorisation(consent, applicationID: application.id)
        return consent
    }

    static func account(_ id: String, of consent: Consent) throws -> SandboxAccount {
        guard let account = SandboxData.accounts(login: consent.login).first(where: { $0.id == id }) else {
            throw YapilyError.notFound("Account \(id) not found for this consent")
        }
        return account
    }
}
