import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Foundation
import Testing

/// The review's findings on the bank (issue 11 review, findings 1, 2, 3, 6, 7, 9), each as it was
/// reproduced: these failed before their fixes.
@Suite struct SandboxBankReviewTests {
    func error(_ body: () async throws -> Void) async -> SandboxError? {
        do {
            try await body()
            return nil
        } catch let error as SandboxError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    // MARK: Finding 1: the application changes while an authorisation awaits

    /// An application switched to production after the request: neither the page nor the headless
    /// completion links it (`sandboxOnly`), nothing is scheduled, and the authorisation stays awaiting.
    @Test func completionOfAnApplicationNowProduction() async throws {
        let f = try await SandboxBankFixture().start()
        let authorisation = try await f.authorise()
        var application = f.application
        application.environment = .production
        _ = try await f.store.updateApplication(application)
        #expect(await error { _ = try await f.completeOnPage(authorisation, login: "user") }?.code == .sandboxOnly)
        #expect(await error {
            _ = try await f.bank.complete(
                authorisationID: authorisation.id, applicationID: "app_a", state: nil, login: "user", password: nil, decision: .approve)
        }?.code == .sandboxOnly)
        #expect(await error { _ = try await f.completeOnPage(authorisation, login: "x", decision: .deny) }?.code == .sandboxOnly)
        #expect(try await f.scheduled().isEmpty)
        #expect(try await f.store.authorisation(id: authorisation.id)?.status == .awaitingAuthorization)
    }

    /// The callback removed from the application's redirect callbacks after the request: no
    /// redirect to it on either path (a clear `invalidField` naming it), nothing scheduled.
    @Test func completionAfterTheCallbackIsUnregistered() async throws {
        let f = try await SandboxBankFixture().start()
        let authorisation = try await f.authorise(callback: "https://app.example/done")
        var application = f.application
        application.redirectCallbacks = ["https://other.example/"]
        _ = try await f.store.updateApplication(application)
        let page = await error { _ = try await f.completeOnPage(authorisation, login: "user") }
        #expect(page?.code == .invalidField && page?.pointer == nil)
        #expect(page?.message.contains("`https://app.example/done` is no longer a registered redirect callback") == true)
        let headless = await error {
            _ = try await f.bank.complete(
                authorisationID: authorisation.id, applicationID: "app_a", state: nil, login: "x", password: nil, decision: .deny)
        }
        #expect(headless?.code == .invalidField)
        #expect(try await f.scheduled().isEmpty)
        // Registered again (a prefix entry covers it): the link completes.
        application.redirectCallbacks = ["https://app.example/"]
        _ = try await f.store.updateApplication(application)
        let completion = try await f.completeOnPage(authorisation, login: "user")
        #expect(completion.redirectURL.hasPrefix("https://app.example/done?consent="))
    }

    /// A production application's consents are neither exchanged, read, listed, revoked nor used.
    @Test func consentsOfAnApplicationNowProduction() async throws {
        let f = try await SandboxBankFixture().start()
        let linked = try await f.completeOnPage(try await f.authorise(oneTimeToken: true), login: "multi")
        let ott = try #require(SandboxBankFixture.value("one-time-token", in: linked.redirectURL))
        let (consent, token) = try await f.bank.consent(id: linked.consents[1].id, applicationID: "app_a")
        var application = f.application
        application.environment = .production
        _ = try await f.store.updateApplication(application)
        #expect(await error { _ = try await f.bank.exchange(oneTimeToken: ott, applicationID: "app_a") }?.code == .sandboxOnly)
        #expect(await error { _ = try await f.bank.consent(id: consent.id, applicationID: "app_a") }?.code == .sandboxOnly)
        #expect(await error {
            _ = try await f.bank.consents(
                applicationID: "app_a", applicationUserID: nil, userUUID: nil, institutionID: nil, status: nil, before: nil, limit: 10)
        }?.code == .sandboxOnly)
        #expect(await error { _ = try await f.bank.revoke(consentID: consent.id, applicationID: "app_a") }?.code == .sandboxOnly)
        #expect(await error { _ = try await f.bank.authorisedConsent(token: token, applicationID: "app_a") }?.code == .sandboxOnly)
        #expect(await error { _ = try await f.bank.accounts(token: token, applicationID: "app_a") }?.code == .sandboxOnly)
    }
}

/// One-time tokens of a consent no longer authorised (review finding 7): the same refusal as any.
@Suite struct SandboxBankDeadConsentTests {
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

    @Test func revokedConsentsTokenIsRefused() async throws {
        let f = try await SandboxBankFixture().start()
        let linked = try await f.completeOnPage(try await f.authorise(oneTimeToken: true), login: "user")
        let ott = try #require(SandboxBankFixture.value("one-time-token", in: linked.redirectURL))
        _ = try await f.bank.revoke(consentID: linked.consents[0].id, applicationID: "app_a")
        #expect(await code { _ = try await f.bank.exchange(oneTimeToken: ott, applicationID: "app_a") } == .invalidOneTimeToken)
        // The store burnt it with the revoke.
        #expect(try await f.store.redeemOneTimeToken(hash: ConsentTokens.hash(oneTimeToken: ott), applicationID: "app_a", now: f.clock.now()) == nil)
    }

    @Test func expiredConsentsTokenIsRefused() async throws {
        var timings = SandboxTimings()
        timings.consentLifetime = .seconds(60)
        timings.oneTimeTokenLifetime = .seconds(600)
        let f = try await SandboxBankFixture(timings: timings).start()
        let linked = try await f.completeOnPage(try await f.authorise(oneTimeToken: true), login: "user")
        let ott = try #require(SandboxBankFixture.value("one-time-token", in: linked.redirectURL))
        f.clock.advance(by: .seconds(61))
        #expect(await code { _ = try await f.bank.exchange(oneTimeToken: ott, applicationID: "app_a") } == .invalidOneTimeToken)
    }
}
