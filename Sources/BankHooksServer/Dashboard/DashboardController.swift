import BankHooksCore
import BankHooksStorage
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The dashboard at `/dashboard`: HTML pages for a browser, signed in with an API key. Each page
/// reads and changes through the /v1 API in process (`DashboardAPI`), as the session's key, so
/// roles, validation and every service are the API's own; a refusal is a page saying why, with
/// the API's status. Every form carries the session's CSRF token and must come from this origin.
struct DashboardController {
    let api: DashboardAPI
    let sessions: DashboardSessions
    let authenticator: KeyAuthenticator
    let store: any Store
    let clock: any WallClock
    /// Where browsers reach this server (`--public-url`), for the origin check; nil: the Host header.
    let publicURL: String?
    /// The API's request limits (shared buckets: a page counts as one request of its key); nil for none.
    var rateLimiter: RateLimiter?
    var signInCSRF = DashboardSignInCSRF()
    /// Sign-ins per key id (the `<id>` of `bhk_<id>_<secret>`, whatever the secret): 5 at once, then
    /// one every 12 seconds, so a key's secret cannot be guessed at speed; over it, a 429 page.
    var signInLimiter = RateLimiter(key: .init(rate: 5.0 / 60, burst: 5), application: nil)

    /// The largest form accepted.
    static let maxFormSize = 64 * 1024

    /// The pages, all under `/dashboard`. They are HTML for browsers, not API operations, so the
    /// OpenAPI document does not list them (its route scan reads `router.` and `group.` calls only).
    func addRoutes(to router: Router<AppRequestContext>) {
        let pages = router.group("dashboard")
        pages.get("") { _, _ in DashboardPage.redirect(to: "/dashboard/webhooks") }
        pages.get("style.css") { _, _ in DashboardPage.asset(DashboardAssets.css, contentType: "text/css; charset=utf-8") }
        pages.get("dashboard.js") { _, _ in DashboardPage.asset(DashboardAssets.script, contentType: "text/javascript; charset=utf-8") }
        pages.get("sign-in", use: showSignIn)
        pages.post("sign-in", use: signIn)
        pages.post("sign-out", use: signOut)
        pages.get("webhooks", use: listWebhooks)
        pages.get("webhooks/new", use: newWebhook)
        pages.post("webhooks", use: createWebhook)
        pages.get("webhooks/:id", use: showWebhook)
        pages.post("webhooks/:id/test", use: sendTest)
        pages.post("webhooks/:id/enable", use: enableWebhook)
        pages.post("webhooks/:id/disable", use: disableWebhook)
        pages.post("webhooks/:id/rotate-secret", use: rotateSecret)
        pages.get("webhooks/:id/edit", use: editWebhook)
        pages.post("webhooks/:id/edit", use: updateWebhook)
        pages.get("webhooks/:id/delete", use: confirmDelete)
        pages.post("webhooks/:id/delete", use: deleteWebhook)
        pages.get("deliveries/:id", use: showDelivery)
        pages.post("deliveries/:id/resend", use: resend)
        pages.get("events", use: listEvents)
        pages.get("events/:id", use: showEvent)
        pages.post("webhooks/:id/recover", use: recover)
        pages.get("recoveries/:id", use: showRecovery)
        pages.get("event-types", use: listEventTypes)
        pages.get("event-types/:name", use: showEventType)
        pages.get("sandbox", use: showSandbox)
        pages.post("sandbox/institutions/:id/availability", use: setAvailability)
        pages.post("sandbox/authorisations", use: startAuthorisation)
        pages.get("sandbox/authorisations/:id", use: showAuthorisation)
        pages.post("sandbox/authorisations/:id/complete", use: completeAuthorisation)
        pages.get("api-keys", use: listKeys)
        pages.post("api-keys", use: createKey)
        pages.post("api-keys/:id/revoke", use: revokeKey)
        pages.get("applications", use: listApplications)
        pages.post("applications", use: createApplication)
        pages.get("applications/:id", use: showApplication)
        pages.post("applications/:id/api-keys", use: createApplicationKey)
        // Any other dashboard path is an HTML 404, not the API's problem+json (any other method:
        // `MethodNotAllowed`, which the route table adds after every route).
        pages.get("**") { _, context in self.errorPage(DashboardError.notFound, context: context, visit: nil) }
        pages.post("**") { _, context in self.errorPage(DashboardError.notFound, context: context, visit: nil) }
    }

