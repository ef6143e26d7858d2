import BankHooksCore
import BankHooksStorage
import Foundation
import Hummingbird

/// The webhook pages: the list with each one's last 24 hours (to the hour), a webhook with its actions and
/// deliveries, and the delete confirmation. Each reads and changes through /v1.
extension DashboardController {
    // MARK: List

    @Sendable func listWebhooks(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context) { visit in
            let webhooks = try await visit.call(api, .get, "/v1/webhooks").items
            let tallies = try await recentTallies(visit: visit)
            let rows: [[String: Any]] = webhooks.map { webhook in
                var row = Self.webhookModel(webhook)
                let figures = Self.figures(tallies[webhook["id"] as? String ?? ""])
                row["successRate"] = figures.successRate
                row["attempts"] = figures.attempts
                row["lastAttempt"] = figures.lastAttempt
                return row
            }
            return render("webhooks", title: "Webhooks", ["webhooks": rows, "hasWebhooks": !rows.isEmpty], visit: visit)
        }
    }

    /// The hours the list's figures cover: the current UTC hour and the 23 before it.
    static let statsHours = 24

    /// Each of the application's webhooks' attempts over the last `statsHours` hours, from their hourly
    /// counters (one query for the whole list, whatever the number of deliveries), for a key that may read deliveries.
    func recentTallies(visit: Visit) async throws -> [String: AttemptTally] {
        _ = try visit.context.require(Roles.readers, to: "read deliveries")
        return try await store.attemptTallies(
            applicationID: visit.principal.applicationID, since: AttemptHours.windowStart(now: clock.now(), hours: Self.statsHours))
    }

    /// A webhook's list figures: its success rate (whole per cent; "—" without attempts), how many
    /// attempts it is of, and its last attempt's time.
    static func figures(_ tally: AttemptTally?) -> (successRate: String, attempts: String, lastAttempt: String) {
        guard let tally, tally.attempts > 0 else { return ("—", "no attempts", "—") }
        // Rounded down, so any failure keeps it below 100 %.
        let rate = tally.succeeded * 100 / tally.attempts
        let attempts = tally.attempts == 1 ? "of 1 attempt" : "of \(grouped(tally.attempts)) attempts"
        return ("\(rate) %", attempts, DashboardPage.time(tally.lastAttemptAt.iso8601))
    }

    /// A count with its thousands apart (12,345), whatever the server's locale.
    static func grouped(_ count: Int) -> String {
        var digits = String(count)
        var index = digits.endIndex
        while digits.distance(from: digits.startIndex, to: index) > 3 {
            index = digits.index(index, offsetBy: -3)
            digits.insert(",", at: index)
        }
        return digits
    }

    /// A webhook of the API as the pages show it.
    static func webhookModel(_ webhook: [String: Any]) -> [String: Any] {
        let id = webhook["id"] as? String ?? ""
        let url = webhook["url"] as? String ?? ""
        let isEnabled = webhook["enabled"] as? Bool ?? false
        var model: [String: Any] = [
            "id": id, "idPath": DashboardURL.segment(id), "url": url,
            "title": (webhook["name"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? url,
            "format": (webhook["format"] as? String ?? "") + (webhook["kind"] as? String == "callback_url" ? " · Lean Callback URL" : ""),
            "events": DashboardPage.events(webhook["event_types"]), "enabled": isEnabled,
            "status": isEnabled ? "enabled" : "disabled", "statusClass": isEnabled ? "enabled" : "disabled",
            "createdAt": DashboardPage.time(webhook["created_at"]),
            // The Lean Callback URL is changed at /v1/callback-url, not as a webhook.
            "isEditable": webhook["kind"] as? String != "callback_url",
        ]
        if let reason = webhook["disabled_reason"] as? String { model["disabledReason"] = reason }
        if let until = webhook["previous_secret_expires_at"] as? String { model["previousSecretExpiresAt"] = DashboardPage.time(until) }
        return model
    }

    // MARK: One webhook

    @Sendable func showWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context) { visit in
            let id = try context.pathParameter("id")
            let path = "/v1/webhooks/\(DashboardURL.segment(id))"
            var model = Self.webhookModel(try await visit.call(api, .get, path).object)
            let query = request.uri.queryParameters
            let status = query.get("status") ?? ""
            var deliveriesPath = path + "/deliveries?limit=25"
            if !status.isEmpty { deliveriesPath += "&status=" + DashboardURL.query(status) }
            if let cursor = query.get("cursor") { deliveriesPath += "&cursor=" + DashboardURL.query(cursor) }
            let deliveries = try await visit.call(api, .get, deliveriesPath)
            model["deliveries"] = deliveries.items.map(Self.deliveryRow)
            model["hasDeliveries"] = !deliveries.items.isEmpty
            model["filtered"] = !status.isEmpty
            model["statuses"] = [["value": "", "label": "All", "selected": status.isEmpty] as [String: Any]]
                + DeliveryState.allCases.map { ["value": $0.rawValue, "label": $0.rawValue.capitalized, "selected": $0.rawValue == status] as [String: Any] }
            let base = "/dashboard/webhooks/\(DashboardURL.segment(id))" + (status.isEmpty ? "" : "?status=" + DashboardURL.query(status))
            if query.get("cursor") != nil { model["newest"] = ["href": base] }
            if let next = deliveries.object["next_cursor"] as? String {
                model["older"] = ["href": base + (status.isEmpty ? "?" : "&") + "cursor=" + DashboardURL.query(next)]
            }
            return render("webhook", title: model["title"] as? String ?? "Webhook", model, visit: visit)
        }
    }

    /// A delivery in a webhook's list.
    static func deliveryRow(_ delivery: [String: Any]) -> [String: Any] {
        [
            "id": DashboardController.integer(delivery["id"]).map(String.init) ?? "", "eventType": delivery["event_type"] as? String ?? "",
            "state": delivery["state"] as? String ?? "", "attemptCount": DashboardController.integer(delivery["attempt_count"]) ?? 0,
            "lastStatus": DashboardController.integer(delivery["last_status"]).map { "HTTP \($0)" } ?? "—",
            "lastAttempt": DashboardPage.time(delivery["last_attempt_at"]),
        ]
    }

    /// A JSON number as an integer (nil for null or anything else).
    static func integer(_ value: Any?) -> Int? {
        if let value = value as? Int { return value }
        if let value = value as? Double { return Int(exactly: value) }
        if let value = value as? NSNumber { return value.intValue }
        return nil
    }

    /// The webhook page, where each webhook action goes back to.
    func webhookBack(_ context: AppRequestContext) -> Back {
        Back(href: "/dashboard/webhooks/\(DashboardURL.segment((try? context.pathParameter("id")) ?? ""))", label: "Back to the webhook")
    }

    // MARK: Actions

    @Sendable func sendTest(_ request: Request, context: AppRequestContext) async throws -> Response {
        await action(request, context, back: webhookBack(context)) { visit, _ in
            let id = try context.pathParameter("id")
            let sent = try await visit.call(api, .post, "/v1/webhooks/\(DashboardURL.segment(id))/test").object
            keepSendResult(sent, visit: visit, delivered: "The test event was delivered.", notDelivered: "The test event was not delivered.")
            return DashboardPage.redirect(to: webhookBack(context).href)
        }
    }

    /// Keeps a send's answer for the next page: the result shown inline, in words and in full.
    func keepSendResult(_ sent: [String: Any], visit: Visit, delivered: String, notDelivered: String) {
        let outcome = Self.outcome(sent)
        sessions.setFlash(
            .init(kind: outcome.succeeded ? .success : .problem, message: outcome.succeeded ? delivered : notDelivered, send: outcome),
            id: visit.session.id)
    }

    /// A send's answer (`SendResult` of the API) as a page shows it.
    static func outcome(_ sent: [String: Any]) -> DashboardSessions.SendOutcome {
        let error = [sent["error"] as? String, sent["error_message"] as? String].compactMap { $0 }.joined(separator: ": ")
        return DashboardSessions.SendOutcome(
            succeeded: sent["succeeded"] as? Bool ?? false, status: integer(sent["status"]), durationMs: sent["duration_ms"] as? Double ?? 0,
            error: error.isEmpty ? nil : error, responseExcerpt: sent["response_excerpt"] as? String,
            deliveryID: integer(sent["delivery_id"]).map(Int64.init))
    }

    @Sendable func enableWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        await setEnabled(true, request, context)
    }

    @Sendable func disableWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        await setEnabled(false, request, context)
    }

    func setEnabled(_ isEnabled: Bool, _ request: Request, _ context: AppRequestContext) async -> Response {
        await action(request, context, back: webhookBack(context)) { visit, _ in
            let id = try context.pathParameter("id")
            _ = try await visit.call(api, .patch, "/v1/webhooks/\(DashboardURL.segment(id))", body: ["enabled": isEnabled])
            sessions.setFlash(.init(kind: .success, message: isEnabled ? "Webhook enabled: deliveries resume." : "Webhook disabled: deliveries wait until it is enabled again."), id: visit.session.id)
            return DashboardPage.redirect(to: webhookBack(context).href)
        }
    }

    @Sendable func rotateSecret(_ request: Request, context: AppRequestContext) async throws -> Response {
        await action(request, context, back: webhookBack(context)) { visit, _ in
            let id = try context.pathParameter("id")
            let rotated = try await visit.call(api, .post, "/v1/webhooks/\(DashboardURL.segment(id))/rotate-secret").object
            let until = (rotated["previous_secret_expires_at"] as? String).map { " The previous secret keeps signing until \(DashboardPage.time($0))." } ?? ""
            sessions.setFlash(.init(kind: .success, message: "Secret rotated." + until, secret: rotated["secret"] as? String), id: visit.session.id)
            return DashboardPage.redirect(to: webhookBack(context).href)
        }
    }

    @Sendable func confirmDelete(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context, back: webhookBack(context)) { visit in
            _ = try visit.context.require(Roles.managers, to: "delete webhooks")
            let id = try context.pathParameter("id")
            let model = Self.webhookModel(try await visit.call(api, .get, "/v1/webhooks/\(DashboardURL.segment(id))").object)
            return render("deleteWebhook", title: "Delete \(model["title"] as? String ?? "webhook")", model, visit: visit)
        }
    }

    @Sendable func deleteWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        await action(request, context, back: webhookBack(context)) { visit, _ in
            let id = try context.pathParameter("id")
            _ = try await visit.call(api, .delete, "/v1/webhooks/\(DashboardURL.segment(id))")
            sessions.setFlash(.init(kind: .success, message: "Webhook deleted."), id: visit.session.id)
            return DashboardPage.redirect(to: "/dashboard/webhooks")
        }
    }
}
