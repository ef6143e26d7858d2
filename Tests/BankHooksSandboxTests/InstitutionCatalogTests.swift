import BankHooksSandbox
import Testing

/// The built-in institutions carry the seeds' bank details exactly.
@Suite struct InstitutionCatalogTests {
    /// Seed 000's bank (Lean's Callback URL body): name, identifier, empty logo URL, primary colour.
    @Test func seed000sMockbank() throws {
        let bank = try #require(SandboxInstitution.builtIn(id: "leanmb1"))
        #expect(bank.bankDetails.name == "Lean Mockbank 1")
        #expect(bank.bankDetails.identifier == "LEANMB1")
        #expect(bank.bankDetails.logo == "")
        #expect(bank.bankDetails.mainColor == "#183F3F")
        #expect(bank.leanPaymentsBankName == "Lean Mock Bank")
    }

    /// Seed 001's banks: the entity's bank details, and BANK1_KSA with the IBAN example's country and code.
    @Test func seed001sBanks() throws {
        let sama = try #require(SandboxInstitution.builtIn(id: "lea1-samaob-sau"))
        #expect(sama.bankDetails.name == "Lean SAMA Open Banking MockBank")
        #expect(sama.bankDetails.identifier == "LEA1_SAMAOB_SAU")
        #expect(sama.bankDetails.logo == "https://cdn.leantech.me/img/banks/white-lean.png")
        #expect(sama.bankDetails.mainColor == "#1beb75")
        #expect(sama.bankDetails.backgroundColor == "#ffffff")
        let ksa = try #require(SandboxInstitution.builtIn(id: "bank1-ksa"))
        #expect(ksa.bankDetails.identifier == "BANK1_KSA")
        #expect(ksa.countryCode == "SA" && ksa.bankCode == "80")
        #expect(ksa.availability == .allUp)
    }

    /// Yapily's sandbox ids are there, every id is lower case with hyphens, and ids, identifiers,
    /// (country, bank code) pairs and Bridge bank ids are unique.
    @Test func idsAndUniqueness() {
        let all = SandboxInstitution.builtIn
        #expect(all.map(\.id) == ["leanmb1", "lea1-samaob-sau", "bank1-ksa", "modelo-sandbox", "bankhooks-sandbox"])
        #expect(all.allSatisfy { $0.id.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" } })
        #expect(Set(all.map(\.bankDetails.identifier)).count == all.count)
        #expect(Set(all.map { "\($0.countryCode)/\($0.bankCode)" }).count == all.count)
        #expect(Set(all.map(\.bridgeBankID)).count == all.count && all.allSatisfy { $0.bridgeBankID > 0 })
        #expect(all.allSatisfy { $0.bankDetails.mainColor.hasPrefix("#") && $0.bankDetails.backgroundColor.hasPrefix("#") })
        #expect(all.allSatisfy { $0.isDataAvailable && $0.isPaymentsAvailable })
        #expect(SandboxInstitution.builtIn(id: "LEANMB1") == nil)
        #expect(SandboxInstitution.builtIn(id: "stc-sau") == nil, "seed 001 names STC_SAU as a bank Lean does not support")
    }
}
