@testable import BankHooksSandbox
import Foundation
import Testing

/// The sandbox users' data: the same login always gives the same accounts and transactions,
/// different logins differ, and the numbers add up.
@Suite struct SandboxDataTests {
    @Test func theSameLoginGivesTheSameDataTrimmedAndCaseInsensitive() {
        let accounts = SandboxData.accounts(login: "alice")
        #expect(!accounts.isEmpty)
        #expect(SandboxData.accounts(login: "  ALICE ") == accounts)
        for account in accounts {
            #expect(SandboxData.transactions(login: "Alice", accountID: account.id) == SandboxData.transactions(login: "alice", accountID: account.id))
        }
        #expect(SandboxData.accounts(login: "bob") != accounts)
        #expect(Set(SandboxData.accounts(login: "bob").map(\.id)).isDisjoint(with: accounts.map(\.id)))
    }

    @Test func accountsAreWellFormedAndTheirBalanceIsTheOpeningPlusEveryTransaction() throws {
        let uuid = try Regex(#"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"#)
        let decimal = try Regex(#"^-?[0-9]+\.[0-9]{2}$"#)
        for login in ["user", "alice", "multi", "slow", "bob", "carol", "dave"] {
            let accounts = SandboxData.accounts(login: login)
            #expect((1...3).contains(accounts.count))
            #expect(accounts.first?.type == "CURRENT")
            #expect(Set(accounts.map(\.id)).count == accounts.count)
            for account in accounts {
                #expect(account.id.wholeMatch(of: uuid) != nil, "\(account.id)")
                #expect(account.balance.wholeMatch(of: decimal) != nil, "\(account.balance)")
                #expect(account.iban.hasPrefix("AE") && account.iban.count == 23, "\(account.iban)")
                #expect(IBAN.isValid(account.iban), "\(account.iban) has good check digits")
                let transactions = SandboxData.transactions(login: login, accountID: account.id)
                if account.type != "SAVINGS" { #expect(transactions.count >= 20) }
                #expect(transactions.allSatisfy { $0.accountID == account.id && $0.currency == account.currency })
                #expect(transactions.allSatisfy { $0.amount.wholeMatch(of: decimal) != nil && $0.id.wholeMatch(of: uuid) != nil })
                let days = transactions.map(\.bookedAt)
                #expect(days == days.sorted(by: >), "newest first")
                #expect(days.allSatisfy { $0 >= "2025-10-03" && $0 <= SandboxData.statementEnd })
            }
        }
    }

    @Test func anAccountTheLoginDoesNotHaveHasNoTransactions() {
        let bobs = SandboxData.accounts(login: "bob")
        #expect(SandboxData.transactions(login: "alice", accountID: bobs[0].id).isEmpty)
        #expect(SandboxData.transactions(login: "alice", accountID: "nope").isEmpty)
    }

    @Test func okrasCountsAreTheLastThirtyDaysAndTheRest() {
        let accounts = SandboxData.accounts(login: "alice")
        let all = accounts.flatMap { SandboxData.transactions(login: "alice", accountID: $0.id) }
        let counts = SandboxData.transactionCounts(login: "alice")
        #expect(counts.total == all.count)
        #expect(counts.initial == all.filter { $0.bookedAt >= "2025-12-02" }.count)
        #expect(counts.initial > 0 && counts.initial < counts.total)
    }

    @Test func theHelpersComputeWhatTheyClaim() {
        #expect(IBAN.isValid("GB82 WEST 1234 5698 7654 32"))
        #expect(IBAN.isValid("AE070331234567890123456"))
        #expect(!IBAN.isValid("AE070331234567890123457"))
        #expect(!IBAN.isValid("AE07"))
        #expect(!IBAN.isValid("ÄE070331234567890123456"))
        #expect(Money.text(cents: -123_450) == "-1234.50")
        #expect(Money.text(cents: 5) == "0.05")
        #expect(CivilDate.iso(day: CivilDate.days(year: 2024, month: 2, day: 29)) == "2024-02-29")
        #expect(CivilDate.days(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilDate.monthStarts(from: CivilDate.days(year: 2025, month: 10, day: 3), through: SandboxData.endDay).map(CivilDate.iso(day:))
            == ["2025-10-01", "2025-11-01", "2025-12-01"])
        #expect(DerivedID.uuid("a", "b") == DerivedID.uuid("a", "b"))
        #expect(DerivedID.uuid("a", "b") != DerivedID.uuid("ab"))
        #expect(DerivedID.randomUUID() != DerivedID.randomUUID())
        #expect(DerivedID.positiveInt("x") > 0)
    }

    @Test func theCacheGivesWhatAFreshGenerationGivesAndStaysBounded() {
        for login in ["user", "alice", " Multi "] {
            let fresh = SandboxData.uncachedAccounts(login: login)
            #expect(SandboxData.accounts(login: login) == fresh.map(\.account))
            for (account, transactions) in fresh {
                #expect(SandboxData.transactions(login: login, accountID: account.id) == transactions)
            }
            let counts = SandboxData.transactionCounts(login: login)
            #expect(counts.total == fresh.map(\.transactions.count).reduce(0, +))
        }
        for index in 0..<(SandboxData.cacheCapacity * 2) { _ = SandboxData.accounts(login: "cache-\(index)") }
        #expect(SandboxData.cachedCount <= SandboxData.cacheCapacity)
        // An evicted login comes back the same.
        #expect(SandboxData.accounts(login: "cache-0") == SandboxData.uncachedAccounts(login: "cache-0").map(\.account))
    }

    @Test func transactionIdsAreDistinctAcrossAccountsAndLogins() {
        var seen = Set<String>()
        var count = 0
        for login in ["user", "alice", "bob", "multi"] {
            for account in SandboxData.accounts(login: login) {
                for transaction in SandboxData.transactions(login: login, accountID: account.id) {
                    seen.insert(transaction.id)
                    count += 1
                }
            }
        }
        #expect(count > 100)
        #expect(seen.count == count)
    }

    @Test func uuidsFromBitsAreVersionFourLowerCaseHex() {
        #expect(DerivedID.uuid(high: 0, low: 0) == "00000000-0000-4000-8000-000000000000")
        #expect(DerivedID.uuid(high: .max, low: .max) == "ffffffff-ffff-4fff-bfff-ffffffffffff")
        #expect(DerivedID.uuid(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210) == "01234567-89ab-4def-bedc-ba9876543210")
        // The digest form keeps its old output (account ids and the Lean customer id do not change).
        let bytes: [UInt8] = Array(0..<16)
        #expect(DerivedID.uuid(bytes: bytes) == "00010203-0405-4607-8809-0a0b0c0d0e0f")
        // SHA-256 of "account␟user␟0", shaped: the account id `user` has always had.
        #expect(SandboxData.accounts(login: "user").first?.id == "e20dce69-bb5c-448a-9749-113c2e58cbf4")
    }
}
