import BankHooksCore
import Foundation
import Hummingbird

/// A delivery with its attempts (status, duration, the request's headers, the response's
/// excerpt), and resending it. Each reads and changes through /v1.
extension DashboardController {
    @Sendable func showDelivery(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context) { visit in
            let id = try context.pathParameter("id")
            let delivery = try await visit.call(api, .get, "/v1/deliveries/\(DashboardURL.segment(id))").object
            let webhookID = delivery["webhook_id"] as? String ?? ""
            var attempts: [[String: Any]] = []
            for attempt in (delivery["attempts"] as? [[String: Any]] ?? []).reversed() {
                let attemptID = Self.integer(attempt["id"]) ?? 0
                let detail = try await visit.call(api, .get, "/v1/attempts/\(attemptID)").object
                attempts.append(Self.attemptModel(attempt, headers: detail["request_headers"] as? [String: String] ?? [:]))
            }
            var model: [String: Any] = [
                "id": Self.integer(delivery["id"]).map(String.init) ?? id, "state": delivery["state"] as? String ?? "",
                "eventType": delivery["event_type"] as? String ?? "", "eventID": delivery["event_id"] as? String ?? "",
                "eventPath": DashboardURL.segment(delivery["event_id"] as? String ?? ""),
                "attemptCount": Self.integer(delivery["attempt_count"]) ?? 0, "createdAt": DashboardPage.time(delivery["created_at"]),
                "webhookPath": DashboardURL.segment(webhookID),
                "webhookTitle": await webhookTitle(webhookID, visit: visit),
                "attempts": attempts,
            ]
            if delivery["next_attempt_at"] is String { model["nextAttemptAt"] = DashboardPage.time(delivery["next_attempt_at"]) }
            return render("delivery", title: "Delivery #\(id)", model, visit: visit)
        }
    }

    /// One attempt as the delivery page shows it, newest first.
    static func attemptModel(_ attempt: [String: Any], headers: [String: String]) -> [String: Any] {
        let status = integer(attempt["status"])
        var model: [String: Any] = [
            "id": integer(attempt["id"]) ?? 0, "number": integer(attempt["number"]) ?? 0,
            "statusText": status.map { "HTTP \($0)" } ?? "no response",
            "outcome": status.map { (200..<300).contains($0) ? "ok" : "bad" } ?? "bad",
            "duration": String(format: "%.1f", attempt["duration_ms"] as? Double ?? 0), "startedAt": DashboardPage.time(attempt["started_at"]),
            "headers": headers.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] },
        ]
        let error = [attempt["error"] as? String, attempt["error_message"] as? String].compactMap { $0 }.joined(separator: ": ")
        if !error.isEmpty { model["error"] = error }
        if let excerpt = attempt["response_excerpt"] as? String, !excerpt.isEmpty { model["responseExcerpt"] = excerpt }
        return model
    }

    @Sendable func resend(_ request: Request, context: AppRequestContext) async throws -> Response {
        let back = Back(href: "/dashboard/deliveries/\(DashboardURL.segment((try? context.pathParameter("id")) ?? ""))", label: "Back to the delivery")
        return await action(request, context, back: back) { visit, _ in
            let id = try context.pathParameter("id")
            let sent = try await visit.call(api, .post, "/v1/deliveries/\(DashboardURL.segment(id))/resend").object
            keepSendResult(sent, visit: visit, delivered: "Sent again: delivered.", notDelivered: "Sent again: not delivered.")
            return DashboardPage.redirect(to: back.href)
        }
    }
}
