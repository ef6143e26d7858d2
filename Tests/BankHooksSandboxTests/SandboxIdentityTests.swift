@testable import BankHooksSandbox
import Testing

/// The account holder of a sandbox login: the same for the same login (trimmed, any case), and
/// different logins mostly get different people.
@Suite struct SandboxIdentityTests {
    @Test func theHolderDependsOnlyOnTheLogin() {
        let alice = SandboxData.identity(login: "alice")
        #expect(SandboxData.identity(login: "  ALICE ") == alice)
        #expect(alice.fullName == "\(alice.firstName) \(alice.lastName)")
        #expect(alice.email.hasSuffix("@sandbox.bankhooks.dev") && !alice.email.contains(" "))
        #expect(alice.phone.hasPrefix("+97150") && alice.phone.count == 13)
        #expect(alice.birthDate.count == 10 && alice.countryCode == "AE")
        let people = Set((0..<50).map { SandboxData.identity(login: "user\($0)").id })
        #expect(people.count == 50)
        let names = Set((0..<50).map { SandboxData.identity(login: "user\($0)").fullName })
        #expect(names.count > 20)
    }
}
