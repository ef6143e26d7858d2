@testable import BankHooksServer
import BankHooksCore
import BankHooksLoopback
import BankHooksSandbox
import BankHooksTestSupport
import Foundation
import Testing

/// What comes after the sandbox bank for a Yapily request: the emulated auth.yapily.com step
/// (`GET /yapily/auth`), its result page for a request without a callback, and a custom
/// `redirect` with its code exchanged once at `POST /consent-auth-code`.
@Suite struct YapilyRedirectTests {
    typealias Flow = YapilyFlowTests

    /// The auth.yapily.com step answers only the code the bank gave: not the state alone, not a
    /// changed code, not before the bank answered. A native /v1 authorisation skips it.
    @Test(arguments: TestBackend.all) func theAuthStepAnswersOnlyTheBanksCodeAndNativeAuthorisationsSkipIt(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let client = try await YapilyClient.make(server)
            let created = try await Flow.authorise(client, [
                "applicationUserId": "hop", "institutionId": "modelo-sandbox", "callback": server.callbacks.url("/hop"),
            ])
            let id = try #require(created["id"] as? String), state = try #require(created["state"] as? String)
            // Before the bank answers, a code made up from what the authorisation URL shows gets nothing.
            for code in ["\(id).\(String(repeating: "0", count: 64))", id, "", "x.y"] {
                let early = try await Browser().get("\(server.baseURL)/yapily/auth?code=\(code)&state=\(state)")
                #expect(early.status == 403 && early.html.contains("This link is not valid"), "\(code): \(early.status)")
                #expect(early.headers.first(name: "Content-Type") == "text/html; charset=utf-8")
            }
            let step = try await Flow.bankAnswer(server, created, login: "user")
            for wrong in [step.replacingOccurrences(of: "state=\(state)", with: "state=\(String(repeating: "a", count: 32))"),
                          step.replacingOccurrences(of: "code=\(id).", with: "code=\(id).0"), "\(server.baseURL)/yapily/auth"] {
                let refused = try await Browser().get(wrong)
                #expect(refused.status == 403 && refused.location == nil, "\(wrong)")
            }
            // The step sends the browser on to the callback with the seed's parameters; a reload does the same.
            let first = try await Browser().get(step), again = try await Browser().get(step)
            #expect(first.status == 302 && again.location == first.location)
            let location = try #require(first.location)
            #expect(location.hasPrefix(server.callbacks.url("/hop?consent=")))
            #expect(location.hasSuffix("&application-user-id=hop&user-uuid=\(try #require(created["userUuid"] as? String))&institution=modelo-sandbox"))
            let stored = try #require(try await server.components.store.authorisation(id: id))
            #expect(stored.redirectURL == location, "the step sends exactly the redirect the bank's completion built")

            // A native /v1 authorisation goes from the bank straight to its callback, as before.
            let native = try await server.authorise([
                "institution_id": "modelo-sandbox", "application_user_id": "n", "callback": server.callbacks.url("/native"),
            ])
            let direct = try await AuthorisationFlowTests.redirect(server, native, login: "user")
            #expect(direct.hasPrefix(server.callbacks.url("/native?consent=")))
            // And /v1 may not use the facades' own callbacks.
            let reserved = try await server.api.call(.POST, "/v1/authorisations", body: try jsonText([
                "institution_id": "modelo-sandbox", "application_user_id": "n", "callback": YapilyAPI.resultPageCallback,
            ]))
            #expect(reserved.status == 400 || reserved.status == 422, "\(reserved.text)")
            #expect(reserved.text.contains("BankHooks' own"), "\(reserved.text)")
        }
    }

    /// Without a callback the journey ends on auth.yapily.com's own page, which shows the outcome
    /// (no token, no external asset); the client polls the consent, as Yapily's Java example does.
    @Test(arguments: TestBackend.all) func withoutACallbackTheJourneyEndsOnTheResultPage(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let client = try await YapilyClient.make(server)
            for (login, decision, status) in [("alice", "approve", "AUTHORIZED"), ("error.server_error", "approve", "FAILED"), ("bob", "deny", "REJECTED")] {
                let created = try await Flow.authorise(client, ["applicationUserId": "page@f.com", "institutionId": "modelo-sandbox"])
                let id = try #require(created["id"] as? String)
                let step = try await Flow.bankAnswer(server, created, login: login, decision: decision)
                let page = try await Browser().get(step)
                #expect(page.status == 200 && page.location == nil, "\(login)")
                #expect(page.headers.first(name: "Content-Type") == "text/html; charset=utf-8")
                #expect(page.headers.first(name: "Content-Security-Policy")?.hasPrefix("default-src 'none'") == true)
                #expect(page.html.contains(#"data-outcome="\#(status == "AUTHORIZED" ? "authorised" : "failed")""#), "\(login)")
                #expect(page.html.contains("<td>\(id)</td>") && page.html.contains("<td>\(status)</td>"), "\(login)")
                #expect(page.html.contains("<td>page@f.com</td>") && page.html.contains("<td>modelo-sandbox</td>"))
                #expect(!page.html.contains("src=") && !page.html.contains("<link") && !page.html.contains("<script"), "self-contained")
                let consent = try Flow.data(try await client.call(.GET, "/consents/\(id)", template: "/consents/{consentId}"))
                #expect(consent["status"] as? String == status, "\(login)")
                if status == "AUTHORIZED" {
                    let token = try #require(consent["consentToken"] as? String)
                    #expect(!page.html.contains(token), "the page shows no token")
                    #expect(try await client.call(.GET, "/accounts", template: "/accounts", headers: ["consent": token]).status == 200)
                } else if status == "FAILED" {
                    #expect(page.html.contains("<td>institution</td>") && page.html.contains("<td>invalid_grant</td>") && page.html.contains("<td>server_error</td>"))
                } else {
                    #expect(page.html.contains("<td>user</td>") && page.html.contains("<td>access_denied</td>"))
                }
            }
        }
    }

    /// A custom `redirect`: the bank sends the browser straight there with `code` and `state`;
    /// `POST /consent-auth-code` exchanges the code once (200, the bare Consent with its token).
    @Test(arguments: TestBackend.all) func aCustomRedirectGetsACodeThatIsExchangedOnce(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let client = try await YapilyClient.make(server)
            let redirect = server.callbacks.url("/own?flow=7")
            let created = try await Flow.authorise(client, [
                "applicationUserId": "own", "institutionId": "modelo-sandbox", "redirect": ["url": redirect], "forwardParameters": ["tag=x"],
            ])
            let id = try #require(created["id"] as? String), state = try #require(created["state"] as? String)
            let location = try await AuthorisationFlowTests.redirect(
                server, ["authorisation_url": try #require(created["authorisationUrl"] as? String)], login: "alice")
            #expect(location.hasPrefix(redirect + "&code="), "straight from the bank to the redirect: \(location)")
            let visit = try await AuthorisationFlowTests.follow(location, on: server)
            #expect(visit.path == "/own")
            let parameters = rawParameters(try #require(visit.query))
            #expect(parameters.map(\.name) == ["flow", "code", "state", "tag"])
            #expect(parameters[2].value == state && parameters[3].value == "x")
            let code = try #require(parameters[1].value.removingPercentEncoding)

            let body = try jsonText(["authCode": code, "authState": state])
            let exchanged = try await client.call(.POST, "/consent-auth-code", template: "/consent-auth-code", body: body)
            #expect(exchanged.status == 200, "\(exchanged.text)")
            let consent = try #require(exchanged.json)
            #expect(consent["id"] as? String == id && consent["status"] as? String == "AUTHORIZED" && consent["state"] as? String == state)
            let token = try #require(consent["consentToken"] as? String)
            #expect(try await client.call(.GET, "/accounts", template: "/accounts", headers: ["consent": token]).status == 200)
            let second = try await client.call(.POST, "/consent-auth-code", template: "/consent-auth-code", body: body)
            client.expectError(second, 400, "BAD_REQUEST")
            #expect(Flow.message(second) == "Invalid or expired authCode or authState")

            // The wrong state: refused (and the code is spent).
            let other = try await Flow.authorise(client, ["applicationUserId": "own", "institutionId": "modelo-sandbox", "redirect": ["url": redirect]])
            let otherLocation = try await AuthorisationFlowTests.redirect(
                server, ["authorisation_url": try #require(other["authorisationUrl"] as? String)], login: "alice")
            let otherQuery = try #require(URL(string: otherLocation)?.query)
            let otherCode = try #require(rawParameters(otherQuery).first { $0.name == "code" }?.value.removingPercentEncoding)
            let wrongState = try jsonText(["authCode": otherCode, "authState": state])
            client.expectError(try await client.call(.POST, "/consent-auth-code", template: "/consent-auth-code", body: wrongState), 400, "BAD_REQUEST")
            let spent = try jsonText(["authCode": otherCode, "authState": try #require(other["state"] as? String)])
            client.expectError(try await client.call(.POST, "/consent-auth-code", template: "/consent-auth-code", body: spent), 400, "BAD_REQUEST")

            // A callback's one-time token is not an authorisation code.
            let withCallback = try await Flow.authorise(client, [
                "applicationUserId": "own", "institutionId": "modelo-sandbox", "callback": server.callbacks.url("/cb"), "oneTimeToken": true,
            ])
            let visited = try await Flow.complete(server, withCallback, login: "alice")
            let visitedQuery = try #require(visited.query)
            let oneTimeToken = try #require(rawParameters(visitedQuery).first { $0.name == "one-time-token" }?.value.removingPercentEncoding)
            client.expectError(try await client.call(
                .POST, "/consent-auth-code", template: "/consent-auth-code",
                body: try jsonText(["authCode": oneTimeToken, "authState": try #require(withCallback["state"] as? String)])), 400, "BAD_REQUEST")

            // A failure at the bank: OAuth's error parameters and the state, nothing to exchange.
            let denied = try await Flow.authorise(client, ["applicationUserId": "own", "institutionId": "modelo-sandbox", "redirect": ["url": redirect]])
            let deniedLocation = try await AuthorisationFlowTests.redirect(
                server, ["authorisation_url": try #require(denied["authorisationUrl"] as? String)], login: "error.invalid_client")
            let deniedParameters = rawParameters(try #require(URL(string: deniedLocation)?.query))
            #expect(deniedParameters.map(\.name) == ["flow", "error", "error_description", "state"])
            #expect(deniedParameters[1].value == "invalid_client" && deniedParameters[3].value == denied["state"] as? String)
            let failed = try Flow.data(try await client.call(.GET, "/consents/\(try #require(denied["id"] as? String))", template: "/consents/{consentId}"))
            #expect(failed["status"] as? String == "FAILED")
            for bad in [#"{"authCode":"","authState":"s"}"#, #"{"authCode":"c"}"#, #"{"authCode":"eyJ.x.y","authState":"s"}"#] {
                client.expectError(try await client.call(.POST, "/consent-auth-code", template: "/consent-auth-code", body: bad), 400, "BAD_REQUEST")
            }
        }
    }
}