    // MARK: Sessions

    /// A signed-in request: its session, and the context that acts as the session's key.
    struct Visit {
        var session: DashboardSessions.Session
        var context: AppRequestContext
        /// The host the browser asked for (its Host header), for the API's links.
        var authority: String?
        var principal: Principal { session.principal }
        /// Whether the key may change the application's setup (the API's managers).
        var canManage: Bool { Roles.managers.contains(principal.role) }
        /// Whether the key may send deliveries again (the API's publishers).
        var canResend: Bool { Roles.publishers.contains(principal.role) }
        /// Whether the key is the operator's (applications and their keys).
        var isOperator: Bool { Roles.operators.contains(principal.role) }

        /// The API called as this visit's key.
        func call(_ api: DashboardAPI, _ method: HTTPRequest.Method, _ path: String, body: [String: Any]? = nil) async throws -> DashboardAPI.Answer {
            try await api.call(method, path, body: body, as: principal, authority: authority, context: context)
        }
    }

    /// The visit of a request whose cookie names a live session whose key still works; nil otherwise.
    func visit(_ request: Request, context: AppRequestContext) async throws -> Visit? {
        guard let session = sessions.session(id: request.cookies[DashboardSessions.cookieName]?.value, now: clock.now()) else { return nil }
        // A revoked or deleted key ends its sessions at their next request.
        guard let key = try await store.apiKey(id: session.principal.keyID), key.revokedAt == nil else {
            sessions.end(id: session.id)
            return nil
        }
        if let rateLimiter, let (wait, _) = rateLimiter.take(key: session.principal.keyID, application: session.principal.applicationID) {
            let seconds = max(1, wait.components.seconds + (wait.components.attoseconds > 0 ? 1 : 0))
            var problem = Problem(.tooManyRequests, "rate-limited", title: "Too many requests",
                                  detail: "this key has made more requests than its limit allows; try again in \(seconds) s")
            problem.headers[.retryAfter] = String(seconds)
            throw problem
        }
        var context = context
        context.principal = session.principal
        return Visit(session: session, context: context, authority: request.head.authority ?? request.headers[Self.host])
    }

    /// A page for a signed-in browser (anyone else is sent to sign in); any error is its page.
    func page(
        _ request: Request, _ context: AppRequestContext, back: Back? = nil, _ body: (Visit) async throws -> Response
    ) async -> Response {
        let began = ContinuousClock.now
        var visit: Visit?
        do {
            visit = try await self.visit(request, context: context)
            guard let visit else { return DashboardPage.redirect(to: "/dashboard/sign-in") }
            return DashboardPage.timed(try await body(visit), since: began)
        } catch {
            return DashboardPage.timed(errorPage(error, context: context, visit: visit, back: back), since: began)
        }
    }

    /// A form post: from this origin, with the session's CSRF token, checked before anything is read
    /// or changed; then `body` with the form's fields.
    func action(
        _ request: Request, _ context: AppRequestContext, back: Back? = nil, _ body: (Visit, FormBody) async throws -> Response
    ) async -> Response {
        let began = ContinuousClock.now
        var visit: Visit?
        do {
            try checkOrigin(request)
            let form = try await readForm(request, context: context)
            visit = try await self.visit(request, context: context)
            guard let visit else { return DashboardPage.redirect(to: "/dashboard/sign-in") }
            guard let token = form["csrf"], DashboardSessions.constantTimeEquals(token, visit.session.csrf) else { throw DashboardError.badCSRF }
            return DashboardPage.timed(try await body(visit, form), since: began)
        } catch {
            return DashboardPage.timed(errorPage(error, context: context, visit: visit, back: back), since: began)
        }
    }

    /// Refuses a post another site made the browser send: `Sec-Fetch-Site` other than same-origin,
    /// or an `Origin` that is not this server's (the public URL, or the host the request came to).
    func checkOrigin(_ request: Request) throws {
        if let site = request.headers[Self.secFetchSite], site != "same-origin", site != "none" { throw DashboardError.foreignOrigin }
        guard let origin = request.headers[.origin] else { return }
        if let publicURL, origin.lowercased() == publicURL.lowercased() { return }
        guard let components = URLComponents(string: origin), let scheme = components.scheme, ["http", "https"].contains(scheme.lowercased()),
              let host = components.host, !host.isEmpty,
              let authority = request.head.authority ?? request.headers[Self.host] else { throw DashboardError.foreignOrigin }
        let originAuthority = host + (components.port.map { ":\($0)" } ?? "")
        guard originAuthority.lowercased() == authority.lowercased() else { throw DashboardError.foreignOrigin }
    }

    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let host = HTTPField.Name("Host")!

