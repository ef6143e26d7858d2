import BankHooksCore
@testable import BankHooksServer
import BankHooksTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A browser for the dashboard's tests: keeps cookies as `Set-Cookie` says, sends forms
/// url-encoded from this origin (`http://localhost`, the router test's authority), and reads the
/// CSRF field out of each page.
struct DashboardBrowser {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    var origin: String? = "http://localhost"

    mutating func get(_ uri: String) async throws -> TestResponse {
        try await send(uri, method: .get, headers: [:], body: nil)
    }

    /// Posts `fields` as a form; `csrf` is added unless given (or `nil` to leave it out).
    mutating func post(_ uri: String, _ fields: [(String, String)] = [], csrf: String?, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        if headers[.contentType] == nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        if let origin, headers[.origin] == nil { headers[.origin] = origin }
        let all = (csrf.map { [("csrf", $0)] } ?? []) + fields
        return try await send(uri, method: .post, headers: headers, body: ByteBuffer(string: FormBody.encode(all)))
    }

    mutating func send(_ uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        var headers = headers
        if !cookies.isEmpty { headers[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
        for line in response.headers[values: .setCookie] {
            let pair = line.prefix { $0 != ";" }.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { continue }
            if line.contains("Max-Age=0") { cookies.removeValue(forKey: String(pair[0])) } else { cookies[String(pair[0])] = String(pair[1]) }
        }
        return response
    }

    /// The first form's CSRF field on a page.
    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    /// Signs in with `key`; answers the page the sign-in leads to.
    mutating func signIn(_ key: String) async throws -> TestResponse {
        let form = try await get("/dashboard/sign-in")
        let response = try await post("/dashboard/sign-in", [("key", key)], csrf: Self.csrf(in: form.text))
        #expect(response.status == .seeOther, "\(response.text)")
        return try await get(response.headers[.location] ?? "/dashboard/webhooks")
    }

    /// The CSRF token of this session (from any signed-in page).
    mutating func sessionCSRF() async throws -> String {
        try #require(Self.csrf(in: try await get("/dashboard/webhooks").text))
    }
}

/// The dashboard in process: sign in, sessions and their cookie, CSRF and origin checks, roles
/// (a viewer sees no admin action and is refused one anyway), and error pages for bad input.
@Suite struct DashboardTests {
    @Test func signingInNeedsTheFormsTokenAndAWorkingKey() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            var browser = DashboardBrowser(client: client)
            // Signed out, every page leads to the sign-in form; the dashboard's root is its webhooks.
            #expect(try await browser.get("/dashboard").headers[.location] == "/dashboard/webhooks")
            let first = try await browser.get("/dashboard/webhooks")
            #expect(first.status == .seeOther)
            #expect(first.headers[.location] == "/dashboard/sign-in")
            let form = try await browser.get("/dashboard/sign-in")
            #expect(form.status == .ok)
            #expect(form.headers[.contentType] == "text/html; charset=utf-8")
            #expect(form.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            #expect(form.headers[.cacheControl] == "no-store")
            let signInCookie = try #require(form.headers[values: .setCookie].first { $0.hasPrefix("bh_signin=") })
            #expect(signInCookie.contains("HttpOnly") && signInCookie.contains("SameSite=Strict") && !signInCookie.contains("Secure"))
            #expect(form.text.contains(#"<label for="key">API key</label>"#))
            let token = try #require(DashboardBrowser.csrf(in: form.text))
            // Without the form's token, or with another one, nothing happens.
            #expect(try await browser.post("/dashboard/sign-in", [("key", f.operatorKey)], csrf: nil).status == .forbidden)
            #expect(try await browser.post("/dashboard/sign-in", [("key", f.operatorKey)], csrf: String(repeating: "0", count: 64)).status == .forbidden)
            #expect(browser.cookies["bh_session"] == nil)
            // A wrong key is the form again, saying so.
            let wrong = try await browser.post("/dashboard/sign-in", [("key", "bhk_nobody_" + String(repeating: "y", count: 32))], csrf: token)
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains(#"role="alert""#) && wrong.text.contains("unknown or revoked"))
            // The right key opens a session: HttpOnly, SameSite=Strict, the dashboard only, an expiry.
            let signedIn = try await browser.post("/dashboard/sign-in", [("key", f.operatorKey)], csrf: token)
            #expect(signedIn.status == .seeOther)
            let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("bh_session=") })
            #expect(cookie.contains("; Path=/dashboard") && cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict") && cookie.contains("Max-Age="))
            #expect(!cookie.contains("Secure"), "plain http: no Secure")
            let list = try await browser.get("/dashboard/webhooks")
            #expect(list.status == .ok)
            #expect(list.text.contains("<h1>Webhooks</h1>") && list.text.contains(">operator</span>"))
            #expect(list.text.contains("No webhooks yet") && list.text.contains("New webhook"))
            // The sign-in page of a signed-in browser leads to the dashboard.
            #expect(try await browser.get("/dashboard/sign-in").status == .seeOther)
            // Signing in again (another key) makes a new session and ends the one before.
            let before = try #require(browser.cookies["bh_session"])
            let again = try await browser.post("/dashboard/sign-in", [("key", try await f.key(.viewer))], csrf: token)
            #expect(again.status == .seeOther && browser.cookies["bh_session"] != before)
            #expect(try await browser.get("/dashboard/webhooks").text.contains(">viewer</span>"))
            browser.cookies["bh_session"] = before
            #expect(try await browser.get("/dashboard/webhooks").headers[.location] == "/dashboard/sign-in")
        }
    }

    @Test func signingOutEndsTheSessionAndTheCookie() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(f.operatorKey)
            let session = try #require(browser.cookies["bh_session"])
            // Signing out is a form too: without its token it is refused.
            #expect(try await browser.post("/dashboard/sign-out", csrf: nil).status == .forbidden)
            let out = try await browser.post("/dashboard/sign-out", csrf: try await browser.sessionCSRF())
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "/dashboard/sign-in?signed-out=1")
            #expect(out.headers[values: .setCookie].contains { $0.hasPrefix("bh_session=;") && $0.contains("Max-Age=0") })
            #expect(try await browser.get("/dashboard/sign-in?signed-out=1").text.contains("You are signed out."))
            // The old cookie names nothing any more.
            browser.cookies["bh_session"] = session
            #expect(try await browser.get("/dashboard/webhooks").headers[.location] == "/dashboard/sign-in")
        }
    }

    @Test func aSessionExpiresWhenIdleAndWhenItsKeyIsRevoked() async throws {
        let clock = ManualClock(now: SystemClock().now())
        let f = try await APIFixture(clock: clock)
        let admin = try await f.key(.admin)
        try await f.test { client in
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(admin)
            clock.advance(by: .seconds(29 * 60))
            #expect(try await browser.get("/dashboard/webhooks").status == .ok, "still within the idle timeout")
            clock.advance(by: .seconds(31 * 60))
            #expect(try await browser.get("/dashboard/webhooks").headers[.location] == "/dashboard/sign-in", "idle for 31 minutes")
            // A revoked key's session ends at its next request.
            _ = try await browser.signIn(admin)
            let keyID = try #require(APIKey.id(of: admin))
            try await client.execute(uri: "/v1/api-keys/\(keyID)", method: .delete, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .noContent, "\(response.text)")
            }
            #expect(try await browser.get("/dashboard/webhooks").headers[.location] == "/dashboard/sign-in")
        }
    }

    @Test func aFormWithoutItsTokenOrFromAnotherOriginIsRefused() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(f.operatorKey)
            let token = try await browser.sessionCSRF()
            let fields = [("url", "http://127.0.0.1:9/hook"), ("format", "standard")]
            let refusals: [(String, TestResponse)] = [
                ("no token", try await browser.post("/dashboard/webhooks", fields, csrf: nil)),
                ("another token", try await browser.post("/dashboard/webhooks", fields, csrf: DashboardSessions.randomHex())),
                ("another origin", try await browser.post("/dashboard/webhooks", fields, csrf: token, headers: [.origin: "https://evil.example"])),
                ("an opaque origin", try await browser.post("/dashboard/webhooks", fields, csrf: token, headers: [.origin: "null"])),
                ("a cross-site fetch", try await browser.post(
                    "/dashboard/webhooks", fields, csrf: token, headers: [DashboardController.secFetchSite: "cross-site"])),
            ]
            for (why, response) in refusals {
                #expect(response.status == .forbidden, "\(why)")
                #expect(response.text.contains(#"role="alert""#), "\(why): an error page")
            }
            #expect(try await f.components.store.webhooks(applicationID: defaultApplicationID).isEmpty, "nothing was created")
            // Its own origin, with the token: created.
            let created = try await browser.post("/dashboard/webhooks", fields, csrf: token, headers: [DashboardController.secFetchSite: "same-origin"])
            #expect(created.status == .seeOther, "\(created.text)")
            #expect(try await f.components.store.webhooks(applicationID: defaultApplicationID).count == 1)
        }
    }

    @Test func aViewerSeesNoAdminActionAndTheServerRefusesThemAnyway() async throws {
        let f = try await APIFixture()
        let viewer = try await f.key(.viewer)
        try await f.test { client in
            let webhook: [String: Any] = try await client.execute(
                uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey),
                body: ByteBuffer(string: #"{"url":"http://127.0.0.1:9/hook","name":"Orders"}"#)
            ) { response in response.json ?? [:] }
            let id = try #require(webhook["id"] as? String)
            var browser = DashboardBrowser(client: client)
            let list = try await browser.signIn(viewer)
            #expect(list.text.contains("Orders") && list.text.contains(">viewer</span>"))
            #expect(!list.text.contains("New webhook"))
            let detail = try await browser.get("/dashboard/webhooks/\(id)")
            #expect(detail.status == .ok)
            for action in ["/test", "/disable", "/rotate-secret", "/delete"] {
                #expect(!detail.text.contains("action=\"/dashboard/webhooks/\(id)\(action)\""), "no \(action) form")
            }
            #expect(!detail.text.contains("/dashboard/webhooks/\(id)/edit"), "no edit link")
            #expect(!detail.text.contains("Send a test") && !detail.text.contains("Rotate secret"))
            // The admin pages and forms are refused, with the API's words.
            let newForm = try await browser.get("/dashboard/webhooks/new")
            #expect(newForm.status == .forbidden)
            #expect(newForm.text.contains("A viewer key cannot create webhooks."))
            #expect(try await browser.get("/dashboard/webhooks/\(id)/delete").status == .forbidden)
            #expect(try await browser.get("/dashboard/webhooks/\(id)/edit").status == .forbidden)
            let token = try await browser.sessionCSRF()
            for action in ["test", "disable", "rotate-secret", "delete", "edit"] {
                let response = try await browser.post("/dashboard/webhooks/\(id)/\(action)", csrf: token)
                #expect(response.status == .forbidden, "\(action): \(response.text)")
            }
            #expect(try await browser.post("/dashboard/webhooks", [("url", "http://127.0.0.1:9/x")], csrf: token).status == .forbidden)
            let stored = try #require(try await f.components.store.webhook(id: id, applicationID: defaultApplicationID))
            #expect(stored.isEnabled && stored.secret.text == (webhook["secret"] as? String), "nothing changed")
            #expect(try await f.components.store.webhooks(applicationID: defaultApplicationID).count == 1)
        }
    }

    @Test func aWebhookIsCreatedTestedRotatedResentAndDeleted() async throws {
        try await TestReceiver.run { receiver in
            let f = try await APIFixture()
            try await f.test { client in
                var browser = DashboardBrowser(client: client)
                _ = try await browser.signIn(f.operatorKey)
                let form = try await browser.get("/dashboard/webhooks/new")
                #expect(form.status == .ok)
                #expect(form.text.contains(#"<label for="url">Endpoint URL</label>"#) && form.text.contains(#"name="event:entity.created""#))
                let token = try #require(DashboardBrowser.csrf(in: form.text))
                let created = try await browser.post("/dashboard/webhooks", [
                    ("url", receiver.url()), ("name", "Orders <prod>"), ("format", "standard"),
                    ("event:entity.created", "on"), ("event:payment.created", "on"),
                ], csrf: token)
                #expect(created.status == .seeOther, "\(created.text)")
                let location = try #require(created.headers[.location])
                let id = String(location.dropFirst("/dashboard/webhooks/".count))
                let stored = try #require(try await f.components.store.webhook(id: id, applicationID: defaultApplicationID))
                #expect(stored.name == "Orders <prod>" && stored.eventTypes == ["entity.created", "payment.created"])
                // The secret, once, with a copy button; escaped names.
                let detail = try await browser.get(location)
                #expect(detail.text.contains("value=\"\(stored.secret.text)\"") && detail.text.contains(#"data-copy="secret""#))
                #expect(detail.text.contains("Orders &lt;prod&gt;"))
                #expect(!(try await browser.get(location)).text.contains(stored.secret.text), "shown only once")
                // Send a test: the result inline, the attempt in the delivery's page.
                let sent = try await browser.post("\(location)/test", csrf: token)
                #expect(sent.status == .seeOther)
                let result = try await browser.get(location)
                #expect(result.text.contains("The test event was delivered.") && result.text.contains("HTTP 200"), "\(result.text)")
                #expect(receiver.requests.count == 1)
                let deliveryPath = try #require(result.text.range(of: #"/dashboard/deliveries/[0-9]+"#, options: .regularExpression).map { String(result.text[$0]) })
                let delivery = try await browser.get(deliveryPath)
                #expect(delivery.status == .ok)
                #expect(delivery.text.contains("Attempt 1") && delivery.text.contains("webhook-signature") && delivery.text.contains("Resend"))
                // Resend: a second attempt.
                #expect(try await browser.post("\(deliveryPath)/resend", csrf: token).status == .seeOther)
                let resent = try await browser.get(deliveryPath)
                #expect(resent.text.contains("Sent again: delivered.") && resent.text.contains("Attempt 2"))
                #expect(receiver.requests.count == 2)
                // Rotate: a new secret, shown once; the old one keeps signing a while.
                #expect(try await browser.post("\(location)/rotate-secret", csrf: token).status == .seeOther)
                let rotated = try #require(try await f.components.store.webhook(id: id, applicationID: defaultApplicationID))
                #expect(rotated.secret.text != stored.secret.text)
                let afterRotate = try await browser.get(location)
                #expect(afterRotate.text.contains(rotated.secret.text) && afterRotate.text.contains("Secret rotated."))
                // Disable, enable.
                #expect(try await browser.post("\(location)/disable", csrf: token).status == .seeOther)
                #expect(try await f.components.store.webhook(id: id, applicationID: defaultApplicationID)?.isEnabled == false)
                #expect(try await browser.get(location).text.contains("/enable\""))
                #expect(try await browser.post("\(location)/enable", csrf: token).status == .seeOther)
                #expect(try await f.components.store.webhook(id: id, applicationID: defaultApplicationID)?.isEnabled == true)
                // The list's 24 hours: the test and the resend, both delivered.
                let list = try await browser.get("/dashboard/webhooks")
                #expect(list.text.contains("100 %") && list.text.contains("of 2 attempts") && list.text.contains("Orders &lt;prod&gt;"), "\(list.text)")
                // The deliveries filter and its bad input.
                #expect(try await browser.get("\(location)?status=failed").text.contains("No deliveries in this state yet."))
                #expect(try await browser.get("\(location)?status=succeeded").text.contains(deliveryPath))
                // Edit: a new name, and every event type (none picked); a refused URL is the form again, as filled in.
                let edit = try await browser.get("\(location)/edit")
                #expect(edit.status == .ok && edit.text.contains(#"value="Orders &lt;prod&gt;""#), "\(edit.text)")
                #expect(edit.text.contains(#"name="event:entity.created" value="on" checked"#) && !edit.text.contains(#"id="format""#))
                let refused = try await browser.post("\(location)/edit", [("url", "ftp://example.com/x"), ("name", "Renamed")], csrf: token)
                #expect(refused.status == .unprocessableContent && refused.text.contains(#"value="Renamed""#) && refused.text.contains(#"id="form-error""#))
                #expect(try await browser.post("\(location)/edit", [("url", receiver.url()), ("name", "Renamed")], csrf: token).status == .seeOther)
                let edited = try #require(try await f.components.store.webhook(id: id, applicationID: defaultApplicationID))
                #expect(edited.name == "Renamed" && edited.eventTypes == nil)
                let saved = try await browser.get(location)
                #expect(saved.text.contains("Webhook saved.") && saved.text.contains("All events"))
                // Delete, after a confirmation page.
                let confirm = try await browser.get("\(location)/delete")
                #expect(confirm.status == .ok && confirm.text.contains("Delete webhook"))
                #expect(try await browser.post("\(location)/delete", csrf: token).status == .seeOther)
                #expect(try await f.components.store.webhook(id: id, applicationID: defaultApplicationID) == nil)
                #expect(try await browser.get("/dashboard/webhooks").text.contains("Webhook deleted."))
            }
        }
    }

    @Test func badInputIsAClearErrorPageNeverA500() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(f.operatorKey)
            let token = try await browser.sessionCSRF()
            let pages: [(String, HTTPResponse.Status)] = [
                ("/dashboard/webhooks/wh_nothing", .notFound), ("/dashboard/webhooks/%00", .notFound),
                ("/dashboard/webhooks/wh_nothing/delete", .notFound), ("/dashboard/deliveries/abc", .notFound),
                ("/dashboard/deliveries/99999", .notFound), ("/dashboard/no-such-page", .notFound),
            ]
            for (uri, status) in pages {
                let response = try await browser.get(uri)
                #expect(response.status == status, "\(uri): \(response.text)")
                #expect(response.headers[.contentType] == "text/html; charset=utf-8" && response.text.contains(#"role="alert""#), "\(uri)")
            }
            // The API's refusal of a field is the form again, at that field, as filled in.
            let invalid = try await browser.post("/dashboard/webhooks", [("url", "not a url"), ("name", "Kept"), ("format", "standard")], csrf: token)
            #expect(invalid.status == .unprocessableContent)
            #expect(invalid.text.contains(#"id="form-error""#) && invalid.text.contains(#"aria-invalid="true""#) && invalid.text.contains(#"value="Kept""#))
            let format = try await browser.post("/dashboard/webhooks", [("url", "http://127.0.0.1:9/x"), ("format", "nope")], csrf: token)
            #expect(format.status == .unprocessableContent && format.text.contains("Unknown format `nope`"))
            let event = try await browser.post("/dashboard/webhooks", [("url", "http://127.0.0.1:9/x"), ("event:no.such", "on")], csrf: token)
            #expect(event.status == .unprocessableContent, "\(event.text)")
            // Bodies that are not forms, or not well-formed.
            let json = try await browser.post("/dashboard/webhooks", csrf: token, headers: [.contentType: "application/json"])
            #expect(json.status == .unsupportedMediaType)
            let broken = try await browser.send(
                "/dashboard/webhooks", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .origin: "http://localhost"],
                body: ByteBuffer(string: "csrf=\(token)&url=%zz"))
            #expect(broken.status == .badRequest)
            let huge = try await browser.post("/dashboard/webhooks", [("name", String(repeating: "x", count: 70_000))], csrf: token)
            #expect(huge.status == .contentTooLarge)
            #expect(try await browser.get("/dashboard/webhooks/wh_nothing?status=bogus").status == .notFound)
            #expect(try await f.components.store.webhooks(applicationID: defaultApplicationID).isEmpty)
        }
    }

    @Test func theLeanCallbackURLIsListedButNotEditedAsAWebhook() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            let callback: [String: Any] = try await client.execute(
                uri: "/v1/callback-url", method: .put, headers: auth(f.operatorKey), body: ByteBuffer(string: #"{"url":"https://example.com/cb"}"#)
            ) { response in response.json ?? [:] }
            let id = try #require(callback["id"] as? String)
            var browser = DashboardBrowser(client: client)
            let list = try await browser.signIn(f.operatorKey)
            #expect(list.text.contains("Lean Callback URL"), "\(list.text)")
            let detail = try await browser.get("/dashboard/webhooks/\(id)")
            #expect(detail.status == .ok && detail.text.contains("Send a test") && !detail.text.contains("/edit\""))
        }
    }

    @Test func pagesCountAgainstTheKeysRateLimitAndSayTheirServerTime() async throws {
        let f = try await APIFixture(keyRateLimit: RateLimiter.Limit(rate: 0.001, burst: 3))
        let admin = try await f.key(.admin)
        try await f.test { client in
            var browser = DashboardBrowser(client: client)
            let first = try await browser.signIn(admin)
            #expect(first.status == .ok)
            #expect(first.headers[ConsentPageController.serverTiming]?.hasPrefix("page;dur=") == true)
            #expect(try await browser.get("/dashboard/webhooks").status == .ok)
            #expect(try await browser.get("/dashboard/webhooks").status == .ok)
            // The key's burst of 3 is spent (the API's bucket: a page is one request, whatever it reads).
            let limited = try await browser.get("/dashboard/webhooks")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil && limited.text.contains("Too many requests"))
            try await client.execute(uri: "/v1/webhooks", method: .get, headers: auth(admin)) { response in
                #expect(response.status == .tooManyRequests, "the same bucket as the API's")
            }
        }
    }

    @Test func everyTemplateParsesAndTheAssetsAreServed() async throws {
        _ = try DashboardPage.library.get()
        let f = try await APIFixture()
        try await f.test { client in
            try await client.execute(uri: "/dashboard/style.css", method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "text/css; charset=utf-8")
                #expect(response.text.contains("@media (max-width:680px)"))
            }
            try await client.execute(uri: "/dashboard/dashboard.js", method: .get) { response in
                #expect(response.status == .ok && response.text.contains("data-copy"))
            }
        }
        let html = DashboardPage.render("message", title: "T", ["heading": "<b>", "message": "m", "back": "/x", "backLabel": "Back"], chrome: .init())
        #expect(html.contains("&lt;b&gt;") && !html.contains("<b>") && !html.contains("{{"))
        // Over https, cookies are Secure.
        let secure = DashboardSessions(isSecure: true)
        let session = secure.open(for: Principal(keyID: "k", applicationID: "a", role: .admin), now: SystemClock().now())
        #expect(secure.setCookie(session).hasSuffix("; Secure") && secure.clearCookie.hasSuffix("; Secure"))
    }
}
