import BankHooksCore
import BankHooksSandbox
@testable import BankHooksServer
import BankHooksVerify
import Crypto
import Foundation
import Testing

/// The consent page's parts on their own: the template renders (escaping every value), the CSRF
/// field is bound to the cookie and the authorisation, and form bodies are read as browsers send them.
@Suite struct ConsentPageTests {
    static let institution = SandboxInstitution(
        id: "test-bank", bankDetails: LeanEntityBankDetails(
            logo: "https://cdn.example/logo.png", name: "Test <Bank> & Co", accountType: .personal, identifier: "TESTBANK",
            mainColor: "#183F3F", backgroundColor: "#ffffff"),
        countryCode: "SA", bankCode: "80", okraSlug: "test-bank", bridgeBankID: 1, availability: .allUp)

    static func authorisation(permissions: [String] = ["identity", "accounts", "balance", "transactions"]) -> Authorisation {
        Authorisation(
            id: "7d1c7d8e-4a4b-4c9e-9a51-0d4c8f0f7a11", applicationID: "app_default", institutionID: "test-bank", applicationUserID: "a@f.com",
            userUUID: "88c8ea6c-25a3-4ecb-b134-a4b23dde2df7", callback: "https://app.example/cb", oneTimeToken: false, permissions: permissions,
            forwardParameters: [], state: "a09f8ff9c1284444aa635267e05f76e1", createdAt: Timestamp(milliseconds: 1_700_000_000_000),
            expiresAt: Timestamp(milliseconds: 1_700_001_800_000))
    }

    static func form(failure: String? = nil, username: String = "") -> String {
        ConsentPage.render(ConsentPage.Form(
            bank: ConsentPage.Bank(institution), applicationName: "Acme \"Pay\"", authorisation: authorisation(), csrf: "c0ffee",
            username: username, failure: failure, magicLogins: [(login: "user", outcome: "success"), (login: "error.<x>", outcome: "fails")]))
    }

    /// The 302 says the server's time in milliseconds with microsecond digits (`Server-Timing`).
    @Test func theRedirectSaysItsServerTime() {
        let timed = ConsentPageController.redirect(to: "https://shop.example/done?consent=x", serverTime: .microseconds(3125))
        #expect(timed.status == .found)
        #expect(timed.headers[.location] == "https://shop.example/done?consent=x")
        #expect(timed.headers[ConsentPageController.serverTiming] == "bank;dur=3.125")
        #expect(ConsentPageController.redirect(to: "x", serverTime: .microseconds(7)).headers[ConsentPageController.serverTiming] == "bank;dur=0.007")
        #expect(ConsentPageController.redirect(to: "x", serverTime: .milliseconds(12)).headers[ConsentPageController.serverTiming] == "bank;dur=12.000")
        #expect(ConsentPageController.redirect(to: "x").headers[ConsentPageController.serverTiming] == nil)
    }

    @Test func theTemplateParses() throws {
        _ = try ConsentPageTemplate.page.get()
    }

