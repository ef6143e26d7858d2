import BankHooksLoopback
import Foundation

/// The delivery side of `trigger`: follows a published event's deliveries in the delivery log
/// until each one's first attempt is recorded (or the wait runs out), and prints a line per webhook.
struct TriggerDeliveries {
    let api: APIClient
    let wait: Duration

    /// One line of the report.
    struct Line {
        var webhookID: String
        var format: String
        var outcome: String
    }

    /// Prints the publish and what each webhook received; true when every first attempt was done.
    func report(_ published: TriggerCatalog.Published) async throws(TriggerFailure) -> Bool {
        let count = published.deliveries
        TriggerOutput.line("published \(published.id) (\(published.type)) to \(count) \(count == 1 ? "webhook" : "webhooks")")
        guard count > 0 else {
            TriggerOutput.line("  no enabled webhook subscribes to \(published.type)")
            return true
        }
        guard wait > .zero else { return true }
        let deliveries = try await awaitFirstAttempts(of: published.id, expected: count)
        var formats: [String: String] = [:]
        var lines: [Line] = []
        var complete = deliveries.count >= count
        for delivery in deliveries {
            let webhookID = delivery["webhook_id"] as? String ?? "?"
            if formats[webhookID] == nil { formats[webhookID] = await format(of: webhookID) }
            let outcome: String
            if let id = delivery["id"] as? Int, (delivery["attempt_count"] as? Int ?? 0) > 0 {
                outcome = try await firstAttempt(ofDelivery: id, state: delivery["state"] as? String ?? "?")
            } else {
                outcome = "no attempt within \(Self.seconds(wait)) (\(delivery["state"] as? String ?? "pending"))"
                complete = false
            }
            lines.append(Line(webhookID: webhookID, format: formats[webhookID] ?? "?", outcome: outcome))
        }
        lines.sort { $0.webhookID < $1.webhookID }
        let idWidth = lines.map(\.webhookID.count).max() ?? 0
        let formatWidth = lines.map(\.format.count).max() ?? 0
        for line in lines {
            TriggerOutput.line("  " + Self.padded(line.webhookID, idWidth) + "  " + Self.padded(line.format, formatWidth) + "  " + line.outcome)
        }
        if deliveries.count < count {
            TriggerOutput.line("  \(count - deliveries.count) of \(count) deliveries not in the delivery log within \(Self.seconds(wait))")
        }
        return complete
    }

    /// Polls the event's deliveries until there are `expected` and each has an attempt, or the wait ends.
    func awaitFirstAttempts(of eventID: String, expected: Int) async throws(TriggerFailure) -> [[String: Any]] {
        let deadline = ContinuousClock.now.advanced(by: wait)
        while true {
            let deliveries = try await api.everyPage("/v1/events/\(eventID)/deliveries", doing: "read the deliveries of \(eventID)")
            let attempted = deliveries.allSatisfy { ($0["attempt_count"] as? Int ?? 0) > 0 }
            if deliveries.count >= expected && attempted || ContinuousClock.now >= deadline { return deliveries }
            do { try await Task.sleep(for: .milliseconds(100)) } catch { return deliveries }
        }
    }

    /// The first attempt of a delivery: the HTTP status or why there was none, and its duration.
    func firstAttempt(ofDelivery id: Int, state: String) async throws(TriggerFailure) -> String {
        let delivery = try await api.expect(.GET, "/v1/deliveries/\(id)", doing: "read delivery \(id)")
        guard let attempt = (delivery["attempts"] as? [[String: Any]])?.first else { return "no attempt yet (\(state))" }
        let result: String
        if let status = attempt["status"] as? Int {
            result = String(status)
        } else {
            result = attempt["error"] as? String ?? "no response"
        }
        let milliseconds = (attempt["duration_ms"] as? Double) ?? Double(attempt["duration_ms"] as? Int ?? 0)
        let message = (attempt["error_message"] as? String).map { ": \($0)" } ?? ""
        return "\(result)  \(String(format: "%.1f", milliseconds)) ms  \(delivery["state"] as? String ?? state)\(message)"
    }

    /// A webhook's format (`?` when the key may not read it).
    func format(of webhookID: String) async -> String {
        let webhook = try? await api.expect(.GET, "/v1/webhooks/\(webhookID)", doing: "read webhook \(webhookID)")
        return webhook?["format"] as? String ?? "?"
    }

    static func padded(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
