import AsyncHTTPClient
import BankHooksCore
import BankHooksSandbox
import BankHooksServer
import BankHooksTestSupport
import Foundation
import Testing

/// Seed 003 end to end, without a browser: create an authorisation, GET its `authorisation_url`
/// (the consent page: cookie and hidden `state`/`csrf`), POST the form, take the 302's `Location`
/// and follow it to a real callback page on 127.0.0.1, then check every parameter against the seed.
@Suite struct AuthorisationFlowTests {
    static let userUUID = "88c8ea6c-25a3-4ecb-b134-a4b23dde2df7"

    /// Seed 003's error table, as printed: login → (error-source, error, the institution's error).
    static let errorTable: [(login: String, source: String, error: String, bankError: String)] = [
        ("error.access_denied", "user", "access_denied", "access_denied"),
        ("error.user_cancelled", "user", "access_denied", "user_cancelled"),
        ("error.login_required", "user", "access_denied", "login_required"),
        ("error.account_selection_required", "user", "access_denied", "account_selection_required"),
        ("error.interaction_required", "user", "access_denied", "interaction_required"),
        ("error.invalid_grant", "institution", "invalid_grant", "invalid_grant"),
        ("error.consent_required", "institution", "invalid_grant", "consent_required"),
        ("error.server_error", "institution", "invalid_grant", "server_error"),
        ("error.temporarily_unavailable", "institution", "invalid_grant", "temporarily_unavailable"),
        ("error.request_not_supported", "institution", "invalid_grant", "request_not_supported"),
        ("error.request_uri_not_supported", "institution", "invalid_grant", "request_uri_not_supported"),
        ("error.invalid_request", "institution", "institution_server_error", "invalid_request"),
        ("error.registration_not_supported", "institution", "institution_server_error", "registration_not_supported"),
        ("error.unauthorized_client", "institution", "institution_server_error", "unauthorized_client"),
        ("error.unsupported_grant_type", "institution", "institution_server_error", "unsupported_grant_type"),
        ("error.invalid_scope", "institution", "institution_server_error", "invalid_scope"),
        ("error.invalid_client", "institution", "configuration_error", "invalid_client"),
        // The table's `-`: the bank's own text (the seed's real example decodes to it).
        ("error.uncategorized", "institution", "uncategorized_error", "This request has already been authorised"),
    ]

