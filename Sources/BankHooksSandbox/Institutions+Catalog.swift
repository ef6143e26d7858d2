import BankHooksVerify

/// The sandbox's banks. The details the seeds print are copied exactly: seed 000's `Lean Mockbank 1`
/// (`LEANMB1`, `#183F3F`, an empty logo URL), seed 001's `Lean SAMA Open Banking MockBank`
/// (`LEA1_SAMAOB_SAU`, its logo and colours) and `BANK1_KSA` (seed 001's two availability
/// examples share one timestamp and event id, so the IBAN one, `SA`/`80`, is taken as that bank's).
/// Yapily's `modelo-sandbox` and BankHooks' own `bankhooks-sandbox` complete the list. Ids are
/// the Lean identifier in lower case with hyphens (Yapily-style); what the seeds do not say (the
/// other colours, codes, slugs, Bridge bank ids) the sandbox chose.
extension SandboxInstitution {
    /// Every built-in institution, in the order the API lists them.
    public static let builtIn: [SandboxInstitution] = [
        SandboxInstitution(
            id: "leanmb1",
            bankDetails: LeanEntityBankDetails(
                logo: "", name: "Lean Mockbank 1", accountType: .personal, identifier: "LEANMB1", mainColor: "#183F3F",
                backgroundColor: "#ffffff"),
            countryCode: "AE", bankCode: "999", okraSlug: "lean-mockbank-1", bridgeBankID: 574, availability: .allUp),
        SandboxInstitution(
            id: "lea1-samaob-sau",
            bankDetails: LeanEntityBankDetails(
                logo: "https://cdn.leantech.me/img/banks/white-lean.png", name: "Lean SAMA Open Banking MockBank", accountType: .business,
                identifier: "LEA1_SAMAOB_SAU", mainColor: "#1beb75", backgroundColor: "#ffffff"),
            countryCode: "SA", bankCode: "99", okraSlug: "lean-sama-open-banking-mockbank", bridgeBankID: 575, availability: .allUp),
        SandboxInstitution(
            id: "bank1-ksa",
            bankDetails: LeanEntityBankDetails(
                logo: "", name: "Bank 1 KSA", accountType: .personal, identifier: "BANK1_KSA", mainColor: "#0b4f8a", backgroundColor: "#f4f7fb"),
            countryCode: "SA", bankCode: "80", okraSlug: "bank-1-ksa", bridgeBankID: 576, availability: .allUp),
        SandboxInstitution(
            id: "modelo-sandbox",
            bankDetails: LeanEntityBankDetails(
                logo: "", name: "Modelo Sandbox", accountType: .personal, identifier: "MODELO_SANDBOX", mainColor: "#e4002b",
                backgroundColor: "#ffffff"),
            countryCode: "GB", bankCode: "MODL", okraSlug: "modelo-sandbox", bridgeBankID: 577, availability: .allUp),
        SandboxInstitution(
            id: "bankhooks-sandbox",
            bankDetails: LeanEntityBankDetails(
                logo: "", name: "BankHooks Sandbox Bank", accountType: .personal, identifier: "BANKHOOKS_SANDBOX", mainColor: "#4b3fd1",
                backgroundColor: "#f7f6ff"),
            countryCode: "GB", bankCode: "BHKS", okraSlug: "bankhooks-sandbox", bridgeBankID: 578, availability: .allUp),
    ]

    /// The built-in institutions by id.
    static let builtInByID: [String: SandboxInstitution] = Dictionary(uniqueKeysWithValues: builtIn.map { ($0.id, $0) })

    /// A built-in institution (with its built-in availability); nil when there is none with that id.
    public static func builtIn(id: String) -> SandboxInstitution? { builtInByID[id] }

    /// The bank name Lean's payment-source events print (seed 001 `payment_source.created` names
    /// `LEANMB1` "Lean Mock Bank", seed 000's entity "Lean Mockbank 1"); the entity name for the others.
    public var leanPaymentsBankName: String { bankDetails.identifier == "LEANMB1" ? "Lean Mock Bank" : bankDetails.name }

    /// Whether data links may be made now: the data product is both active and enabled.
    public var isDataAvailable: Bool { availability.bank.active.data && availability.bank.enabled.data }

    /// Whether payments may be made now: the payments product is both active and enabled.
    public var isPaymentsAvailable: Bool { availability.bank.active.payments && availability.bank.enabled.payments }
}
