import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Foundation
import Hummingbird
import Mustache

/// Where the user's browser goes after the sandbox bank, for a Yapily request. At Yapily the bank
/// sends the browser to `https://auth.yapily.com/` (its `redirect_uri`) with a code and the state;
/// auth.yapily.com updates the consent and sends the browser on to the `callback` with the seed's
/// parameters, or, without a callback, ends the journey on its own page. Here the bank sends the
/// browser to `GET /yapily/auth?code=…&state=…` (the emulated auth.yapily.com), which does the same.
/// A request with a custom `redirect` skips it, as at Yapily: the bank sends the browser straight to
/// that URL with `code` and `state`, which `POST /consent-auth-code` exchanges once for the Consent.
extension YapilyAPI {
    /// The sandbox callback of a request without `callback` (its journey ends at the result page).
    static let resultPageCallback = CallbackRegistration.facadePrefix + "yapily-result"
    /// The sandbox callback of a request with a custom `redirect`: this prefix, then its URL.
    static let customRedirectPrefix = CallbackRegistration.facadePrefix + "yapily-redirect:"
    /// How long after the bank's answer the auth.yapily.com step still answers (a reload, the back button).
    static let hopLifetime = Duration.seconds(600)

    func addRedirectRoutes(to open: RouterGroup<AppRequestContext>) {
        open.get("auth", use: authStep)
    }

    /// The custom redirect URL a sandbox callback stands for; nil when it is not a custom redirect's.
    static func customRedirect(_ callback: String) -> String? {
        callback.hasPrefix(customRedirectPrefix) ? String(callback.dropFirst(customRedirectPrefix.count)) : nil
    }

    /// Where the consent page sends the browser after completing an authorisation: a Yapily
    /// request's goes to the auth.yapily.com step (or its custom redirect); any other goes
    /// straight to its callback, unchanged.
    func location(after completion: Completion, request: Request) async throws -> String {
        let authorisation = completion.authorisation
        if let url = Self.customRedirect(authorisation.callback) { return Self.codeRedirect(completion, url: url) }
        if authorisation.callback != Self.resultPageCallback {
            let kinds = try await store.yapilyRequestKinds(authorisationIDs: [authorisation.id], applicationID: authorisation.applicationID)
            guard kinds[authorisation.id] != nil else { return completion.redirectURL }
        }
        // The public URL, else this request's host (the bank is this server); a relative URL if the Host cannot be used.
        let base = (try? publicBase(request)) ?? ""
        return "\(base)/yapily/auth?code=\(RedirectURL.encode(hopCode(authorisation)))&state=\(authorisation.state)"
    }

    /// The code the bank gives the auth.yapily.com step: the authorisation's id and a MAC (the
    /// server's key) of its id, state and completion time, so only the browser the bank answered
    /// can take the step, however widely the authorisation URL (and its state) was seen.
    func hopCode(_ authorisation: Authorisation) -> String {
        let completed = authorisation.completedAt?.milliseconds ?? 0
        return authorisation.id + "." + hopKey.token(cookie: "yapily auth step \(authorisation.state) \(completed) ", authorisationID: authorisation.id)
    }

    /// A custom redirect's URL with `code` (the one-time token that `POST /consent-auth-code`
    /// exchanges) and `state`, or OAuth's `error`, `error_description` and `state` for a failure;
    /// the forwarded parameters after them.
    static func codeRedirect(_ completion: Completion, url: String) -> String {
        let authorisation = completion.authorisation
        let parameters = appendedParameters(completion.redirectURL, callback: authorisation.callback)
        var pairs: [(String, String)]
        if let code = parameters.first(where: { $0.name == "one-time-token" })?.value {
            pairs = [("code", code)]
        } else {
            let description = parameters.first { $0.name == "error-description" }
                .flatMap { Data(base64Encoded: $0.value) }.map { String(decoding: $0, as: UTF8.self) } ?? "The authorisation failed"
            // The bank's own error code (OAuth's `error`), or server_error for the table's uncategorised row.
            let error = description.contains(" ") ? "server_error" : description
            pairs = [("error", error), ("error_description", description)]
        }
        pairs.append(("state", authorisation.state))
        return RedirectURL.build(callback: url, parameters: pairs, forwardParameters: authorisation.forwardParameters)
    }

