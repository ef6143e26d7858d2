import BankHooksCore
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Testing

/// Re-authorisation journeys in the store (`createReauthorisation`, `reauthorisations`, and
/// `completeAuthorisation`'s guard), on both backends: one journey per consent at a time, none
/// for a revoked or expired consent, and an approved journey never completes on a consent that
/// was revoked first.
@Suite struct ReauthorisationStoreTests {
    let contract = SandboxStoreContractTests()
    var t0: Timestamp { contract.t0 }

    func journey(_ id: String, for consent: Consent, at time: Timestamp) -> Authorisation {
        Authorisation(
            id: id, applicationID: consent.applicationID, institutionID: consent.institutionID, applicationUserID: consent.applicationUserID,
            userUUID: consent.userUUID, callback: "https://app.example/done?x=1", oneTimeToken: false, permissions: consent.permissions,
            forwardParameters: [], state: String(repeating: "ab", count: 16), createdAt: time, expiresAt: time.adding(.seconds(1800)),
            reauthorisesConsentID: consent.id)
    }

    /// A store with a linked consent `c1` of `app_a` (the directory must outlive the store's use).
    func linked(_ backend: Backend) async throws -> (store: any Store, dir: TemporaryDirectory, consent: Consent) {
        let (store, dir) = try await contract.fixture(backend)
        return (store, dir, try await contract.linked(store, "c1"))
    }

    /// The journey as the bank's completion writes it: `status` at `time`.
    func completed(_ journey: Authorisation, _ status: Authorisation.Status, at time: Timestamp) -> Authorisation {
        var done = journey
        done.status = status
        done.completedAt = time
        done.redirectURL = "https://app.example/done?x=1&consent=c1"
        return done
    }

    @Test(arguments: Backend.all)
    func aConsentHasOneJourneyAtATimeAndItsSuccessIsRemembered(_ backend: Backend) async throws {
        let (store, dir, consent) = try await linked(backend)
        _ = dir
        let at = t0.adding(.seconds(60))
        let first = try #require(try await store.createReauthorisation(journey("j1", for: consent, at: at)))
        #expect(first.id == "j1" && first.reauthorisesConsentID == "c1")
        #expect(try await store.authorisation(id: "j1") == first, "read back with the consent it re-authorises")
        // Asked again while it awaits: the same journey; another application sees nothing.
        #expect(try await store.createReauthorisation(journey("j2", for: consent, at: at.adding(.seconds(1))))?.id == "j1")
        #expect(try await store.authorisation(id: "j2") == nil)
        var other = journey("j3", for: consent, at: at)
        other.applicationID = "app_b"
        #expect(try await store.createReauthorisation(other) == nil)
        let pending = try await store.reauthorisations(consentIDs: ["c1", "c-none"], applicationID: "app_a", now: at)
        #expect(pending["c1"]?.pending?.id == "j1" && pending["c1"]?.lastReauthorisedAt == nil && pending["c-none"] == nil)
        #expect(try await store.reauthorisations(consentIDs: ["c1"], applicationID: "app_b", now: at).isEmpty)
        // Past its expiry it no longer awaits: a new one can start.
        #expect(try await store.reauthorisations(consentIDs: ["c1"], applicationID: "app_a", now: at.adding(.seconds(1800)))["c1"] == nil)

        let done = completed(first, .authorized, at: at.adding(.seconds(5)))
        #expect(try await store.completeAuthorisation(done, consents: [], oneTimeTokens: [], events: []))
        let after = try await store.reauthorisations(consentIDs: ["c1"], applicationID: "app_a", now: at.adding(.seconds(6)))
        #expect(after["c1"]?.pending == nil && after["c1"]?.lastReauthorisedAt == done.completedAt)
        #expect(try await store.consent(id: "c1", applicationID: "app_a") == consent, "the consent itself is unchanged")
        #expect(try await store.createReauthorisation(journey("j4", for: consent, at: at.adding(.seconds(7))))?.id == "j4")
    }

    @Test(arguments: Backend.all)
    func aRevokedOrExpiredConsentGetsNoJourneyAndARevokeBeforeTheApprovalWins(_ backend: Backend) async throws {
        let (store, dir, consent) = try await linked(backend)
        _ = dir
        #expect(try await store.createReauthorisation(journey("late", for: consent, at: consent.expiresAt)) == nil, "expired then")
        let at = t0.adding(.seconds(60))
        let pending = try #require(try await store.createReauthorisation(journey("j1", for: consent, at: at)))
        _ = try await store.revokeConsent(id: "c1", applicationID: "app_a", at: at.adding(.seconds(1)), events: [])
        let approved = completed(pending, .authorized, at: at.adding(.seconds(2)))
        #expect(try await store.completeAuthorisation(approved, consents: [], oneTimeTokens: [], events: []) == false)
        #expect(try await store.authorisation(id: "j1")?.status == .awaitingAuthorization, "nothing changed")
        // A failure is still recorded (it says nothing of the consent).
        let failed = completed(pending, .failed, at: at.adding(.seconds(2)))
        #expect(try await store.completeAuthorisation(failed, consents: [], oneTimeTokens: [], events: []))
        #expect(try await store.createReauthorisation(journey("j2", for: consent, at: at.adding(.seconds(3)))) == nil, "revoked")
        #expect(try await store.consent(id: "c1", applicationID: "app_a")?.status == .revoked)
    }

    /// Racing calls for one consent make one journey between them.
    @Test(arguments: Backend.all)
    func concurrentCallsMakeOneJourney(_ backend: Backend) async throws {
        let (store, dir, consent) = try await linked(backend)
        _ = dir
        let at = t0.adding(.seconds(60))
        let ids = try await withThrowingTaskGroup(of: String?.self) { group in
            for n in 0..<8 { group.addTask { try await store.createReauthorisation(journey("j\(n)", for: consent, at: at))?.id } }
            return try await group.reduce(into: Set<String?>()) { $0.insert($1) }
        }
        #expect(ids.count == 1 && ids.first.flatMap { $0 } != nil)
    }
}
