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

/// Wrong passwords are bounded per authorisation (review finding 3): five re-show the form, each
/// with Lean's 401 body; the sixth fails the authorisation and redirects; nothing more is published.
@Suite struct SandboxBankWrongPasswordTests {
    func code(_ body: () async throws -> Void) async -> SandboxError.Code? {
        do {
            try await body()
            return nil
        } catch let error as SandboxError {
            return error.code
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test func sixthWrongPasswordFailsTheAuthorisation() async throws {
        let f = try await SandboxBankFixture().start()
        let authorisation = try await f.authorise(forward: ["k=v"])
        for attempt in 1...MagicLogin.maxWrongPasswords {
            #expect(await code { _ = try await f.completeOnPage(authorisation, login: "user", password: "nope") } == .wrongPassword)
            #expect(try await f.scheduled().count == attempt)
        }
        #expect(try await f.store.authorisation(id: authorisation.id)?.status == .awaitingAuthorization)
        let locked = try await f.completeOnPage(authorisation, login: "user", password: "nope")
        #expect(locked.authorisation.status == .failed && locked.consents.isEmpty)
        #expect(locked.redirectURL == "https://app.example/done?application-user-id=a%40f.com&user-uuid=\(authorisation.userUUID)"
            + "&institution=leanmb1&error-source=user&error=access_denied&error-description=bG9naW5fcmVxdWlyZWQ%3D&k=v")
        let stored = try #require(try await f.store.authorisation(id: authorisation.id))
        #expect(stored.status == .failed && stored.redirectURL == locked.redirectURL)
        #expect(try await f.scheduled().count == MagicLogin.maxWrongPasswords)
        // Afterwards: completed, on every path, and nothing more is scheduled.
        #expect(await code { _ = try await f.completeOnPage(authorisation, login: "user", password: "nope") } == .authorisationCompleted)
        #expect(await code { _ = try await f.completeOnPage(authorisation, login: "user") } == .authorisationCompleted)
        #expect(try await f.scheduled().count == MagicLogin.maxWrongPasswords)
    }

    /// The headless path counts too (`wrong_password`), and a right password before the limit still links.
    @Test func headlessCountsAndARightPasswordStillLinks() async throws {
        let f = try await SandboxBankFixture().start()
        let authorisation = try await f.authorise()
        for _ in 1...MagicLogin.maxWrongPasswords {
            #expect(await code {
                _ = try await f.bank.complete(
                    authorisationID: authorisation.id, applicationID: "app_a", state: nil, login: "wrong_password", password: nil,
                    decision: .approve)
            } == .wrongPassword)
        }
        let linked = try await f.completeOnPage(authorisation, login: "user")
        #expect(linked.authorisation.status == .authorized)
        let second = try await f.authorise()
        for _ in 0...MagicLogin.maxWrongPasswords {
            _ = try? await f.bank.complete(
                authorisationID: second.id, applicationID: "app_a", state: nil, login: "wrong_password", password: nil, decision: .approve)
        }
        #expect(try await f.store.authorisation(id: second.id)?.status == .failed)
    }

    /// Wrong passwords racing a success: each answered `wrongPassword` scheduled exactly one 401
    /// body, the others (answered `authorisationCompleted`) nothing, and never more than the limit.
    @Test func wrongPasswordsRacingASuccess() async throws {
        let f = try await SandboxBankFixture().start()
        for _ in 0..<10 {
            try await f.clearScheduled()
            let authorisation = try await f.authorise()
            let outcomes = try await withThrowingTaskGroup(of: SandboxError.Code?.self) { group in
                group.addTask { await code { _ = try await f.completeOnPage(authorisation, login: "user") } }
                for _ in 0..<(MagicLogin.maxWrongPasswords + 3) {
                    group.addTask { await code { _ = try await f.completeOnPage(authorisation, login: "user", password: "nope") } }
                }
                var all: [SandboxError.Code?] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            let stored = try #require(try await f.store.authorisation(id: authorisation.id))
            let results = try await f.scheduled().filter { $0.type == "bank_link.result" }.count
            let refused = outcomes.filter { $0 == .wrongPassword }.count
            #expect(refused <= MagicLogin.maxWrongPasswords)
            #expect(results == refused + (stored.status == .authorized ? 1 : 0))
        }
    }
}
