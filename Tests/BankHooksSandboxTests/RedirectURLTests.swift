import BankHooksSandbox
import Foundation
import Testing

/// The redirect back to the callback (seed 003) and the callback registration rule.
@Suite struct RedirectURLTests {
    /// The query parameters of a URL in order, percent-decoded (what a callback page reads).
    static func parameters(_ url: String) -> [(String, String)] {
        let withoutFragment = url.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard let q = withoutFragment.firstIndex(of: "?") else { return [] }
        return withoutFragment[withoutFragment.index(after: q)...].split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncoding ?? "?"
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? "?") : ""
            return (name, value)
        }
    }

    static func names(_ url: String) -> [String] { parameters(url).map(\.0) }

    // MARK: Success

    /// The real-world example of auth-flows §3.3, byte for byte.
    @Test func successMatchesTheRealExample() {
        let url = RedirectURL.success(
            callback: "http://localhost:8080/", tokens: ["eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJJTlNUSVRVVElPTiI6ImJidmEtc2FuZGJveCJ9.c2ln"],
            oneTimeToken: false, applicationUserID: "a@f.com", userUUID: "88c8ea6c-25a3-4ecb-b134-a4b23dde2df7", institutionID: "bbva-sandbox",
            forwardParameters: [])
        #expect(url == "http://localhost:8080/?consent=eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJJTlNUSVRVVElPTiI6ImJidmEtc2FuZGJveCJ9.c2ln"
            + "&application-user-id=a%40f.com&user-uuid=88c8ea6c-25a3-4ecb-b134-a4b23dde2df7&institution=bbva-sandbox")
    }

    /// Without an application user id the parameter is left out, not sent empty.
    @Test func successWithoutApplicationUserID() {
        let url = RedirectURL.success(
            callback: "https://app.example/cb", tokens: ["t"], oneTimeToken: false, applicationUserID: nil, userUUID: "u", institutionID: "i",
            forwardParameters: [])
        #expect(url == "https://app.example/cb?consent=t&user-uuid=u&institution=i")
    }

    /// A one-time token replaces `consent`; the ids follow.
    @Test func oneTimeToken() {
        let url = RedirectURL.success(
            callback: "https://app.example/cb", tokens: ["ott.a.b"], oneTimeToken: true, applicationUserID: "me", userUUID: "u",
            institutionID: "i", forwardParameters: [])
        #expect(url == "https://app.example/cb?one-time-token=ott.a.b&application-user-id=me&user-uuid=u&institution=i")
    }

    /// Two consents: the parameter repeats, in consent order, for tokens and one-time tokens alike.
    @Test(arguments: [false, true]) func multi(oneTimeToken: Bool) {
        let url = RedirectURL.success(
            callback: "https://app.example/cb", tokens: ["first", "second"], oneTimeToken: oneTimeToken, applicationUserID: nil, userUUID: "u",
            institutionID: "i", forwardParameters: [])
        let name = oneTimeToken ? "one-time-token" : "consent"
        #expect(url == "https://app.example/cb?\(name)=first&\(name)=second&user-uuid=u&institution=i")
    }

    // MARK: Failure

    /// Every row of seed 003's table: the ids, then `error-source`, `error`, and the bank's error in
    /// standard base64 (padding kept, URL-encoded as `%3D`).
    @Test(arguments: BankError.table) func eachErrorRow(row: BankError) throws {
        let url = RedirectURL.failure(
            callback: "https://app.example/cb", error: row, applicationUserID: "beneficiary:95e8", userUUID: "u", institutionID: "monzo_ob",
            forwardParameters: [])
        let parameters = Self.parameters(url)
        #expect(parameters.map(\.0) == ["application-user-id", "user-uuid", "institution", "error-source", "error", "error-description"])
        #expect(parameters[0].1 == "beneficiary:95e8")
        #expect(url.contains("application-user-id=beneficiary%3A95e8&"))
        #expect(parameters[3].1 == row.source.rawValue)
        #expect(parameters[4].1 == row.error)
        let decoded = try #require(Data(base64Encoded: parameters[5].1))
        #expect(String(decoding: decoded, as: UTF8.self) == row.bankError)
        #expect(!url.contains("=="), "base64 padding must be percent-encoded")
    }

    /// The real-world failure example (auth-flows §3.3) in the design's parameter order.
    @Test func uncategorizedMatchesTheRealExample() {
        let url = RedirectURL.failure(
            callback: "https://tpp.example/", error: .uncategorized, applicationUserID: nil, userUUID: "c69af99b-291b-4bd9-85af-099a1b948442",
            institutionID: "monzo_ob", forwardParameters: [])
        #expect(url == "https://tpp.example/?user-uuid=c69af99b-291b-4bd9-85af-099a1b948442&institution=monzo_ob"
            + "&error-source=institution&error=uncategorized_error&error-description=VGhpcyByZXF1ZXN0IGhhcyBhbHJlYWR5IGJlZW4gYXV0aG9yaXNlZA%3D%3D")
    }

    /// The table is seed 003's: 18 rows, 5 user ones, each mapping to the authorisation status it leaves.
    @Test func theTableIsTheSeeds() {
        #expect(BankError.table.count == 18)
        #expect(BankError.table.filter { $0.source == .user }.map(\.bankError)
            == ["access_denied", "user_cancelled", "login_required", "account_selection_required", "interaction_required"])
        #expect(Set(BankError.table.map(\.error)) == ["access_denied", "invalid_grant", "institution_server_error", "configuration_error", "uncategorized_error"])
        #expect(BankError.table.allSatisfy { $0.authorisationStatus == ($0.source == .user ? .rejected : .failed) })
        #expect(BankError(source: .user, error: "access_denied", bankError: "access_denied").errorDescription == "YWNjZXNzX2RlbmllZA==")
    }

    // MARK: The callback's own shape

    /// A deep link with a custom scheme gets `?` and nothing of it is re-encoded.
    @Test func customSchemeDeepLink() {
        let url = RedirectURL.success(
            callback: "myapp://done", tokens: ["t"], oneTimeToken: false, applicationUserID: nil, userUUID: "u", institutionID: "i",
            forwardParameters: [])
        #expect(url == "myapp://done?consent=t&user-uuid=u&institution=i")
        let path = RedirectURL.success(
            callback: "com.example.app:/oauth/Bank%20Done", tokens: ["t"], oneTimeToken: false, applicationUserID: nil, userUUID: "u",
            institutionID: "i", forwardParameters: [])
        #expect(path == "com.example.app:/oauth/Bank%20Done?consent=t&user-uuid=u&institution=i")
    }

    /// The callback's own query is kept as given, and the parameters follow with `&`.
    @Test func callbackWithItsOwnQuery() {
        let url = RedirectURL.success(
            callback: "https://tpp-application/?time=1335&a=%2F", tokens: ["t"], oneTimeToken: false, applicationUserID: nil, userUUID: "u",
            institutionID: "i", forwardParameters: [])
        #expect(url == "https://tpp-application/?time=1335&a=%2F&consent=t&user-uuid=u&institution=i")
        let deep = RedirectURL.success(
            callback: "myapp://done?flow=7", tokens: ["t"], oneTimeToken: false, applicationUserID: nil, userUUID: "u", institutionID: "i",
            forwardParameters: [])
        #expect(deep == "myapp://done?flow=7&consent=t&user-uuid=u&institution=i")
    }

    /// A query that already ends in `?` or `&` gets no second separator.
    @Test func queryEndingInASeparator() {
        for callback in ["https://a.example/cb?", "https://a.example/cb?x=1&"] {
            let url = RedirectURL.build(callback: callback, parameters: [("k", "v")], forwardParameters: [])
            #expect(url == callback + "k=v")
        }
    }

    /// A fragment moves to the end: the parameters go into the query, before `#`.
    @Test func fragment() {
        let url = RedirectURL.success(
            callback: "https://app.example/cb#/accounts", tokens: ["t"], oneTimeToken: false, applicationUserID: nil, userUUID: "u",
            institutionID: "i", forwardParameters: ["step=2"])
        #expect(url == "https://app.example/cb?consent=t&user-uuid=u&institution=i&step=2#/accounts")
        let withQuery = RedirectURL.failure(
            callback: "myapp://done?x=1#frag?not=query", error: .accessDenied, applicationUserID: nil, userUUID: "u", institutionID: "i",
            forwardParameters: [])
        #expect(withQuery.hasPrefix("myapp://done?x=1&user-uuid=u&institution=i&error-source=user&error=access_denied&error-description="))
        #expect(withQuery.hasSuffix("#frag?not=query"))
    }

    /// Forwarded parameters come last, in order, name and value each encoded (split at the first `=`).
    @Test func forwardParameters() {
        let url = RedirectURL.success(
            callback: "https://app.example/cb", tokens: ["t"], oneTimeToken: false, applicationUserID: nil, userUUID: "u", institutionID: "i",
            forwardParameters: ["flow_id=42", "callback token=a=b+c", "empty="])
        #expect(url.hasSuffix("&institution=i&flow_id=42&callback%20token=a%3Db%2Bc&empty="))
        #expect(Self.parameters(url).suffix(3).map { "\($0.0)|\($0.1)" } == ["flow_id|42", "callback token|a=b+c", "empty|"])
    }

    /// Form-URL-encoding: unreserved characters stay, everything else is `%XX` upper-case, UTF-8 bytes included.
    @Test func encodings() {
        #expect(RedirectURL.encode("a@f.com") == "a%40f.com")
        #expect(RedirectURL.encode("x=y+z w") == "x%3Dy%2Bz%20w")
        #expect(RedirectURL.encode("AZaz09-._~") == "AZaz09-._~")
        #expect(RedirectURL.encode("&#?/:%") == "%26%23%3F%2F%3A%25")
        #expect(RedirectURL.encode("é✓") == "%C3%A9%E2%9C%93")
        #expect(RedirectURL.encode("") == "")
    }

    // MARK: Registration

    /// Equal strings match; an entry ending in `/` covers what starts with it.
    @Test func registrationMatches() throws {
        let entries = ["https://app.example/done", "https://tpp-application/", "myapp://done", "myapp://app/"]
        for callback in [
            "https://app.example/done", "https://tpp-application/", "https://tpp-application/confirmation-accounts",
            "https://tpp-application/?time=1335", "myapp://done", "myapp://app/other?x=1",
        ] {
            try CallbackRegistration.validate(callback, entries: entries)
        }
    }

    /// The open-redirect traps: no normalisation lets a look-alike through.
    @Test(arguments: [
        ("https://good.example", "https://good.example.evil.com"),
        ("https://good.example", "https://good.example@evil.com"),
        ("https://good.example", "https://good.example/@evil"),
        ("https://good.example", "https://good.example/"),
        ("https://good.example/", "https://good.example.evil.com/"),
        ("https://good.example/", "https://good.example"),
        ("https://good.example/app/", "https://good.example/app"),
        ("https://good.example/app/", "https://good.example/application"),
        ("https://good.example/done", "https://good.example/done?x=1"),
        ("https://good.example/done", "https://good.example/done/"),
        ("https://good.example/done", "https://GOOD.example/done"),
        ("https://good.example/done", "HTTPS://good.example/done"),
        ("https://good.example/done", "http://good.example/done"),
        ("https://good.example/", "https://good.example/\\evil.com"),
        ("https://good.example/", "https://good.example/ok\r\nSet-Cookie: a=b"),
        ("https://", "https://evil.com/"),
        ("http:///", "http:///evil"),
        ("javascript:alert(1)", "javascript:alert(1)"),
        ("data:", "data:text/html,hi"),
        ("myapp://done", "myapp://done.evil"),
        // A prefix entry needs an authority for every scheme (review finding 9), and intent: is never a callback.
        ("myapp://", "myapp://other?x=1"),
        ("myapp:///", "myapp:///anything"),
        ("myapp:/", "myapp:/anything"),
        ("intent://", "intent://x#Intent;S.browser_fallback_url=https%3A%2F%2Fevil.example;end"),
        ("intent://app/", "intent://app/x"),
        ("intent://app/x", "intent://app/x"),
    ]) func registrationTraps(entry: String, callback: String) {
        #expect(throws: SandboxError.self) { try CallbackRegistration.validate(callback, entries: [entry]) }
    }

    /// The refusal is a 422 at `/callback` naming the callback.
    @Test func refusalNamesTheCallback() {
        do {
            try CallbackRegistration.validate("https://evil.example/cb", entries: ["https://good.example/"])
            Issue.record("an unregistered callback was accepted")
        } catch {
            #expect(error.code == .invalidField)
            #expect(error.pointer == "/callback")
            #expect(error.message == "`https://evil.example/cb` is not a registered redirect callback of this application")
        }
        #expect(throws: SandboxError.self) { try CallbackRegistration.validate("https://good.example/x", entries: []) }
        #expect(throws: SandboxError.self) { try CallbackRegistration.validate("", entries: [""]) }
        #expect(throws: SandboxError.self) { try CallbackRegistration.validate("no-scheme/at/all", entries: ["no-scheme/at/all"]) }
        let long = "https://good.example/" + String(repeating: "a", count: 2100)
        #expect(throws: SandboxError.self) { try CallbackRegistration.validate(long, entries: ["https://good.example/"]) }
    }
}
