import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The sandbox bank's consent page, outside /v1 (no API key: the end user's browser comes here
/// from `authorisation_url`). `GET /sandbox-bank/authorise/{id}?state=…` shows the form;
/// `POST /sandbox-bank/authorise/{id}` completes the authorisation and answers 302 to the
/// callback, or the form again after a wrong password. Every error is an HTML page.
struct ConsentPageController {
    let bank: SandboxBank
    let store: any TenantStore
    let csrf: ConsentCSRF
    let clock: any WallClock
    /// Where the browser goes after a completion (`Completion.redirectURL` unless a provider
    /// facade's authorisation goes elsewhere first, as the Yapily facade's go through its
    /// `auth.yapily.com` step); the request is the form's POST.
    var location: @Sendable (Completion, Request) async throws -> String = { completion, _ in completion.redirectURL }

    /// The largest form accepted (the fields are short).
    static let maxFormSize = 16 * 1024

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("sandbox-bank/authorise/:id", use: show)
        router.post("sandbox-bank/authorise/:id", use: submit)
    }

    // MARK: Handlers

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        do {
            let id = try context.parameters.require("id")
            guard let authorisation = try await bank.authorisation(id: id) else { throw PageError.unknown }
            guard let state = request.uri.queryParameters.get("state"), Self.constantTimeEqual(state, authorisation.state) else {
                throw PageError.badState
            }
            try Self.checkOpen(authorisation, now: clock.now())
            var cookie = request.cookies[ConsentCSRF.cookieName]?.value ?? ""
            let isNewCookie = !ConsentCSRF.isWellFormed(cookie)
            if isNewCookie { cookie = ConsentCSRF.newCookieValue() }
            var response = try await form(for: authorisation, cookie: cookie, status: .ok)
            if isNewCookie { response.headers[values: .setCookie].append(csrf.setCookie(cookie)) }
            return response
        } catch {
            return page(for: error, context: context)
        }
    }

    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let began = ContinuousClock.now
        do {
            let id = try context.parameters.require("id")
            guard Self.isForm(request.headers[.contentType]) else { throw PageError.notAForm }
            var request = request
            let body = try await request.collectBody(upTo: min(Self.maxFormSize, context.maxUploadSize))
            let form = try FormBody(parsing: Array(buffer: body))
            let cookie = request.cookies[ConsentCSRF.cookieName]?.value
            // Checked before anything is read: the field is bound to this id and this browser's cookie.
            guard csrf.verify(cookie: cookie, token: form["csrf"], authorisationID: id) else { throw PageError.badCSRF }
            guard let state = form["state"], !state.isEmpty else { throw PageError.badState }
            guard let decisionText = form["decision"], let decision = Decision(rawValue: decisionText) else {
                throw PageError.malformed("Choose Approve or Deny.")
            }
            let login = (form["username"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard decision == .deny || !login.isEmpty else { throw PageError.malformed("Enter your username.") }
            do {
                let completion = try await bank.complete(
                    authorisationID: id, applicationID: nil, state: state, login: login, password: form["password"] ?? "", decision: decision)
                if let delay = completion.delay { try await Task.sleep(for: delay) }
                return Self.redirect(to: try await location(completion, request), serverTime: ContinuousClock.now - began)
            } catch let error as SandboxError where error.code == .wrongPassword {
                // The form again, with Lean's message; the authorisation stays open for another try.
                guard let authorisation = try await bank.authorisation(id: id) else { throw PageError.unknown }
                return try await self.form(
                    for: authorisation, cookie: cookie ?? "", status: .ok, username: login,
                    failure: "The username or password submitted was incorrect")
            }
        } catch {
            return page(for: error, context: context)
        }
    }

    // MARK: Pages

    /// The form for `authorisation`, its `csrf` field bound to `cookie`.
    func form(for authorisation: Authorisation, cookie: String, status: HTTPResponse.Status, username: String = "", failure: String? = nil) async throws -> Response {
        let institution = try await bank.institution(id: authorisation.institutionID, applicationID: authorisation.applicationID)
        let applicationName = try await store.application(id: authorisation.applicationID)?.name ?? "An application"
        let html = ConsentPage.render(ConsentPage.Form(
            bank: ConsentPage.Bank(institution), applicationName: applicationName, authorisation: authorisation,
            csrf: csrf.token(cookie: cookie, authorisationID: authorisation.id), username: username, failure: failure,
            magicLogins: SandboxBank.magicLogins))
        return Self.html(html, status: status)
    }

    /// Why a page cannot be shown or a form not accepted: each an HTML page with its status.
    enum PageError: Error {
        case unknown, badState, badCSRF, completed, expired, notAForm
        case malformed(String)
    }

    /// The page answering `error` (an unexpected one is logged and answered 500 without details).
    func page(for error: any Error, context: AppRequestContext) -> Response {
        let (status, heading, message): (HTTPResponse.Status, String, String)
        switch error {
        case let error as PageError:
            switch error {
            case .unknown: (status, heading, message) = (.notFound, "We could not find this request", "The link is not one this bank gave out. Go back to the app you came from and start again.")
            case .badState: (status, heading, message) = (.forbidden, "This link is not valid", "The link is incomplete or was changed. Go back to the app you came from and start again.")
            case .badCSRF: (status, heading, message) = (.forbidden, "This form has expired", "The form was not opened in this browser, or the page was open too long. Open the link from the app again.")
            case .completed: (status, heading, message) = (.conflict, "This request is already complete", "You have already answered this request. Go back to the app you came from.")
            case .expired: (status, heading, message) = (.gone, "This request has expired", "Requests must be answered within a limited time. Go back to the app you came from and start again.")
            case .notAForm: (status, heading, message) = (.unsupportedMediaType, "This is not a form", "Send the consent form as application/x-www-form-urlencoded.")
            case .malformed(let why): (status, heading, message) = (.badRequest, "The form is incomplete", why)
            }
        case let error as SandboxError:
            switch error.code {
            case .notFound: return page(for: PageError.unknown, context: context)
            case .stateMismatch: return page(for: PageError.badState, context: context)
            case .authorisationCompleted: return page(for: PageError.completed, context: context)
            case .authorisationExpired: return page(for: PageError.expired, context: context)
            default: (status, heading, message) = (.badRequest, "The bank could not accept this", error.message)
            }
        case let error as FormBody.Malformed:
            (status, heading, message) = (.badRequest, "The form could not be read", error.description)
        case is NIOTooManyBytesError:
            (status, heading, message) = (.contentTooLarge, "The form is too large", "The form is limited to \(Self.maxFormSize) bytes.")
        default:
            context.logger.error("consent page failed", metadata: ["error": "\(error)"])
            (status, heading, message) = (.internalServerError, "Something went wrong", "The bank could not handle this request; it has been logged. Try again.")
        }
        return Self.html(ConsentPage.message(heading: heading, message: message), status: status)
    }

    /// Refuses an authorisation that can no longer be completed.
    static func checkOpen(_ authorisation: Authorisation, now: Timestamp) throws {
        guard authorisation.status != .expired, now < authorisation.expiresAt else { throw PageError.expired }
        guard authorisation.status == .awaitingAuthorization else { throw PageError.completed }
    }

    // MARK: Responses

    /// The page's headers: nothing cached, no referrer (the URL holds the state), no framing, no script.
    static let securityHeaders: HTTPFields = [
        .cacheControl: "no-store",
        .referrerPolicy: "no-referrer",
        .xFrameOptions: "DENY",
        .xContentTypeOptions: "nosniff",
        .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; frame-ancestors 'none'",
    ]

    static func html(_ text: String, status: HTTPResponse.Status) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The 302 back to the callback (the URL exactly as the bank built it).
    /// The 302 to the callback. `Server-Timing: bank;dur=<ms>` says how long the server took, from
    /// the request's arrival at the handler (its body still to read) to this answer, the consent
    /// committed: what `bankhooks bench --redirect` reports as the server's time (a browser's
    /// developer tools show it too).
    static func redirect(to url: String, serverTime: Duration? = nil) -> Response {
        var headers: HTTPFields = [.location: url, .cacheControl: "no-store", .referrerPolicy: "no-referrer"]
        if let serverTime {
            let microseconds = serverTime.components.seconds * 1_000_000 + serverTime.components.attoseconds / 1_000_000_000_000
            let text = String(microseconds / 1000) + "." + String(String(microseconds % 1000 + 1000).dropFirst())
            headers[Self.serverTiming] = "bank;dur=" + text
        }
        return Response(status: .found, headers: headers)
    }

    static let serverTiming = HTTPField.Name("Server-Timing")!

    /// Whether a `Content-Type` is `application/x-www-form-urlencoded` (parameters allowed; any
    /// value, even empty or only `;`, is read without trapping).
    static func isForm(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces).lowercased()
        return mediaType == "application/x-www-form-urlencoded"
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for (p, q) in zip(x, y) { difference |= p ^ q }
        return difference == 0
    }
}

extension HTTPField.Name {
    // Literal names, valid by construction (as the API's `Idempotency-Key`).
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
}
