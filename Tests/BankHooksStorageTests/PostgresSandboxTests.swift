import BankHooksCore
@testable import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Testing

/// What only several nodes can break in the sandbox store: two `PostgresStore`s (two pools, as two
/// nodes have) on one fresh database race for the same single-use changes, and exactly one wins.
@Suite struct PostgresSandboxTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    /// Two stores on one new database with the application `app_a`.
    func twoNodes() async throws -> (PostgresStore, PostgresStore) {
        let url = try await TestPostgres.freshDatabase()
        let first = try TestPostgres.store(url: url, maximumConnections: 16), second = try TestPostgres.store(url: url, maximumConnections: 16)
        try await first.createApplication(Application(id: "app_a", name: "app_a", environment: .sandbox, createdAt: t0))
        return (first, second)
    }

    func authorisation(_ id: String) -> Authorisation {
        Authorisation(
            id: id, applicationID: "app_a", institutionID: "lean-bank", applicationUserID: "user-1", userUUID: "uuid-\(id)",
            callback: "https://app.example/done", oneTimeToken: true, permissions: ["identity"], forwardParameters: [],
            state: String(repeating: "ab", count: 16), createdAt: t0, expiresAt: t0.adding(.seconds(1800)))
    }

    func completion(_ id: String) -> Authorisation {
        var done = authorisation(id)
        done.status = .authorized
        done.completedAt = t0.adding(.seconds(10))
        done.redirectURL = "https://app.example/done?consent=\(id)"
        return done
    }

    func consent(_ id: String, of authorisationID: String) -> Consent {
        let at = t0.adding(.seconds(10))
        return Consent(
            id: id, applicationID: "app_a", authorisationID: authorisationID, institutionID: "lean-bank", applicationUserID: "user-1",
            userUUID: "uuid-\(authorisationID)", login: "alice", permissions: ["identity"], createdAt: at, authorizedAt: at,
            expiresAt: at.adding(.seconds(86400)), leanEntityID: "entity-\(id)", okraRecordID: "record-\(id)", bridgeItemID: 7)
    }

    func event(_ id: String) -> ScheduledEvent {
        ScheduledEvent(id: id, applicationID: "app_a", dueAt: t0, type: "entity.created", data: Array(#"{"id":"\#(id)"}"#.utf8))
    }

    /// 50 redeems of one one-time token at once, half on each node: exactly one gets the consent,
    /// for each of five tokens.
    @Test func aOneTimeTokenIsRedeemedOnceAcrossNodes() async throws {
        let (first, second) = try await twoNodes()
        let now = t0.adding(.seconds(20))
        for round in 0..<5 {
            let id = "auth_\(round)"
            try await first.createAuthorisation(authorisation(id))
            let token = OneTimeTokenRecord(tokenHash: "ott-\(id)", applicationID: "app_a", consentID: id, expiresAt: t0.adding(.seconds(600)))
            #expect(try await first.completeAuthorisation(completion(id), consents: [consent(id, of: id)], oneTimeTokens: [token], events: []))
            let winners = try await withThrowingTaskGroup(of: Consent?.self) { group in
                for attempt in 0..<50 {
                    let node = attempt.isMultiple(of: 2) ? first : second
                    group.addTask { try await node.redeemOneTimeToken(hash: "ott-\(id)", applicationID: "app_a", now: now) }
                }
                return try await group.reduce(into: [Consent]()) { winners, consent in if let consent { winners.append(consent) } }
            }
            #expect(winners.map(\.id) == [id])
            #expect(try await second.redeemOneTimeToken(hash: "ott-\(id)", applicationID: "app_a", now: now) == nil)
        }
    }

    /// 20 completions of one authorisation at once, half on each node, each with its own consent,
    /// one-time token and event: exactly one completes it, and only its rows exist.
    @Test func anAuthorisationCompletesOnceAcrossNodes() async throws {
        let (first, second) = try await twoNodes()
        for round in 0..<3 {
            let id = "auth_\(round)"
            try await first.createAuthorisation(authorisation(id))
            let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for attempt in 0..<20 {
                    let node = attempt.isMultiple(of: 2) ? first : second
                    let consentID = "\(id)_c\(attempt)"
                    let token = OneTimeTokenRecord(
                        tokenHash: "ott-\(consentID)", applicationID: "app_a", consentID: consentID, expiresAt: t0.adding(.seconds(600)))
                    group.addTask {
                        let completed = try await node.completeAuthorisation(
                            completion(id), consents: [consent(consentID, of: id)], oneTimeTokens: [token], events: [event("sev_\(consentID)")])
                        return (attempt, completed)
                    }
                }
                return try await group.reduce(into: [Int: Bool]()) { outcomes, outcome in outcomes[outcome.0] = outcome.1 }
            }
            let winners = outcomes.filter(\.value).map(\.key)
            try #require(winners.count == 1)
            let winner = "\(id)_c\(winners[0])"
            let consents = try await second.consents(
                applicationID: "app_a", applicationUserID: nil, userUUID: "uuid-\(id)", institutionID: nil, status: nil, now: t0,
                before: nil, limit: 100)
            #expect(consents.items.map(\.id) == [winner])
            #expect(try await second.authorisation(id: id)?.status == .authorized)
            #expect(try await first.redeemOneTimeToken(hash: "ott-\(winner)", applicationID: "app_a", now: t0)?.id == winner)
        }
        let events = try await first.dueScheduledEvents(now: t0, limit: 100)
        #expect(events.count == 3)
    }

    /// 12 wrong passwords at once on two nodes with a limit of 3: three are counted (1, 2, 3), one
    /// locks the authorisation out, the rest change nothing; only their events are scheduled.
    @Test func wrongPasswordsNeverPassTheLimitAcrossNodes() async throws {
        let (first, second) = try await twoNodes()
        try await first.createAuthorisation(authorisation("auth_1"))
        let at = t0.adding(.seconds(1))
        var locked = authorisation("auth_1")
        locked.status = .failed
        locked.completedAt = at
        locked.redirectURL = "https://app.example/done?error=locked"
        let lockout = locked
        let outcomes = try await withThrowingTaskGroup(of: WrongPasswordOutcome.self) { group in
            for attempt in 0..<12 {
                let node = attempt.isMultiple(of: 2) ? first : second
                group.addTask {
                    try await node.recordWrongPassword(
                        authorisationID: "auth_1", applicationID: "app_a", at: at, limit: 3, events: [event("sev_wrong_\(attempt)")],
                        lockout: lockout, lockoutEvents: [event("sev_lock_\(attempt)")])
                }
            }
            return try await group.reduce(into: [WrongPasswordOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.filter { if case .counted = $0 { true } else { false } }.sorted { "\($0)" < "\($1)" }
                    == [.counted(1), .counted(2), .counted(3)])
        #expect(outcomes.filter { $0 == .lockedOut }.count == 1)
        #expect(outcomes.filter { $0 == .notAwaiting }.count == 8)
        let events = try await second.dueScheduledEvents(now: t0, limit: 100)
        #expect(events.filter { $0.id.hasPrefix("sev_wrong_") }.count == 3 && events.filter { $0.id.hasPrefix("sev_lock_") }.count == 1)
        #expect(try await second.authorisation(id: "auth_1")?.status == .failed)
    }

    /// 40 increments of one availability document at once, half on each node, the first of them
    /// creating it: none is lost, each wrote its event.
    @Test func availabilityMergesAcrossNodes() async throws {
        let (first, second) = try await twoNodes()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                let node = index.isMultiple(of: 2) ? first : second
                group.addTask {
                    _ = try await node.updateInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank") { current in
                        guard let count = Int(String(decoding: current ?? Array("0".utf8), as: UTF8.self)) else {
                            throw StoreError(.invalidValue, "not a count")
                        }
                        return (Array(String(count + 1).utf8), [event("sev_\(index)")])
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await first.institutionAvailability(applicationID: "app_a") == ["lean-bank": Array("40".utf8)])
        #expect(try await second.dueScheduledEvents(now: t0, limit: 100).count == 40)
    }

    /// A change that another node's `DELETE FROM applications` overtakes: the delete locks the
    /// application's row first and then its rows (ON DELETE CASCADE). Held here half-way (the
    /// application row locked) while the change starts, then finished: the change must neither
    /// deadlock with it (40P01, a server failure) nor fail otherwise; it finds the application gone.
    @Test(arguments: ["complete", "wrong password", "revoke", "set availability", "update availability"])
    func aChangeOvertakenByTheApplicationsDeletionNeverDeadlocks(_ change: String) async throws {
        let (first, second) = try await twoNodes()
        try await first.createAuthorisation(authorisation("auth_1"))
        try await first.createAuthorisation(authorisation("auth_2"))
        #expect(try await first.completeAuthorisation(completion("auth_2"), consents: [consent("auth_2", of: "auth_2")], oneTimeTokens: [], events: []))
        try await first.setInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank", document: Array("{}".utf8), events: [])
        let logger = TestPostgres.logger
        try await second.client.withConnection { deleting in
            try await deleting.run("BEGIN", logger: logger)
            try await deleting.run("SELECT id FROM applications WHERE id = 'app_a' FOR UPDATE", logger: logger)
            let outcome = Task { () -> String in
                do {
                    switch change {
                    case "complete":
                        return "\(try await first.completeAuthorisation(completion("auth_1"), consents: [consent("auth_1", of: "auth_1")], oneTimeTokens: [], events: [event("sev_1")]))"
                    case "wrong password":
                        return "\(try await first.recordWrongPassword(authorisationID: "auth_1", applicationID: "app_a", at: t0.adding(.seconds(1)), limit: 3, events: [event("sev_1")], lockout: completion("auth_1"), lockoutEvents: []))"
                    case "revoke":
                        return "\(try await first.revokeConsent(id: "auth_2", applicationID: "app_a", at: t0.adding(.seconds(20)), events: [event("sev_1")]) as Any)"
                    case "set availability":
                        try await first.setInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank", document: Array("{}".utf8), events: [event("sev_1")])
                        return "set"
                    default:
                        return "\(try await first.updateInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank") { _ in (Array("{}".utf8), [event("sev_1")]) })"
                    }
                } catch let error as StoreError where error.code == .notFound {
                    return "notFound"
                }
            }
            // Until the change waits for a lock (the application row's, or, wrongly, one it holds the deleter's cascade will need).
            var waited = 0
            while try await second.client.query(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", logger: logger
            ).collect().first?.decode(Int.self) != 1 {
                waited += 1
                try #require(waited < 500, "the change never waited for the deletion")
                try await Task.sleep(for: .milliseconds(10))
            }
            try await deleting.run("DELETE FROM applications WHERE id = 'app_a'", logger: logger)
            try await deleting.run("COMMIT", logger: logger)
            let result = try await outcome.value
            let expected = ["complete": "false", "wrong password": "notAwaiting", "revoke": "nil", "set availability": "notFound", "update availability": "notFound"]
            #expect(result == expected[change])
        }
        #expect(try await first.dueScheduledEvents(now: t0, limit: 10).isEmpty)
    }

    /// A set on another node while an update is between its read and its write waits for the
    /// update, so it is not overwritten by a document computed from the one before it.
    @Test func aSetDuringAnUpdateIsNotLost() async throws {
        let (first, second) = try await twoNodes()
        try await first.setInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank", document: Array("old".utf8), events: [])
        let (read, reading) = AsyncStream<Void>.makeStream()
        let update = Task {
            try await first.updateInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank") { current in
                reading.yield()
                // Long enough for the set to commit if nothing held it back.
                Thread.sleep(forTimeInterval: 0.3)
                return ((current ?? []) + Array("+updated".utf8), [])
            }
        }
        for await _ in read { break }
        try await second.setInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank", document: Array("set".utf8), events: [])
        #expect(try await update.value.document == Array("old+updated".utf8))
        #expect(try await second.institutionAvailability(applicationID: "app_a") == ["lean-bank": Array("set".utf8)])
    }
}
