import BankHooksCore
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Testing

/// The sandbox store's guarded changes (review findings 2, 3, 7), against a real SQLite file per test.
@Suite struct SandboxStoreAtomicTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    func fixture(_ backend: Backend) async throws -> (any Store, TemporaryDirectory) {
        let dir = TemporaryDirectory()
        let store = try await backend.make(dir)
        try await store.createApplication(Application(id: "app_a", name: "app_a", environment: .sandbox, createdAt: t0))
        return (store, dir)
    }

    func event(_ id: String) -> ScheduledEvent {
        ScheduledEvent(id: id, applicationID: "app_a", dueAt: t0, type: "entity.created", data: Array(#"{"id":"\#(id)"}"#.utf8), webhookID: nil)
    }

    /// 40 concurrent increments of a counter document: none is lost, each wrote its event.
    @Test(arguments: Backend.all)
    func availabilityUpdateIsOneTransaction(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    _ = try await store.updateInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank") { current in
                        let count = current.map { Int(String(decoding: $0, as: UTF8.self))! } ?? 0
                        return (Array(String(count + 1).utf8), [self.event("sev_\(index)")])
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.institutionAvailability(applicationID: "app_a") == ["lean-bank": Array("40".utf8)])
        #expect(try await store.dueScheduledEvents(now: t0, limit: 100).count == 40)
        // nil: nothing written; the current document comes back.
        let unchanged = try await store.updateInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank") { _ in nil }
        #expect(unchanged.document == Array("40".utf8) && !unchanged.changed)
        let none = try await store.updateInstitutionAvailability(applicationID: "app_a", institutionID: "okra-bank") { _ in nil }
        #expect(none.document == nil && !none.changed)
        // A throwing update rolls back (its events too).
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            _ = try await store.updateInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank") { _ in throw Refused() }
        }
        await #expect(throws: StoreError.self) {
            _ = try await store.updateInstitutionAvailability(applicationID: "app_gone", institutionID: "lean-bank") { _ in ([1], []) }
        }
        #expect(try await store.institutionAvailability(applicationID: "app_a").count == 1)
    }

    /// Wrong passwords: counted up to the limit with their events, then the lockout; after any
    /// completion (or expiry) nothing is counted nor scheduled.
    @Test(arguments: Backend.all)
    func wrongPasswordsAreGuarded(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        func authorisation(_ id: String) -> Authorisation {
            Authorisation(
                id: id, applicationID: "app_a", institutionID: "lean-bank", applicationUserID: nil, userUUID: "u", callback: "https://a.example/",
                oneTimeToken: false, permissions: ["identity"], forwardParameters: [], state: String(repeating: "ab", count: 16), createdAt: t0,
                expiresAt: t0.adding(.seconds(60)))
        }
        let at = t0.adding(.seconds(1))
        var lockout = authorisation("auth_1")
        lockout.status = .failed
        lockout.completedAt = at
        lockout.redirectURL = "https://a.example/?error=x"
        try await store.createAuthorisation(authorisation("auth_1"))
        for count in 1...3 {
            #expect(try await store.recordWrongPassword(
                authorisationID: "auth_1", applicationID: "app_a", at: at, limit: 3, events: [event("sev_\(count)")], lockout: lockout,
                lockoutEvents: []) == .counted(count))
        }
        #expect(try await store.recordWrongPassword(
            authorisationID: "auth_1", applicationID: "app_a", at: at, limit: 3, events: [event("sev_4")], lockout: lockout,
            lockoutEvents: [event("sev_lock")]) == .lockedOut)
        let stored = try #require(try await store.authorisation(id: "auth_1"))
        #expect(stored.status == .failed && stored.completedAt == at && stored.redirectURL == "https://a.example/?error=x")
        #expect(try await store.recordWrongPassword(
            authorisationID: "auth_1", applicationID: "app_a", at: at, limit: 3, events: [event("sev_5")], lockout: lockout,
            lockoutEvents: []) == .notAwaiting)
        #expect(try await store.dueScheduledEvents(now: t0, limit: 10).map(\.id).sorted() == ["sev_1", "sev_2", "sev_3", "sev_lock"])
        // Completed by a success first: a wrong password after it changes nothing.
        try await store.createAuthorisation(authorisation("auth_2"))
        var success = authorisation("auth_2")
        success.status = .authorized
        success.completedAt = at
        success.redirectURL = "https://a.example/?consent=x"
        #expect(try await store.completeAuthorisation(success, consents: [], oneTimeTokens: [], events: []))
        #expect(try await store.recordWrongPassword(
            authorisationID: "auth_2", applicationID: "app_a", at: at, limit: 3, events: [event("sev_6")], lockout: lockout,
            lockoutEvents: []) == .notAwaiting)
        // Expired, another application's: nothing.
        try await store.createAuthorisation(authorisation("auth_3"))
        #expect(try await store.recordWrongPassword(
            authorisationID: "auth_3", applicationID: "app_a", at: t0.adding(.seconds(60)), limit: 3, events: [event("sev_7")],
            lockout: lockout, lockoutEvents: []) == .notAwaiting)
        #expect(try await store.recordWrongPassword(
            authorisationID: "auth_3", applicationID: "app_b", at: at, limit: 3, events: [event("sev_8")], lockout: lockout,
            lockoutEvents: []) == .notAwaiting)
        #expect(try await store.dueScheduledEvents(now: t0, limit: 10).count == 4)
        #expect(try await store.authorisation(id: "auth_3")?.status == .awaitingAuthorization)
    }
}
