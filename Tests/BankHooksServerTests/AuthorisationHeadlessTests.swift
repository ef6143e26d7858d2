import BankHooksCore
import BankHooksSandbox
import BankHooksServer
import BankHooksTestSupport
import Foundation
import Testing

/// The authorisation's other ways to end: the headless completion (for CI), a slow bank, and expiry.
@Suite struct AuthorisationHeadlessTests {
    // MARK: Headless

    /// The headless completion returns exactly what the form's redirect is: byte for byte for a
    /// failure (no token in it), and parameter for parameter with a token of its own for a success.
    @Test(arguments: TestBackend.all) func theHeadlessCompletionReturnsTheURLTheFormGives(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let request: [String: Any] = [
                "institution_id": "bank1-ksa", "application_user_id": "a@f.com", "user_uuid": AuthorisationFlowTests.userUUID,
                "callback": server.callbacks.url("/cb?x=1"), "forward_parameters": ["k=v"],
            ]
            for login in ["error.invalid_client", "error.user_cancelled", "user", "multi"] {
                let viaForm = try await AuthorisationFlowTests.redirect(server, try await server.authorise(request), login: login)
                let twin = try await server.authorise(request)
                let twinID = try #require(twin["id"] as? String)
                let reply = try await server.api.call(.POST, "/v1/sandbox/authorisations/\(twinID)/complete", body: try jsonText(["login": login, "decision": "approve"]))
                #expect(reply.status == 200, "\(reply.text)")
                let headless = try #require(reply.json?["redirect_url"] as? String)
                if login.hasPrefix("error.") {
                    #expect(headless == viaForm, "\(login)")
                    #expect(reply.json?["status"] as? String == (login == "error.user_cancelled" ? "REJECTED" : "FAILED"))
                } else {
                    let a = rawParameters(try #require(query(of: viaForm))), b = rawParameters(try #require(query(of: headless)))
                    #expect(a.map(\.name) == b.map(\.name), "\(login)")
                    #expect(zip(a, b).allSatisfy { $0.name == "consent" || $0.value == $1.value }, "\(login)")
                    #expect(a.filter { $0.name == "consent" }.count == (login == "multi" ? 2 : 1))
                    #expect(headless.hasPrefix(server.callbacks.url("/cb?x=1&consent=")) && headless.hasSuffix("&k=v"))
                    #expect(reply.json?["status"] as? String == "AUTHORIZED")
                    let read = try await server.api.call(.GET, "/v1/authorisations/\(twinID)").json
                    #expect((read?["consent_ids"] as? [String])?.count == (login == "multi" ? 2 : 1))
                    #expect((read?["consent_ids"] as? [String])?.first == twinID)
                }
                // Completing again is a 409.
                let again = try await server.api.call(.POST, "/v1/sandbox/authorisations/\(twinID)/complete", body: try jsonText(["login": login, "decision": "approve"]))
                #expect(again.status == 409 && again.json?["type"] as? String == "urn:bankhooks:problem:authorisation-completed")
            }
            // Deny, a wrong password, an unknown id, another application's, a bad body.
            let open = try #require(try await server.authorise(request)["id"] as? String)
            let wrong = try await server.api.call(.POST, "/v1/sandbox/authorisations/\(open)/complete", body: try jsonText(["login": "wrong_password", "decision": "approve"]))
            #expect(wrong.status == 422 && wrong.json?["type"] as? String == "urn:bankhooks:problem:wrong-password")
            let denied = try await server.api.call(.POST, "/v1/sandbox/authorisations/\(open)/complete", body: try jsonText(["login": "user", "decision": "deny"]))
            #expect(denied.json?["status"] as? String == "REJECTED")
            #expect((denied.json?["redirect_url"] as? String)?.hasSuffix("error-source=user&error=access_denied&error-description=YWNjZXNzX2RlbmllZA%3D%3D&k=v") == true)
            let unknown = try await server.api.call(.POST, "/v1/sandbox/authorisations/0e7bdbd3-5a7e-4d39-a5bb-8c1f4d7e0c11/complete", body: try jsonText(["login": "user", "decision": "approve"]))
            #expect(unknown.status == 404 && unknown.json?["field"] as? String == "path:id")
            let otherKey = try await server.key(.admin, application: "app_other")
            let another = try await server.api(key: otherKey).call(.POST, "/v1/sandbox/authorisations/\(open)/complete", body: try jsonText(["login": "user", "decision": "approve"]))
            #expect(another.status == 404)
            for (body, field) in [(#"{"login": "user"}"#, "/decision"), (#"{"login": "user", "decision": "maybe"}"#, "/decision"), (#"{"decision": "approve"}"#, "/login"), (#"{"login": " ", "decision": "approve"}"#, "/login"), ("[]", "/")] {
                let bad = try await server.api.call(.POST, "/v1/sandbox/authorisations/\(open)/complete", body: body)
                #expect(bad.status == 422 && bad.json?["field"] as? String == field, "\(body): \(bad.text)")
            }
        }
    }

    @Test func anExpiredAuthorisationCanNoLongerBeAnswered() async throws {
        var timings = SandboxTimings.demo
        // Long enough that creating it and opening its page fit inside even on a busy machine.
        timings.authorisationLifetime = .seconds(3)
        try await SandboxServer.run(timings: timings) { server in
            let created = try await server.authorise(["institution_id": "leanmb1", "user_uuid": AuthorisationFlowTests.userUUID, "callback": server.callbacks.url("/late")])
            let id = try #require(created["id"] as? String)
            let form = try await Browser().open(try #require(created["authorisation_url"] as? String))
            let expiresAt = try #require((created["expires_at"] as? String).flatMap(Timestamp.init(iso8601:)))
            // Until just past its expiry, by the server's clock (the same machine's).
            let left = expiresAt.milliseconds - SystemClock().now().milliseconds
            try await Task.sleep(for: .milliseconds(max(0, left) + 200))
            let page = try await Browser().get(try #require(created["authorisation_url"] as? String))
            #expect(page.status == 410 && page.html.contains("expired"))
            let submitted = try await Browser().submit(form, username: "user")
            #expect(submitted.status == 410 && submitted.location == nil)
            let headless = try await server.call(
                .POST, "/v1/sandbox/authorisations/\(id)/complete", template: "/v1/sandbox/authorisations/{id}/complete",
                body: try jsonText(["login": "user", "decision": "approve"]))
            #expect(headless.status == 409 && headless.json?["type"] as? String == "urn:bankhooks:problem:authorisation-expired")
            let read = try await server.call(.GET, "/v1/authorisations/\(id)", template: "/v1/authorisations/{id}")
            #expect(read.json?["status"] as? String == "EXPIRED")
            #expect(server.callbacks.visits.isEmpty)
        }
    }

    @Test func aSlowLoginIsAnsweredAfterTheBanksDelay() async throws {
        var timings = SandboxTimings.demo
        timings.slowLogin = .milliseconds(700)
        try await SandboxServer.run(timings: timings) { server in
            let created = try await server.authorise(["institution_id": "leanmb1", "user_uuid": AuthorisationFlowTests.userUUID, "callback": server.callbacks.url("/slow")])
            let start = ContinuousClock.now
            let location = try await AuthorisationFlowTests.redirect(server, created, login: "slow")
            #expect(ContinuousClock.now - start >= .milliseconds(700))
            #expect(location.contains("consent="))
        }
    }
}
