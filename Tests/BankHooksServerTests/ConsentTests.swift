import BankHooksCore
import BankHooksSandbox
import BankHooksServer
import BankHooksTestSupport
import Foundation
import Testing

/// `/v1/consents`, the one-time token's exchange and the sandbox data read with a consent token:
/// listed and paged, read with the token, revoked once (Lean `entity.updated`), and a token that
/// is forged, another application's or revoked reads nothing.
@Suite struct ConsentTests {
    /// Links `count` consents headlessly (login `user`, or `multi` for two at once) and returns the redirect URLs.
    static func link(_ server: SandboxServer, applicationUserID: String, institution: String = "leanmb1", login: String = "user", oneTimeToken: Bool = false) async throws -> (id: String, redirect: String) {
        let created = try await server.authorise([
            "institution_id": institution, "application_user_id": applicationUserID, "callback": server.callbacks.url("/cb"), "one_time_token": oneTimeToken,
        ])
        let id = try #require(created["id"] as? String)
        let reply = try await server.call(
            .POST, "/v1/sandbox/authorisations/\(id)/complete", template: "/v1/sandbox/authorisations/{id}/complete",
            body: try jsonText(["login": login, "decision": "approve"]))
        return (id, try #require(reply.json?["redirect_url"] as? String))
    }

    static func parameter(_ name: String, of url: String) throws -> String {
        let text = try #require(query(of: url))
        return try #require(rawParameters(text).first { $0.name == name }?.value.removingPercentEncoding)
    }

    @Test(arguments: TestBackend.all) func consentsAreListedNewestFirstFilteredAndPaged(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            var ids: [String] = []
            for user in ["u1", "u2", "u1"] { ids.append(try await Self.link(server, applicationUserID: user).id) }
            let multi = try await Self.link(server, applicationUserID: "u3", institution: "modelo-sandbox", login: "multi")
            let template = "/v1/consents"
            let all = try await server.call(.GET, "/v1/consents", template: template)
            let data = try #require(all.json?["data"] as? [[String: Any]])
            #expect(data.count == 5)
            #expect(all.json?["next_cursor"] is NSNull)
            #expect(data.allSatisfy { $0["consent_token"] == nil }, "lists carry no tokens")
            #expect(Set(data.compactMap { $0["authorisation_id"] as? String }) == Set(ids + [multi.id]))
            let u1 = try await server.call(.GET, "/v1/consents?application_user_id=u1", template: template)
            #expect((u1.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[2], ids[0]])
            let modelo = try await server.call(.GET, "/v1/consents?institution_id=modelo-sandbox&status=AUTHORIZED", template: template)
            #expect((modelo.json?["data"] as? [[String: Any]])?.count == 2)
            #expect(((try await server.call(.GET, "/v1/consents?status=REVOKED", template: template)).json?["data"] as? [[String: Any]])?.isEmpty == true)
            // Paged two at a time: every consent once.
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await server.call(.GET, "/v1/consents?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), template: template)
                seen += (page.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
                cursor = page.json?["next_cursor"] as? String
            } while cursor != nil
            #expect(seen == data.compactMap { $0["id"] as? String })
            for (query, name) in [
                ("status=GONE", "status"), ("limit=0", "limit"), ("cursor=%21", "cursor"), ("cursor=", "cursor"), ("user_uuid=", "user_uuid"),
                ("status=AUTHORIZED&status=REVOKED", "status"), ("application_user_id=u1&application_user_id=u2", "application_user_id"),
            ] {
                let bad = try await server.call(.GET, "/v1/consents?\(query)", template: template)
                #expect(bad.status == 400 && bad.json?["field"] as? String == "query:\(name)", "\(query): \(bad.text)")
            }
        }
    }

    @Test(arguments: TestBackend.all) func aConsentIsReadWithItsTokenAndRevokedOnce(_ backend: TestBackend) async throws {
        try await TestReceiver.run { receiver in
            try await SandboxServer.run(backend: backend) { server in
                _ = try await server.webhook(["url": receiver.url("/lean"), "format": "lean", "event_types": ["entity.updated"]])
                let (id, redirect) = try await Self.link(server, applicationUserID: "u1")
                let token = try Self.parameter("consent", of: redirect)
                let read = try await server.call(.GET, "/v1/consents/\(id)", template: "/v1/consents/{id}")
                #expect(read.json?["status"] as? String == "AUTHORIZED")
                #expect(read.json?["consent_token"] is String)
                // The data: accounts, then an account's transactions.
                let accounts = try await server.call(.GET, "/v1/sandbox/accounts", template: "/v1/sandbox/accounts", headers: ["Consent": token])
                let account = try #require((accounts.json?["data"] as? [[String: Any]])?.first?["id"] as? String)
                let transactions = try await server.call(
                    .GET, "/v1/sandbox/accounts/\(account)/transactions", template: "/v1/sandbox/accounts/{id}/transactions", headers: ["Consent": token])
                #expect(transactions.status == 200)
                #expect((transactions.json?["data"] as? [[String: Any]])?.allSatisfy { $0["account_id"] as? String == account } == true)
                let noAccount = try await server.call(
                    .GET, "/v1/sandbox/accounts/acc-nope/transactions", template: "/v1/sandbox/accounts/{id}/transactions", headers: ["Consent": token])
                #expect(noAccount.status == 404)
                // Revoked: REVOKED, Lean entity.updated once, and the token reads nothing.
                let revoked = try await server.call(.DELETE, "/v1/consents/\(id)", template: "/v1/consents/{id}")
                #expect(revoked.status == 200 && revoked.json?["status"] as? String == "REVOKED")
                #expect(revoked.json?["revoked_at"] is String)
                let event = try #require(try await receiver.waitForRequests(1).first)
                let body = try #require(try JSONSerialization.jsonObject(with: Data(event.body)) as? [String: Any])
                #expect(body["type"] as? String == "entity.updated")
                #expect((body["payload"] as? [String: Any])?["app_user_id"] as? String == "u1")
                let again = try await server.call(.DELETE, "/v1/consents/\(id)", template: "/v1/consents/{id}")
                #expect(again.status == 200 && again.json?["revoked_at"] as? String == revoked.json?["revoked_at"] as? String)
                let after = try await server.call(.GET, "/v1/sandbox/accounts", template: "/v1/sandbox/accounts", headers: ["Consent": token])
                #expect(after.status == 403 && after.json?["type"] as? String == "urn:bankhooks:problem:consent-invalid")
                try await Task.sleep(for: .milliseconds(400))
                #expect(receiver.requests.count == 1, "a second revoke publishes nothing")
                #expect(try await server.call(.DELETE, "/v1/consents/0e7bdbd3-5a7e-4d39-a5bb-8c1f4d7e0c11", template: "/v1/consents/{id}").status == 404)
                #expect(try await server.call(.GET, "/v1/consents/0e7bdbd3-5a7e-4d39-a5bb-8c1f4d7e0c11", template: "/v1/consents/{id}").status == 404)
            }
        }
    }

    @Test func aForgedOrForeignTokenReadsNothing() async throws {
        try await SandboxServer.run { server in
            let (_, redirect) = try await Self.link(server, applicationUserID: "u1")
            let token = try Self.parameter("consent", of: redirect)
            let parts = token.split(separator: ".").map(String.init)
            // Another signature, other claims under the same signature, no token, garbage.
            let forgedSignature = parts[0] + "." + parts[1] + "." + String(parts[2].reversed())
            let otherClaims = Data(#"{"INSTITUTION":"leanmb1","CONSENT":"0e7bdbd3-5a7e-4d39-a5bb-8c1f4d7e0c11","USER":"x"}"#.utf8).base64EncodedString()
                .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            for forged in [forgedSignature, parts[0] + "." + otherClaims + "." + parts[2], "not-a-token", parts[0] + ".."] {
                let reply = try await server.call(.GET, "/v1/sandbox/accounts", template: "/v1/sandbox/accounts", headers: ["Consent": forged])
                #expect(reply.status == 403 && reply.json?["type"] as? String == "urn:bankhooks:problem:consent-invalid", "\(forged): \(reply.text)")
            }
            let missing = try await server.call(.GET, "/v1/sandbox/accounts", template: "/v1/sandbox/accounts")
            #expect(missing.status == 400 && missing.json?["field"] as? String == "header:Consent")
            // Another application's key with this application's token.
            let other = try await server.key(.viewer, application: "app_other")
            let foreign = try await server.call(.GET, "/v1/sandbox/accounts", template: "/v1/sandbox/accounts", key: other, headers: ["Consent": token])
            #expect(foreign.status == 403)
            // A consent without the `transactions` permission cannot read them.
            let narrow = try await server.authorise(["institution_id": "leanmb1", "application_user_id": "u2", "callback": server.callbacks.url("/cb"), "permissions": ["accounts"]])
            let narrowID = try #require(narrow["id"] as? String)
            let done = try await server.api.call(.POST, "/v1/sandbox/authorisations/\(narrowID)/complete", body: try jsonText(["login": "user", "decision": "approve"]))
            let narrowToken = try Self.parameter("consent", of: try #require(done.json?["redirect_url"] as? String))
            let account = try #require((try await server.api.call(.GET, "/v1/sandbox/accounts", headers: ["Consent": narrowToken]).json?["data"] as? [[String: Any]])?.first?["id"] as? String)
            let denied = try await server.call(
                .GET, "/v1/sandbox/accounts/\(account)/transactions", template: "/v1/sandbox/accounts/{id}/transactions", headers: ["Consent": narrowToken])
            #expect(denied.status == 403 && (denied.json?["detail"] as? String)?.contains("transactions") == true)
        }
    }

    @Test func aOneTimeTokenIsRefusedUnlessItIsThisApplicationsUnusedOne() async throws {
        try await SandboxServer.run { server in
            let (id, redirect) = try await Self.link(server, applicationUserID: "u1", oneTimeToken: true)
            let ott = try Self.parameter("one-time-token", of: redirect)
            let template = "/v1/consent-one-time-token"
            let other = try await server.key(.admin, application: "app_other")
            let viewer = try await server.key(.viewer)
            for (body, key, status) in [
                (try jsonText(["one_time_token": ott]), other, 400), (try jsonText(["one_time_token": "garbage"]), server.operatorKey, 400),
                (try jsonText(["one_time_token": ""]), server.operatorKey, 400), (try jsonText(["one_time_token": ott]), viewer, 403),
                (#"{"one_time_token": 5}"#, server.operatorKey, 422), (#"{"token": "x"}"#, server.operatorKey, 422), ("{", server.operatorKey, 400),
            ] {
                let reply = try await server.call(.POST, template, template: template, body: body, key: key)
                #expect(reply.status == status, "\(body): \(reply.text)")
                #expect(!reply.text.contains(id))
            }
            // Still unused after those: this application exchanges it, once.
            let exchanged = try await server.call(.POST, template, template: template, body: try jsonText(["one_time_token": ott]))
            #expect(exchanged.status == 201 && exchanged.json?["id"] as? String == id)
            #expect(try await server.call(.POST, template, template: template, body: try jsonText(["one_time_token": ott])).status == 400)
        }
    }

    @Test func thePublicURLIsTheBaseOfTheAuthorisationURL() async throws {
        try await SandboxServer.run(publicURL: "https://bank.example.com/") { server in
            let created = try await server.call(.POST, "/v1/authorisations", template: "/v1/authorisations", body: try jsonText([
                "institution_id": "leanmb1", "application_user_id": "u1", "callback": server.callbacks.url("/cb"),
            ]))
            let id = try #require(created.json?["id"] as? String)
            #expect((created.json?["authorisation_url"] as? String)?.hasPrefix("https://bank.example.com/sandbox-bank/authorise/\(id)?state=") == true)
            let read = try await server.call(.GET, "/v1/authorisations/\(id)", template: "/v1/authorisations/{id}")
            #expect(read.json?["authorisation_url"] as? String == created.json?["authorisation_url"] as? String)
            #expect(read.json?["consent_ids"] as? [String] == [])
        }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.normalisedPublicURL("ftp://x") }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.normalisedPublicURL("https://x.example/?a=1") }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.normalisedPublicURL("https://") }
        // A path would not reach the page: its form posts to /sandbox-bank and its cookie lives there.
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.normalisedPublicURL("https://x.example/bank") }
        #expect(try ServerConfiguration.normalisedPublicURL("http://127.0.0.1:8080/") == "http://127.0.0.1:8080")
    }

