import BankHooksLoopback
import BankHooksServer
import Foundation

extension Benchmark {
    /// How often the delivery log is asked whether anything is still pending.
    static let logPollInterval = Duration.milliseconds(10)

    /// For a receiver the user runs, whose arrivals this process cannot see: waits until no
    /// webhook has a pending delivery (polling one page of one row), then counts the succeeded
    /// deliveries page by page. Returns that count and the time from `start` to the poll that
    /// found nothing pending; throws after `timeout`.
    func deliveredThroughLog(client: APIClient, webhookIDs: [String], start: ContinuousClock.Instant, timeout: Duration) async throws -> (Int, Duration) {
        let deadline = start.advanced(by: timeout)
        var waiting = webhookIDs[...]
        var finished = ContinuousClock.now
        while let id = waiting.first {
            let page = try await deliveries(client: client, webhookID: id, status: "pending", limit: 1, cursor: nil)
            finished = ContinuousClock.now
            if page.count == 0 {
                waiting.removeFirst()
                continue
            }
            guard finished < deadline else { throw ConfigurationError("deliveries to webhook \(id) still pending after \(timeout)") }
            try await Task.sleep(for: Self.logPollInterval)
        }
        let elapsed = finished - start
        var succeeded = 0
        for id in webhookIDs {
            var cursor: String?
            repeat {
                let page = try await deliveries(client: client, webhookID: id, status: "succeeded", limit: 100, cursor: cursor)
                succeeded += page.count
                cursor = page.next
            } while cursor != nil
        }
        return (succeeded, elapsed)
    }

    /// One page of a webhook's deliveries in one state: how many rows, and the next page's cursor.
    private func deliveries(client: APIClient, webhookID: String, status: String, limit: Int, cursor: String?) async throws -> (count: Int, next: String?) {
        var path = "/v1/webhooks/\(webhookID)/deliveries?status=\(status)&limit=\(limit)"
        if let cursor { path += "&cursor=" + (cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor) }
        let reply = try await client.call(.GET, path)
        guard reply.status == 200, let json = reply.json, let rows = json["data"] as? [Any] else {
            throw ConfigurationError("reading the deliveries of webhook \(webhookID) failed: \(reply.status) \(reply.text)")
        }
        return (rows.count, json["next_cursor"] as? String)
    }
}
