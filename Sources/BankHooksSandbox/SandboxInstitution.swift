import BankHooksVerify

/// A bank of the sandbox: the details the seeds' payloads carry about it, and what it offers.
/// The built-in list is `SandboxInstitution.builtIn`; availability can be changed per application.
public struct SandboxInstitution: Hashable, Sendable {
    /// The institution id clients use (`institution_id`, the redirect's `institution`).
    public var id: String
    /// Lean's bank details (seed 001 `entity.created`; `identifier` is also Lean's `bank_identifier`).
    public var bankDetails: LeanEntityBankDetails
    /// Seed 000's `primary_color` and `logo_url` come from `bankDetails` (`main_color`, `logo`).
    public var countryCode: String
    /// The IBAN-verification bank code (seed 001 `iban_account_verification.bank.availability.updated`).
    public var bankCode: String
    /// Okra's bank (`bankName`, `bankSlug`) and Bridge's bank id.
    public var okraSlug: String
    public var bridgeBankID: Int64
    /// What it offers and whether it is up, as an application sees it unless it changed it.
    public var availability: InstitutionAvailability

    public init(
        id: String, bankDetails: LeanEntityBankDetails, countryCode: String, bankCode: String, okraSlug: String, bridgeBankID: Int64,
        availability: InstitutionAvailability
    ) {
        self.id = id
        self.bankDetails = bankDetails
        self.countryCode = countryCode
        self.bankCode = bankCode
        self.okraSlug = okraSlug
        self.bridgeBankID = bridgeBankID
        self.availability = availability
    }
}

/// An institution's availability: Lean's data/payments active/enabled flags (seed 001
/// `bank.availability.updated`) and its IBAN-verification availability (the variant).
/// Stored per application as this type's JSON (`SandboxStore.setInstitutionAvailability`).
public struct InstitutionAvailability: Codable, Hashable, Sendable {
    public var bank: LeanBankAvailability
    public var ibanVerification: LeanIBANAvailability

    public init(bank: LeanBankAvailability, ibanVerification: LeanIBANAvailability) {
        self.bank = bank
        self.ibanVerification = ibanVerification
    }

    enum CodingKeys: String, CodingKey {
        case bank
        case ibanVerification = "iban_verification"
    }

    /// Everything offered and up.
    public static let allUp = InstitutionAvailability(
        bank: LeanBankAvailability(
            active: LeanProductAvailability(payments: true, data: true), enabled: LeanProductAvailability(payments: true, data: true)),
        ibanVerification: LeanIBANAvailability(
            global: .enabled,
            accountType: LeanIBANAccountTypeAvailability(
                personal: LeanIBANMatchAvailability(match: .enabled, noMatch: .enabled),
                freelancer: LeanIBANMatchAvailability(match: .enabled, noMatch: .enabled),
                business: LeanIBANMatchAvailability(match: .enabled, noMatch: .enabled))))
}
