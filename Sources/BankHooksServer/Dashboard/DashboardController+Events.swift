import BankHooksCore
import BankHooksVerify
import Foundation
import Hummingbird

/// The events pages: the list with its type and time filters, an event with its payload
/// pretty-printed and its deliveries, and recovering a webhook's failed deliveries since a time
/// with the job's progress. Each reads and changes through /v1.
extension DashboardController {
    // MARK: Events

    @Sendable func listEvents(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context) { visit in
            let query = request.uri.queryParameters
            let type = (query.get("type") ?? "").trimmingCharacters(in: .whitespaces)
            let since = query.get("since") ?? "", until = query.get("until") ?? ""
            var filters: [(String, String)] = []
            if !type.isEmpty { filters.append(("type", type)) }
            if !since.isEmpty { filters.append(("since", Self.apiTime(since))) }
            if !until.isEmpty { filters.append(("until", Self.apiTime(until))) }
            var path = "/v1/events?limit=50" + filters.map { "&\($0.0)=" + DashboardURL.query($0.1) }.joined()
            if let cursor = query.get("cursor") { path += "&cursor=" + DashboardURL.query(cursor) }
            var model: [String: Any] = [
                "type": type, "since": since, "until": until, "filtered": !filters.isEmpty,
                "types": try await eventTypeNames(visit: visit).map { ["name": $0] },
            ]
            do {
                let answer = try await visit.call(api, .get, path)
                model["events"] = answer.items.map { event in
                    [
                        "id": event["id"] as? String ?? "", "idPath": DashboardURL.segment(event["id"] as? String ?? ""),
                        "type": event["type"] as? String ?? "", "timestamp": DashboardPage.time(event["timestamp"]),
                        "createdAt": DashboardPage.time(event["created_at"]),
                    ]
                }
                model["hasEvents"] = !answer.items.isEmpty
                // The filters as the form sent them, for the pager's links.
                let base = "/dashboard/events?" + [("type", type), ("since", since), ("until", until)].filter { !$0.1.isEmpty }
                    .map { "\($0.0)=" + DashboardURL.query($0.1) }.joined(separator: "&")
                if query.get("cursor") != nil { model["newest"] = ["href": base] }
                if let next = answer.object["next_cursor"] as? String {
                    model["older"] = ["href": base + (base.hasSuffix("?") ? "" : "&") + "cursor=" + DashboardURL.query(next)]
                }
            } catch let problem as Problem where problem.status == .badRequest {
                // A filter the API refuses: the page again, the filter marked, nothing listed.
                model["problem"] = ["title": problem.title, "detail": Self.sentence(problem.detail)]
                let field = problem.field ?? ""
                model["typeInvalid"] = field.hasSuffix("type")
                model["sinceInvalid"] = field.hasSuffix("since")
                model["untilInvalid"] = field.hasSuffix("until")
                model["events"] = [[String: Any]]()
                return render("events", title: "Events", model, visit: visit, status: .badRequest, section: "events")
            }
            return render("events", title: "Events", model, visit: visit, section: "events")
        }
    }

    /// The type filter's suggestions: the built-in catalog's names (fixed in the binary) and the
    /// first page of the application's own types (the full listing compacts every schema: 40 ms).
    func eventTypeNames(visit: Visit) async throws -> [String] {
        let custom = try await visit.call(api, .get, "/v1/event-types?family=custom&limit=100").items.compactMap { $0["name"] as? String }
        return EventCatalog.builtIn.definitions.map(\.name) + custom
    }

    /// A time from a form's `datetime-local` field (`2026-12-03T09:30`, read as UTC) as the API
    /// takes it (`2026-12-03T09:30:00Z`); anything else is passed on for the API to judge.
    static func apiTime(_ text: String) -> String {
        let text = text.trimmingCharacters(in: .whitespaces)
        let isLocal = text.count >= 16 && text.count <= 19 && !text.hasSuffix("Z") && !text.contains("+")
            && text.dropFirst(10).first == "T" && Timestamp(iso8601: text + (text.count == 16 ? ":00Z" : "Z")) != nil
        guard isLocal else { return text }
        return text + (text.count == 16 ? ":00Z" : "Z")
    }

    @Sendable func showEvent(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context, back: Back(href: "/dashboard/events", label: "Back to events")) { visit in
            let id = try context.pathParameter("id")
            let answer = try await visit.call(api, .get, "/v1/events/\(DashboardURL.segment(id))")
            let event = answer.object
            // The webhooks' names for the deliveries' rows.
            var titles: [String: String] = [:]
            for webhook in try await visit.call(api, .get, "/v1/webhooks").items {
                titles[webhook["id"] as? String ?? ""] = Self.webhookModel(webhook)["title"] as? String
            }
            let deliveries = (event["deliveries"] as? [[String: Any]] ?? []).map { delivery -> [String: Any] in
                var row = Self.deliveryRow(delivery)
                let webhookID = delivery["webhook_id"] as? String ?? ""
                row["webhookPath"] = DashboardURL.segment(webhookID)
                row["webhookTitle"] = titles[webhookID] ?? webhookID
                return row
            }
            let model: [String: Any] = [
                "id": event["id"] as? String ?? id, "type": event["type"] as? String ?? "",
                "typePath": DashboardURL.segment(event["type"] as? String ?? ""),
                "timestamp": DashboardPage.time(event["timestamp"]), "createdAt": DashboardPage.time(event["created_at"]),
                "payload": DashboardJSON.member("data", of: answer.bytes).map(DashboardJSON.pretty) ?? "{}",
                "deliveries": deliveries, "hasDeliveries": !deliveries.isEmpty,
            ]
            return render("event", title: "Event \(id)", model, visit: visit, section: "events")
        }
    }

    // MARK: Recovery

    /// A webhook's name (or URL) for a breadcrumb; its id when it cannot be read.
    func webhookTitle(_ id: String, visit: Visit) async -> String {
        guard let webhook = try? await visit.call(api, .get, "/v1/webhooks/\(DashboardURL.segment(id))").object else { return id }
        return Self.webhookModel(webhook)["title"] as? String ?? id
    }

    @Sendable func recover(_ request: Request, context: AppRequestContext) async throws -> Response {
        await action(request, context, back: webhookBack(context)) { visit, form in
            let id = try context.pathParameter("id")
            var body: [String: Any] = ["since": Self.apiTime(form["since"] ?? "")]
            if let until = form["until"], !until.isEmpty { body["until"] = Self.apiTime(until) }
            let answer = try await visit.call(api, .post, "/v1/webhooks/\(DashboardURL.segment(id))/recover", body: body)
            let recovery = answer.object["id"] as? String ?? ""
            let message = answer.status == .accepted
                ? "Recovery started: each failed delivery in the window is sent once more."
                : "A recovery of this webhook is already running; here is its progress."
            sessions.setFlash(.init(kind: .success, message: message), id: visit.session.id)
            return DashboardPage.redirect(to: "/dashboard/recoveries/\(DashboardURL.segment(recovery))")
        }
    }

    /// How often a running recovery's page reloads itself, in seconds.
    static let recoveryRefresh = 2

    @Sendable func showRecovery(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context) { visit in
            let id = try context.pathParameter("id")
            let job = try await visit.call(api, .get, "/v1/recoveries/\(DashboardURL.segment(id))").object
            let webhookID = job["webhook_id"] as? String ?? ""
            let total = Self.integer(job["total"]) ?? 0, processed = Self.integer(job["processed"]) ?? 0
            let isRunning = job["state"] as? String == "running"
            var model: [String: Any] = [
                "id": job["id"] as? String ?? id, "state": job["state"] as? String ?? "", "isRunning": isRunning,
                "webhookPath": DashboardURL.segment(webhookID),
                "webhookTitle": await webhookTitle(webhookID, visit: visit),
                "since": DashboardPage.time(job["since"]), "until": job["until"] is String ? DashboardPage.time(job["until"]) : "now",
                "total": total, "processed": processed, "succeeded": Self.integer(job["succeeded"]) ?? 0, "failed": Self.integer(job["failed"]) ?? 0,
                "percent": total == 0 ? 100 : processed * 100 / total, "progressMax": max(total, 1), "progressValue": total == 0 ? 1 : processed,
                "createdAt": DashboardPage.time(job["created_at"]), "isEmpty": total == 0,
            ]
            if job["finished_at"] is String { model["finishedAt"] = DashboardPage.time(job["finished_at"]) }
            // A running job's page reloads itself (no script needed); a finished one stays.
            if isRunning { model["refresh"] = Self.recoveryRefresh }
            return render("recovery", title: "Recovery \(id)", model, visit: visit)
        }
    }
}
