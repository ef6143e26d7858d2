import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Testing

/// One-time tokens, consents, revoke, consent tokens and institutions, against a real SQLite store.
@Suite struct SandboxBankConsentTests {
    func refusal(_ body: () async throws -> Void) async -> SandboxError.Code? {
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

    // MARK: One-time tokens

    /// A one-time token is exchanged once for the consent (same id as the authorisation, AUTHORIZED)
    /// and a working consent token; a second exchange, another application's, a forged or an
    /// expired token is refused the same way.
    @Test func exchange() async throws {
        let f = try await SandboxBankFixture().start()
        let created = try await f.authorise(oneTimeToken: true)
        let done = try await f.completeOnPage(created, login: "alice")
        let parameters = SandboxBankFixture.parameters(done.redirectURL)
        #expect(parameters.map(\.0) == ["one-time-token", "application-user-id", "user-uuid", "institution"])
        let ott = parameters[0].1
        // Another application cannot redeem it (and does not burn it).
        #expect(await refusal { _ = try await f.bank.exchange(oneTimeToken: ott, applicationID: "app_b") } == .invalidOneTimeToken)
        let (consent, token) = try await f.bank.exchange(oneTimeToken: ott, applicationID: "app_a")
        #expect(consent.id == created.id && consent.status == .authorized && consent.institutionID == "leanmb1")
        #expect(try await f.bank.authorisedConsent(token: token, applicationID: "app_a").id == created.id)
        #expect(try await f.bank.consent(id: created.id, applicationID: "app_a").token == token)
        #expect(await refusal { _ = try await f.bank.exchange(oneTimeToken: ott, applicationID: "app_a") } == .invalidOneTimeToken)
        for forged in ["", "x", ott + "x", String(ott.dropLast()), token] {
            #expect(await refusal { _ = try await f.bank.exchange(oneTimeToken: forged, applicationID: "app_a") } == .invalidOneTimeToken)
        }
        // The refusal says nothing about the consent.
        do { _ = try await f.bank.exchange(oneTimeToken: ott, applicationID: "app_a"); Issue.record("expected a refusal") } catch let error as SandboxError {
            #expect(error.message == "the one-time token is unknown, expired or already used")
        }
    }

    /// A one-time token lives `oneTimeTokenLifetime` (10 minutes by default).
    @Test func oneTimeTokenExpires() async throws {
        let f = try await SandboxBankFixture().start()
        let first = try await f.completeOnPage(try await f.authorise(oneTimeToken: true), login: "alice")
        let second = try await f.completeOnPage(try await f.authorise(oneTimeToken: true), login: "bob")
        f.clock.advance(by: .seconds(599))
        _ = try await f.bank.exchange(oneTimeToken: try #require(SandboxBankFixture.value("one-time-token", in: first.redirectURL)), applicationID: "app_a")
        f.clock.advance(by: .seconds(1))
        let late = try #require(SandboxBankFixture.value("one-time-token", in: second.redirectURL))
        #expect(await refusal { _ = try await f.bank.exchange(oneTimeToken: late, applicationID: "app_a") } == .invalidOneTimeToken)
    }

    /// `multi` with one-time tokens: one per consent, each exchanged for its own consent.
    @Test func multiOneTimeTokens() async throws {
        let f = try await SandboxBankFixture().start()
        let done = try await f.completeOnPage(try await f.authorise(oneTimeToken: true), login: "multi")
        let tokens = SandboxBankFixture.parameters(done.redirectURL).filter { $0.0 == "one-time-token" }.map(\.1)
        #expect(tokens.count == 2)
        var ids: [String] = []
        for ott in tokens { ids.append(try await f.bank.exchange(oneTimeToken: ott, applicationID: "app_a").consent.id) }
        #expect(ids == done.consents.map(\.id))
    }

    // MARK: Consents

    /// Revoke: REVOKED with Lean `entity.updated` scheduled; a second revoke changes and schedules
    /// nothing; the token stops working.
    @Test func revoke() async throws {
        let f = try await SandboxBankFixture().start()
        let done = try await f.completeOnPage(try await f.authorise(), login: "alice")
        let token = try #require(SandboxBankFixture.value("consent", in: done.redirectURL))
        try await f.clearScheduled()
        f.clock.advance(by: .seconds(5))
        let revoked = try await f.bank.revoke(consentID: done.consents[0].id, applicationID: "app_a")
        #expect(revoked.status == .revoked && revoked.revokedAt == f.clock.now())
        let events = try await f.scheduled()
        #expect(events.map(\.type) == ["entity.updated"])
        #expect(String(decoding: events[0].data, as: UTF8.self).contains(done.consents[0].leanEntityID))
        let again = try await f.bank.revoke(consentID: done.consents[0].id, applicationID: "app_a")
        #expect(again == revoked)
        #expect(try await f.scheduled().count == 1)
        #expect(await refusal { _ = try await f.bank.authorisedConsent(token: token, applicationID: "app_a") } == .consentInvalid)
        #expect(await refusal { _ = try await f.bank.revoke(consentID: done.consents[0].id, applicationID: "app_b") } == .notFound)
        #expect(await refusal { _ = try await f.bank.revoke(consentID: "nope", applicationID: "app_a") } == .notFound)
        // GET still shows it, with its token.
        #expect(try await f.bank.consent(id: revoked.id, applicationID: "app_a").consent.status == .revoked)
    }

    /// A consent token works only for its application, and only until its consent expires.
    @Test func consentTokenChecks() async throws {
        let f = try await SandboxBankFixture().start()
        let done = try await f.completeOnPage(try await f.authorise(), login: "alice")
        let token = try #require(SandboxBankFixture.value("consent", in: done.redirectURL))
        #expect(await refusal { _ = try await f.bank.authorisedConsent(token: token, applicationID: "app_b") } == .consentInvalid)
        #expect(await refusal { _ = try await f.bank.authorisedConsent(token: "eyJ.eyJ.sig", applicationID: "app_a") } == .consentInvalid)
        // Another installation's key.
        let foreign = try await ConsentTokens(sealer: SecretSealer(box: nil)).consentToken(for: done.consents[0])
        #expect(await refusal { _ = try await f.bank.authorisedConsent(token: foreign, applicationID: "app_a") } == .consentInvalid)
        // Data through the token.
        let accounts = try await f.bank.accounts(token: token, applicationID: "app_a")
        #expect(accounts == SandboxData.accounts(login: "alice") && !accounts.isEmpty)
        let transactions = try await f.bank.transactions(token: token, accountID: accounts[0].id, applicationID: "app_a")
        #expect(transactions == SandboxData.transactions(login: "alice", accountID: accounts[0].id))
        #expect(await refusal { _ = try await f.bank.transactions(token: token, accountID: "nope", applicationID: "app_a") } == .notFound)
        // Ninety days on, the consent reads EXPIRED and its token is refused.
        f.clock.advance(by: .seconds(90 * 86400))
        #expect(try await f.bank.consent(id: done.consents[0].id, applicationID: "app_a").consent.status == .expired)
        #expect(await refusal { _ = try await f.bank.authorisedConsent(token: token, applicationID: "app_a") } == .consentInvalid)
    }

    /// Tokens outlive the process: a bank over the same file and master key reads the consent
    /// from an earlier token and exchanges an earlier one-time token; another master key does neither.
    @Test func tokensSurviveARestart() async throws {
        let f = try await SandboxBankFixture().start()
        let linked = try await f.completeOnPage(try await f.authorise(), login: "alice")
        let withOTT = try await f.completeOnPage(try await f.authorise(oneTimeToken: true), login: "bob")
        let token = try #require(SandboxBankFixture.value("consent", in: linked.redirectURL))
        let ott = try #require(SandboxBankFixture.value("one-time-token", in: withOTT.redirectURL))
        func reopened(masterKey byte: UInt8) throws -> SandboxBank {
            let sealer = SecretSealer(box: SecretBox(keyBytes: Array(repeating: byte, count: 32)))
            let store = try StorageConfiguration.sqlite(path: f.directory.file("sandbox.sqlite")).open(sealer: sealer).store
            return SandboxBank(store: store, tokens: ConsentTokens(sealer: sealer), clock: f.clock, timings: f.timings, wake: {})
        }
        let stranger = try reopened(masterKey: 9)
        #expect(await refusal { _ = try await stranger.authorisedConsent(token: token, applicationID: "app_a") } == .consentInvalid)
        #expect(await refusal { _ = try await stranger.exchange(oneTimeToken: ott, applicationID: "app_a") } == .invalidOneTimeToken)
        let same = try reopened(masterKey: 3)
        #expect(try await same.authorisedConsent(token: token, applicationID: "app_a").id == linked.consents[0].id)
        #expect(try await same.exchange(oneTimeToken: ott, applicationID: "app_a").consent.id == withOTT.consents[0].id)
        #expect(try await same.consent(id: linked.consents[0].id, applicationID: "app_a").token == token)
    }

    /// The list filters and pages newest first.
    @Test func listing() async throws {
        let f = try await SandboxBankFixture().start()
        var ids: [String] = []
        for (index, user) in ["u1", "u2", "u1"].enumerated() {
            f.clock.advance(by: .seconds(1))
            let institution = index == 2 ? "modelo-sandbox" : "leanmb1"
            let done = try await f.completeOnPage(try await f.authorise(institution: institution, applicationUserID: user), login: "alice")
            ids.append(done.consents[0].id)
        }
        func list(user: String? = nil, institution: String? = nil, status: Consent.Status? = nil, before: String? = nil, limit: Int = 10)
            async throws -> Page<Consent>
        {
            try await f.bank.consents(
                applicationID: "app_a", applicationUserID: user, userUUID: nil, institutionID: institution, status: status, before: before,
                limit: limit)
        }
        #expect(try await list().items.map(\.id) == ids.reversed())
        #expect(try await list(user: "u1").items.map(\.id) == [ids[2], ids[0]])
        #expect(try await list(institution: "leanmb1").items.map(\.id) == [ids[1], ids[0]])
        #expect(try await list(status: .revoked).items.isEmpty)
        let first = try await list(limit: 2)
        #expect(first.items.map(\.id) == [ids[2], ids[1]] && first.hasMore)
        let next = try await list(before: first.items.last?.id, limit: 2)
        #expect(next.items.map(\.id) == [ids[0]] && !next.hasMore)
        #expect(try await f.bank.consents(
            applicationID: "app_b", applicationUserID: nil, userUUID: nil, institutionID: nil, status: nil, before: nil, limit: 10).items.isEmpty)
    }

