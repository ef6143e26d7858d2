import BankHooksCore
import Foundation
import Hummingbird

/// The create and edit forms of a webhook: URL, name, format (create only) and the events picked
/// by family. The API validates; a refusal is the form again as it was filled in, at its field.
extension DashboardController {
    // MARK: Create

    /// What the create and edit forms hold (sent back with the problem when the API refuses it).
    struct WebhookForm {
        var url = ""
        var name = ""
        var format = "standard"
        var eventTypes: Set<String> = []

        init() {}

        init(_ form: FormBody) {
            url = (form["url"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            name = (form["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            format = form["format"] ?? "standard"
            eventTypes = Set(form.fields.keys.filter { $0.hasPrefix("event:") }.map { String($0.dropFirst(6)) })
        }

        /// The form of a webhook of the API (to edit it).
        init(webhook: [String: Any]) {
            url = webhook["url"] as? String ?? ""
            name = webhook["name"] as? String ?? ""
            format = webhook["format"] as? String ?? "standard"
            eventTypes = Set(webhook["event_types"] as? [String] ?? [])
        }

        /// The body of `POST /v1/webhooks`.
        var body: [String: Any] {
            var body: [String: Any] = ["url": url, "format": format]
            if !name.isEmpty { body["name"] = name }
            if !eventTypes.isEmpty { body["event_types"] = eventTypes.sorted() }
            return body
        }

        /// The body of `PATCH /v1/webhooks/{id}`: an empty name or no event picked clears it (every event type).
        var changes: [String: Any] {
            [
                "url": url, "name": name.isEmpty ? NSNull() : name as Any,
                "event_types": eventTypes.isEmpty ? NSNull() : eventTypes.sorted() as Any,
            ]
        }
    }

    @Sendable func newWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context) { visit in
            _ = try visit.context.require(Roles.managers, to: "create webhooks")
            return try await formPage(WebhookForm(), problem: nil, visit: visit)
        }
    }

    @Sendable func createWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        await action(request, context, back: Back(href: "/dashboard/webhooks/new", label: "Back to the form")) { visit, body in
            let form = WebhookForm(body)
            do {
                let created = try await visit.call(api, .post, "/v1/webhooks", body: form.body).object
                let id = created["id"] as? String ?? ""
                sessions.setFlash(.init(kind: .success, message: "Webhook created. “Send a test” shows it working.", secret: created["secret"] as? String), id: visit.session.id)
                return DashboardPage.redirect(to: "/dashboard/webhooks/\(DashboardURL.segment(id))")
            } catch let problem as Problem where ![.unauthorized, .forbidden].contains(problem.status) {
                // The form again, as it was filled in, with what the API said and where.
                return try await formPage(form, problem: problem, visit: visit)
            }
        }
    }

    /// The webhook being edited, as the edit form names it.
    struct Editing {
        var id: String
        var title: String
    }

    /// The create form (or, `editing`, the edit form), filled in with `form`, showing `problem` at its field.
    func formPage(_ form: WebhookForm, problem: Problem?, visit: Visit, editing: Editing? = nil) async throws -> Response {
        var families: [(family: String, types: [[String: Any]])] = []
        for (index, type) in try await eventTypes(visit: visit).enumerated() {
            let name = type["name"] as? String ?? ""
            let family = type["family"] as? String ?? "custom"
            let entry: [String: Any] = [
                "index": index, "name": name, "checked": form.eventTypes.contains(name),
                "formats": (type["formats"] as? [String] ?? []).joined(separator: ", "),
            ]
            if let i = families.firstIndex(where: { $0.family == family }) { families[i].types.append(entry) } else { families.append((family, [entry])) }
        }
        var model: [String: Any] = [
            "url": form.url, "name": form.name, "format": form.format, "isNew": editing == nil,
            "action": editing.map { "/dashboard/webhooks/\(DashboardURL.segment($0.id))/edit" } ?? "/dashboard/webhooks",
            "cancel": editing.map { "/dashboard/webhooks/\(DashboardURL.segment($0.id))" } ?? "/dashboard/webhooks",
            "formats": WireFormats.builtIn.names.map { ["name": $0, "selected": $0 == form.format] as [String: Any] },
            "families": families.map { ["family": $0.family, "count": $0.types.count, "types": $0.types] as [String: Any] },
        ]
        if let problem {
            model["problem"] = ["title": problem.title, "detail": Self.sentence(problem.detail)]
            let field = problem.field ?? ""
            model["urlInvalid"] = field == "/url"
            model["nameInvalid"] = field == "/name"
            model["eventsInvalid"] = field.hasPrefix("/event_types")
        }
        if let editing {
            model["editing"] = ["idPath": DashboardURL.segment(editing.id), "title": editing.title]
        }
        let title = editing.map { "Edit \($0.title)" } ?? "New webhook"
        model["heading"] = title
        return render("webhookForm", title: title, model, visit: visit, status: problem?.status ?? .ok)
    }

    /// Every event type the application can subscribe to (the API's list, page by page).
    func eventTypes(visit: Visit) async throws -> [[String: Any]] {
        var types: [[String: Any]] = []
        var cursor: String?
        for _ in 0..<20 {
            let answer = try await visit.call(api, .get, "/v1/event-types?limit=100" + (cursor.map { "&cursor=" + DashboardURL.query($0) } ?? ""))
            types += answer.items
            guard let next = answer.object["next_cursor"] as? String else { break }
            cursor = next
        }
        return types
    }

    // MARK: Edit

    @Sendable func editWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context, back: webhookBack(context)) { visit in
            _ = try visit.context.require(Roles.managers, to: "change webhooks")
            let id = try context.pathParameter("id")
            let webhook = try await visit.call(api, .get, "/v1/webhooks/\(DashboardURL.segment(id))").object
            let editing = Editing(id: id, title: Self.webhookModel(webhook)["title"] as? String ?? id)
            return try await formPage(WebhookForm(webhook: webhook), problem: nil, visit: visit, editing: editing)
        }
    }

    @Sendable func updateWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        await action(request, context, back: webhookBack(context)) { visit, body in
            let id = try context.pathParameter("id")
            let path = "/v1/webhooks/\(DashboardURL.segment(id))"
            var form = WebhookForm(body)
            do {
                _ = try await visit.call(api, .patch, path, body: form.changes)
                sessions.setFlash(.init(kind: .success, message: "Webhook saved."), id: visit.session.id)
                return DashboardPage.redirect(to: webhookBack(context).href)
            } catch let problem as Problem where ![.unauthorized, .forbidden, .notFound].contains(problem.status) {
                let webhook = try await visit.call(api, .get, path).object
                form.format = webhook["format"] as? String ?? form.format
                let editing = Editing(id: id, title: Self.webhookModel(webhook)["title"] as? String ?? id)
                return try await formPage(form, problem: problem, visit: visit, editing: editing)
            }
        }
    }
}