    /// The parameters the sandbox appended to `callback` in `redirectURL` (the outcome's, then the
    /// forwarded ones), decoded. The facade's callbacks have no fragment, so they follow it.
    static func appendedParameters(_ redirectURL: String?, callback: String) -> [(name: String, value: String)] {
        guard let redirectURL, redirectURL.hasPrefix(callback) else { return [] }
        return redirectURL.dropFirst(callback.count).split(whereSeparator: { $0 == "?" || $0 == "&" }).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count > 1 ? parts[1] : ""
            return (String(parts[0]).removingPercentEncoding ?? "", String(value).removingPercentEncoding ?? "")
        }
    }

    // MARK: The auth.yapily.com step

    /// `GET /yapily/auth?code=…&state=…`: the browser on its way from the bank. A callback: 302 to
    /// it with the seed's parameters (what the bank's completion built). No callback: the result
    /// page. Every refusal is an HTML page (a person is looking at it).
    @Sendable func authStep(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        guard let code = parameters.get("code"), let state = parameters.get("state"), let dot = code.firstIndex(of: "."),
              let authorisation = try await bank.authorisation(id: String(code[..<dot])),
              ConsentPageController.constantTimeEqual(state, authorisation.state),
              ConsentPageController.constantTimeEqual(code, hopCode(authorisation))
        else {
            return Self.page(
                status: .forbidden, heading: "This link is not valid",
                message: "It is not one the bank gave out, or it was changed. Go back to the app you came from and start again.")
        }
        guard authorisation.status != .awaitingAuthorization, authorisation.status != .expired, let completedAt = authorisation.completedAt else {
            return Self.page(status: .conflict, heading: "The bank has not answered yet", message: "Finish the authorisation at the bank first.")
        }
        guard clock.now() < completedAt.adding(Self.hopLifetime) else {
            return Self.page(
                status: .gone, heading: "This link has expired",
                message: "The bank answered more than 10 minutes ago. Go back to the app you came from.")
        }
        guard authorisation.callback != Self.resultPageCallback, let redirectURL = authorisation.redirectURL else {
            return Self.resultPage(authorisation)
        }
        return ConsentPageController.redirect(to: redirectURL)
    }

    /// auth.yapily.com's page at the end of a journey without a callback: the outcome, the ids a
    /// client polls with (`GET /consents/{consentId}`), the error for a failure; no token.
    static func resultPage(_ authorisation: Authorisation) -> Response {
        let authorised = authorisation.status == .authorized
        var rows: [[String: String]] = [
            ["name": "Consent", "value": authorisation.reauthorisesConsentID ?? authorisation.id],
            ["name": "Status", "value": authorisation.status.rawValue],
            ["name": "Institution", "value": authorisation.institutionID],
        ]
        if let applicationUserID = authorisation.applicationUserID { rows.append(["name": "Application user id", "value": applicationUserID]) }
        rows.append(["name": "User uuid", "value": authorisation.userUUID])
        let parameters = appendedParameters(authorisation.redirectURL, callback: authorisation.callback)
        for (name, label) in [("error-source", "Error source"), ("error", "Error")] {
            if let value = parameters.first(where: { $0.name == name })?.value { rows.append(["name": label, "value": value]) }
        }
        if let description = parameters.first(where: { $0.name == "error-description" })?.value,
           let decoded = Data(base64Encoded: description) {
            rows.append(["name": "Error description", "value": String(decoding: decoded, as: UTF8.self)])
        }
        return page(
            status: .ok, heading: authorised ? "Authorisation complete" : "Authorisation not completed",
            message: authorised
                ? "You have authorised the request. You can close this window and go back to the app."
                : "The request was not authorised. You can close this window and go back to the app.",
            rows: rows, outcome: authorised ? "authorised" : "failed")
    }

    static func page(status: HTTPResponse.Status, heading: String, message: String, rows: [[String: String]] = [], outcome: String = "problem") -> Response {
        let model: [String: Any] = ["heading": heading, "message": message, "rows": rows, "hasRows": !rows.isEmpty, "outcome": outcome]
        let html = (try? MustacheTemplate(string: resultPageTemplate).render(model)) ?? "<!doctype html><title>Yapily</title><p>\(status.code)</p>"
        return ConsentPageController.html(html, status: status)
    }

    /// Self-contained (the consent page's headers forbid every external asset and script).
    static let resultPageTemplate = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{heading}} · Yapily (BankHooks)</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 0; background: #f4f5f9; color: #1d1d3b; }
        main { max-width: 34rem; margin: 3rem auto; background: #fff; border-radius: 12px; padding: 2rem; box-shadow: 0 1px 4px rgba(0,0,0,.08); }
        .brand { font-weight: 700; color: #4b3ee0; letter-spacing: .02em; }
        h1 { font-size: 1.4rem; margin: .8rem 0; }
        .authorised h1 { color: #137a3a; } .failed h1, .problem h1 { color: #b3261e; }
        table { border-collapse: collapse; width: 100%; margin-top: 1rem; font-size: .95rem; }
        th, td { text-align: left; padding: .45rem .3rem; border-top: 1px solid #e6e6ef; vertical-align: top; }
        td { font-family: ui-monospace, monospace; word-break: break-all; }
        </style>
        </head>
        <body>
        <main class="{{outcome}}" data-outcome="{{outcome}}">
        <div class="brand">Yapily · auth (BankHooks emulator)</div>
        <h1>{{heading}}</h1>
        <p>{{message}}</p>
        {{#hasRows}}<table>{{/hasRows}}
        {{#rows}}<tr><th>{{name}}</th><td>{{value}}</td></tr>
        {{/rows}}
        {{#hasRows}}</table>{{/hasRows}}
        </main>
        </body>
        </html>
        """#
}
