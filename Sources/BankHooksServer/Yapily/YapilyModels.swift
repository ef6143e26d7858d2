import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Crypto
import Foundation

/// The facade's answers, member for member as Yapily's models name them. Every member is one the
/// Java SDK 2.13.1 and the OpenAPI document 12.13.0 both know (the tests check it against both);
/// an absent value is left out, never `null`.

/// Yapily's `Consent`, `AccountAuthorisationResponse` and `PaymentAuthorisationRequestResponse`:
/// the members this emulator fills are common to the three.
struct YapilyConsentView: Encodable, Sendable {
    var id: String
    var userUuid: String
    var applicationUserId: String?
    var institutionId: String
    var status: String
    var createdAt: Timestamp
    var expiresAt: Timestamp?
    var featureScope: [String]
    var consentToken: String?
    var state: String?
    var authorizedAt: Timestamp?
    /// When the user last re-authorised the consent at the bank (absent until then).
    var lastConfirmedAt: Timestamp?
    var institutionConsentId: String
    var authorisationUrl: String?
    var qrCodeUrl: String?
}

extension YapilyConsentView {
    /// An authorisation request as created (or read before it made a consent): its status as the sandbox reads it.
    init(_ authorisation: Authorisation, kind: YapilyRequestKind, authorisationURL: String?, qrCodeURL: String?) {
        self.init(
            id: authorisation.id, userUuid: authorisation.userUUID, applicationUserId: authorisation.applicationUserID,
            institutionId: authorisation.institutionID, status: authorisation.status.rawValue, createdAt: authorisation.createdAt,
            featureScope: YapilyScopes.featureScope(kind), state: authorisation.state,
            institutionConsentId: YapilyScopes.institutionConsentID(consentID: authorisation.id, kind: kind),
            authorisationUrl: authorisationURL, qrCodeUrl: qrCodeURL)
    }

    /// A consent; `token` only where Yapily shows it (the exchange, a read by id).
    init(_ consent: Consent, kind: YapilyRequestKind, token: String?, state: String?) {
        self.init(
            id: consent.id, userUuid: consent.userUUID, applicationUserId: consent.applicationUserID, institutionId: consent.institutionID,
            status: consent.status.rawValue, createdAt: consent.createdAt, expiresAt: consent.expiresAt,
            featureScope: YapilyScopes.featureScope(kind), consentToken: token, state: state, authorizedAt: consent.authorizedAt,
            institutionConsentId: YapilyScopes.institutionConsentID(consentID: consent.id, kind: kind))
    }
}

/// What a Yapily consent of each kind says it covers, and its institution-side id.
enum YapilyScopes {
    /// The account-information features the sandbox serves (`/accounts`, balances, transactions, `/identity`).
    static let account = ["ACCOUNTS", "ACCOUNT", "ACCOUNT_BALANCES", "ACCOUNT_TRANSACTIONS", "IDENTITY"]
    /// Yapily's single domestic payment scopes (its payment example's).
    static let payment = ["EXISTING_PAYMENTS_DETAILS", "EXISTING_PAYMENT_INITIATION_DETAILS", "CREATE_DOMESTIC_SINGLE_PAYMENT"]

    static func featureScope(_ kind: YapilyRequestKind) -> [String] { kind == .payment ? payment : account }

    /// `aac-<uuid>` (account) or `sdp-1-<uuid>` (payment), as Modelo's examples; derived from the
    /// consent id, so it is the same on every read.
    static func institutionConsentID(consentID: String, kind: YapilyRequestKind) -> String {
        let digest = Array(SHA256.hash(data: Array("yapily institution consent \(consentID)".utf8)))
        let hex = digest.prefix(16).map { String(format: "%02x", $0) }.joined()
        let uuid = [hex.prefix(8), hex.dropFirst(8).prefix(4), "4" + hex.dropFirst(13).prefix(3), "a" + hex.dropFirst(17).prefix(3), hex.dropFirst(20).prefix(12)]
            .joined(separator: "-")
        return (kind == .payment ? "sdp-1-" : "aac-") + uuid
    }
}

/// Yapily's `ApplicationUser`.
struct YapilyUserView: Encodable, Sendable {
    struct InstitutionConsent: Encodable, Sendable { var institutionId: String }
    var uuid: String
    var applicationUuid: String
    var applicationUserId: String
    var referenceId: String?
    var institutionConsents: [InstitutionConsent]
}

/// Yapily's `ConsentDeleteResponse`.
struct YapilyConsentDeleteView: Encodable, Sendable {
    var id: String
    var deleteStatus: String
    var institutionId: String
    var institutionConsentId: String
    var creationDate: Timestamp
}

/// Yapily's `UserDeleteResponse`.
struct YapilyUserDeleteView: Encodable, Sendable {
    var id: String
    var deleteStatus: String
    var creationDate: Timestamp
    var userConsents: [YapilyConsentDeleteView]
}

/// Yapily's `Institution` (its `Country` without `bic`, which the Java SDK 2.13.1 does not know).
struct YapilyInstitutionView: Encodable, Sendable {
    struct Country: Encodable, Sendable {
        var displayName: String
        var countryCode2: String
    }
    struct Media: Encodable, Sendable {
        var source: String
        var type: String
    }
    var id: String
    var name: String
    var fullName: String
    var countries: [Country]
    var environmentType: String
    var credentialsType: String
    var media: [Media]
    var features: [String]