    @Test func theFormHasEverythingABankPageNeedsAndNoScriptOrExternalAsset() throws {
        let html = Self.form()
        #expect(html.hasPrefix("<!doctype html>"))
        // Every value is escaped.
        #expect(html.contains("Test &lt;Bank&gt; &amp; Co"))
        #expect(html.contains("Acme &quot;Pay&quot;"))
        #expect(!html.contains("<Bank>"))
        #expect(html.contains("<code>error.&lt;x&gt;</code>"))
        // The form posts to the authorisation with its state and CSRF field.
        #expect(html.contains(#"<form method="post" action="/sandbox-bank/authorise/7d1c7d8e-4a4b-4c9e-9a51-0d4c8f0f7a11""#))
        #expect(html.contains(#"<input type="hidden" name="state" value="a09f8ff9c1284444aa635267e05f76e1">"#))
        #expect(html.contains(#"<input type="hidden" name="csrf" value="c0ffee">"#))
        #expect(html.contains(#"name="username""#) && html.contains(#"name="password" type="password""#))
        #expect(html.contains(#"name="decision" value="approve""#) && html.contains(#"name="decision" value="deny""#))
        // The permissions asked, in words; the magic logins in a <details>.
        for title in ["Identity", "Accounts", "Balances", "Transactions"] { #expect(html.contains("<strong>\(title)</strong>")) }
        #expect(html.contains("<details>") && html.contains("<code>user</code>"))
        // The logo is drawn inline in the institution's colour.
        #expect(html.contains(#"<svg class="logo""#) && html.contains(##"fill="#183F3F""##))
        // Nothing runs and nothing is loaded from elsewhere.
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("src=") && !html.contains("<link") && !html.contains("url(") && !html.contains("@import"))
        #expect(!html.contains("{{") && !html.contains("}}"), "every tag was rendered")
        #expect(!html.contains("role=\"alert\""), "no failure shown on a first visit")
    }

    @Test func aWrongPasswordShowsLeansMessageAndKeepsTheUsername() {
        let html = Self.form(failure: "The username or password submitted was incorrect", username: "alice")
        #expect(html.contains(#"<p class="failure" role="alert">The username or password submitted was incorrect</p>"#))
        #expect(html.contains(#"name="username" type="text" value="alice""#))
    }

    @Test func aMessagePageSaysWhyWithoutAForm() {
        let html = ConsentPage.message(heading: "This request has expired", message: "Start <again>.")
        #expect(html.contains("<h1 id=\"heading\">This request has expired</h1>"))
        #expect(html.contains("Start &lt;again&gt;."))
        #expect(!html.contains("<form"))
    }

    @Test func colours() {
        #expect(ConsentPage.Bank(name: "x", mainColor: "#183F3F", countryCode: "SA").inkColor == "#ffffff")
        #expect(ConsentPage.Bank(name: "x", mainColor: "#1beb75", countryCode: "SA").inkColor == "#1c2430")
        #expect(ConsentPage.Bank(name: "x", mainColor: "#fff", countryCode: "SA").inkColor == "#1c2430")
        // Only hex reaches the CSS and the SVG.
        #expect(ConsentPage.Bank(name: "x", mainColor: "red;}</style><script>", countryCode: "SA").mainColor == "#183F3F")
        #expect(ConsentPage.Bank(name: "x", mainColor: "#12345g", countryCode: "SA").mainColor == "#183F3F")
    }

    // MARK: CSRF

    @Test func theCSRFFieldIsBoundToTheCookieAndTheAuthorisation() {
        let csrf = ConsentCSRF.random()
        let cookie = ConsentCSRF.newCookieValue()
        #expect(ConsentCSRF.isWellFormed(cookie))
        let token = csrf.token(cookie: cookie, authorisationID: "a1")
        #expect(token.count == 64)
        #expect(csrf.verify(cookie: cookie, token: token, authorisationID: "a1"))
        #expect(!csrf.verify(cookie: cookie, token: token, authorisationID: "a2"), "another authorisation's form")
        #expect(!csrf.verify(cookie: ConsentCSRF.newCookieValue(), token: token, authorisationID: "a1"), "another browser's cookie")
        #expect(!csrf.verify(cookie: nil, token: token, authorisationID: "a1"))
        #expect(!csrf.verify(cookie: cookie, token: nil, authorisationID: "a1"))
        #expect(!csrf.verify(cookie: cookie, token: String(token.dropLast()) + (token.hasSuffix("0") ? "1" : "0"), authorisationID: "a1"))
        #expect(!ConsentCSRF.random().verify(cookie: cookie, token: token, authorisationID: "a1"), "another key")
        let key = SymmetricKey(size: .bits256)
        #expect(ConsentCSRF(key: key).token(cookie: cookie, authorisationID: "a1") == ConsentCSRF(key: key).token(cookie: cookie, authorisationID: "a1"))
    }

