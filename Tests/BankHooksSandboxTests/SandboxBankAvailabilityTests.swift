import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import BankHooksVerify
import Foundation
import Testing

/// Availability changes are atomic (review finding 2): the read, the merge, the events and the
/// write are one store transaction, so concurrent changes of different members both survive and
/// the events published follow what is stored.
@Suite struct SandboxBankAvailabilityTests {
    struct Refused: Error {}

    @Test func concurrentChangesOfDifferentMembersBothSurvive() async throws {
        let f = try await SandboxBankFixture().start()
        for round in 0..<20 {
            let data = round % 2 == 0, global: LeanAvailabilityState = round % 2 == 0 ? .disabled : .enabled
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await f.bank.updateInstitution(id: "leanmb1", applicationID: "app_a") { $0.bank.active.data = !data } }
                group.addTask { _ = try await f.bank.updateInstitution(id: "leanmb1", applicationID: "app_a") { $0.ibanVerification.global = global } }
                try await group.waitForAll()
            }
            let now = try await f.bank.institution(id: "leanmb1", applicationID: "app_a").availability
            #expect(now.bank.active.data == !data, "round \(round)")
            #expect(now.ibanVerification.global == global, "round \(round)")
            let types = try await f.scheduled().map(\.type).sorted()
            #expect(types == ["bank.availability.updated", "iban_account_verification.bank.availability.updated"], "round \(round)")
            try await f.clearScheduled()
        }
    }

    @Test func noChangeAndAThrowingChangeWriteNothing() async throws {
        let f = try await SandboxBankFixture().start()
        let wakes = f.wakeCount
        let same = try await f.bank.updateInstitution(id: "leanmb1", applicationID: "app_a") { _ in }
        #expect(same == SandboxInstitution.builtIn(id: "leanmb1"))
        await #expect(throws: Refused.self) {
            _ = try await f.bank.updateInstitution(id: "leanmb1", applicationID: "app_a") { availability in
                availability.bank.enabled.data = false
                throw Refused()
            }
        }
        #expect(try await f.store.institutionAvailability(applicationID: "app_a").isEmpty)
        #expect(try await f.scheduled().isEmpty && f.wakeCount == wakes)
        let changed = try await f.bank.updateInstitution(id: "leanmb1", applicationID: "app_a") { $0.bank.enabled.data = false }
        #expect(!changed.isDataAvailable && f.wakeCount == wakes + 1)
        #expect(try await f.scheduled().map(\.type) == ["bank.availability.updated"])
        await #expect(throws: SandboxError(.notFound, "there is no sandbox institution `nope`")) {
            _ = try await f.bank.updateInstitution(id: "nope", applicationID: "app_a") { _ in }
        }
        await #expect(throws: SandboxError.self) {
            _ = try await f.bank.updateInstitution(id: "leanmb1", applicationID: "app_prod") { $0.bank.enabled.data = false }
        }
    }
}
