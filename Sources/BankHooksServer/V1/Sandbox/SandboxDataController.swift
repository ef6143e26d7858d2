import BankHooksCore
import BankHooksSandbox
import HTTPTypes
import Hummingbird

/// `/v1/sandbox/accounts`: the end user's deterministic sandbox data, read with a consent token
/// (header `Consent`, as Yapily's data calls take it). A token that does not verify, or whose
/// consent is revoked or expired, is a 403 `consent-invalid`.
struct SandboxDataController {
    let bank: SandboxBank
    let access: SandboxAccess

    static let consentHeader = HTTPField.Name("Consent")!

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("sandbox/accounts", use: accounts)
        group.get("sandbox/accounts/:id/transactions", use: transactions)
    }

    struct AccountView: Encodable, Sendable {
        var id: String
        var name: String
        var type: String
        var currency: String
        var iban: String
        var balance: String

        init(_ account: SandboxAccount) {
            (id, name, type, currency, iban, balance) = (account.id, account.name, account.type, account.currency, account.iban, account.balance)
        }
    }

    struct TransactionView: Encodable, Sendable {
        var id: String
        var accountId: String
        var bookedAt: String
        var amount: String
        var currency: String
        var description: String

        init(_ transaction: SandboxTransaction) {
            id = transaction.id
            accountId = transaction.accountID
            bookedAt = transaction.bookedAt
            amount = transaction.amount
            currency = transaction.currency
            description = transaction.description
        }
    }

    /// The consent the request's token stands for, if it grants `permission`.
    func consent(_ request: Request, context: AppRequestContext, permission: String) async throws -> Consent {
        let application = try await access.require(Roles.readers, to: "read sandbox data", context: context)
        guard let token = request.headers[Self.consentHeader], !token.isEmpty else {
            throw Problem(.badRequest, "missing-header", title: "A header is missing",
                          detail: "send the consent token (the callback's `consent`, or the one-time token's exchange) as `Consent: <token>`",
                          field: "header:Consent")
        }
        guard token.utf8.count <= 8192 else { throw SandboxError(.consentInvalid, at: "header:Consent", "the consent token is not valid") }
        let consent = try await bank.authorisedConsent(token: token, applicationID: application.id)
        guard consent.permissions.contains(permission) else {
            throw SandboxError(.consentInvalid, at: "header:Consent", "the consent does not grant `\(permission)`")
        }
        return consent
    }

    @Sendable func accounts(_ request: Request, context: AppRequestContext) async throws -> Response {
        let consent = try await consent(request, context: context, permission: "accounts")
        let accounts = SandboxData.accounts(login: consent.login).map(AccountView.init)
        return try Response.json(ListView(all: accounts), status: .ok, context: context)
    }

    @Sendable func transactions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let consent = try await consent(request, context: context, permission: "transactions")
        let id = try context.pathParameter("id")
        guard SandboxData.accounts(login: consent.login).contains(where: { $0.id == id }) else {
            throw Problem.notFound("account \(id)", field: "path:id")
        }
        let transactions = SandboxData.transactions(login: consent.login, accountID: id).map(TransactionView.init)
        return try Response.json(ListView(all: transactions), status: .ok, context: context)
    }
}
