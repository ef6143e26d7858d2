import BankHooksCore
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Testing

/// The sandbox bank's storage contract (`SandboxStore`), against a real SQLite file per test.
/// Each test runs once per backend in `Backend.all`.
@Suite struct SandboxStoreContractTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    /// A store with applications `app_a` and `app_b` (its directory must outlive the store's use).
    func fixture(_ backend: Backend) async throws -> (any Store, TemporaryDirectory) {
        let dir = TemporaryDirectory()
        let store = try await backend.make(dir)
        for id in ["app_a", "app_b"] {
            try await store.createApplication(Application(id: id, name: id, environment: .sandbox, createdAt: t0))
        }
        return (store, dir)
    }

    func authorisation(_ id: String, app: String = "app_a", userID: String? = "user-1", expiresIn: Duration = .seconds(1800)) -> Authorisation {
        Authorisation(
            id: id, applicationID: app, institutionID: "lean-bank", applicationUserID: userID, userUUID: "uuid-\(id)",
            callback: "https://app.example/done?x=1", oneTimeToken: true, permissions: ["identity", "accounts"],
            forwardParameters: ["a=b", "c=d e"], state: String(repeating: "ab", count: 16), createdAt: t0, expiresAt: t0.adding(expiresIn))
    }

    func consent(_ id: String, of authorisation: Authorisation, at time: Timestamp? = nil, institution: String? = nil) -> Consent {
        let time = time ?? t0.adding(.seconds(10))
        return Consent(
            id: id, applicationID: authorisation.applicationID, authorisationID: authorisation.id,
            institutionID: institution ?? authorisation.institutionID, applicationUserID: authorisation.applicationUserID,
            userUUID: authorisation.userUUID, login: "alice", permissions: authorisation.permissions, createdAt: time, authorizedAt: time,
            expiresAt: time.adding(.seconds(90 * 86400)), leanEntityID: "entity-\(id)", okraRecordID: "record-\(id)", bridgeItemID: 42)
    }

    func event(_ id: String, app: String = "app_a", dueIn: Duration = .zero, webhook: String? = nil) -> ScheduledEvent {
        ScheduledEvent(id: id, applicationID: app, dueAt: t0.adding(dueIn), type: "entity.created", data: Array(#"{"id":"\#(id)"}"#.utf8),
                       webhookID: webhook)
    }

    /// The authorisation as completed (authorised) at t0 + 10 s.
    func completed(_ authorisation: Authorisation, status: Authorisation.Status = .authorized) -> Authorisation {
        var done = authorisation
        done.status = status
        done.completedAt = t0.adding(.seconds(10))
        done.redirectURL = "https://app.example/done?x=1&consent=\(authorisation.id)"
        return done
    }

    /// Creates and completes an authorisation with one consent (the authorisation's id) and its one-time token `ott-<id>`.
    func linked(_ store: any Store, _ id: String, app: String = "app_a", userID: String? = "user-1", at time: Timestamp? = nil,
                institution: String? = nil) async throws -> Consent {
        let request = authorisation(id, app: app, userID: userID)
        try await store.createAuthorisation(request)
        let granted = consent(id, of: request, at: time, institution: institution)
        let token = OneTimeTokenRecord(tokenHash: "ott-\(id)", applicationID: app, consentID: id, expiresAt: t0.adding(.seconds(600)))
        #expect(try await store.completeAuthorisation(completed(request), consents: [granted], oneTimeTokens: [token], events: []))
        return granted
    }

    // MARK: Authorisations

    @Test(arguments: Backend.all)
    func anAuthorisationIsReadBackAsCreatedAndItsIdIsUnique(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        let request = authorisation("a1", userID: nil)
        try await store.createAuthorisation(request)
        #expect(try await store.authorisation(id: "a1") == request)
        #expect(try await store.authorisation(id: "a2") == nil)
        await #expect(throws: StoreError(.conflict, "authorisation a1 exists")) { try await store.createAuthorisation(request) }
        await #expect(throws: StoreError.self) { try await store.createAuthorisation(authorisation("a3", app: "app_gone")) }
        #expect(try await store.authorisation(id: "a3") == nil)
    }

    @Test(arguments: Backend.all)
    func completionHappensOnceAndASecondCompletionChangesNothing(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        let request = authorisation("a1")
        try await store.createAuthorisation(request)
        let first = [consent("a1", of: request), consent("c2", of: request)]
        let tokens = first.map { OneTimeTokenRecord(tokenHash: "h-\($0.id)", applicationID: "app_a", consentID: $0.id, expiresAt: t0.adding(.seconds(600))) }
        #expect(try await store.completeAuthorisation(completed(request), consents: first, oneTimeTokens: tokens, events: [event("sev_1")]))
        #expect(try await store.authorisation(id: "a1") == completed(request))
        #expect(try await store.consent(id: "a1", applicationID: "app_a") == first[0])
        #expect(try await store.consent(id: "c2", applicationID: "app_a") == first[1])

        // Completed again (a second tab, or a concurrent completion): false, and nothing of it is kept.
        var again = completed(request, status: .rejected)
        again.redirectURL = "https://app.example/done?x=1&error=access_denied"
        let late = consent("c3", of: request)
        let lateToken = OneTimeTokenRecord(tokenHash: "h-c3", applicationID: "app_a", consentID: "c3", expiresAt: t0.adding(.seconds(600)))
        #expect(try await store.completeAuthorisation(again, consents: [late], oneTimeTokens: [lateToken], events: [event("sev_2")]) == false)
        #expect(try await store.authorisation(id: "a1") == completed(request))
        #expect(try await store.consent(id: "c3", applicationID: "app_a") == nil)
        #expect(try await store.redeemOneTimeToken(hash: "h-c3", applicationID: "app_a", now: t0) == nil)
        #expect(try await store.dueScheduledEvents(now: t0, limit: 10).map(\.id) == ["sev_1"])
    }

    @Test(arguments: Backend.all)
    func concurrentCompletionsLetExactlyOneWin(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        let request = authorisation("a1")
        try await store.createAuthorisation(request)
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for n in 0..<8 {
                group.addTask {
                    try await store.completeAuthorisation(
                        completed(request), consents: [consent("c\(n)", of: request)], oneTimeTokens: [], events: [event("sev_\(n)")])
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try await store.consents(applicationID: "app_a", applicationUserID: nil, userUUID: nil, institutionID: nil, status: nil,
                                         now: t0, before: nil, limit: 50).items.count == 1)
        #expect(try await store.dueScheduledEvents(now: t0, limit: 50).count == 1)
    }

    @Test(arguments: Backend.all)
    func anExpiredOrOtherApplicationsAuthorisationIsNotCompleted(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        let expired = authorisation("a1", expiresIn: .seconds(5))  // completed at t0 + 10 s: too late
        try await store.createAuthorisation(expired)
        #expect(try await store.completeAuthorisation(completed(expired), consents: [consent("a1", of: expired)], oneTimeTokens: [], events: []) == false)
        #expect(try await store.authorisation(id: "a1")?.status == .awaitingAuthorization)
        let theirs = authorisation("a2")
        try await store.createAuthorisation(theirs)
        var foreign = completed(theirs)
        foreign.applicationID = "app_b"
        #expect(try await store.completeAuthorisation(foreign, consents: [], oneTimeTokens: [], events: []) == false)
        #expect(try await store.authorisation(id: "a2") == theirs)
    }

    @Test(arguments: Backend.all)
    func aFailedCompletionRollsBackTheStatusChange(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        let request = authorisation("a1")
        try await store.createAuthorisation(request)
        // Two events with one id: the second insert fails, so the whole completion must not stand.
        await #expect(throws: StoreError.self) {
            try await store.completeAuthorisation(completed(request), consents: [consent("a1", of: request)], oneTimeTokens: [],
                                                  events: [event("sev_1"), event("sev_1")])
        }
        #expect(try await store.authorisation(id: "a1") == request)
        #expect(try await store.consent(id: "a1", applicationID: "app_a") == nil)
        #expect(try await store.nextScheduledEventDue() == nil)
    }

    // MARK: One-time tokens

    @Test(arguments: Backend.all)
    func concurrentRedeemsOfOneTokenLetExactlyOneWin(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        let granted = try await linked(store, "a1")
        let results = try await withThrowingTaskGroup(of: Consent?.self) { group in
            for _ in 0..<16 {
                group.addTask { try await store.redeemOneTimeToken(hash: "ott-a1", applicationID: "app_a", now: t0.adding(.seconds(20))) }
            }
            return try await group.reduce(into: [Consent?]()) { $0.append($1) }
        }
        #expect(results.compactMap { $0 } == [granted])
        #expect(try await store.redeemOneTimeToken(hash: "ott-a1", applicationID: "app_a", now: t0.adding(.seconds(21))) == nil)
    }

    @Test(arguments: Backend.all)
    func anExpiredUnknownOrOtherApplicationsTokenRedeemsNothing(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        let granted = try await linked(store, "a1")  // its token expires at t0 + 600 s
        #expect(try await store.redeemOneTimeToken(hash: "ott-a1", applicationID: "app_b", now: t0) == nil)
        #expect(try await store.redeemOneTimeToken(hash: "ott-nope", applicationID: "app_a", now: t0) == nil)
        #expect(try await store.redeemOneTimeToken(hash: "ott-a1", applicationID: "app_a", now: t0.adding(.seconds(600))) == nil)
        #expect(try await store.redeemOneTimeToken(hash: "ott-a1", applicationID: "app_a", now: t0.adding(.seconds(601))) == nil)
        // None of those burnt it: still good just before its expiry.
        #expect(try await store.redeemOneTimeToken(hash: "ott-a1", applicationID: "app_a", now: t0.adding(.milliseconds(599_999))) == granted)
    }

    // MARK: Consents

    @Test(arguments: Backend.all)
    func revokingTwiceRevokesOnceAndSchedulesOnce(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        var granted = try await linked(store, "a1")
        let at = t0.adding(.seconds(30))
        granted.status = .revoked
        granted.revokedAt = at
        #expect(try await store.revokeConsent(id: "a1", applicationID: "app_b", at: at, events: [event("sev_x", app: "app_b")]) == nil)
        #expect(try await store.revokeConsent(id: "a1", applicationID: "app_a", at: at, events: [event("sev_1")]) == granted)
        #expect(try await store.revokeConsent(id: "a1", applicationID: "app_a", at: at.adding(.seconds(5)), events: [event("sev_2")]) == granted)
        #expect(try await store.consent(id: "a1", applicationID: "app_a") == granted)
        #expect(try await store.revokeConsent(id: "nope", applicationID: "app_a", at: at, events: [event("sev_3")]) == nil)
        #expect(try await store.dueScheduledEvents(now: at, limit: 10).map(\.id) == ["sev_1"])
        #expect(try await store.consent(id: "a1", applicationID: "app_b") == nil)
    }

    @Test(arguments: Backend.all)
    func consentListsFilterAndPageNewestFirst(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        // c0…c6 at t0+0…6 s (two pairs in one millisecond: c2/c3 and c5/c6), alternating users; one at another bank; one elsewhere.
        let times = [0, 1, 2, 2, 4, 5, 5].map { t0.adding(.seconds($0)) }
        for (n, time) in times.enumerated() {
            _ = try await linked(store, "c\(n)", userID: n.isMultiple(of: 2) ? "even" : "odd", at: time, institution: n == 4 ? "okra-bank" : nil)
        }
        _ = try await linked(store, "b0", app: "app_b")
        _ = try await store.revokeConsent(id: "c1", applicationID: "app_a", at: t0.adding(.seconds(9)), events: [])

        func list(user: String? = nil, uuid: String? = nil, institution: String? = nil, status: Consent.Status? = nil,
                  before: String? = nil, limit: Int = 50) async throws -> (ids: [String], more: Bool) {
            let page = try await store.consents(applicationID: "app_a", applicationUserID: user, userUUID: uuid, institutionID: institution,
                                                status: status, now: t0, before: before, limit: limit)
            return (page.items.map(\.id), page.hasMore)
        }
        #expect(try await list().ids == ["c6", "c5", "c4", "c3", "c2", "c1", "c0"])
        #expect(try await list(user: "even").ids == ["c6", "c4", "c2", "c0"])
        #expect(try await list(uuid: "uuid-c3").ids == ["c3"])
        #expect(try await list(institution: "okra-bank").ids == ["c4"])
        #expect(try await list(status: .revoked).ids == ["c1"])
        #expect(try await list(user: "odd", status: .authorized).ids == ["c5", "c3"])
        #expect(try await list(user: "nobody").ids.isEmpty)

        // 90 days and 3 s on, the consents made in the first 3 s have expired: the filter sees them as they read then.
        let later = t0.adding(.seconds(90 * 86400 + 3))
        func listed(_ status: Consent.Status) async throws -> [String] {
            try await store.consents(applicationID: "app_a", applicationUserID: nil, userUUID: nil, institutionID: nil, status: status,
                                     now: later, before: nil, limit: 50).items.map(\.id)
        }
        #expect(try await listed(.expired) == ["c3", "c2", "c0"])
        #expect(try await listed(.authorized) == ["c6", "c5", "c4"])
        #expect(try await listed(.revoked) == ["c1"])

        // Pages of two walk every consent once, across the shared milliseconds.
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await list(before: cursor, limit: 2)
            seen += page.ids
            cursor = page.ids.last
            pages += 1
            if !page.more { break }
        } while pages < 10
        #expect(seen == ["c6", "c5", "c4", "c3", "c2", "c1", "c0"])
        #expect(pages == 4)
        #expect(try await list(before: "c5", limit: 2) == (["c4", "c3"], true))
        #expect(try await list(user: "even", before: "c4", limit: 1) == (["c2"], true))
        #expect(try await list(before: "c0").ids.isEmpty)
        // Another application's consent is no cursor here.
        #expect(try await list(before: "b0") == ([], false))
    }

    // MARK: Scheduled events

    @Test(arguments: Backend.all)
    func scheduledEventsComeDueEarliestFirstUntilDeleted(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        #expect(try await store.nextScheduledEventDue() == nil)
        try await store.scheduleEvents([event("sev_c", dueIn: .seconds(4)), event("sev_b", dueIn: .seconds(1), webhook: "wh_1"), event("sev_a", dueIn: .seconds(1))])
        try await store.scheduleEvents([event("sev_0", app: "app_b", dueIn: .zero)])
        try await store.scheduleEvents([])
        #expect(try await store.nextScheduledEventDue() == t0)
        #expect(try await store.dueScheduledEvents(now: t0.adding(.milliseconds(999)), limit: 10).map(\.id) == ["sev_0"])
        let due = try await store.dueScheduledEvents(now: t0.adding(.seconds(1)), limit: 10)
        #expect(due.map(\.id) == ["sev_0", "sev_a", "sev_b"])
        #expect(due[2] == event("sev_b", dueIn: .seconds(1), webhook: "wh_1"))
        #expect(try await store.dueScheduledEvents(now: t0.adding(.seconds(9)), limit: 2).map(\.id) == ["sev_0", "sev_a"])
        try await store.deleteScheduledEvents(ids: ["sev_0", "sev_a", "sev_b", "sev_unknown"])
        #expect(try await store.nextScheduledEventDue() == t0.adding(.seconds(4)))
        #expect(try await store.dueScheduledEvents(now: t0.adding(.seconds(3)), limit: 10).isEmpty)
        try await store.deleteScheduledEvents(ids: [])
        await #expect(throws: StoreError.self) { try await store.scheduleEvents([event("sev_c")]) }
        await #expect(throws: StoreError.self) { try await store.scheduleEvents([event("sev_z", app: "app_gone")]) }
        #expect(try await store.dueScheduledEvents(now: t0.adding(.seconds(9)), limit: 10).map(\.id) == ["sev_c"])
    }

    // MARK: Institutions and payments

    @Test(arguments: Backend.all)
    func availabilityIsSetPerApplicationWithItsEvents(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        #expect(try await store.institutionAvailability(applicationID: "app_a").isEmpty)
        try await store.setInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank", document: Array(#"{"v":1}"#.utf8),
                                                   events: [event("sev_1")])
        try await store.setInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank", document: Array(#"{"v":2}"#.utf8), events: [])
        try await store.setInstitutionAvailability(applicationID: "app_a", institutionID: "okra-bank", document: Array(#"{"v":3}"#.utf8), events: [])
        #expect(try await store.institutionAvailability(applicationID: "app_a") == [
            "lean-bank": Array(#"{"v":2}"#.utf8), "okra-bank": Array(#"{"v":3}"#.utf8),
        ])
        #expect(try await store.institutionAvailability(applicationID: "app_b").isEmpty)
        #expect(try await store.dueScheduledEvents(now: t0, limit: 10).map(\.id) == ["sev_1"])
        await #expect(throws: StoreError.self) {
            try await store.setInstitutionAvailability(applicationID: "app_gone", institutionID: "lean-bank", document: [], events: [])
        }
    }

    @Test(arguments: Backend.all)
    func paymentsAndSourcesAreReadBackPerApplication(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        let source = SandboxPaymentSource(
            id: "ps1", applicationID: "app_a", customerID: "cus1", beneficiaryID: "ben1", createdAt: t0,
            beneficiaryActiveAt: t0.adding(.seconds(5)), document: Array(#"{"name":"Ada"}"#.utf8))
        try await store.createPaymentSource(source, events: [event("sev_1")])
        #expect(try await store.paymentSource(id: "ps1", applicationID: "app_a") == source)
        #expect(try await store.paymentSource(id: "ps1", applicationID: "app_b") == nil)
        await #expect(throws: StoreError.self) { try await store.createPaymentSource(source, events: []) }
        let payment = SandboxPayment(
            id: "pay1", applicationID: "app_a", paymentSourceID: "ps1", amount: "10.50", currency: "SAR", reference: "rent",
            initialStatus: "PENDING", finalStatus: "ACCEPTED_BY_BANK", createdAt: t0, settlesAt: t0.adding(.seconds(2)), document: Array("{}".utf8))
        try await store.createPayment(payment, events: [event("sev_2", dueIn: .seconds(2))])
        var unsourced = payment
        unsourced.id = "pay2"
        unsourced.paymentSourceID = nil
        try await store.createPayment(unsourced, events: [])
        #expect(try await store.payment(id: "pay1", applicationID: "app_a") == payment)
        #expect(try await store.payment(id: "pay2", applicationID: "app_a") == unsourced)
        #expect(try await store.payment(id: "pay1", applicationID: "app_b") == nil)
        // A payment source of another application is no source of this one's payments.
        var crossed = payment
        crossed.id = "pay3"
        crossed.applicationID = "app_b"
        await #expect(throws: StoreError.self) { try await store.createPayment(crossed, events: [event("sev_3", app: "app_b")]) }
        #expect(try await store.payment(id: "pay3", applicationID: "app_b") == nil)
        #expect(try await store.dueScheduledEvents(now: t0.adding(.seconds(9)), limit: 10).map(\.id) == ["sev_1", "sev_2"])
    }

    // MARK: Application deletion

    @Test(arguments: Backend.all)
    func deletingAnApplicationRemovesItsSandboxRowsOnly(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        for app in ["app_a", "app_b"] {
            _ = try await linked(store, "auth-\(app)", app: app)
            try await store.createAuthorisation(authorisation("open-\(app)", app: app))
            try await store.setInstitutionAvailability(applicationID: app, institutionID: "lean-bank", document: Array("{}".utf8), events: [])
            try await store.scheduleEvents([event("sev-\(app)", app: app)])
            try await store.createPaymentSource(SandboxPaymentSource(
                id: "ps-\(app)", applicationID: app, customerID: "c", beneficiaryID: "b", createdAt: t0, beneficiaryActiveAt: t0,
                document: Array("{}".utf8)), events: [])
            try await store.createPayment(SandboxPayment(
                id: "pay-\(app)", applicationID: app, paymentSourceID: "ps-\(app)", amount: "1", currency: "EUR", reference: "r",
                initialStatus: "PENDING", finalStatus: "DONE", createdAt: t0, settlesAt: t0, document: Array("{}".utf8)), events: [])
        }
        #expect(try await store.deleteApplication(id: "app_a"))
        #expect(try await store.authorisation(id: "auth-app_a") == nil)
        #expect(try await store.authorisation(id: "open-app_a") == nil)
        #expect(try await store.consent(id: "auth-app_a", applicationID: "app_a") == nil)
        #expect(try await store.institutionAvailability(applicationID: "app_a").isEmpty)
        #expect(try await store.paymentSource(id: "ps-app_a", applicationID: "app_a") == nil)
        #expect(try await store.payment(id: "pay-app_a", applicationID: "app_a") == nil)
        #expect(try await store.dueScheduledEvents(now: t0, limit: 10).map(\.id) == ["sev-app_b"])
        // The other application keeps everything, its token included.
        #expect(try await store.authorisation(id: "open-app_b") != nil)
        #expect(try await store.institutionAvailability(applicationID: "app_b").count == 1)
        #expect(try await store.payment(id: "pay-app_b", applicationID: "app_b") != nil)
        #expect(try await store.redeemOneTimeToken(hash: "ott-auth-app_b", applicationID: "app_b", now: t0)?.id == "auth-app_b")
        // No orphan is left behind where no read can see it (the token table has no read by application).
        try await store.createApplication(Application(id: "app_a", name: "again", environment: .sandbox, createdAt: t0))
        #expect(try await store.redeemOneTimeToken(hash: "ott-auth-app_a", applicationID: "app_a", now: t0) == nil)
    }
}