    static let countryNames = ["AE": "United Arab Emirates", "SA": "Saudi Arabia", "GB": "United Kingdom"]

    init(_ institution: SandboxInstitution) {
        id = institution.id
        name = institution.bankDetails.name
        fullName = institution.bankDetails.name
        countries = [Country(displayName: Self.countryNames[institution.countryCode] ?? institution.countryCode, countryCode2: institution.countryCode)]
        environmentType = "SANDBOX"
        credentialsType = "OPEN_BANKING_UK_AUTO"
        media = [Media(source: institution.bankDetails.logo, type: "icon")]
        var features: [String] = []
        if institution.isDataAvailable { features += ["INITIATE_ACCOUNT_REQUEST", "ACCOUNT_REQUEST_DETAILS"] + YapilyScopes.account }
        if institution.isPaymentsAvailable { features += ["INITIATE_DOMESTIC_SINGLE_PAYMENT"] + YapilyScopes.payment }
        self.features = features
    }
}

/// Yapily's `Amount`: the amount as a JSON number, exactly the sandbox's decimal.
struct YapilyAmount: Encodable, Sendable {
    var amount: Decimal
    var currency: String

    init(_ text: String, currency: String) {
        amount = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) ?? 0
        self.currency = currency
    }
}

/// Yapily's `AccountBalance`.
struct YapilyAccountBalance: Encodable, Sendable {
    var type: String
    var dateTime: String
    var balanceAmount: YapilyAmount
    var creditLineIncluded: Bool
}

/// Yapily's `Account`.
struct YapilyAccountView: Encodable, Sendable {
    struct Name: Encodable, Sendable { var name: String }
    struct Identification: Encodable, Sendable {
        var type: String
        var identification: String
    }
    var id: String
    var type: String
    var description: String
    var balance: Decimal
    var currency: String
    var usageType: String
    var accountType: String
    var nickname: String
    var accountNames: [Name]
    var accountIdentifications: [Identification]
    var accountBalances: [YapilyAccountBalance]

    /// The balance is the statement's closing balance, at the end of its last day.
    static let statementEndTime = SandboxData.statementEnd + "T23:59:59.000Z"

    init(_ account: SandboxAccount, holder: String) {
        id = account.id
        type = "Personal - " + account.name.replacingOccurrences(of: " Account", with: "")
        description = account.name
        balance = YapilyAmount(account.balance, currency: account.currency).amount
        currency = account.currency
        usageType = "PERSONAL"
        accountType = ["CURRENT": "CURRENT", "SAVINGS": "SAVINGS", "CREDIT_CARD": "CREDIT_CARD"][account.type] ?? "OTHER"
        nickname = account.name
        accountNames = [Name(name: holder)]
        accountIdentifications = [Identification(type: "IBAN", identification: account.iban)]
        accountBalances = [Self.closingBalance(account)]
    }

    static func closingBalance(_ account: SandboxAccount) -> YapilyAccountBalance {
        YapilyAccountBalance(
            type: "CLOSING_AVAILABLE", dateTime: statementEndTime, balanceAmount: YapilyAmount(account.balance, currency: account.currency),
            creditLineIncluded: false)
    }
}

/// Yapily's `Balances`.
struct YapilyBalancesView: Encodable, Sendable {
    var mainBalanceAmount: YapilyAmount
    var balances: [YapilyAccountBalance]
}

/// Yapily's `Transaction`: a booked one, dated at noon UTC of its booking day.
struct YapilyTransactionView: Encodable, Sendable {
    var id: String
    var date: String
    var bookingDateTime: String
    var valueDateTime: String
    var status: String
    var amount: Decimal
    var currency: String
    var transactionAmount: YapilyAmount
    var description: String
    var transactionInformation: [String]

    init(_ transaction: SandboxTransaction) {
        let time = transaction.bookedAt + "T12:00:00.000Z"
        let amount = YapilyAmount(transaction.amount, currency: transaction.currency)
        id = transaction.id
        date = time
        bookingDateTime = time
        valueDateTime = time
        status = "BOOKED"
        self.amount = amount.amount
        currency = transaction.currency
        transactionAmount = amount
        description = transaction.description
        transactionInformation = [transaction.description]
    }
}

/// Yapily's `Identity`.
struct YapilyIdentityView: Encodable, Sendable {
    struct Address: Encodable, Sendable {
        var addressLines: [String]
        var city: String
        var postalCode: String
        var country: String
        var type: String
    }
    var id: String
    var firstName: String
    var lastName: String
    var fullName: String
    var birthdate: String
    var email: String
    var phone: String
    var addresses: [Address]

    init(_ identity: SandboxIdentity) {
        id = identity.id
        firstName = identity.firstName
        lastName = identity.lastName
        fullName = identity.fullName
        birthdate = identity.birthDate
        email = identity.email
        phone = identity.phone
        addresses = [Address(addressLines: identity.addressLines, city: identity.city, postalCode: identity.postalCode, country: identity.countryCode, type: "RESIDENTIAL")]
    }
}
