@testable import BankHooksServer
import BankHooksCore
import BankHooksLoopback
import BankHooksSandbox
import BankHooksTestSupport
import Foundation
import Testing

/// Yapily's journey as a Yapily client makes it, over HTTP with Basic auth on a live server: a
/// user, an account authorisation with a callback and `oneTimeToken: true`, the sandbox bank's
/// page, the redirect to the callback, the token's exchange, the account data with the consent,
/// its revocation; and the failure path for each row of seed 003's error table.
@Suite struct YapilyFlowTests {
    static func data(_ reply: APIClient.Reply) throws -> [String: Any] { try #require(reply.json?["data"] as? [String: Any], "\(reply.text)") }

    static func message(_ reply: APIClient.Reply) -> String { (reply.json?["error"] as? [String: Any])?["message"] as? String ?? "" }

    /// Creates an account authorisation request (201 expected) and returns its `data`.
    static func authorise(_ client: YapilyClient, _ body: [String: Any]) async throws -> [String: Any] {
        let reply = try await client.call(.POST, "/account-auth-requests", template: "/account-auth-requests", body: try jsonText(body))
        #expect(reply.status == 201, "\(reply.text)")
        return try data(reply)
    }

    /// The consent page for `data` with `login`, then the emulated auth.yapily.com step, each 302
    /// checked as a browser meets it, then the callback page: what it received.
    static func complete(_ server: SandboxServer, _ data: [String: Any], login: String, decision: String = "approve") async throws -> CallbackPage.Visit {
        let step = try await bankAnswer(server, data, login: login, decision: decision)
        let answer = try await Browser().get(step)
        #expect(answer.status == 302, "\(answer.html.prefix(300))")
        #expect(answer.headers.first(name: "Cache-Control") == "no-store" && answer.headers.first(name: "Referrer-Policy") == "no-referrer")
        let callback = try #require(answer.location)
        #expect(callback.hasPrefix(server.callbacks.baseURL + "/"), "from auth.yapily.com to the callback: \(callback)")
        return try await AuthorisationFlowTests.follow(callback, on: server)
    }

    /// The consent page for `data` with `login`: the bank's 302, to the auth.yapily.com step with a code and the request's state.
    static func bankAnswer(_ server: SandboxServer, _ data: [String: Any], login: String, decision: String = "approve") async throws -> String {
        let location = try await AuthorisationFlowTests.redirect(
            server, ["authorisation_url": try #require(data["authorisationUrl"] as? String)], login: login, decision: decision)
        let state = try #require(data["state"] as? String)
        #expect(location.hasPrefix("\(server.baseURL)/yapily/auth?code=\(try #require(data["id"] as? String))."), "\(location)")
        #expect(location.hasSuffix("&state=\(state)"), "\(location)")
        return location
    }

    @Test(arguments: TestBackend.all) func aYapilyClientLinksExchangesTheTokenReadsTheDataAndRevokes(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let client = try await YapilyClient.make(server)
            let user = try await client.call(.POST, "/users", template: "/users", body: #"{"applicationUserId":"a@f.com"}"#)
            let userUUID = try #require(user.json?["uuid"] as? String)
            let callback = server.callbacks.url("/yapily/done?order=42")
            let created = try await Self.authorise(client, [
                "applicationUserId": "a@f.com", "institutionId": "modelo-sandbox", "callback": callback, "oneTimeToken": true,
            ])
            let id = try #require(created["id"] as? String)
            #expect(created["status"] as? String == "AWAITING_AUTHORIZATION")
            #expect(created["userUuid"] as? String == userUUID, "the existing user with that applicationUserId")
            #expect(created["applicationUserId"] as? String == "a@f.com" && created["institutionId"] as? String == "modelo-sandbox")
            #expect(YapilyFixtureTests.isTracingID(created["state"]))
            #expect((created["institutionConsentId"] as? String)?.hasPrefix("aac-") == true)
            #expect(created["consentToken"] == nil, "no token before the user authorises")
            #expect(created["featureScope"] as? [String] == ["ACCOUNTS", "ACCOUNT", "ACCOUNT_BALANCES", "ACCOUNT_TRANSACTIONS", "IDENTITY"])
            // The QR code of the authorisation URL: an image anyone given the URL can fetch.
            let qr = try await APIClient(baseURL: "", key: nil).call(.GET, try #require(created["qrCodeUrl"] as? String))
            #expect(qr.status == 200 && qr.headers.first(name: "Content-Type") == "image/svg+xml" && qr.text.hasPrefix("<svg"))
            // Polling before the user acts: the request reads as a consent awaiting authorisation.
            let awaiting = try Self.data(try await client.call(.GET, "/consents/\(id)", template: "/consents/{consentId}"))
            #expect(awaiting["status"] as? String == "AWAITING_AUTHORIZATION" && awaiting["state"] as? String == created["state"] as? String)

            // The bank, then the callback: the one-time token and the seed's ids, after the callback's own query.
            let visit = try await Self.complete(server, created, login: "alice")
            #expect(visit.path == "/yapily/done")
            let parameters = rawParameters(try #require(visit.query))
            #expect(parameters.map(\.name) == ["order", "one-time-token", "application-user-id", "user-uuid", "institution"])
            #expect(parameters.map(\.value).suffix(3) == ["a%40f.com", userUUID, "modelo-sandbox"])
            let oneTimeToken = try #require(parameters[1].value.removingPercentEncoding)

            // The exchange: 201, the bare Consent with its token; a second one is refused.
            let exchanged = try await client.call(
                .POST, "/consent-one-time-token", template: "/consent-one-time-token", body: try jsonText(["oneTimeToken": oneTimeToken]))
            #expect(exchanged.status == 201, "\(exchanged.text)")
            let consent = try #require(exchanged.json)
            #expect(consent["id"] as? String == id && consent["status"] as? String == "AUTHORIZED")
            #expect(consent["state"] as? String == created["state"] as? String && consent["authorizedAt"] is String)
            let token = try #require(consent["consentToken"] as? String)
            #expect(try AuthorisationFlowTests.jwt(token).claims["CONSENT"] as? String == id)
            let again = try await client.call(
                .POST, "/consent-one-time-token", template: "/consent-one-time-token", body: try jsonText(["oneTimeToken": oneTimeToken]))
            client.expectError(again, 400, "BAD_REQUEST")

            // The data behind the consent: the same accounts and transactions as the native API's.
            let headers = ["consent": token]
            let accounts = try await client.call(.GET, "/accounts", template: "/accounts", headers: headers)
            let list = try #require(accounts.json?["data"] as? [[String: Any]])
            #expect(list.compactMap { $0["id"] as? String } == SandboxData.accounts(login: "alice").map(\.id))
            #expect((list.first?["accountIdentifications"] as? [[String: Any]])?.first?["type"] as? String == "IBAN")
            let account = try #require(list.first?["id"] as? String)
            let expected = SandboxData.transactions(login: "alice", accountID: account)
            let transactions = try await client.call(
                .GET, "/accounts/\(account)/transactions", template: "/accounts/{accountId}/transactions", headers: headers)
            let rows = try #require(transactions.json?["data"] as? [[String: Any]])
            #expect(rows.compactMap { $0["id"] as? String } == expected.map(\.id))
            #expect(((transactions.json?["meta"] as? [String: Any])?["pagination"] as? [String: Any])?["totalCount"] as? Int == expected.count)
            #expect((rows.first?["transactionAmount"] as? [String: Any])?["amount"] as? Double == Double(expected[0].amount))
            let page = try await client.call(
                .GET, "/accounts/\(account)/transactions?limit=3&offset=2&sort=date", template: "/accounts/{accountId}/transactions", headers: headers)
            #expect((page.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == Array(expected.reversed().map(\.id)[2..<5]))
            let window = try await client.call(
                .GET, "/accounts/\(account)/transactions?from=2025-12-01&before=2026-01-01", template: "/accounts/{accountId}/transactions",
                headers: headers)
            #expect((window.json?["data"] as? [[String: Any]])?.count == expected.filter { $0.bookedAt >= "2025-12-01" }.count)
            client.expectError(try await client.call(
                .GET, "/accounts/\(account)/transactions?sort=up", template: "/accounts/{accountId}/transactions", headers: headers), 400, "BAD_REQUEST")
            let balances = try Self.data(try await client.call(
                .GET, "/accounts/\(account)/balances", template: "/accounts/{accountId}/balances", headers: headers))
            #expect((balances["mainBalanceAmount"] as? [String: Any])?["amount"] as? Double == Double(SandboxData.accounts(login: "alice")[0].balance))
            let identity = try Self.data(try await client.call(.GET, "/identity", template: "/identity", headers: headers))
            #expect(identity["fullName"] as? String == SandboxData.identity(login: "alice").fullName)
            client.expectError(try await client.call(
                .GET, "/accounts/acc-nope/balances", template: "/accounts/{accountId}/balances", headers: headers), 404, "NOT_FOUND")
            client.expectError(try await client.call(.GET, "/accounts", template: "/accounts"), 400, "BAD_REQUEST")

            // The user, the consents list and a read by id.
            let read = try await client.call(.GET, "/users/\(userUUID)", template: "/users/{userUuid}")
            #expect((read.json?["institutionConsents"] as? [[String: Any]])?.compactMap { $0["institutionId"] as? String } == ["modelo-sandbox"])
            let listed = try await client.call(.GET, "/consents?filter%5BapplicationUserId%5D=a%40f.com", template: "/consents")
            #expect((listed.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
            #expect((listed.json?["data"] as? [[String: Any]])?.first?["consentToken"] == nil, "lists carry no tokens")
            #expect((((listed.json?["meta"] as? [String: Any])?["pagination"] as? [String: Any])?["totalCount"]) as? Int == 1)
            let byStatus = try await client.call(.GET, "/consents?limit=10&filter[status]=AUTHORIZED&filter[status]=REVOKED", template: "/consents")
            #expect((byStatus.json?["data"] as? [[String: Any]])?.count == 1)
            client.expectError(try await client.call(.GET, "/consents", template: "/consents"), 400, "BAD_REQUEST")
            client.expectError(try await client.call(.GET, "/consents?limit=10&filter[status]=GONE", template: "/consents"), 400, "BAD_REQUEST")
            let single = try Self.data(try await client.call(.GET, "/consents/\(id)", template: "/consents/{consentId}"))
            #expect(single["consentToken"] as? String == token)

            // Re-authorisation (YapilyReauthorisationTests has the journey): the consent awaits it, its data is refused meanwhile.
            let reauthorised = try await client.call(.PATCH, "/account-auth-requests", template: "/account-auth-requests", headers: headers)
            #expect(reauthorised.status == 201)
            #expect(try Self.data(reauthorised)["status"] as? String == "AWAITING_RE_AUTHORIZATION")
            client.expectError(try await client.call(.GET, "/accounts", template: "/accounts", headers: headers), 403, "FORBIDDEN")

            // Deleted: REVOKED, and the token reads nothing more (Yapily's 403).
            let deleted = try Self.data(try await client.call(.DELETE, "/consents/\(id)?forceDelete=true", template: "/consents/{consentId}"))
            #expect(deleted["id"] as? String == id && deleted["deleteStatus"] as? String == "SUCCESS")
            #expect(deleted["institutionConsentId"] as? String == created["institutionConsentId"] as? String)
            for path in ["/accounts", "/accounts/\(account)/transactions", "/accounts/\(account)/balances", "/identity"] {
                let template = path.hasSuffix("/transactions") ? "/accounts/{accountId}/transactions" : path.hasSuffix("/balances") ? "/accounts/{accountId}/balances" : path
                client.expectError(try await client.call(.GET, path, template: template, headers: headers), 403, "FORBIDDEN")
            }
            client.expectError(try await client.call(.PATCH, "/account-auth-requests", template: "/account-auth-requests", headers: headers), 403, "FORBIDDEN")
            let revoked = try Self.data(try await client.call(.GET, "/consents/\(id)", template: "/consents/{consentId}"))
            #expect(revoked["status"] as? String == "REVOKED" && revoked["consentToken"] == nil)
            client.expectError(try await client.call(
                .DELETE, "/consents/0e7bdbd3-5a7e-4d39-a5bb-8c1f4d7e0c11", template: "/consents/{consentId}"), 404, "NOT_FOUND")
        }
    }

    /// Each row of seed 003's table (and Deny): the redirect's error parameters, and the request
    /// reads as REJECTED (the user's rows) or FAILED (the institution's).
    @Test(arguments: TestBackend.all) func eachRowOfTheErrorTableComesBackToTheCallbackAndFailsTheRequest(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let client = try await YapilyClient.make(server)
            let rows = AuthorisationFlowTests.errorTable.map { ($0.login, "approve", $0) } + [("bob", "deny", ("", "user", "access_denied", "access_denied"))]
            for (login, decision, row) in rows {
                let created = try await Self.authorise(client, [
                    "applicationUserId": "beneficiary:95e8", "institutionId": "modelo-sandbox", "callback": server.callbacks.url("/failed"),
                    "oneTimeToken": "true",
                ])
                let visit = try await Self.complete(server, created, login: login, decision: decision)
                let parameters = rawParameters(try #require(visit.query))
                #expect(parameters.map(\.name) == ["application-user-id", "user-uuid", "institution", "error-source", "error", "error-description"], "\(login)")
                #expect(parameters.map(\.value) == [
                    "beneficiary%3A95e8", try #require(created["userUuid"] as? String), "modelo-sandbox", row.source, row.error,
                    AuthorisationFlowTests.encoded(Data(row.bankError.utf8).base64EncodedString()),
                ], "\(login)")
                let id = try #require(created["id"] as? String)
                let consent = try Self.data(try await client.call(.GET, "/consents/\(id)", template: "/consents/{consentId}"))
                #expect(consent["status"] as? String == (row.source == "user" ? "REJECTED" : "FAILED"), "\(login)")
                #expect(consent["consentToken"] == nil && consent["authorisationUrl"] == nil, "\(login)")
                client.expectError(try await client.call(.DELETE, "/consents/\(id)", template: "/consents/{consentId}"), 404, "NOT_FOUND")
            }
            // All the rows were one user's: one user was made for the applicationUserId.
            let users = try await client.call(.GET, "/users", template: "/users")
            #expect((try JSONSerialization.jsonObject(with: users.body) as? [Any])?.count == 1)
        }
    }

    @Test func aPaymentAuthorisationHasPaymentScopesAndItsConsentReadsNoAccounts() async throws {
        try await SandboxServer.run { server in
            let client = try await YapilyClient.make(server)
            let payment: [String: Any] = [
                "paymentIdempotencyId": "4289457hd38djoa783jw9qag3", "amount": ["amount": 1.0, "currency": "GBP"], "reference": "Bill Payment",
                "type": "DOMESTIC_PAYMENT",
                "payee": ["name": "Jane Doe", "accountIdentifications": [["type": "SORT_CODE", "identification": "123456"]]],
            ]
            var body: [String: Any] = [
                "applicationUserId": "payer", "institutionId": "modelo-sandbox", "callback": server.callbacks.url("/paid"), "paymentRequest": payment,
            ]
            let reply = try await client.call(.POST, "/payment-auth-requests", template: "/payment-auth-requests", body: try jsonText(body))
            #expect(reply.status == 201, "\(reply.text)")
            let created = try Self.data(reply)
            #expect(created["featureScope"] as? [String] == ["EXISTING_PAYMENTS_DETAILS", "EXISTING_PAYMENT_INITIATION_DETAILS", "CREATE_DOMESTIC_SINGLE_PAYMENT"])
            #expect((created["institutionConsentId"] as? String)?.hasPrefix("sdp-1-") == true)
            let visit = try await Self.complete(server, created, login: "user")
            let query = try #require(visit.query)
            let token = try #require(rawParameters(query).first { $0.name == "consent" }?.value.removingPercentEncoding)
            client.expectError(try await client.call(.GET, "/accounts", template: "/accounts", headers: ["consent": token]), 403, "FORBIDDEN")
            let id = try #require(created["id"] as? String)
            let consent = try Self.data(try await client.call(.GET, "/consents/\(id)", template: "/consents/{consentId}"))
            #expect(consent["status"] as? String == "AUTHORIZED" && (consent["institutionConsentId"] as? String)?.hasPrefix("sdp-1-") == true)
            for (member, message) in [("paymentIdempotencyId", "paymentIdempotencyId"), ("amount", "amount.amount"), ("payee", "payee.name")] {
                var incomplete = payment
                incomplete[member] = nil
                body["paymentRequest"] = incomplete
                let refused = try await client.call(.POST, "/payment-auth-requests", template: "/payment-auth-requests", body: try jsonText(body))
                client.expectError(refused, 400, "BAD_REQUEST")
                #expect(Self.message(refused).contains(message), "\(refused.text)")
            }
            body["paymentRequest"] = nil
            client.expectError(try await client.call(.POST, "/payment-auth-requests", template: "/payment-auth-requests", body: try jsonText(body)), 400, "BAD_REQUEST")
        }
    }

    /// Every bad request is Yapily's 400 (or 404, 424) that says what is wrong, in Yapily's member names.
    @Test func badAuthorisationRequestsSayWhatIsWrong() async throws {
        try await SandboxServer.run { server in
            let client = try await YapilyClient.make(server)
            let callback = server.callbacks.url("/cb")
            let cases: [([String: Any], Int, String)] = [
                (["applicationUserId": "u", "callback": callback], 400, "institutionId is required"),
                (["institutionId": "modelo-sandbox", "callback": callback], 400, "userUuid or applicationUserId"),
                (["applicationUserId": "u", "institutionId": "nope", "callback": callback], 400, "not a sandbox institution"),
                (["applicationUserId": "u", "institutionId": "modelo-sandbox", "oneTimeToken": true], 400, "oneTimeToken can only be used when the callback is set"),
                (["applicationUserId": "u", "institutionId": "modelo-sandbox", "callback": "https://evil.example/"], 400, "is not a registered redirect callback"),
                (["applicationUserId": "u", "institutionId": "modelo-sandbox", "redirect": ["url": "https://evil.example/"]], 400, "is not a registered redirect callback"),
                (["applicationUserId": "u", "institutionId": "modelo-sandbox", "redirect": ["url": callback + "#top"]], 400, "fragment"),
                (["applicationUserId": "u", "institutionId": "modelo-sandbox", "redirect": [:]], 400, "redirect.url is required"),
                (["applicationUserId": "u", "institutionId": "modelo-sandbox", "callback": callback, "redirect": ["url": callback]], 400, "not both"),
                (["applicationUserId": "u", "institutionId": "modelo-sandbox", "callback": callback, "oneTimeToken": 5], 400, "oneTimeToken"),
                (["applicationUserId": "", "institutionId": "modelo-sandbox", "callback": callback], 400, "applicationUserId"),
                (["userUuid": "0e7bdbd3-5a7e-4d39-a5bb-8c1f4d7e0c11", "institutionId": "modelo-sandbox", "callback": callback], 404, "not found"),
                (["applicationUserId": "u", "institutionId": "modelo-sandbox", "callback": callback, "forwardParameters": ["consent=x"]], 400, "forward parameter"),
                (["applicationUserId": "u", "institutionId": "modelo-sandbox", "callback": callback, "forwardParameters": "x"], 400, "forwardParameters"),
            ]
            for (body, status, words) in cases {
                let reply = try await client.call(.POST, "/account-auth-requests", template: "/account-auth-requests", body: try jsonText(body))
                client.expectError(reply, status, status == 404 ? "NOT_FOUND" : "BAD_REQUEST")
                #expect(Self.message(reply).contains(words), "\(body) → \(reply.text)")
                #expect(!Self.message(reply).contains("_id"), "Yapily's member names, not the native API's: \(reply.text)")
            }
            // The institution switched off for data: Yapily's 424 (a feature the institution does not offer now).
            _ = try await server.api.call(.PATCH, "/v1/sandbox/institutions/modelo-sandbox", body: #"{"availability": {"enabled": {"data": false}}}"#)
            let down = try await client.call(
                .POST, "/account-auth-requests", template: "/account-auth-requests",
                body: try jsonText(["applicationUserId": "u", "institutionId": "modelo-sandbox", "callback": callback]))
            client.expectError(down, 424, "FAILED_DEPENDENCY")
            // An authorisation code is never valid here (no custom redirect), and says so.
            let code = try await client.call(.POST, "/consent-auth-code", template: "/consent-auth-code", body: #"{"authCode":"c","authState":"s"}"#)
            client.expectError(code, 400, "BAD_REQUEST")
            // The QR code needs the authorisation's state.
            let created = try await Self.authorise(client, ["applicationUserId": "u", "institutionId": "bankhooks-sandbox", "callback": callback])
            let qr = try #require(created["qrCodeUrl"] as? String)
            let wrongState = qr.replacingOccurrences(of: "state=", with: "state=0")
            #expect(try await APIClient(baseURL: "", key: nil).call(.GET, wrongState).status == 404)
        }
    }

    /// The facade's QR encoder makes, module for module, what another encoder (Python's `qrcode`) makes.
    @Test func theQRCodeMatchesAnotherEncoderModuleForModule() throws {
        let url = YapilySchema.directory.appendingPathComponent("qr-known-answers.json")
        let fixture = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let answers = try #require(fixture["answers"] as? [[String: Any]])
        #expect(answers.count == 6)
        for answer in answers {
            let text = try #require(answer["text"] as? String)
            let code = try QRCode(text: text)
            #expect(code.version == answer["version"] as? Int, "\(text.prefix(40))")
            let rows = code.modules.map { row in String(row.map { $0 ? "1" : "0" }) }
            #expect(rows == answer["rows"] as? [String], "\(text.prefix(40)) (version \(code.version))")
        }
        #expect(throws: QRCode.TooLongError.self) { try QRCode(text: String(repeating: "x", count: 3000)) }
    }
}
