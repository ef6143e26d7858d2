import BankHooksCore
@testable import BankHooksServer
import BankHooksTestSupport
import BankHooksVerify
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The dashboard's second step in process: events and their deliveries, recovery with its
/// progress, the event catalog, the sandbox (availability switches, an authorisation started and
/// followed to its end), the keys and applications pages; CSRF and roles on every new form.
@Suite struct DashboardPagesTests {
    /// Publishes `body` through /v1 as the operator.
    static func publish(_ client: any TestClientProtocol, _ f: APIFixture, _ body: String) async throws -> String {
        try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: body)) { response in
            #expect(response.status == .accepted, "\(response.text)")
            return response.json?["id"] as? String ?? ""
        }
    }

    /// Creates a webhook through /v1 as the operator; its id.
    static func webhook(_ client: any TestClientProtocol, _ f: APIFixture, url: String, name: String) async throws -> String {
        try await client.execute(
            uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey),
            body: ByteBuffer(string: #"{"url":"\#(url)","name":"\#(name)"}"#)
        ) { response in response.json?["id"] as? String ?? "" }
    }

    @Test func eventsAreListedFilteredAndShownWithTheirPayloadAndDeliveries() async throws {
        try await TestReceiver.run { receiver in
            let f = try await APIFixture()
            try await f.test { client in
                _ = try await Self.webhook(client, f, url: receiver.url(), name: "Ledger")
                var browser = DashboardBrowser(client: client)
                _ = try await browser.signIn(f.operatorKey)
                let empty = try await browser.get("/dashboard/events")
                #expect(empty.status == .ok && empty.text.contains("No events yet"), "\(empty.text)")
                let first = try await Self.publish(client, f, #"{"type":"a.b","id":"evt_first","data":{"zeta":1,"alpha":{"list":[1,2],"none":{}},"text":"<b>"}}"#)
                _ = try await Self.publish(client, f, #"{"type":"order.paid","id":"evt_second","data":{"n":2}}"#)
                try await eventually("both delivered") { receiver.requests.count == 2 }
                let list = try await browser.get("/dashboard/events")
                #expect(list.text.contains("evt_first") && list.text.contains("evt_second") && list.text.contains(#"<label for="type">Type</label>"#))
                // The type filter, and a time window with nothing in it.
                let typed = try await browser.get("/dashboard/events?type=order.paid")
                #expect(typed.text.contains("evt_second") && !typed.text.contains("evt_first"))
                let later = try await browser.get("/dashboard/events?since=2999-01-01T00:00")
                #expect(later.status == .ok && later.text.contains("No events match these filters"), "\(later.text)")
                // A filter the API refuses: the page, the field marked, the API's words; never a 500.
                let bad = try await browser.get("/dashboard/events?type=%21nope")
                #expect(bad.status == .badRequest && bad.text.contains(#"id="type" name="type""#) && bad.text.contains(#"aria-invalid="true""#))
                #expect(bad.text.contains("not a valid event type name"))
                #expect(try await browser.get("/dashboard/events?until=yesterday").status == .badRequest)
                // The event: its payload indented in its own order, escaped; its delivery with the webhook's name.
                let event = try await browser.get("/dashboard/events/\(first)")
                #expect(event.status == .ok, "\(event.text)")
                #expect(event.text.contains("{\n  &quot;zeta&quot;: 1,\n  &quot;alpha&quot;: {\n    &quot;list&quot;: [\n      1,\n      2\n    ],\n    &quot;none&quot;: {}\n  },"), "\(event.text)")
                #expect(event.text.contains("&lt;b&gt;") && event.text.contains(">Ledger</a>") && event.text.contains("badge-succeeded"))
                #expect(event.text.contains(#"href="/dashboard/event-types/a.b""#))
                // Resend from the event's page: a second attempt.
                let deliveryPath = try #require(event.text.range(of: #"/dashboard/deliveries/[0-9]+"#, options: .regularExpression).map { String(event.text[$0]) })
                #expect(try await browser.post("\(deliveryPath)/resend", csrf: try await browser.sessionCSRF()).status == .seeOther)
                let delivery = try await browser.get(deliveryPath)
                #expect(delivery.text.contains("Attempt 2") && delivery.text.contains("/dashboard/events/evt_first"))
                #expect(receiver.requests.count == 3)
                #expect(try await browser.get("/dashboard/events/evt_none").status == .notFound)
            }
        }
    }

    @Test func aRecoveryStartsFromTheWebhookPageAndShowsItsProgress() async throws {
        // The receiver fails the first two requests (the delivery's attempt and its one retry), then answers.
        try await TestReceiver.run(script: { _, index in index < 2 ? .init(status: 500) : .init() }) { receiver in
            let f = try await APIFixture()
            try await f.test { client in
                let id = try await client.execute(
                    uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey),
                    body: ByteBuffer(string: #"{"url":"\#(receiver.url())","name":"Ledger","retry_schedule":[1]}"#)
                ) { response in response.json?["id"] as? String ?? "" }
                _ = try await Self.publish(client, f, #"{"type":"a.b","data":{}}"#)
                try await eventually("the delivery failed") {
                    try await f.components.store.deliveries(applicationID: defaultApplicationID, of: .webhook(id), state: .failed, before: nil, limit: 1)?.items.count == 1
                }
                var browser = DashboardBrowser(client: client)
                _ = try await browser.signIn(f.operatorKey)
                let page = try await browser.get("/dashboard/webhooks/\(id)")
                #expect(page.text.contains(#"<label for="recover-since">"#) && page.text.contains("/dashboard/webhooks/\(id)/recover"))
                let token = try #require(DashboardBrowser.csrf(in: page.text))
                // A bad time is the API's refusal, as a page.
                let bad = try await browser.post("/dashboard/webhooks/\(id)/recover", [("since", "last week")], csrf: token)
                #expect(bad.status == .badRequest || bad.status == .unprocessableContent, "\(bad.status) \(bad.text)")
                let until = try await browser.post("/dashboard/webhooks/\(id)/recover", [("since", "2026-01-02T00:00"), ("until", "2026-01-01T00:00")], csrf: token)
                #expect(until.status == .unprocessableContent || until.status == .badRequest, "\(until.text)")
                #expect(until.text.contains("after"))
                // Started: the job's page, with its progress; it reloads itself while it runs.
                let started = try await browser.post("/dashboard/webhooks/\(id)/recover", [("since", "2020-01-01T00:00")], csrf: token)
                #expect(started.status == .seeOther, "\(started.text)")
                let location = try #require(started.headers[.location])
                #expect(location.hasPrefix("/dashboard/recoveries/rcv_"))
                let progress = try await browser.get(location)
                #expect(progress.status == .ok && progress.text.contains("<progress id=\"progress\"") && progress.text.contains("Recovery started"), "\(progress.text)")
                #expect(progress.text.contains(">Ledger</a>"))
                let follower = browser
                try await eventually("the recovery finishes") {
                    var reader = follower
                    let page = try await reader.get(location)
                    return page.text.contains("Finished") && !page.text.contains(#"http-equiv="refresh""#)
                }
                let done = try await browser.get(location)
                #expect(done.text.contains("1 of 1 sent (100 %)") && done.text.contains("<dt>Delivered</dt><dd>1</dd>"), "\(done.text)")
                #expect(receiver.requests.count == 3, "the failed delivery was sent once more")
                // Nothing failed since: a second recovery has nothing to send.
                let again = try await browser.post("/dashboard/webhooks/\(id)/recover", [("since", "2020-01-01T00:00")], csrf: token)
                let empty = try await browser.get(try #require(again.headers[.location]))
                #expect(empty.text.contains("No failed delivery was in the window") || empty.text.contains("Sending"), "\(empty.text)")
                #expect(try await browser.get("/dashboard/recoveries/rcv_nothing").status == .notFound)
            }
        }
    }

    @Test func theCatalogListsEveryTypeWithItsSchemaAndAnExample() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(try await f.key(.viewer))
            let list = try await browser.get("/dashboard/event-types")
            #expect(list.status == .ok)
            for definition in EventCatalog.builtIn.definitions {
                #expect(list.text.contains(">\(definition.name)</code>"), "\(definition.name) listed")
            }
            #expect(list.text.contains(">order.paid</code>"), "the application's own types too")
            let searched = try await browser.get("/dashboard/event-types?q=availability")
            #expect(searched.text.contains("bank.availability.updated") && !searched.text.contains(">entity.created</code>"))
            #expect(try await browser.get("/dashboard/event-types?q=zzzz").text.contains("No event type matches"))
            let type = try await browser.get("/dashboard/event-types/bank.availability.updated")
            #expect(type.status == .ok)
            #expect(type.text.contains("Schema of <code>data</code>") && type.text.contains("Example") && type.text.contains("&quot;identifier&quot;: "))
            #expect(type.text.contains("lean") && type.text.contains("<code>standard</code>"))
            let custom = try await browser.get("/dashboard/event-types/order.paid")
            #expect(custom.status == .ok && custom.text.contains("This type has no schema"))
            #expect(try await browser.get("/dashboard/event-types/no.such.type").status == .notFound)
        }
    }

    /// Every built-in type's example is `data` that type accepts: it decodes into the type's model.
    @Test func everyCatalogExampleIsAcceptedByItsType() throws {
        for definition in EventCatalog.builtIn.definitions {
            let example = DashboardJSON.example(definition.schemaObject)
            let data = try JSONSerialization.data(withJSONObject: example)
            do {
                _ = try definition.decode(data)
            } catch {
                Issue.record("\(definition.name): \(error) in \(String(decoding: data, as: UTF8.self))")
            }
        }
    }

    @Test func theSandboxSwitchesAvailabilityAndFollowsAnAuthorisation() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            try await client.execute(
                uri: "/v1/applications/\(defaultApplicationID)", method: .patch, headers: auth(f.operatorKey),
                body: ByteBuffer(string: #"{"redirect_callbacks":["https://app.example/cb"]}"#)
            ) { response in #expect(response.status == .ok, "\(response.text)") }
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(f.operatorKey)
            let page = try await browser.get("/dashboard/sandbox")
            #expect(page.status == .ok, "\(page.text)")
            let institution = try #require(page.text.range(of: #"/dashboard/sandbox/institutions/[^/"]+/availability"#, options: .regularExpression)
                .map { String(page.text[$0]).dropFirst("/dashboard/sandbox/institutions/".count).dropLast("/availability".count) }).description
            #expect(page.text.contains(#"aria-pressed="true""#) && page.text.contains(#"<label for="callback">Callback URL</label>"#))
            let token = try #require(DashboardBrowser.csrf(in: page.text))
            // Off: the API shows it, and the page says so.
            let off = try await browser.post("/dashboard/sandbox/institutions/\(institution)/availability", [("setting", "active.payments"), ("value", "false")], csrf: token)
            #expect(off.status == .seeOther, "\(off.text)")
            let stored: [String: Any] = try await client.execute(
                uri: "/v1/sandbox/institutions/\(institution)", method: .get, headers: auth(f.operatorKey)) { $0.json ?? [:] }
            #expect(((stored["availability"] as? [String: Any])?["active"] as? [String: Any])?["payments"] as? Bool == false, "\(stored)")
            #expect(try await browser.get("/dashboard/sandbox").text.contains("online for payments is now off"))
            let iban = try await browser.post("/dashboard/sandbox/institutions/\(institution)/availability", [("setting", "iban.global"), ("value", "enabled")], csrf: token)
            #expect(iban.status == .seeOther, "\(iban.text)")
            // A switch that does not exist is refused with words, not a 500.
            let bad = try await browser.post("/dashboard/sandbox/institutions/\(institution)/availability", [("setting", "active.coffee"), ("value", "true")], csrf: token)
            #expect(bad.status == .unprocessableContent || bad.status == .badRequest, "\(bad.status)")
            #expect(try await browser.post("/dashboard/sandbox/institutions/nobank/availability", [("setting", "active.data"), ("value", "true")], csrf: token).status == .notFound)
            // A callback the application did not register: the form again, as filled in, the field marked.
            let refused = try await browser.post("/dashboard/sandbox/authorisations", [
                ("institution", institution), ("callback", "https://evil.example/cb"), ("application_user_id", "user-1"),
            ], csrf: token)
            #expect(refused.status.code >= 400 && refused.status.code < 500 && refused.text.contains(#"value="https://evil.example/cb""#), "\(refused.text)")
            #expect(refused.text.contains(#"id="form-error""#) && refused.text.contains(#"value="user-1""#))
            // Started: its page follows it (reloading while it waits), with the consent page's link.
            let started = try await browser.post("/dashboard/sandbox/authorisations", [
                ("institution", institution), ("callback", "https://app.example/cb"), ("application_user_id", "user-1"),
            ], csrf: token)
            #expect(started.status == .seeOther, "\(started.text)")
            let location = try #require(started.headers[.location])
            let waiting = try await browser.get(location)
            #expect(waiting.text.contains("AWAITING_AUTHORIZATION") && waiting.text.contains(#"http-equiv="refresh""#), "\(waiting.text)")
            #expect(waiting.text.contains("http://localhost/sandbox-bank/authorise/") && waiting.text.contains("user_good"))
            // Completed here with a magic login: authorised, its consent listed, no more reloading.
            let completed = try await browser.post("\(location)/complete", [("login", "user_good"), ("decision", "approve")], csrf: token)
            #expect(completed.status == .seeOther, "\(completed.text)")
            let done = try await browser.get(location)
            #expect(done.text.contains(">AUTHORIZED<") && done.text.contains("https://app.example/cb") && !done.text.contains(#"http-equiv="refresh""#), "\(done.text)")
            #expect(try await browser.get("/dashboard/sandbox/authorisations/nothing").status == .notFound)
        }
    }

    @Test func theOperatorManagesApplicationsAndKeysAndAnAdminItsOwnKeys() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            var browser = DashboardBrowser(client: client)
            let home = try await browser.signIn(f.operatorKey)
            #expect(home.text.contains(#"href="/dashboard/applications""#) && home.text.contains(#"href="/dashboard/api-keys""#))
            let list = try await browser.get("/dashboard/applications")
            #expect(list.status == .ok && list.text.contains("Default") && list.text.contains(">yours</span>"))
            let token = try #require(DashboardBrowser.csrf(in: list.text))
            // A refused create is the form again, as filled in.
            let refused = try await browser.post("/dashboard/applications", [("name", "Acme"), ("redirect_callbacks", "javascript:alert(1)")], csrf: token)
            #expect(refused.status == .unprocessableContent && refused.text.contains(#"id="form-error""#) && refused.text.contains("javascript:alert(1)</textarea>"), "\(refused.text)")
            let created = try await browser.post("/dashboard/applications", [("name", "Acme"), ("environment", "sandbox"), ("redirect_callbacks", "acme://done\nhttps://acme.example/cb")], csrf: token)
            #expect(created.status == .seeOther, "\(created.text)")
            let location = try #require(created.headers[.location])
            let application = try await browser.get(location)
            #expect(application.text.contains("Acme") && application.text.contains("acme://done") && application.text.contains("No keys yet."))
            // A key for it: shown once, with the copy button; it signs in as that application's admin.
            #expect(try await browser.post("\(location)/api-keys", [("role", "admin")], csrf: token).status == .seeOther)
            let withKey = try await browser.get(location)
            let key = try #require(withKey.text.range(of: #"bhk_[A-Za-z0-9_]+"#, options: .regularExpression).map { String(withKey.text[$0]) })
            #expect(withKey.text.contains("<h2 id=\"secret-heading\">API key</h2>") && withKey.text.contains(#"data-copy="secret""#))
            #expect(!(try await browser.get(location)).text.contains(key), "shown once")
            #expect(try await browser.post("\(location)/api-keys", [("role", "operator")], csrf: token).status == .unprocessableContent)
            var admin = DashboardBrowser(client: client)
            let adminHome = try await admin.signIn(key)
            #expect(adminHome.text.contains(">admin</span>") && adminHome.text.contains(#"href="/dashboard/api-keys""#))
            #expect(!adminHome.text.contains(#"href="/dashboard/applications""#))
            let forbidden = try await admin.get("/dashboard/applications")
            #expect(forbidden.status == .forbidden && forbidden.text.contains("cannot list applications"))
            // The admin's own keys: make a viewer key, then revoke it; its own key cannot be revoked.
            let keys = try await admin.get("/dashboard/api-keys")
            #expect(keys.status == .ok && keys.text.contains(">this session</span>"))
            let adminToken = try #require(DashboardBrowser.csrf(in: keys.text))
            #expect(try await admin.post("/dashboard/api-keys", [("role", "viewer")], csrf: adminToken).status == .seeOther)
            let afterCreate = try await admin.get("/dashboard/api-keys")
            let viewerKey = try #require(afterCreate.text.range(of: #"bhk_[A-Za-z0-9_]+"#, options: .regularExpression).map { String(afterCreate.text[$0]) })
            let viewerID = String(viewerKey.dropFirst(4).prefix { $0 != "_" })
            #expect(try await admin.post("/dashboard/api-keys/\(viewerID)/revoke", csrf: adminToken).status == .seeOther)
            #expect(try await admin.get("/dashboard/api-keys").text.contains("revoked"))
            var viewer = DashboardBrowser(client: client)
            let form = try await viewer.get("/dashboard/sign-in")
            #expect(try await viewer.post("/dashboard/sign-in", [("key", viewerKey)], csrf: DashboardBrowser.csrf(in: form.text)).status == .unauthorized)
        }
    }

    /// Every form this step added: refused without its token, from another origin, and for a
    /// role the API refuses, with nothing changed.
    @Test func everyNewFormNeedsItsTokenAndTheAPIsRole() async throws {
        let f = try await APIFixture()
        let viewerKey = try await f.key(.viewer)
        let developerKey = try await f.key(.developer)
        try await f.test { client in
            let webhook = try await Self.webhook(client, f, url: "http://127.0.0.1:9/hook", name: "Ledger")
            var owner = DashboardBrowser(client: client)
            _ = try await owner.signIn(f.operatorKey)
            let sandbox = try await owner.get("/dashboard/sandbox")
            let institution = try #require(sandbox.text.range(of: #"/dashboard/sandbox/institutions/[^/"]+/availability"#, options: .regularExpression)
                .map { String(sandbox.text[$0]).dropFirst("/dashboard/sandbox/institutions/".count).dropLast("/availability".count) }).description
            // (path, fields, the roles that may post it)
            let forms: [(String, [(String, String)], Set<Role>)] = [
                ("/dashboard/webhooks/\(webhook)/recover", [("since", "2020-01-01T00:00")], Roles.managers),
                ("/dashboard/sandbox/institutions/\(institution)/availability", [("setting", "active.data"), ("value", "false")], Roles.publishers),
                ("/dashboard/sandbox/authorisations", [("institution", institution), ("callback", "https://app.example/cb"), ("application_user_id", "u")], Roles.publishers),
                ("/dashboard/sandbox/authorisations/auth_x/complete", [("login", "user_good"), ("decision", "approve")], Roles.publishers),
                ("/dashboard/api-keys", [("role", "viewer")], Roles.managers),
                ("/dashboard/api-keys/key_x/revoke", [], Roles.managers),
                ("/dashboard/applications", [("name", "Evil")], Roles.operators),
                ("/dashboard/applications/\(defaultApplicationID)/api-keys", [("role", "admin")], Roles.operators),
            ]
            let keysBefore = try await f.components.store.apiKeys(applicationID: defaultApplicationID).count
            let token = try await owner.sessionCSRF()
            for (path, fields, _) in forms {
                #expect(try await owner.post(path, fields, csrf: nil).status == .forbidden, "\(path): no token")
                #expect(try await owner.post(path, fields, csrf: DashboardSessions.randomHex()).status == .forbidden, "\(path): another token")
                #expect(try await owner.post(path, fields, csrf: token, headers: [.origin: "https://evil.example"]).status == .forbidden, "\(path): another origin")
            }
            for (key, role) in [(viewerKey, Role.viewer), (developerKey, Role.developer)] {
                var browser = DashboardBrowser(client: client)
                _ = try await browser.signIn(key)
                let token = try await browser.sessionCSRF()
                for (path, fields, roles) in forms where !roles.contains(role) {
                    let response = try await browser.post(path, fields, csrf: token)
                    #expect(response.status == .forbidden, "\(role) \(path): \(response.status)")
                    #expect(response.text.contains("A \(role.rawValue) key cannot"), "\(role) \(path): the API's words")
                }
                // The pages show no form the role cannot post.
                let page = try await browser.get("/dashboard/webhooks/\(webhook)")
                #expect(!page.text.contains("/recover\""), "\(role): no recover form")
                let sandboxPage = try await browser.get("/dashboard/sandbox")
                #expect(sandboxPage.text.contains("/availability\"") == Roles.publishers.contains(role), "\(role): switches")
                #expect(sandboxPage.text.contains("Start authorisation") == Roles.publishers.contains(role), "\(role): start form")
                #expect(try await browser.get("/dashboard/api-keys").status == .forbidden)
                #expect(try await browser.get("/dashboard/applications").status == .forbidden)
            }
            #expect(try await f.components.store.apiKeys(applicationID: defaultApplicationID).count == keysBefore, "no key was made")
            #expect(try await f.components.store.applications().count == 1, "no application was created")
        }
    }

    @Test func signInsOfOneKeyAreLimitedAndOtherMethodsAre405Pages() async throws {
        let f = try await APIFixture()
        let viewer = try await f.key(.viewer)
        try await f.test { client in
            var browser = DashboardBrowser(client: client)
            let form = try await browser.get("/dashboard/sign-in")
            let token = try #require(DashboardBrowser.csrf(in: form.text))
            // Guessing one key's secret: five tries, then a 429 page, whatever is sent, even the right secret.
            let guess = "bhk_operator1_" + String(repeating: "z", count: 32)
            for _ in 0..<5 {
                #expect(try await browser.post("/dashboard/sign-in", [("key", guess)], csrf: token).status == .unauthorized)
            }
            let limited = try await browser.post("/dashboard/sign-in", [("key", f.operatorKey)], csrf: token)
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil && limited.text.contains("Too many sign-ins with this key"))
            #expect(browser.cookies["bh_session"] == nil)
            // Another key is not held back.
            #expect(try await browser.post("/dashboard/sign-in", [("key", viewer)], csrf: token).status == .seeOther)
            // A method the dashboard does not take: an HTML 405 naming the ones it does.
            for method: HTTPRequest.Method in [.delete, .put, .patch] {
                let response = try await browser.send("/dashboard/webhooks", method: method, headers: [:], body: nil)
                #expect(response.status == .methodNotAllowed, "\(method)")
                #expect(response.headers[.allow] == "GET, HEAD, POST" && response.text.contains("changed with forms"), "\(method)")
            }
            #expect(try await browser.send("/dashboard/webhooks/wh_x", method: .delete, headers: [:], body: nil).status == .methodNotAllowed)
        }
    }
}
