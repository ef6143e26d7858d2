@testable import BankHooksServer
import BankHooksCore
import BankHooksLoopback
import BankHooksSandbox
import BankHooksTestSupport
import Foundation
import Testing

/// Re-authorisation as a Yapily client makes it (`PATCH /account-auth-requests`, header
/// `consent`): a new journey at the sandbox bank for the same consent, the auth.yapily.com step
/// to the first request's callback, and the consent AUTHORIZED again with the same id and token;
/// a failure that leaves the consent as it was; and the refusals, each in Yapily's shape.
@Suite struct YapilyReauthorisationTests {
    typealias Flow = YapilyFlowTests

    /// A linked consent: the request's `data` and the consent token the callback received
    /// (the exchanged one with `oneTimeToken`).
    static func link(_ client: YapilyClient, _ server: SandboxServer, _ body: [String: Any]) async throws -> (created: [String: Any], token: String) {
        let created = try await Flow.authorise(client, body)
        let visit = try await Flow.complete(server, created, login: "alice")
        let parameters = rawParameters(try #require(visit.query))
        if let oneTimeToken = parameters.first(where: { $0.name == "one-time-token" })?.value.removingPercentEncoding {
            let exchanged = try await client.call(
                .POST, "/consent-one-time-token", template: "/consent-one-time-token", body: try jsonText(["oneTimeToken": oneTimeToken]))
            return (created, try #require(exchanged.json?["consentToken"] as? String, "\(exchanged.text)"))
        }
        return (created, try #require(parameters.first { $0.name == "consent" }?.value.removingPercentEncoding))
    }

    /// A consent linked for `user` with a callback at `path` (no one-time token): its id and token.
    static func linkedConsent(_ client: YapilyClient, _ server: SandboxServer, user: String, path: String) async throws -> (id: String, token: String) {
        let (created, token) = try await link(client, server, [
            "applicationUserId": user, "institutionId": "modelo-sandbox", "callback": server.callbacks.url(path),
        ])
        return (try #require(created["id"] as? String), token)
    }

    /// `PATCH /account-auth-requests` with the token: 201 expected; its `data`.
    static func reauthorise(_ client: YapilyClient, token: String) async throws -> [String: Any] {
        let reply = try await client.call(.PATCH, "/account-auth-requests", template: "/account-auth-requests", headers: ["consent": token])
        #expect(reply.status == 201, "\(reply.text)")
        return try Flow.data(reply)
    }

    /// The re-authorisation's journey at the bank: its 302 to the auth.yapily.com step (a code of the journey's, the consent's state).
    static func bankAnswer(_ server: SandboxServer, _ patched: [String: Any], login: String, decision: String = "approve") async throws -> String {
        let location = try await AuthorisationFlowTests.redirect(
            server, ["authorisation_url": try #require(patched["authorisationUrl"] as? String)], login: login, decision: decision)
        #expect(location.hasPrefix("\(server.baseURL)/yapily/auth?code="), "\(location)")
        #expect(location.hasSuffix("&state=\(try #require(patched["state"] as? String))"), "\(location)")
        return location
    }

    /// The journey, then the auth.yapily.com step's 302, then the callback page: what it received.
    static func complete(_ server: SandboxServer, _ patched: [String: Any], login: String, decision: String = "approve") async throws -> CallbackPage.Visit {
        let step = try await Browser().get(try await bankAnswer(server, patched, login: login, decision: decision))
        #expect(step.status == 302, "\(step.html.prefix(300))")
        let callback = try #require(step.location)
        #expect(callback.hasPrefix(server.callbacks.baseURL + "/"), "from auth.yapily.com to the callback: \(callback)")
        return try await AuthorisationFlowTests.follow(callback, on: server)
    }

    static func consent(_ client: YapilyClient, _ id: String) async throws -> [String: Any] {
        try Flow.data(try await client.call(.GET, "/consents/\(id)", template: "/consents/{consentId}"))
    }

    @Test(arguments: TestBackend.all) func aReauthorisationIsANewJourneyForTheSameConsentWhichKeepsItsIdAndToken(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let client = try await YapilyClient.make(server)
            let callback = server.callbacks.url("/yapily/done?order=42")
            let (created, token) = try await Self.link(client, server, [
                "applicationUserId": "re@f.com", "institutionId": "modelo-sandbox", "callback": callback, "oneTimeToken": true,
                "forwardParameters": ["tag=x"],
            ])
            let id = try #require(created["id"] as? String), state = try #require(created["state"] as? String)
            let before = try await Self.consent(client, id)
            let authorizedAt = try #require(before["authorizedAt"] as? String)
            #expect(before["lastConfirmedAt"] == nil, "never re-authorised")

            // 201: the consent awaiting re-authorisation, with a URL that starts a new journey at the bank.
            let patched = try await Self.reauthorise(client, token: token)
            #expect(patched["id"] as? String == id && patched["status"] as? String == "AWAITING_RE_AUTHORIZATION")
            #expect(patched["authorizedAt"] as? String == authorizedAt && patched["state"] as? String == state)
            #expect(patched["userUuid"] as? String == created["userUuid"] as? String && patched["institutionId"] as? String == "modelo-sandbox")
            #expect(patched["institutionConsentId"] as? String == created["institutionConsentId"] as? String && patched["consentToken"] == nil)
            let url = try #require(patched["authorisationUrl"] as? String)
            #expect(url.hasPrefix("\(server.baseURL)/sandbox-bank/authorise/") && url.hasSuffix("?state=\(state)"))
            #expect(url != created["authorisationUrl"] as? String, "a new journey, not the first one's page")
            let qr = try await APIClient(baseURL: "", key: nil).call(.GET, try #require(patched["qrCodeUrl"] as? String))
            #expect(qr.status == 200 && qr.text.hasPrefix("<svg"))
            // Asked again before the user acts: the same journey.
            #expect(try await Self.reauthorise(client, token: token)["authorisationUrl"] as? String == url)

            // Meanwhile the consent reads AWAITING_RE_AUTHORIZATION, without its token, and its data is Yapily's 403.
            let awaiting = try await Self.consent(client, id)
            #expect(awaiting["status"] as? String == "AWAITING_RE_AUTHORIZATION" && awaiting["consentToken"] == nil)
            let listed = try await client.call(.GET, "/consents?limit=10&filter[status]=AWAITING_RE_AUTHORIZATION", template: "/consents")
            #expect((listed.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
            let authorisedOnly = try await client.call(.GET, "/consents?limit=10&filter[status]=AUTHORIZED", template: "/consents")
            #expect((authorisedOnly.json?["data"] as? [[String: Any]])?.isEmpty == true)
            let refused = try await client.call(.GET, "/accounts", template: "/accounts", headers: ["consent": token])
            client.expectError(refused, 403, "FORBIDDEN")
            #expect(Flow.message(refused).contains("AWAITING_RE_AUTHORIZATION"))
            let native = try await server.call(.GET, "/v1/consents/\(id)", template: "/v1/consents/{id}")
            #expect(native.json?["status"] as? String == "AUTHORIZED", "/v1 has no such status: \(native.text)")
            // The journey is no consent of its own.
            let journeyID = try #require(URL(string: url)?.lastPathComponent)
            client.expectError(try await client.call(.GET, "/consents/\(journeyID)", template: "/consents/{consentId}"), 404, "NOT_FOUND")

            // The bank, auth.yapily.com, the first request's callback: a one-time token for the same consent, the forwarded parameter.
            let visit = try await Self.complete(server, patched, login: "alice")
            #expect(visit.path == "/yapily/done")
            let parameters = rawParameters(try #require(visit.query))
            #expect(parameters.map(\.name) == ["order", "one-time-token", "application-user-id", "user-uuid", "institution", "tag"])
            let oneTimeToken = try #require(parameters[1].value.removingPercentEncoding)
            let exchanged = try await client.call(
                .POST, "/consent-one-time-token", template: "/consent-one-time-token", body: try jsonText(["oneTimeToken": oneTimeToken]))
            #expect(exchanged.status == 201, "\(exchanged.text)")
            let after = try #require(exchanged.json)
            #expect(after["id"] as? String == id && after["status"] as? String == "AUTHORIZED" && after["consentToken"] as? String == token)
            #expect(after["authorizedAt"] as? String == authorizedAt)
            let confirmedText = try #require(after["lastConfirmedAt"] as? String)
            let confirmedAt = try #require(Timestamp(iso8601: confirmedText)), firstAt = try #require(Timestamp(iso8601: authorizedAt))
            #expect(confirmedAt >= firstAt)

            // AUTHORIZED again, the same token reads the data.
            let read = try await Self.consent(client, id)
            #expect(read["status"] as? String == "AUTHORIZED" && read["consentToken"] as? String == token)
            #expect(read["lastConfirmedAt"] as? String == after["lastConfirmedAt"] as? String)
            #expect(try await client.call(.GET, "/accounts", template: "/accounts", headers: ["consent": token]).status == 200)
            // /v1 reads the journey as an authorisation that made no consent of its own, and the consent as it was.
            let journey = try #require(try await server.call(.GET, "/v1/authorisations/\(journeyID)", template: "/v1/authorisations/{id}").json)
            #expect(journey["status"] as? String == "AUTHORIZED" && (journey["consent_ids"] as? [String])?.isEmpty == true, "\(journey)")
            // The journey's page is done: a second try at the bank is refused, nothing changes.
            let again = try await Browser().get(url)
            #expect(!again.html.contains(#"<form method="post""#), "the journey was completed: \(again.status)")
        }
    }

    /// A consent re-authorised from a request without a callback ends on auth.yapily.com's page,
    /// which names the consent; one from a custom redirect gets a code there, for the same consent.
    @Test(arguments: TestBackend.all) func withoutACallbackOrWithACustomRedirectTheReauthorisationEndsAsTheFirstJourney(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let client = try await YapilyClient.make(server)
            let created = try await Flow.authorise(client, ["applicationUserId": "page@f.com", "institutionId": "modelo-sandbox"])
            let id = try #require(created["id"] as? String)
            _ = try await Browser().get(try await Flow.bankAnswer(server, created, login: "alice"))
            let token = try #require(try await Self.consent(client, id)["consentToken"] as? String)
            let patched = try await Self.reauthorise(client, token: token)
            let page = try await Browser().get(try await Self.bankAnswer(server, patched, login: "alice"))
            #expect(page.status == 200 && page.location == nil)
            #expect(page.html.contains("<td>\(id)</td>") && page.html.contains("<td>AUTHORIZED</td>") && !page.html.contains(token))
            #expect(try await Self.consent(client, id)["consentToken"] as? String == token)

            // A custom redirect: the bank sends the journey's code straight there; it exchanges once for the same consent and token.
            let redirect = server.callbacks.url("/own")
            let own = try await Flow.authorise(client, ["applicationUserId": "own@f.com", "institutionId": "modelo-sandbox", "redirect": ["url": redirect]])
            let ownID = try #require(own["id"] as? String), ownState = try #require(own["state"] as? String)
            func code(_ data: [String: Any]) async throws -> String {
                let location = try await AuthorisationFlowTests.redirect(
                    server, ["authorisation_url": try #require(data["authorisationUrl"] as? String)], login: "alice")
                #expect(location.hasPrefix(redirect + "?code="), "\(location)")
                let query = try #require(URL(string: location)?.query)
                return try #require(rawParameters(query).first { $0.name == "code" }?.value.removingPercentEncoding)
            }
            func exchange(_ code: String) async throws -> [String: Any] {
                let reply = try await client.call(
                    .POST, "/consent-auth-code", template: "/consent-auth-code", body: try jsonText(["authCode": code, "authState": ownState]))
                #expect(reply.status == 200, "\(reply.text)")
                return try #require(reply.json)
            }
            let ownToken = try #require(try await exchange(try await code(own))["consentToken"] as? String)
            let again = try await exchange(try await code(try await Self.reauthorise(client, token: ownToken)))
            #expect(again["id"] as? String == ownID && again["consentToken"] as? String == ownToken && again["lastConfirmedAt"] is String)
        }
    }

    /// A failed or denied re-authorisation: the callback gets the seed's error parameters, and
    /// the consent is as it was (AUTHORIZED, the same token, its data readable).
    @Test(arguments: TestBackend.all) func aFailedReauthorisationLeavesTheConsentAsItWas(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let client = try await YapilyClient.make(server)
            let (id, token) = try await Self.linkedConsent(client, server, user: "fail@f.com", path: "/back")
            for (login, decision, source, error, bankError) in [
                ("error.server_error", "approve", "institution", "invalid_grant", "server_error"), ("bob", "deny", "user", "access_denied", "access_denied"),
            ] {
                let patched = try await Self.reauthorise(client, token: token)
                let visit = try await Self.complete(server, patched, login: login, decision: decision)
                #expect(visit.path == "/back")
                let parameters = rawParameters(try #require(visit.query))
                #expect(parameters.map(\.name) == ["application-user-id", "user-uuid", "institution", "error-source", "error", "error-description"])
                #expect(Array(parameters.map(\.value).suffix(3)) == [source, error, AuthorisationFlowTests.encoded(Data(bankError.utf8).base64EncodedString())])
                let read = try await Self.consent(client, id)
                #expect(read["status"] as? String == "AUTHORIZED" && read["consentToken"] as? String == token, "\(login)")
                #expect(read["lastConfirmedAt"] == nil, "\(login): no re-authorisation succeeded")
                #expect(try await client.call(.GET, "/accounts", template: "/accounts", headers: ["consent": token]).status == 200)
            }
        }
    }

    /// Every refusal is Yapily's error envelope: no header (400), a token that is not one (403),
    /// another application's consent (403), a revoked one (403), an institution whose data is
    /// down (424), a payment consent (403), a first callback no longer registered (400).
    @Test(arguments: TestBackend.all) func patchRefusalsAreYapilysErrors(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let client = try await YapilyClient.make(server)
            let missing = try await client.call(.PATCH, "/account-auth-requests", template: "/account-auth-requests")
            client.expectError(missing, 400, "BAD_REQUEST")
            #expect(Flow.message(missing).contains("consent"))
            for text in ["x", "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.e30.AAAA"] {
                client.expectError(try await client.call(
                    .PATCH, "/account-auth-requests", template: "/account-auth-requests", headers: ["consent": text]), 403, "FORBIDDEN")
            }
            // Another application's consent.
            _ = try await server.key(.admin, application: "app_other")
            let other = try await YapilyClient.make(server, application: "app_other")
            let (_, otherToken) = try await Self.linkedConsent(other, server, user: "o", path: "/o")
            client.expectError(try await client.call(
                .PATCH, "/account-auth-requests", template: "/account-auth-requests", headers: ["consent": otherToken]), 403, "FORBIDDEN")
            _ = try await Self.reauthorise(other, token: otherToken)
            // Revoked.
            let (id, token) = try await Self.linkedConsent(client, server, user: "r", path: "/r")
            _ = try await client.call(.DELETE, "/consents/\(id)", template: "/consents/{consentId}")
            client.expectError(try await client.call(
                .PATCH, "/account-auth-requests", template: "/account-auth-requests", headers: ["consent": token]), 403, "FORBIDDEN")
            // The institution's data is down: Yapily's 424; up again, the PATCH works.
            let (_, upToken) = try await Self.linkedConsent(client, server, user: "u", path: "/u")
            _ = try await server.api.call(.PATCH, "/v1/sandbox/institutions/modelo-sandbox", body: #"{"availability": {"active": {"data": false}}}"#)
            client.expectError(try await client.call(
                .PATCH, "/account-auth-requests", template: "/account-auth-requests", headers: ["consent": upToken]), 424, "FAILED_DEPENDENCY")
            _ = try await server.api.call(.PATCH, "/v1/sandbox/institutions/modelo-sandbox", body: #"{"availability": {"active": {"data": true}}}"#)
            _ = try await Self.reauthorise(client, token: upToken)
            // A payment consent is not re-authorised (Yapily: create a new consent).
            let payment = try await client.call(.POST, "/payment-auth-requests", template: "/payment-auth-requests", body: try jsonText([
                "applicationUserId": "p", "institutionId": "modelo-sandbox", "callback": server.callbacks.url("/p"),
                "paymentRequest": [
                    "paymentIdempotencyId": "re-1", "amount": ["amount": 1.5, "currency": "GBP"], "payee": ["name": "Jane"], "type": "DOMESTIC_PAYMENT",
                ],
            ]))
            let paymentData = try Flow.data(payment)
            let paymentVisit = try await Flow.complete(server, paymentData, login: "alice")
            let paymentParameters = rawParameters(try #require(paymentVisit.query))
            let paymentToken = try #require(paymentParameters.first { $0.name == "consent" }?.value.removingPercentEncoding)
            client.expectError(try await client.call(
                .PATCH, "/account-auth-requests", template: "/account-auth-requests", headers: ["consent": paymentToken]), 403, "FORBIDDEN")
            // The first request's callback is no longer registered: no journey is started towards it (400).
            let (_, lateToken) = try await Self.linkedConsent(client, server, user: "l", path: "/late")
            let moved = try await server.api.call(.PATCH, "/v1/applications/app_default", body: try jsonText(["redirect_callbacks": ["https://elsewhere.example/"]]))
            #expect(moved.status == 200, "\(moved.text)")
            let unregistered = try await client.call(
                .PATCH, "/account-auth-requests", template: "/account-auth-requests", headers: ["consent": lateToken])
            client.expectError(unregistered, 400, "BAD_REQUEST")
            #expect(Flow.message(unregistered).contains("no longer a registered redirect callback"), "\(unregistered.text)")
        }
    }
}