    /// Form-URL-encoding as the seed's examples show it (`@` → `%40`, `=` → `%3D`).
    static func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? text
    }

    /// A JWT's header and claims (not verified: the server checks them).
    static func jwt(_ token: String) throws -> (header: [String: Any], claims: [String: Any]) {
        let parts = token.split(separator: ".").map(String.init)
        try #require(parts.count == 3, "\(token) is not a JWT")
        func decode(_ part: String) throws -> [String: Any] {
            var text = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while text.count % 4 != 0 { text += "=" }
            let data = try #require(Data(base64Encoded: text))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        return (try decode(parts[0]), try decode(parts[1]))
    }

    /// Drives the consent page for an authorisation and returns the 302's `Location` (checked to be a 302).
    static func redirect(_ server: SandboxServer, _ authorisation: [String: Any], login: String, password: String? = nil, decision: String = "approve") async throws -> String {
        let browser = Browser()
        let form = try await browser.open(try #require(authorisation["authorisation_url"] as? String))
        let answer = try await browser.submit(form, username: login, password: password, decision: decision)
        #expect(answer.status == 302, "\(answer.html.prefix(500))")
        #expect(answer.headers.first(name: "Cache-Control") == "no-store")
        return try #require(answer.location)
    }

    /// Follows `location` (a GET, as a browser does after a 302) and returns what the callback page received.
    static func follow(_ location: String, on server: SandboxServer) async throws -> CallbackPage.Visit {
        let before = server.callbacks.visits.count
        let reply = try await Browser().get(location)
        #expect(reply.status == 200)
        let visits = server.callbacks.visits
        try #require(visits.count == before + 1, "the callback page was not visited")
        return visits[before]
    }

    // MARK: Success

    @Test(arguments: TestBackend.all) func aSuccessfulLinkRedirectsWithTheConsentAndTheSeedsParametersInOrder(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let callback = server.callbacks.url("/done")
            let created = try await server.authorise([
                "institution_id": "leanmb1", "application_user_id": "a@f.com", "user_uuid": Self.userUUID, "callback": callback,
            ])
            let id = try #require(created["id"] as? String)
            #expect(created["status"] as? String == "AWAITING_AUTHORIZATION")
            let state = try #require(try await server.components.store.authorisation(id: id)?.state)
            #expect(created["authorisation_url"] as? String == "\(server.baseURL)/sandbox-bank/authorise/\(id)?state=\(state)")
            let location = try await Self.redirect(server, created, login: "user")
            #expect(location.hasPrefix(callback + "?consent="))
            let visit = try await Self.follow(location, on: server)
            #expect(visit.path == "/done")
            let parameters = rawParameters(try #require(visit.query))
            #expect(parameters.map(\.name) == ["consent", "application-user-id", "user-uuid", "institution"])
            #expect(parameters[1].value == "a%40f.com")
            #expect(parameters[2].value == Self.userUUID)
            #expect(parameters[3].value == "leanmb1")
            // The consent token: Yapily's JWT (HS512, its claim names), naming this consent.
            let token = try #require(parameters[0].value.removingPercentEncoding)
            let (header, claims) = try Self.jwt(token)
            #expect(header["alg"] as? String == "HS512" && header["typ"] as? String == "JWT")
            #expect(claims["INSTITUTION"] as? String == "leanmb1")
            #expect(claims["CONSENT"] as? String == id)
            #expect(claims["APPLICATION_USER_ID"] as? String == "a@f.com")
            #expect(claims["USER"] as? String == Self.userUUID)
            // The authorisation is authorised with one consent, and the token reads the data.
            let read = try await server.api.call(.GET, "/v1/authorisations/\(id)")
            #expect(read.json?["status"] as? String == "AUTHORIZED")
            #expect(read.json?["consent_ids"] as? [String] == [id])
            let accounts = try await server.api.call(.GET, "/v1/sandbox/accounts", headers: ["Consent": token])
            #expect(accounts.status == 200, "\(accounts.text)")
            #expect((accounts.json?["data"] as? [[String: Any]])?.isEmpty == false)
            // Answering again is refused: the request is complete.
            let again = try await Browser().get(try #require(created["authorisation_url"] as? String))
            #expect(again.status == 409 && again.html.contains("already complete"))
        }
    }

    @Test(arguments: TestBackend.all) func aOneTimeTokenIsExchangedOnceForTheConsent(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let created = try await server.authorise([
                "institution_id": "leanmb1", "application_user_id": "user-7", "callback": server.callbacks.url("/ott"), "one_time_token": true,
            ])
            let id = try #require(created["id"] as? String)
            let userUUID = try #require(created["user_uuid"] as? String)
            let visit = try await Self.follow(try await Self.redirect(server, created, login: "alice"), on: server)
            let parameters = rawParameters(try #require(visit.query))
            #expect(parameters.map(\.name) == ["one-time-token", "application-user-id", "user-uuid", "institution"])
            #expect(parameters[1].value == "user-7" && parameters[2].value == userUUID && parameters[3].value == "leanmb1")
            let ott = try #require(parameters[0].value.removingPercentEncoding)
            let (header, claims) = try Self.jwt(ott)
            #expect(header["alg"] as? String == "HS512")
            #expect(claims["INSTITUTION"] as? String == "leanmb1" && claims["UUID"] is String)
            #expect(claims["CONSENT"] == nil, "the one-time token does not name the consent")
            // Exchanged: 201 with the same consent id, AUTHORIZED, and its token.
            let exchanged = try await server.api.call(.POST, "/v1/consent-one-time-token", body: try jsonText(["one_time_token": ott]))
            #expect(exchanged.status == 201, "\(exchanged.text)")
            let consent = try #require(exchanged.json)
            #expect(consent["id"] as? String == id)
            #expect(consent["authorisation_id"] as? String == id)
            #expect(consent["status"] as? String == "AUTHORIZED")
            #expect(consent["user_uuid"] as? String == userUUID && consent["application_user_id"] as? String == "user-7")
            let token = try #require(consent["consent_token"] as? String)
            #expect(try Self.jwt(token).claims["CONSENT"] as? String == id)
            // Exchanged again: refused, saying nothing about the consent.
            let again = try await server.api.call(.POST, "/v1/consent-one-time-token", body: try jsonText(["one_time_token": ott]))
            #expect(again.status == 400)
            #expect(again.json?["type"] as? String == "urn:bankhooks:problem:invalid-one-time-token")
            #expect(!again.text.contains(id) && !again.text.contains(userUUID))
        }
    }

    @Test func anExpiredOneTimeTokenIsRefused() async throws {
        var timings = SandboxTimings.demo
        timings.oneTimeTokenLifetime = .milliseconds(400)
        try await SandboxServer.run(timings: timings) { server in
            let created = try await server.authorise(["institution_id": "leanmb1", "user_uuid": Self.userUUID, "callback": server.callbacks.url("/x"), "one_time_token": "true"])
            let location = try await Self.redirect(server, created, login: "user")
            let locationQuery = try #require(query(of: location))
            let ott = try #require(rawParameters(locationQuery).first { $0.name == "one-time-token" }?.value.removingPercentEncoding)
            try await Task.sleep(for: .milliseconds(600))
            let reply = try await server.api.call(.POST, "/v1/consent-one-time-token", body: try jsonText(["one_time_token": ott]))
            #expect(reply.status == 400, "\(reply.text)")
            #expect(reply.json?["type"] as? String == "urn:bankhooks:problem:invalid-one-time-token")
            #expect(reply.json?["detail"] as? String == "the one-time token is unknown, expired or already used")
        }
    }

    // MARK: Failures

    /// Each row of the seed's error table (and Deny): the ids, then `error-source`, `error` and
    /// `error-description` (standard base64 of the institution's error, `=` as `%3D`).
    @Test(arguments: TestBackend.all) func eachRowOfTheErrorTableRedirectsWithItsErrorParameters(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let rows = Self.errorTable.map { ($0.login, "approve", $0) } + [("alice", "deny", ("", "user", "access_denied", "access_denied"))]
            for (login, decision, row) in rows {
                let created = try await server.authorise([
                    "institution_id": "modelo-sandbox", "application_user_id": "beneficiary:95e8", "user_uuid": Self.userUUID,
                    "callback": server.callbacks.url("/failed"),
                ])
                let id = try #require(created["id"] as? String)
                let visit = try await Self.follow(try await Self.redirect(server, created, login: login, decision: decision), on: server)
                #expect(visit.path == "/failed")
                let parameters = rawParameters(try #require(visit.query))
                #expect(parameters.map(\.name) == ["application-user-id", "user-uuid", "institution", "error-source", "error", "error-description"], "\(login)")
                #expect(parameters.map(\.value) == [
                    "beneficiary%3A95e8", Self.userUUID, "modelo-sandbox", row.source, row.error, Self.encoded(Data(row.bankError.utf8).base64EncodedString()),
                ], "\(login)")
                let status = try await server.api.call(.GET, "/v1/authorisations/\(id)").json?["status"] as? String
                #expect(status == (row.source == "user" ? "REJECTED" : "FAILED"), "\(login)")
            }
            // The seed's own example of the uncategorized row, byte for byte.
            #expect(Self.encoded(Data("This request has already been authorised".utf8).base64EncodedString()) == "VGhpcyByZXF1ZXN0IGhhcyBhbHJlYWR5IGJlZW4gYXV0aG9yaXNlZA%3D%3D")
        }
    }

    // MARK: Callbacks

    @Test func aCustomSchemeDeepLinkGetsTheParametersAfterItsOwnQuestionMark() async throws {
        try await SandboxServer.run(redirectCallbacks: ["myapp://done", "myapp://open/"]) { server in
            let created = try await server.authorise(["institution_id": "leanmb1", "application_user_id": "a@f.com", "callback": "myapp://done"])
            let location = try await Self.redirect(server, created, login: "user")
            // Not followed (only the app could); the scheme, host and path are as registered.
            #expect(location.hasPrefix("myapp://done?consent="))
            #expect(rawParameters(try #require(query(of: location))).map(\.name) == ["consent", "application-user-id", "user-uuid", "institution"])
            let prefixed = try await server.authorise(["institution_id": "leanmb1", "application_user_id": "a@f.com", "callback": "myapp://open/screen?tab=2"])
            let deep = try await Self.redirect(server, prefixed, login: "user")
            #expect(deep.hasPrefix("myapp://open/screen?tab=2&consent="))
        }
    }

    @Test func aCallbacksOwnQueryIsKeptAndForwardParametersComeLast() async throws {
        try await SandboxServer.run { server in
            let created = try await server.authorise([
                "institution_id": "leanmb1", "application_user_id": "a@f.com", "callback": server.callbacks.url("/cb?time=1335&flow_id=f+1"),
                "forward_parameters": ["callback_token=t=1", "note=a b"],
            ])
            let visit = try await Self.follow(try await Self.redirect(server, created, login: "user"), on: server)
            let parameters = rawParameters(try #require(visit.query))
            #expect(parameters.map(\.name) == ["time", "flow_id", "consent", "application-user-id", "user-uuid", "institution", "callback_token", "note"])
            #expect(parameters[0].value == "1335" && parameters[1].value == "f+1", "the callback's own query as registered")
            #expect(parameters[6].value == "t%3D1" && parameters[7].value == "a%20b")
            // A fragment moves after the parameters.
            let withFragment = try await server.authorise(["institution_id": "leanmb1", "user_uuid": Self.userUUID, "callback": server.callbacks.url("/f#section")])
            let location = try await Self.redirect(server, withFragment, login: "error.invalid_client")
            #expect(location.hasPrefix(server.callbacks.url("/f?user-uuid=")))
            #expect(location.hasSuffix("&error-description=aW52YWxpZF9jbGllbnQ%3D#section"))
        }
    }

    @Test func anUnregisteredCallbackIsRefusedNamingIt() async throws {
        try await SandboxServer.run(redirectCallbacks: ["https://good.example/", "https://exact.example/cb", "myapp://done"]) { server in
            func attempt(_ callback: String) async throws -> API.Reply {
                try await server.api.call(.POST, "/v1/authorisations", body: try jsonText(["institution_id": "leanmb1", "user_uuid": Self.userUUID, "callback": callback]))
            }
            for accepted in ["https://good.example/", "https://good.example/any/path?x=1", "https://exact.example/cb", "myapp://done"] {
                #expect(try await attempt(accepted).status == 201, "\(accepted)")
            }
            // The prefix rule's traps: another host that starts alike, credentials, a longer path
            // of an exact entry, another case, a missing slash, a sibling scheme.
            for refused in [
                "https://good.example.evil.com/", "https://good.example@evil.com/", "https://good.exampleevil.com/", "https://exact.example/cb/more",
                "https://exact.example/cbx", "https://exact.example/cb?x=1", "HTTPS://good.example/x", "https://good.example", "http://good.example/",
                "myapp://done/evil", "myapp://donex", "https://evil.com/https://good.example/", "javascript://good.example/%0aalert(1)",
            ] {
                let reply = try await attempt(refused)
                #expect(reply.status == 422, "\(refused) → \(reply.status)")
                #expect(reply.json?["type"] as? String == "urn:bankhooks:problem:invalid-field", "\(refused)")
                #expect(reply.json?["field"] as? String == "/callback", "\(refused)")
                #expect((reply.json?["detail"] as? String)?.contains(refused) == true, "\(refused): \(reply.text)")
            }
        }
    }

    // MARK: The page's protections

    @Test func aPostWithoutTheRightCSRFFieldIsA403Page() async throws {
        try await SandboxServer.run { server in
            let browser = Browser()
            let first = try await server.authorise(["institution_id": "leanmb1", "user_uuid": Self.userUUID, "callback": server.callbacks.url("/a")])
            let second = try await server.authorise(["institution_id": "leanmb1", "user_uuid": Self.userUUID, "callback": server.callbacks.url("/b")])
            let form = try await browser.open(try #require(first["authorisation_url"] as? String))
            let other = try await browser.open(try #require(second["authorisation_url"] as? String))
            let fields = [("state", form.state), ("username", "user"), ("password", "user"), ("decision", "approve")]
            let attempts: [(String, [(String, String)], String?)] = [
                ("no cookie", fields + [("csrf", form.csrf)], nil),
                ("no field", fields, form.cookie),
                ("a wrong field", fields + [("csrf", String(repeating: "0", count: 64))], form.cookie),
                ("another authorisation's field", fields + [("csrf", other.csrf)], other.cookie),
                ("another browser's cookie", fields + [("csrf", form.csrf)], other.cookie == form.cookie ? nil : other.cookie),
            ]
            for (what, body, cookie) in attempts {
                let answer = try await browser.post(form.action, form: body, cookie: cookie)
                #expect(answer.status == 403, "\(what)")
                #expect(answer.headers.first(name: "Content-Type") == "text/html; charset=utf-8", "\(what)")
                #expect(answer.html.contains("This form has expired"), "\(what)")
                #expect(answer.location == nil)
            }
            // A wrong state with the right CSRF field is refused too; nothing was completed.
            let wrongState = try await browser.post(
                form.action, form: [("state", String(repeating: "a", count: 32)), ("csrf", form.csrf), ("username", "user"), ("decision", "approve")],
                cookie: form.cookie)
            #expect(wrongState.status == 403 && wrongState.html.contains("not valid"))
            let id = try #require(first["id"] as? String)
            #expect(try await server.api.call(.GET, "/v1/authorisations/\(id)").json?["status"] as? String == "AWAITING_AUTHORIZATION")
            // The page itself: a wrong state, an unknown id, a form that is not one.
            #expect(try await browser.get("\(server.baseURL)/sandbox-bank/authorise/\(id)?state=nope").status == 403)
            #expect(try await browser.get("\(server.baseURL)/sandbox-bank/authorise/\(id)").status == 403)
            #expect(try await browser.get("\(server.baseURL)/sandbox-bank/authorise/0e7bdbd3-5a7e-4d39-a5bb-8c1f4d7e0c11?state=x").status == 404)
            let json = try await browser.post(form.action, form: [("a", "b")], cookie: form.cookie, contentType: "application/json")
            #expect(json.status == 415)
            // Content types that once trapped the server: answered, and the server lives on.
            for odd in [";", "", " ;", ";;;"] {
                #expect(try await browser.post(form.action, form: [("a", "b")], cookie: form.cookie, contentType: odd).status == 415, "\(odd)")
            }
            // And the right form still works afterwards.
            #expect(try await browser.submit(form, username: "user").status == 302)
        }
    }

    /// One browser, two consent pages: the second arrival keeps the browser's cookie (Lax: it is
    /// sent on the navigation from the app), so the first page's form still works.
    @Test func twoPagesInOneBrowserShareItsCookieAndBothForms() async throws {
        try await SandboxServer.run { server in
            let browser = Browser()
            let first = try await server.authorise(["institution_id": "leanmb1", "user_uuid": Self.userUUID, "callback": server.callbacks.url("/a")])
            let second = try await server.authorise(["institution_id": "leanmb1", "user_uuid": Self.userUUID, "callback": server.callbacks.url("/b")])
            let form = try await browser.open(try #require(first["authorisation_url"] as? String))
            let again = try await browser.get(try #require(second["authorisation_url"] as? String), cookie: form.cookie)
            #expect(again.status == 200 && again.cookie == nil, "the browser's cookie is kept")
            let other = Browser.Form(action: form.action.replacingOccurrences(of: try #require(first["id"] as? String), with: try #require(second["id"] as? String)),
                                     state: try #require(again.hidden("state")), csrf: try #require(again.hidden("csrf")), cookie: form.cookie)
            #expect(try await browser.submit(other, username: "user").location?.hasPrefix(server.callbacks.url("/b?")) == true)
            #expect(try await browser.submit(form, username: "user").location?.hasPrefix(server.callbacks.url("/a?")) == true)
        }
    }

    @Test(arguments: TestBackend.all) func aWrongPasswordShowsTheFormAgainAndSendsLeansFailureBody(_ backend: TestBackend) async throws {
        try await TestReceiver.run { receiver in
            try await SandboxServer.run(backend: backend) { server in
                let registered = try await server.api.call(.PUT, "/v1/callback-url", body: try jsonText(["url": receiver.url("/lean-callback")]))
                #expect(registered.status == 201, "\(registered.text)")
                let created = try await server.authorise(["institution_id": "leanmb1", "application_user_id": "00001", "callback": server.callbacks.url("/cb")])
                let browser = Browser()
                let form = try await browser.open(try #require(created["authorisation_url"] as? String))
                let wrong = try await browser.submit(form, username: "alice", password: "not-alice")
                #expect(wrong.status == 200)
                #expect(wrong.html.contains("The username or password submitted was incorrect"))
                #expect(wrong.html.contains(#"value="alice""#), "the username is kept")
                // Lean's Callback URL gets seed 000's failure body, exactly.
                let received = try #require(try await receiver.waitForRequests(1).first)
                #expect(received.path == "/lean-callback")
                let body = try JSONSerialization.jsonObject(with: Data(received.body)) as? NSDictionary
                let expected = try JSONSerialization.jsonObject(with: Data(#"{"status": {"code": "401", "message": "The username or password submitted was incorrect"}, "data": null}"#.utf8)) as? NSDictionary
                #expect(body == expected, "\(received.bodyText)")
                // The request stays open: the right password (from the page shown again) succeeds.
                let retry = Browser.Form(action: form.action, state: try #require(wrong.hidden("state")), csrf: try #require(wrong.hidden("csrf")), cookie: form.cookie)
                let answer = try await browser.submit(retry, username: "alice")
                #expect(answer.status == 302)
                #expect(answer.location?.contains("consent=") == true)
                // Seed 000's success body follows on the Callback URL.
                let success = try await receiver.waitForRequests(2)[1]
                let result = try #require(try JSONSerialization.jsonObject(with: Data(success.body)) as? [String: Any])
                #expect((result["status"] as? [String: Any])?["code"] as? String == "200")
            }
        }
    }
}