    /// The body of a form post (`application/x-www-form-urlencoded`, at most `maxFormSize`).
    func readForm(_ request: Request, context: AppRequestContext) async throws -> FormBody {
        guard ConsentPageController.isForm(request.headers[.contentType]) else { throw DashboardError.notAForm }
        var request = request
        let body = try await request.collectBody(upTo: min(Self.maxFormSize, context.maxUploadSize))
        return try FormBody(parsing: Array(buffer: body))
    }

    // MARK: Sign in and out

    @Sendable func showSignIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        if (try? await visit(request, context: context)) ?? nil != nil { return DashboardPage.redirect(to: "/dashboard/webhooks") }
        return signInPage(request, signedOut: request.uri.queryParameters.get("signed-out") != nil)
    }

    /// The sign-in form, its CSRF field bound to the browser's `bh_signin` cookie (set when missing).
    func signInPage(_ request: Request, failure: String? = nil, signedOut: Bool = false, status: HTTPResponse.Status = .ok) -> Response {
        var cookie = request.cookies[DashboardSignInCSRF.cookieName]?.value ?? ""
        var cookies: [String] = []
        if !ConsentCSRF.isWellFormed(cookie) {
            cookie = DashboardSessions.randomToken()
            cookies.append(signInCSRF.setCookie(cookie, isSecure: sessions.isSecure))
        }
        var model: [String: Any] = ["csrf": signInCSRF.token(cookie: cookie), "signedOut": signedOut]
        if let failure { model["failure"] = failure }
        return DashboardPage.html(DashboardPage.render("signIn", title: "Sign in", model, chrome: .init()), status: status, cookies: cookies)
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        do {
            try checkOrigin(request)
            let form = try await readForm(request, context: context)
            guard signInCSRF.verify(cookie: request.cookies[DashboardSignInCSRF.cookieName]?.value, token: form["csrf"]) else {
                throw DashboardError.badCSRF
            }
            let key = (form["key"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !key.isEmpty else { return signInPage(request, failure: "Enter an API key.", status: .unprocessableContent) }
            // Counted before the key is checked: a refused sign-in learns nothing about the key.
            if let (wait, _) = signInLimiter.take(key: Self.keyID(of: key), application: "") {
                let seconds = max(1, wait.components.seconds + (wait.components.attoseconds > 0 ? 1 : 0))
                var response = signInPage(
                    request, failure: "Too many sign-ins with this key. Try again in \(seconds) s.", status: .tooManyRequests)
                response.headers[.retryAfter] = String(seconds)
                return response
            }
            guard let principal = try await authenticator.principal(for: key) else {
                return signInPage(request, failure: "That key is unknown or revoked. Keys look like bhk_…, and are shown once when they are made.", status: .unauthorized)
            }
            // A new session id at every sign-in; the browser's previous session (if any) ends.
            if let previous = request.cookies[DashboardSessions.cookieName]?.value { sessions.end(id: previous) }
            let session = sessions.open(for: principal, now: clock.now())
            return DashboardPage.redirect(to: "/dashboard/webhooks", cookies: [sessions.setCookie(session)])
        } catch {
            return errorPage(error, context: context, visit: nil)
        }
    }

    /// The id part of a key's text (`bhk_<id>_<secret>`), which the sign-in limit counts by; any other text counts as one.
    static func keyID(of key: String) -> String {
        let parts = key.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "bhk", !parts[1].isEmpty, parts[1].utf8.count <= 64 else { return "?" }
        return String(parts[1])
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        await action(request, context) { visit, _ in
            sessions.end(id: visit.session.id)
            return DashboardPage.redirect(to: "/dashboard/sign-in?signed-out=1", cookies: [sessions.clearCookie])
        }
    }

    // MARK: Pages

    /// The layout's parts for a visit: who is signed in and the message kept for this page.
    func chrome(_ visit: Visit, section: String = "webhooks") -> DashboardPage.Chrome {
        DashboardPage.Chrome(session: visit.session, flash: sessions.takeFlash(id: visit.session.id), section: section)
    }

    /// A page of the dashboard for `visit`, in the main navigation's `section`.
    func render(
        _ template: String, title: String, _ model: [String: Any], visit: Visit, status: HTTPResponse.Status = .ok, section: String = "webhooks"
    ) -> Response {
        var model = model
        model["csrf"] = visit.session.csrf
        model["canManage"] = visit.canManage
        model["canResend"] = visit.canResend
        model["isOperator"] = visit.isOperator
        return DashboardPage.html(DashboardPage.render(template, title: title, model, chrome: chrome(visit, section: section)), status: status)
    }

    /// Where an error page's button leads.
    struct Back {
        var href: String
        var label: String
    }

    /// Why a page cannot be shown or a form not accepted.
    enum DashboardError: Error {
        case notFound, badCSRF, foreignOrigin, notAForm
    }

    /// The page answering `error`: the API's problem with its status and words, or the dashboard's
    /// own; an unexpected error is logged and answered 500 without details.
    func errorPage(_ error: any Error, context: AppRequestContext, visit: Visit?, back: Back? = nil) -> Response {
        let status: HTTPResponse.Status
        let heading: String, message: String
        var field: String?
        var retryAfter: String?
        switch error {
        case DashboardError.notFound:
            (status, heading, message) = (.notFound, "This page does not exist", "The address is not one the dashboard serves.")
        case DashboardError.badCSRF:
            (status, heading, message) = (.forbidden, "This form has expired", "The form was not opened in this session (or the session ended). Open the page again and resend it.")
        case DashboardError.foreignOrigin:
            (status, heading, message) = (.forbidden, "This form came from another site", "The dashboard accepts forms from its own pages only.")
        case DashboardError.notAForm:
            (status, heading, message) = (.unsupportedMediaType, "This is not a form", "Send dashboard forms as application/x-www-form-urlencoded.")
        case let error as FormBody.Malformed:
            (status, heading, message) = (.badRequest, "The form could not be read", error.description)
        default:
            guard let problem = Problem.mapping(error, method: .get, path: "", maxUploadSize: Self.maxFormSize) else {
                context.logger.error("dashboard page failed", metadata: ["error": "\(error)"])
                (status, heading, message) = (.internalServerError, "Something went wrong", "The server could not show this page; it has been logged. Try again.")
                break
            }
            (status, heading, message) = (problem.status, problem.title, Self.sentence(problem.detail))
            field = problem.field
            retryAfter = problem.headers[.retryAfter]
        }
        var model: [String: Any] = [
            "heading": heading, "message": message,
            "back": back?.href ?? (visit == nil ? "/dashboard/sign-in" : "/dashboard/webhooks"),
            "backLabel": back?.label ?? (visit == nil ? "Sign in" : "Back to webhooks"),
        ]
        if let field { model["field"] = field }
        let chrome = visit.map { self.chrome($0) } ?? .init()
        var response = DashboardPage.html(DashboardPage.render("message", title: heading, model, chrome: chrome), status: status)
        if let retryAfter { response.headers[.retryAfter] = retryAfter }
        return response
    }

    /// An API detail as a sentence: capitalised, with a full stop.
    static func sentence(_ text: String) -> String {
        guard let first = text.first else { return text }
        let capitalised = first.uppercased() + text.dropFirst()
        return capitalised.hasSuffix(".") ? capitalised : capitalised + "."
    }
}

extension DashboardController {
    /// A dashboard path asked for with a method other than GET, HEAD or POST: an HTML 405 with
    /// `Allow`, not Hummingbird's plain 404. Added to the router after every route, so it wraps
    /// only what no route answered (a route's path with another method is such a request).
    struct MethodNotAllowed: RouterMiddleware {
        typealias Context = AppRequestContext

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            let path = request.uri.path
            guard path == "/dashboard" || path.hasPrefix("/dashboard/"), ![.get, .head, .post].contains(request.method) else {
                return try await next(request, context)
            }
            let model: [String: Any] = [
                "heading": "This is not how pages are asked for", "message": "Dashboard pages are read with GET and changed with forms (POST).",
                "back": "/dashboard/webhooks", "backLabel": "Back to webhooks",
            ]
            var response = DashboardPage.html(DashboardPage.render("message", title: "Method not allowed", model, chrome: .init()), status: .methodNotAllowed)
            response.headers[.allow] = "GET, HEAD, POST"
            return response
        }
    }
}