    @Test func theCookieIsHttpOnlyLaxAndLimitedToTheBank() {
        let value = ConsentCSRF.newCookieValue()
        #expect(ConsentCSRF.random().setCookie(value) == "bh_csrf=\(value); Path=/sandbox-bank; HttpOnly; SameSite=Lax")
        #expect(ConsentCSRF.random(isSecure: true).setCookie(value).hasSuffix("; Secure"))
        #expect(!ConsentCSRF.isWellFormed(value + "x") && !ConsentCSRF.isWellFormed(String(value.dropLast()) + "="))
    }

    // MARK: Form bodies

    @Test func formBodiesAreReadAsBrowsersSendThem() throws {
        let form = try FormBody(parsing: Array("state=abc&csrf=0f&username=a%40f.com&password=x+y%2Bz&decision=approve&empty=&flag".utf8))
        #expect(form["username"] == "a@f.com")
        #expect(form["password"] == "x y+z")
        #expect(form["empty"] == "" && form["flag"] == "")
        #expect(try FormBody(parsing: []) == FormBody(fields: [:]))
        #expect(try FormBody(parsing: Array("name=%C3%A9".utf8))["name"] == "é")
        let pairs = [("username", "a@f.com ü"), ("p", "=&+%")]
        let encoded = FormBody.encode(pairs)
        #expect(encoded == "username=a%40f.com+%C3%BC&p=%3D%26%2B%25")
        #expect(try FormBody(parsing: Array(encoded.utf8)).fields == Dictionary(uniqueKeysWithValues: pairs))
    }

    @Test(arguments: ["a=1&a=2", "a=%", "a=%4", "a=%zz", "a=%FF", "a=%00"])
    func malformedFormBodiesAreRefused(_ body: String) {
        #expect(throws: FormBody.Malformed.self) { try FormBody(parsing: Array(body.utf8)) }
    }

    // MARK: The public base

    /// Without `--public-url`, `authorisation_url` is built from the Host header: only a host
    /// (name, IPv4 or bracketed IPv6) with an optional port gets in, nothing that could make it another URL.
    @Test func onlyAHostAndPortMakeTheAuthorisationURL() {
        for host in ["127.0.0.1:8080", "localhost", "bank.example.com", "[::1]:8080", "[fe80::1]", "a-b.example:1"] {
            #expect(AuthorisationsController.isHost(host), "\(host)")
        }
        for host in ["", "evil.com/x", "evil.com?x", "evil.com#x", "user@evil.com", "evil.com:", "evil.com:123456", "evil.com:8a",
                     "[::1", "[::1]x", "ex ample.com", "évil.com", String(repeating: "a", count: 256)] {
            #expect(!AuthorisationsController.isHost(host), "\(host)")
        }
    }

    @Test func serveRefusesAPublicURLItCannotUse() async throws {
        for url in ["ftp://bank.example.com", "https://bank.example.com/?a=1", "not a url", "https://user:pw@bank.example.com", "https://x.example/bank"] {
            let result = try #require(try await ServeFlagTests.serve(["--public-url", url]), "serve started with --public-url \(url)")
            #expect(result.status == 64, "\(url): \(result.output)")
            #expect(result.output.contains("--public-url"), "\(result.output)")
        }
    }

    @Test func anyContentTypeIsReadWithoutTrapping() {
        for value in ["application/x-www-form-urlencoded", "Application/X-WWW-Form-Urlencoded; charset=UTF-8", " application/x-www-form-urlencoded ;"] {
            #expect(ConsentPageController.isForm(value), "\(value)")
        }
        for value in [nil, "", ";", ";;;", " ;", "\t", "application/json", "multipart/form-data; boundary=x"] as [String?] {
            #expect(!ConsentPageController.isForm(value), "\(value ?? "nil")")
        }
    }
}