    @Test func badAuthorisationRequestsAreRefusedNamingTheField() async throws {
        try await SandboxServer.run { server in
            let callback = server.callbacks.url("/cb")
            for (body, field) in [
                (["application_user_id": "u", "callback": callback], "/institution_id"),
                (["institution_id": "nope", "application_user_id": "u", "callback": callback], "/institution_id"),
                (["institution_id": "leanmb1", "callback": callback], "/user_uuid"),
                (["institution_id": "leanmb1", "user_uuid": "not-a-uuid", "callback": callback], "/user_uuid"),
                (["institution_id": "leanmb1", "application_user_id": "u"], "/callback"),
                (["institution_id": "leanmb1", "application_user_id": "u", "callback": callback, "one_time_token": "yes"], "/one_time_token"),
                (["institution_id": "leanmb1", "application_user_id": "u", "callback": callback, "permissions": ["everything"]], "/permissions/0"),
                (["institution_id": "leanmb1", "application_user_id": "u", "callback": callback, "permissions": []], "/permissions"),
                (["institution_id": "leanmb1", "application_user_id": "u", "callback": callback, "forward_parameters": ["novalue"]], "/forward_parameters/0"),
                (["institution_id": "leanmb1", "application_user_id": "u", "callback": callback, "extra": 1], "/extra"),
            ] as [([String: Any], String)] {
                let reply = try await server.call(.POST, "/v1/authorisations", template: "/v1/authorisations", body: try jsonText(body))
                #expect(reply.status == 422, "\(body): \(reply.text)")
                #expect(reply.json?["field"] as? String == field, "\(body): \(reply.text)")
            }
            let viewer = try await server.key(.viewer)
            let refused = try await server.call(.POST, "/v1/authorisations", template: "/v1/authorisations", body: "{}", key: viewer)
            #expect(refused.status == 403)
            let unknown = try await server.call(.GET, "/v1/authorisations/0e7bdbd3-5a7e-4d39-a5bb-8c1f4d7e0c11", template: "/v1/authorisations/{id}")
            #expect(unknown.status == 404 && unknown.json?["field"] as? String == "path:id")
        }
    }
}
