import BankHooksCore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The dashboard's pages as HTML: each page's template rendered into the layout (header, the
/// signed-in key, a one-time message, the page). Every value goes through Mustache's HTML
/// escaping; the only assets are the stylesheet and the copy button's script, served by the binary.
enum DashboardPage {
    /// The templates, parsed once (the tests render every one, so a syntax error cannot ship).
    static let library = Result { () throws -> MustacheLibrary in
        var library = MustacheLibrary()
        for (name, text) in DashboardTemplates.all + DashboardTemplates.more { try library.register(text, named: name) }
        return library
    }

    /// Who is signed in, as the header shows it.
    struct Chrome {
        var session: DashboardSessions.Session?
        var flash: DashboardSessions.Flash?
        /// The main navigation's current entry.
        var section = "webhooks"
    }

    /// `template` rendered with `model` inside the layout.
    static func render(_ template: String, title: String, _ model: [String: Any], chrome: Chrome) -> String {
        guard case .success(let library) = library, let content = library.render(model, withTemplate: template) else {
            // Unreachable once the tests have rendered every template; a plain page rather than a crash.
            return "<!doctype html><title>BankHooks</title><p>The dashboard's page template does not parse.</p>"
        }
        var layout: [String: Any] = ["title": title, "content": content, "nav": [chrome.section: true]]
        // A page that follows something running reloads itself every `refresh` seconds.
        if let refresh = model["refresh"] as? Int { layout["refresh"] = String(refresh) }
        if let session = chrome.session {
            layout["session"] = [
                "role": session.principal.role.rawValue, "applicationID": session.principal.applicationID, "csrf": session.csrf,
                "canManage": Roles.managers.contains(session.principal.role), "isOperator": Roles.operators.contains(session.principal.role),
            ] as [String: Any]
        }
        if let flash = chrome.flash { layout["flash"] = view(flash) }
        return library.render(layout, withTemplate: "layout") ?? content
    }

    /// A one-time message as the layout shows it.
    static func view(_ flash: DashboardSessions.Flash) -> [String: Any] {
        var model: [String: Any] = ["kind": flash.kind.rawValue, "message": flash.message]
        if let secret = flash.secret {
            model["secret"] = secret
            model["secretLabel"] = flash.secretLabel ?? "Signing secret"
        }
        if let send = flash.send {
            var result: [String: Any] = [
                "succeeded": send.succeeded, "duration": String(format: "%.1f", send.durationMs),
                "statusText": send.status.map { "HTTP \($0)" } ?? "no response",
            ]
            if let error = send.error { result["error"] = error }
            if let excerpt = send.responseExcerpt, !excerpt.isEmpty { result["responseExcerpt"] = excerpt }
            if let id = send.deliveryID { result["deliveryID"] = String(id) }
            model["send"] = result
        }
        return model
    }

    // MARK: Responses

    /// Every page's headers: nothing cached (pages show secrets and CSRF tokens), no referrer, no
    /// framing, and only this server's stylesheet and script.
    static let securityHeaders: HTTPFields = [
        .cacheControl: "no-store",
        .referrerPolicy: "same-origin",
        .xFrameOptions: "DENY",
        .xContentTypeOptions: "nosniff",
        .contentSecurityPolicy: "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ]

    static func html(_ text: String, status: HTTPResponse.Status = .ok, cookies: [String] = []) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A 303 to `location` (after a form: the browser GETs it, and a reload does not post again).
    static func redirect(to location: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    /// `response` with `Server-Timing: page;dur=<ms>`: the server's time for the page, from the
    /// handler's start (a browser's developer tools show it; a benchmark can read it).
    static func timed(_ response: Response, since began: ContinuousClock.Instant) -> Response {
        var response = response
        let elapsed = ContinuousClock.now - began
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        response.headers[ConsentPageController.serverTiming] = String(format: "page;dur=%.3f", milliseconds)
        return response
    }

    /// A stylesheet or script, cached for an hour.
    static func asset(_ text: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType, .cacheControl: "public, max-age=3600", .xContentTypeOptions: "nosniff"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: Formatting

    /// An API timestamp as a page shows it: `2026-12-03 08:11:08 UTC`.
    static func time(_ text: Any?) -> String {
        guard let text = text as? String, text.count >= 19 else { return "—" }
        return text.prefix(10) + " " + text.dropFirst(11).prefix(8) + " UTC"
    }

    /// A webhook's subscription in words.
    static func events(_ value: Any?) -> String {
        guard let types = value as? [String] else { return "All events" }
        if types.count <= 3 { return types.joined(separator: ", ") }
        return types.prefix(2).joined(separator: ", ") + " and \(types.count - 2) more"
    }
}
