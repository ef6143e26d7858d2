import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Testing

/// Authorisation requests and their completion, against a real SQLite store.
@Suite struct SandboxBankAuthorisationTests {
    // MARK: Create

    /// A request is stored awaiting, with a UUID v4 id, a 32-hex state, the default permissions
    /// and the design's lifetime; a user uuid is made when only the application user id is given.
    @Test func createsAnAwaitingAuthorisation() async throws {
        let f = try await SandboxBankFixture().start()
        let created = try await f.authorise()
        #expect(created.status == .awaitingAuthorization)
        #expect(UUID(uuidString: created.id) != nil && created.id == created.id.lowercased())
        #expect(Array(created.id)[14] == "4", "a UUID v4")
        #expect(created.state.count == 32 && created.state.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(created.permissions == ["identity", "accounts", "balance", "transactions"])
        #expect(created.expiresAt == f.clock.now().adding(.seconds(1800)))
        #expect(UUID(uuidString: created.userUUID) != nil && created.userUUID == created.userUUID.lowercased())
        #expect(created.applicationUserID == "a@f.com")
        #expect(try await f.bank.authorisation(id: created.id, applicationID: "app_a") == created)
        #expect(try await f.bank.authorisation(id: created.id) == created)
        await #expect(throws: SandboxError(.notFound, "there is no authorisation `\(created.id)`")) {
            try await f.bank.authorisation(id: created.id, applicationID: "app_b")
        }
        #expect(try await f.bank.authorisation(id: "not-a-uuid") == nil)
        // A given user uuid is kept (lower-cased); permissions in order without repeats.
        let given = try await f.bank.createAuthorisation(
            AuthorisationRequest(
                institutionID: "modelo-sandbox", userUUID: "88C8EA6C-25A3-4ECB-B134-A4B23DDE2DF7", callback: "myapp://done",
                permissions: ["transactions", "accounts", "transactions"]),
            application: f.application)
        #expect(given.userUUID == "88c8ea6c-25a3-4ecb-b134-a4b23dde2df7")
        #expect(given.applicationUserID == nil)
        #expect(given.permissions == ["transactions", "accounts"])
        #expect(given.id != created.id && given.state != created.state)
    }

    /// Every bad member is an `invalidField` at its pointer; a production application is `sandboxOnly`.
    @Test func refusesBadRequests() async throws {
        let f = try await SandboxBankFixture().start()
        func refusal(_ request: AuthorisationRequest, _ app: Application? = nil) async -> SandboxError? {
            do {
                _ = try await f.bank.createAuthorisation(request, application: app ?? f.application)
                return nil
            } catch let error as SandboxError {
                return error
            } catch {
                Issue.record("unexpected \(error)")
                return nil
            }
        }
        let good = AuthorisationRequest(institutionID: "leanmb1", applicationUserID: "u1", callback: "https://app.example/done")
        var r = good
        r.institutionID = "nope"
        #expect(await refusal(r).map { "\($0.code) \($0.pointer ?? "")" } == "invalidField /institution_id")
        r = good
        r.applicationUserID = nil
        #expect(await refusal(r)?.pointer == "/user_uuid")
        r.userUUID = "not-a-uuid"
        #expect(await refusal(r)?.pointer == "/user_uuid")
        r = good
        r.applicationUserID = ""
        #expect(await refusal(r)?.pointer == "/application_user_id")
        r.applicationUserID = "a\u{0}b"
        #expect(await refusal(r)?.pointer == "/application_user_id")
        r = good
        r.callback = "https://evil.example/done"
        let callback = await refusal(r)
        #expect(callback?.pointer == "/callback")
        #expect(callback?.message == "`https://evil.example/done` is not a registered redirect callback of this application")
        r.callback = "https://tpp-application.evil.com/"
        #expect(await refusal(r)?.pointer == "/callback")
        r = good
        r.permissions = []
        #expect(await refusal(r)?.pointer == "/permissions")
        r.permissions = ["accounts", "everything"]
        #expect(await refusal(r)?.pointer == "/permissions/1")
        r = good
        r.forwardParameters = ["a=1", "novalue"]
        #expect(await refusal(r)?.pointer == "/forward_parameters/1")
        r.forwardParameters = ["=1"]
        #expect(await refusal(r)?.pointer == "/forward_parameters/0")
        r.forwardParameters = Array(repeating: "a=1", count: 21)
        #expect(await refusal(r)?.pointer == "/forward_parameters")
        #expect(await refusal(good, f.production)?.code == .sandboxOnly)
        // The callbacks the registration allows.
        for callback in ["https://tpp-application/confirm?x=1", "myapp://done", "https://app.example/with?time=1335"] {
            var ok = good
            ok.callback = callback
            #expect(await refusal(ok) == nil, "\(callback)")
        }
    }

    /// An institution whose data product is not active and enabled takes no requests.
    @Test func unavailableInstitution() async throws {
        let f = try await SandboxBankFixture().start()
        var availability = InstitutionAvailability.allUp
        availability.bank.enabled.data = false
        _ = try await f.bank.updateInstitution(id: "bank1-ksa", applicationID: "app_a", availability: availability)
        await #expect(throws: SandboxError.self) { try await f.authorise(institution: "bank1-ksa") }
        do {
            _ = try await f.authorise(institution: "bank1-ksa")
        } catch let error as SandboxError {
            #expect(error.code == .institutionUnavailable)
        }
        // Only this application's view changed.
        _ = try await f.authorise(institution: "bank1-ksa", in: f.other)
    }

    // MARK: Complete

    /// The consent page's success: AUTHORIZED, one consent with the authorisation's id, a redirect
    /// carrying a consent token that reads the consent, and the link's events committed with it.
    @Test func successOnThePage() async throws {
        let f = try await SandboxBankFixture().start()
        let created = try await f.authorise(forward: ["flow_id=42"])
        let wakesBefore = f.wakeCount
        let done = try await f.completeOnPage(created, login: "Alice")
        #expect(done.authorisation.status == .authorized)
        #expect(done.delay == nil)
        #expect(done.consents.map(\.id) == [created.id])
        #expect(done.consents[0].login == "alice")
        let names = SandboxBankFixture.parameters(done.redirectURL).map(\.0)
        #expect(names == ["consent", "application-user-id", "user-uuid", "institution", "flow_id"])
        #expect(done.redirectURL.hasPrefix("https://app.example/done?consent=eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9."))
        #expect(done.redirectURL.hasSuffix("&application-user-id=a%40f.com&user-uuid=\(created.userUUID)&institution=leanmb1&flow_id=42"))
        let token = try #require(SandboxBankFixture.value("consent", in: done.redirectURL))
        let consent = try await f.bank.authorisedConsent(token: token, applicationID: "app_a")
        #expect(consent.id == created.id && consent.status == .authorized && consent.authorisationID == created.id)
        #expect(consent.expiresAt == f.clock.now().adding(.seconds(90 * 86400)))
        #expect(UUID(uuidString: consent.leanEntityID) != nil)
        #expect(consent.okraRecordID.count == 24 && consent.okraRecordID.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(consent.bridgeItemID > 0 && consent.bridgeItemID < 1 << 53)
        // Stored as completed, with the redirect it gave.
        let stored = try await f.bank.authorisation(id: created.id, applicationID: "app_a")
        #expect(stored.status == .authorized && stored.redirectURL == done.redirectURL && stored.completedAt == f.clock.now())
        // The link's events are in the store, and the runner was woken.
        let types = try await f.scheduled().map(\.type)
        for type in ["bank_link.result", "entity.created", "results.ready", "AUTH.AUTH_SUCCESS", "TRANSACTIONS.FULL_TRANSACTIONS",
                     "item.created", "item.refreshed", "item.account.created"] {
            #expect(types.contains(type), "\(type)")
        }
        #expect(f.wakeCount > wakesBefore)
        // A second completion changes nothing.
        await #expect(throws: SandboxError.self) { try await f.completeOnPage(created, login: "bob") }
        do { _ = try await f.completeOnPage(created, login: "bob"); Issue.record("expected a refusal") } catch let error as SandboxError {
            #expect(error.code == .authorisationCompleted)
        }
        #expect(try await f.bank.authorisation(id: created.id)?.redirectURL == done.redirectURL)
    }

    /// The page is checked by `state`; the headless completion by the caller's application.
    @Test func stateAndApplicationChecks() async throws {
        let f = try await SandboxBankFixture().start()
        let created = try await f.authorise()
        func code(_ applicationID: String?, _ state: String?) async -> SandboxError.Code? {
            do {
                _ = try await f.bank.complete(
                    authorisationID: created.id, applicationID: applicationID, state: state, login: "user", password: nil, decision: .approve)
                return nil
            } catch let error as SandboxError { return error.code } catch { return nil }
        }
        #expect(await code(nil, nil) == .stateMismatch)
        #expect(await code(nil, String(repeating: "0", count: 32)) == .stateMismatch)
        #expect(await code(nil, created.state.uppercased()) == .stateMismatch)
        #expect(await code("app_b", nil) == .notFound)
        #expect(await code("app_a", "wrong") == .stateMismatch)
        #expect(try await f.scheduled().isEmpty)
        do {
            _ = try await f.bank.complete(
                authorisationID: UUID().uuidString.lowercased(), applicationID: "app_a", state: nil, login: "user", password: nil,
                decision: .approve)
            Issue.record("an unknown authorisation was completed")
        } catch let error as SandboxError { #expect(error.code == .notFound) }
        // Headless: no password needed, and the same URL shape as the page.
        let headless = try await f.bank.complete(
            authorisationID: created.id, applicationID: "app_a", state: nil, login: "user", password: nil, decision: .approve)
        #expect(headless.authorisation.status == .authorized)
        #expect(try await f.bank.authorisation(id: created.id)?.redirectURL == headless.redirectURL)
    }

    /// A wrong password schedules Lean's 401 body only, leaves the authorisation awaiting, and the user may retry.
    @Test func wrongPasswordThenRetry() async throws {
        let f = try await SandboxBankFixture().start()
        let created = try await f.authorise()
        for (login, password) in [("alice", "bob"), ("alice", ""), ("wrong_password", "wrong_password")] {
            do {
                _ = try await f.completeOnPage(created, login: login, password: password)
                Issue.record("a wrong password was accepted")
            } catch let error as SandboxError {
                #expect(error.code == .wrongPassword)
                #expect(error.message == "The username or password submitted was incorrect")
            }
        }
        // Headless with the magic login.
        await #expect(throws: SandboxError.self) {
            try await f.bank.complete(
                authorisationID: created.id, applicationID: "app_a", state: nil, login: "wrong_password", password: nil, decision: .approve)
        }
        let events = try await f.scheduled()
        #expect(events.count == 4)
        #expect(events.allSatisfy { $0.type == "bank_link.result" && $0.applicationID == "app_a" })
        let body = String(decoding: try #require(events.first).data, as: UTF8.self)
        #expect(body == #"{"status":{"code":"401","message":"The username or password submitted was incorrect"},"data":null}"#)
        #expect(try await f.bank.authorisation(id: created.id)?.status == .awaitingAuthorization)
        let retry = try await f.completeOnPage(created, login: "alice")
        #expect(retry.authorisation.status == .authorized)
    }

    /// Each row of seed 003's table: REJECTED or FAILED, the failure parameters, no consent, nothing scheduled.
    @Test(arguments: BankError.table) func errorRow(row: BankError) async throws {
        let f = try await SandboxBankFixture().start()
        let created = try await f.authorise(callback: "https://tpp-application/cb?time=1335", forward: ["step=2"])
        let done = try await f.completeOnPage(created, login: row.login.uppercased())
        #expect(done.authorisation.status == (row.source == .user ? .rejected : .failed))
        #expect(done.consents.isEmpty)
        let parameters = SandboxBankFixture.parameters(done.redirectURL)
        #expect(parameters.map(\.0) == ["time", "application-user-id", "user-uuid", "institution", "error-source", "error", "error-description", "step"])
        #expect(parameters.map(\.1) == [
            "1335", "a@f.com", created.userUUID, "leanmb1", row.source.rawValue, row.error, Data(row.bankError.utf8).base64EncodedString(), "2",
        ])
        #expect(try await f.scheduled().isEmpty)
        let consents = try await f.bank.consents(
            applicationID: "app_a", applicationUserID: nil, userUUID: nil, institutionID: nil, status: nil, before: nil, limit: 10)
        #expect(consents.items.isEmpty)
    }

    /// Deny, with any login (even an empty one): the user's access_denied row.
    @Test func deny() async throws {
        let f = try await SandboxBankFixture().start()
        for login in ["alice", "", "multi"] {
            let created = try await f.authorise()
            let done = try await f.completeOnPage(created, login: login, password: "whatever", decision: .deny)
            #expect(done.authorisation.status == .rejected)
            #expect(SandboxBankFixture.value("error", in: done.redirectURL) == "access_denied")
            #expect(SandboxBankFixture.value("error-source", in: done.redirectURL) == "user")
            #expect(done.redirectURL.hasSuffix("&error-description=YWNjZXNzX2RlbmllZA%3D%3D"))
        }
        // Approve needs a login.
        let created = try await f.authorise()
        do { _ = try await f.completeOnPage(created, login: "  ", password: "  "); Issue.record("expected a refusal") } catch let error as SandboxError {
            #expect(error.code == .invalidField && error.pointer == "/login")
        }
    }

    /// `multi`: two consents, two `consent=` parameters, the first with the authorisation's id.
    @Test func multi() async throws {
        let f = try await SandboxBankFixture().start()
        let created = try await f.authorise(applicationUserID: nil, userUUID: UUID().uuidString)
        let done = try await f.completeOnPage(created, login: "multi")
        #expect(done.consents.count == 2 && done.consents[0].id == created.id && done.consents[1].id != created.id)
        let parameters = SandboxBankFixture.parameters(done.redirectURL)
        #expect(parameters.map(\.0) == ["consent", "consent", "user-uuid", "institution"])
        for (index, token) in parameters.prefix(2).map(\.1).enumerated() {
            #expect(try await f.bank.authorisedConsent(token: token, applicationID: "app_a").id == done.consents[index].id)
        }
        #expect(try await f.scheduled().filter { $0.type == "entity.created" }.count == 2)
    }

    /// `slow`: the consent is committed now; the answer is to be held for `slowLogin`.
    @Test func slow() async throws {
        let f = try await SandboxBankFixture(timings: .demo).start()
        let created = try await f.authorise()
        let done = try await f.completeOnPage(created, login: "slow")
        #expect(done.delay == SandboxTimings.demo.slowLogin)
        #expect(try await f.bank.consent(id: created.id, applicationID: "app_a").consent.status == .authorized)
    }

    /// Past its lifetime an authorisation reads EXPIRED and cannot be completed.
    @Test func expiry() async throws {
        let f = try await SandboxBankFixture().start()
        let created = try await f.authorise()
        f.clock.advance(by: .seconds(1799))
        #expect(try await f.bank.authorisation(id: created.id)?.status == .awaitingAuthorization)
        f.clock.advance(by: .seconds(1))
        #expect(try await f.bank.authorisation(id: created.id)?.status == .expired)
        do { _ = try await f.completeOnPage(created, login: "alice"); Issue.record("expected a refusal") } catch let error as SandboxError {
            #expect(error.code == .authorisationExpired)
        }
        #expect(try await f.scheduled().isEmpty)
    }

    /// Two completions at once: exactly one wins, the other is `authorisationCompleted`, one set of events.
    @Test func concurrentCompletions() async throws {
        let f = try await SandboxBankFixture().start()
        let created = try await f.authorise()
        let results = await withTaskGroup(of: Result<Completion, any Error>.self) { group in
            for login in ["alice", "bob", "carol", "dave"] {
                group.addTask {
                    do { return .success(try await f.completeOnPage(created, login: login)) } catch { return .failure(error) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let wins = results.compactMap { try? $0.get() }
        #expect(wins.count == 1)
        for case .failure(let error) in results { #expect((error as? SandboxError)?.code == .authorisationCompleted) }
        #expect(try await f.scheduled().filter { $0.type == "entity.created" }.count == 1)
        #expect(try await f.bank.consent(id: created.id, applicationID: "app_a").consent.login == wins[0].consents[0].login)
    }

    /// An institution taken offline after the request fails the approval as the bank would (temporarily_unavailable).
    @Test func institutionWentOffline() async throws {
        let f = try await SandboxBankFixture().start()
        let created = try await f.authorise()
        var availability = InstitutionAvailability.allUp
        availability.bank.active.data = false
        _ = try await f.bank.updateInstitution(id: "leanmb1", applicationID: "app_a", availability: availability)
        let done = try await f.completeOnPage(created, login: "alice")
        #expect(done.authorisation.status == .failed)
        #expect(SandboxBankFixture.value("error-description", in: done.redirectURL) == Data("temporarily_unavailable".utf8).base64EncodedString())
    }

    /// Deep links and callbacks with a query or a fragment come out right through the whole flow.
    @Test func callbackShapes() async throws {
        let f = try await SandboxBankFixture().start()
        let deep = try await f.completeOnPage(try await f.authorise(callback: "myapp://done", oneTimeToken: true), login: "u")
        #expect(deep.redirectURL.hasPrefix("myapp://done?one-time-token=eyJ"))
        let query = try await f.completeOnPage(try await f.authorise(callback: "https://app.example/with?time=1335"), login: "u")
        #expect(query.redirectURL.hasPrefix("https://app.example/with?time=1335&consent=eyJ"))
        let fragment = try await f.completeOnPage(try await f.authorise(callback: "https://app.example/spa#/linked"), login: "error.invalid_client")
        #expect(fragment.redirectURL.hasPrefix("https://app.example/spa?application-user-id=a%40f.com&"))
        #expect(fragment.redirectURL.hasSuffix("&error-source=institution&error=configuration_error&error-description=aW52YWxpZF9jbGllbnQ%3D#/linked"))
    }
}