    // MARK: Institutions

    /// The list is the catalog; a change is stored per application and schedules Lean's
    /// availability events (only the one whose part changed); no change schedules nothing.
    @Test func institutions() async throws {
        let f = try await SandboxBankFixture().start()
        #expect(try await f.bank.institutions(applicationID: "app_a") == SandboxInstitution.builtIn)
        var availability = InstitutionAvailability.allUp
        availability.bank.active.payments = false
        let changed = try await f.bank.updateInstitution(id: "bank1-ksa", applicationID: "app_a", availability: availability)
        #expect(changed.availability == availability)
        #expect(try await f.bank.institution(id: "bank1-ksa", applicationID: "app_a").availability == availability)
        #expect(try await f.bank.institution(id: "bank1-ksa", applicationID: "app_b").availability == .allUp)
        var events = try await f.scheduled()
        #expect(events.map(\.type) == ["bank.availability.updated"])
        #expect(String(decoding: events[0].data, as: UTF8.self)
            == #"{"identifier":"BANK1_KSA","availability":{"active":{"payments":false,"data":true},"enabled":{"payments":true,"data":true}}}"#)
        try await f.clearScheduled()
        let wakes = f.wakeCount
        _ = try await f.bank.updateInstitution(id: "bank1-ksa", applicationID: "app_a", availability: availability)
        #expect(try await f.scheduled().isEmpty && f.wakeCount == wakes)
        availability.ibanVerification.global = .disabled
        _ = try await f.bank.updateInstitution(id: "bank1-ksa", applicationID: "app_a", availability: availability)
        events = try await f.scheduled()
        #expect(events.map(\.type) == ["iban_account_verification.bank.availability.updated"])
        #expect(String(decoding: events[0].data, as: UTF8.self).hasPrefix(#"{"country_code":"SA","bank_code":"80","availability":{"global":"disabled""#))
        #expect(f.wakeCount > wakes)
        #expect(try await f.bank.institutions(applicationID: "app_a").first { $0.id == "bank1-ksa" }?.availability == availability)
        // Unknown institution, production application.
        #expect(await refusal { _ = try await f.bank.institution(id: "nope", applicationID: "app_a") } == .notFound)
        #expect(await refusal { _ = try await f.bank.updateInstitution(id: "nope", applicationID: "app_a", availability: .allUp) } == .notFound)
        #expect(await refusal { _ = try await f.bank.institutions(applicationID: "app_prod") } == .sandboxOnly)
        #expect(await refusal { _ = try await f.bank.updateInstitution(id: "leanmb1", applicationID: "app_prod", availability: .allUp) } == .sandboxOnly)
    }
}
