import BankHooksCore
import BankHooksServer
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// The delivery log, resend and recovery, and per-webhook headers, retry schedule and rate limit,
/// against a real receiver on 127.0.0.1.
@Suite struct DeliveryLogTests {
    /// A JSON call through the test client; answers the status and the decoded body.
    struct Call {
        let client: any TestClientProtocol
        let key: String

        func callAny(_ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil) async throws -> (Int, Any?) {
            try await client.execute(uri: uri, method: method, headers: auth(key), body: body.map { ByteBuffer(string: $0) }) { response in
                (Int(response.status.code), try? JSONSerialization.jsonObject(with: Data(buffer: response.body)))
            }
        }

        func callJSON(_ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil) async throws -> (Int, [String: Any]) {
            let (status, json) = try await callAny(method, uri, body)
            return (status, json as? [String: Any] ?? [:])
        }

        func webhook(_ body: String) async throws -> String {
            let (status, json) = try await callJSON(.post, "/v1/webhooks", body)
            #expect(status == 201, "\(json)")
            return json["id"] as? String ?? ""
        }

        @discardableResult
        func publish(_ type: String = "a.b", data: String = "{}") async throws -> String {
            let (status, json) = try await callJSON(.post, "/v1/events", #"{"type": "\#(type)", "data": \#(data)}"#)
            #expect(status == 202, "\(json)")
            return json["id"] as? String ?? ""
        }

        /// Every item of a list, page by page, with the pages' sizes.
        func all(_ uri: String, limit: Int, between: @Sendable () async throws -> Void = {}) async throws -> (items: [[String: Any]], pages: [Int]) {
            var items: [[String: Any]] = [], pages: [Int] = []
            var cursor: String?
            repeat {
                let separator = uri.contains("?") ? "&" : "?"
                let page = "\(uri)\(separator)limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
                let (status, json) = try await callJSON(.get, page)
                #expect(status == 200, "\(page): \(json)")
                let data = json["data"] as? [[String: Any]] ?? []
                items += data
                pages.append(data.count)
                cursor = json["next_cursor"] as? String
                try await between()
            } while cursor != nil && pages.count < 100
            return (items, pages)
        }
    }

    @Test func listsPageNewestFirstWithCursorsThatNewEventsDoNotShift() async throws {
        let f = try await APIFixture()
        try await TestReceiver.run { receiver in
            try await f.test { client in
                let api = Call(client: client, key: f.operatorKey)
                let webhookID = try await api.webhook(#"{"url": "\#(receiver.url())"}"#)
                var published: [String] = []
                for i in 0..<10 { published.append(try await api.publish(i < 7 ? "a.b" : "order.paid")) }
                // Pages of 3; more events arrive between pages and must not appear in (or shift) this walk.
                let (events, pages) = try await api.all("/v1/events", limit: 3) { try await api.publish("a.b") }
                #expect(pages == [3, 3, 3, 1])
                #expect(events.compactMap { $0["id"] as? String } == published.reversed())
                let (paid, _) = try await api.all("/v1/events?type=order.paid", limit: 2)
                #expect(paid.compactMap { $0["id"] as? String } == Array(published.suffix(3).reversed()))
                let future = Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000).iso8601
                let (none, _) = try await api.all("/v1/events?since=\(future)", limit: 5)
                #expect(none.isEmpty)
                let (before, _) = try await api.all("/v1/events?until=\(future)", limit: 100)
                #expect(before.count == 14)

                // Deliveries of the webhook and of one event, with the status filter.
                _ = try await receiver.waitForRequests(14)
                try await eventually("all succeeded") {
                    try await f.components.store.deliveryCounts()[.succeeded] == 14
                }
                let (deliveries, deliveryPages) = try await api.all("/v1/webhooks/\(webhookID)/deliveries?status=succeeded", limit: 5)
                #expect(deliveryPages == [5, 5, 4])
                let ids = deliveries.compactMap { $0["id"] as? Int }
                #expect(ids == ids.sorted(by: >) && Set(ids).count == 14)
                #expect(deliveries.first?["event_type"] as? String == "a.b")
                let (pending, _) = try await api.all("/v1/webhooks/\(webhookID)/deliveries?status=pending", limit: 5)
                #expect(pending.isEmpty)
                let (ofEvent, _) = try await api.all("/v1/events/\(published[0])/deliveries", limit: 5)
                #expect(ofEvent.count == 1 && ofEvent.first?["webhook_id"] as? String == webhookID)

                // Wrong parameters are 400s naming the parameter; unknown owners are 404s.
                for (uri, field) in [
                    ("/v1/events?limit=0", "query:limit"), ("/v1/events?limit=101", "query:limit"), ("/v1/events?cursor=%21%21", "query:cursor"),
                    ("/v1/events?cursor=bm9wZQ", "query:cursor"), ("/v1/events?since=yesterday", "query:since"),
                    ("/v1/webhooks/\(webhookID)/deliveries?status=lost", "query:status"), ("/v1/events?type=a%20b", "query:type"),
                ] {
                    let (status, json) = try await api.callJSON(.get, uri)
                    #expect(status == 400 && json["field"] as? String == field, "\(uri): \(json)")
                }
                for uri in ["/v1/webhooks/wh_none/deliveries", "/v1/events/evt_none/deliveries", "/v1/deliveries/abc", "/v1/deliveries/999999", "/v1/attempts/0"] {
                    let (status, _) = try await api.callJSON(.get, uri)
                    #expect(status == 404, "\(uri)")
                }
            }
        }
    }

    @Test func eventPagesCrossMillisecondsThatHoldManyEvents() async throws {
        let f = try await APIFixture()
        let store = f.components.store
        // Run the services (the dispatcher owns an HTTP client that must be shut down).
        try await f.test { _ in try await Self.pageAcrossMilliseconds(store) }
    }

    static func pageAcrossMilliseconds(_ store: any Store) async throws {
        let t0 = Timestamp(milliseconds: 1_800_000_000_000)
        // Three receipt times, 7, 1 and 5 events each: page boundaries fall inside and between them.
        var expected: [String] = []
        for (offset, count) in [(0, 7), (1, 1), (2, 5)] {
            let now = t0.adding(.milliseconds(Int64(offset)))
            let ids = (0..<count).map { "evt-\(offset)-\($0)" }
            _ = try await store.publish(ids.map {
                PublishRequest(applicationID: defaultApplicationID, eventID: $0, idempotencyKey: nil, type: "a.b", timestamp: now, data: Array("{}".utf8))
            }, now: now)
            expected += ids
        }
        for limit in [1, 3, 4, 7, 13] {
            var seen: [String] = []
            var cursor: EventCursor?
            repeat {
                let page = try await store.events(applicationID: defaultApplicationID, filter: EventFilter(type: limit == 3 ? "a.b" : nil), after: cursor, limit: limit)
                seen += page.items.map(\.id)
                cursor = page.hasMore ? page.items.last.map { EventCursor(createdAt: $0.createdAt.milliseconds, seq: $0.seq) } : nil
            } while cursor != nil
            #expect(seen == expected.reversed(), "limit \(limit)")
        }
        let since = try await store.events(applicationID: defaultApplicationID, filter: EventFilter(since: t0.adding(.milliseconds(1))), after: nil, limit: 50)
        #expect(since.items.count == 6 && !since.hasMore)
    }

    @Test func anAttemptShowsItsRequestHeadersWithSecretsRedacted() async throws {
        let f = try await APIFixture()
        try await TestReceiver.run { receiver in
            try await f.test { client in
                let api = Call(client: client, key: f.operatorKey)
                let (status, created) = try await api.callJSON(.post, "/v1/webhooks", """
                    {"url": "\(receiver.url())", "event_types": ["a.b"], "headers": {"X-Api-Key": "k-very-secret", "X-Tenant": "acme"}}
                    """)
                #expect(status == 201, "\(created)")
                let secret = try #require(created["secret"] as? String)
                #expect(created["headers"] as? [String: String] == ["X-Api-Key": "[redacted]", "X-Tenant": "[redacted]"], "custom header values are never shown")
                let eventID = try await api.publish()
                let received = try #require(try await receiver.waitForRequests(1).first)
                #expect(received.header("x-api-key") == "k-very-secret")
                #expect(received.header("x-tenant") == "acme")
                let deliveryID = try #require(try await f.components.store.deliveries(eventID: eventID, applicationID: defaultApplicationID).first?.id)
                try await eventually("recorded") { try await f.components.store.attempts(deliveryID: deliveryID).count == 1 }
                let (_, delivery) = try await api.callJSON(.get, "/v1/deliveries/\(deliveryID)")
                #expect(delivery["state"] as? String == "succeeded")
                let attempt = try #require((delivery["attempts"] as? [[String: Any]])?.first)
                let attemptID = try #require(attempt["id"] as? Int)
                let (_, detail) = try await api.callJSON(.get, "/v1/attempts/\(attemptID)")
                #expect(detail["delivery_id"] as? Int == Int(deliveryID))
                #expect(detail["status"] as? Int == 200)
                let headers = try #require(detail["request_headers"] as? [String: String])
                #expect(headers["X-Api-Key"] == "[redacted]")
                #expect(headers["X-Tenant"] == "[redacted]")
                #expect(headers["content-type"] == "application/json")
                #expect(headers["webhook-id"] == received.header("webhook-id"))
                #expect(headers["webhook-signature"] == received.header("webhook-signature"))
                let text = String(decoding: try JSONSerialization.data(withJSONObject: detail), as: UTF8.self)
                #expect(!text.contains("k-very-secret") && !text.contains("acme") && !text.contains(secret))
            }
        }
    }

    @Test func customHeadersAreValidated() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            let api = Call(client: client, key: f.operatorKey)
            for (body, field) in [
                (#"{"url": "https://example.com", "headers": {"Webhook-Signature": "x"}}"#, "/headers/Webhook-Signature"),
                (#"{"url": "https://example.com", "format": "lean", "headers": {"Lean-Signature-Previous": "x"}}"#, "/headers/Lean-Signature-Previous"),
                (#"{"url": "https://example.com", "headers": {"bad name": "x"}}"#, "/headers/bad name"),
                (#"{"url": "https://example.com", "headers": {"X-A": "line\nbreak"}}"#, "/headers/X-A"),
                (#"{"url": "https://example.com", "format": "okra", "headers": {"Authorization": "x"}}"#, "/headers/Authorization"),
                (#"{"url": "https://example.com", "retry_schedule": []}"#, "/retry_schedule"),
                (#"{"url": "https://example.com", "retry_schedule": [10, 0]}"#, "/retry_schedule/1"),
                (#"{"url": "https://example.com", "rate_limit": 0}"#, "/rate_limit"),
                (#"{"url": "https://example.com", "rate_limit": "fast"}"#, "/rate_limit"),
            ] {
                let (status, json) = try await api.callJSON(.post, "/v1/webhooks", body)
                #expect(status == 422 && json["field"] as? String == field, "\(body): \(json)")
            }
            let id = try await api.webhook(#"{"url": "https://example.com", "retry_schedule": [5, 60], "rate_limit": 2.5}"#)
            var (_, json) = try await api.callJSON(.get, "/v1/webhooks/\(id)")
            #expect(json["retry_schedule"] as? [Int] == [5, 60] && json["rate_limit"] as? Double == 2.5 && (json["headers"] as? [String: String])?.isEmpty == true)
            (_, json) = try await api.callJSON(.patch, "/v1/webhooks/\(id)", #"{"retry_schedule": null, "rate_limit": null, "headers": {"X-B": "1"}}"#)
            #expect(json["retry_schedule"] is NSNull && json["rate_limit"] is NSNull && json["headers"] as? [String: String] == ["X-B": "[redacted]"])
        }
    }

    @Test func aWebhooksOwnRetryScheduleDecidesItsAttempts() async throws {
        let f = try await APIFixture()
        try await TestReceiver.run(script: { _, _ in .init(status: 500) }) { receiver in
            try await f.test { client in
                let api = Call(client: client, key: f.operatorKey)
                _ = try await api.webhook(#"{"url": "\#(receiver.url())", "retry_schedule": [1, 1]}"#)
                let eventID = try await api.publish()
                let requests = try await receiver.waitForRequests(3)
                let gaps = zip(requests.dropFirst(), requests).map { $0.receivedAt - $1.receivedAt }
                #expect(gaps.allSatisfy { $0 >= .milliseconds(900) }, "\(gaps)")
                try await eventually("failed after its three attempts") {
                    try await f.components.store.deliveries(eventID: eventID, applicationID: defaultApplicationID).first?.state == .failed
                }
                try await Task.sleep(for: .milliseconds(1300))
                #expect(receiver.requests.count == 3)
            }
        }
    }

    @Test func aRateLimitedWebhookGetsItsDeliveriesSpacedNotFailed() async throws {
        let f = try await APIFixture()
        try await TestReceiver.run { receiver in
            try await f.test { client in
                let api = Call(client: client, key: f.operatorKey)
                _ = try await api.webhook(#"{"url": "\#(receiver.url("/limited"))", "event_types": ["a.b"], "rate_limit": 4}"#)
                _ = try await api.webhook(#"{"url": "\#(receiver.url("/free"))", "event_types": ["a.b"]}"#)
                let publishing = ContinuousClock.now
                for _ in 0..<12 { try await api.publish() }
                let published = ContinuousClock.now - publishing
                let all = try await receiver.waitForRequests(24, timeout: .seconds(20))
                let limited = all.filter { $0.path == "/limited" }.map(\.receivedAt).sorted()
                let free = all.filter { $0.path == "/free" }.map(\.receivedAt).sorted()
                // A burst of 4, then one every 250 ms: the other 8 take 2 s, less what refilled while the
                // events were being published, less arrival jitter. Unlimited, they would arrive as fast as published.
                let span = limited.last! - limited.first!
                #expect(span >= .seconds(2) - published - .milliseconds(300), "span \(span), publishing took \(published)")
                #expect(free.last! - free.first! < span)
                // In any one-second window, at most 4 + 4 sends (the burst and the refill), give or take one for arrival jitter.
                for (i, start) in limited.enumerated() {
                    #expect(limited[i...].prefix { $0 - start < .seconds(1) }.count <= 9)
                }
                try await eventually("all succeeded, none failed") { try await f.components.store.deliveryCounts()[.succeeded] == 24 }
            }
        }
    }

    @Test func resendMakesANewAttemptAndRecoveryResendsFailedDeliveriesInTheBackground() async throws {
        let f = try await APIFixture()
        let healthy = Atomic<Bool>(false)
        try await TestReceiver.run(script: { _, _ in .init(status: healthy.load(ordering: .relaxed) ? 200 : 500) }) { receiver in
            try await f.test { client in
                let api = Call(client: client, key: f.operatorKey)
                let webhookID = try await api.webhook(#"{"url": "\#(receiver.url())", "retry_schedule": [1]}"#)
                var events: [String] = []
                for _ in 0..<5 { events.append(try await api.publish()) }
                try await eventually("all failed after two attempts", timeout: .seconds(20)) {
                    try await f.components.store.deliveryCounts()[.failed] == 5
                }
                let failedIDs = try await api.all("/v1/webhooks/\(webhookID)/deliveries?status=failed", limit: 10).items.compactMap { $0["id"] as? Int }
                #expect(failedIDs.count == 5)
                healthy.store(true, ordering: .relaxed)

                // Resend one: a new attempt now, answered with its result.
                let (status, sent) = try await api.callJSON(.post, "/v1/deliveries/\(failedIDs[0])/resend")
                #expect(status == 200, "\(sent)")
                #expect(sent["succeeded"] as? Bool == true && sent["status"] as? Int == 200 && sent["attempt_id"] is Int)
                let (_, one) = try await api.callJSON(.get, "/v1/deliveries/\(failedIDs[0])")
                #expect(one["state"] as? String == "succeeded" && one["attempt_count"] as? Int == 3)
                // Even a succeeded delivery can be sent again.
                let (againStatus, again) = try await api.callJSON(.post, "/v1/deliveries/\(failedIDs[0])/resend")
                #expect(againStatus == 200 && again["succeeded"] as? Bool == true)
                #expect(try await api.callJSON(.post, "/v1/deliveries/99999/resend").0 == 404)
                // A developer may resend; a viewer may not.
                let viewer = try await f.key(.viewer)
                #expect(try await Call(client: client, key: viewer).callJSON(.post, "/v1/deliveries/\(failedIDs[0])/resend").0 == 403)

                // Recover the other four, in the background, with readable progress.
                let requestsBefore = receiver.requests.count
                let (accepted, job) = try await api.callJSON(.post, "/v1/webhooks/\(webhookID)/recover", #"{"since": "2020-01-01T00:00:00Z"}"#)
                #expect(accepted == 202, "\(job)")
                #expect(job["total"] as? Int == 4)
                let jobID = try #require(job["id"] as? String)
                try await eventually("the recovery completes") {
                    try await api.callJSON(.get, "/v1/recoveries/\(jobID)").1["state"] as? String == "completed"
                }
                let progress = try await api.callJSON(.get, "/v1/recoveries/\(jobID)").1
                #expect(progress["processed"] as? Int == 4 && progress["succeeded"] as? Int == 4 && progress["failed"] as? Int == 0)
                #expect(progress["finished_at"] is String)
                #expect(receiver.requests.count == requestsBefore + 4)
                try await eventually("none failed any more") { try await f.components.store.deliveryCounts()[.failed, default: 0] == 0 }
                // Nothing left to recover: completed at once.
                let (_, empty) = try await api.callJSON(.post, "/v1/webhooks/\(webhookID)/recover", #"{"since": "2020-01-01T00:00:00Z"}"#)
                #expect(empty["state"] as? String == "completed" && empty["total"] as? Int == 0)
                let (bad, problem) = try await api.callJSON(.post, "/v1/webhooks/\(webhookID)/recover", #"{"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}"#)
                #expect(bad == 422 && problem["field"] as? String == "/until")
            }
        }
    }

    @Test func aSecondRecoveryOfAWebhookWhileOneRunsReturnsTheRunningOne() async throws {
        let f = try await APIFixture()
        try await TestReceiver.run(script: { _, _ in .init(status: 500) }) { receiver in
            try await f.test { client in
                let api = Call(client: client, key: f.operatorKey)
                let webhookID = try await api.webhook(#"{"url": "\#(receiver.url())", "retry_schedule": [1]}"#)
                for _ in 0..<3 { try await api.publish() }
                try await eventually("all failed after two attempts", timeout: .seconds(20)) {
                    try await f.components.store.deliveryCounts()[.failed] == 3
                }
                // A rate limit keeps the job running: one resend now, the next one 100 s later.
                #expect(try await api.callJSON(.patch, "/v1/webhooks/\(webhookID)", #"{"rate_limit": 0.01}"#).0 == 200)
                let (accepted, job) = try await api.callJSON(.post, "/v1/webhooks/\(webhookID)/recover", #"{"since": "2020-01-01T00:00:00Z"}"#)
                #expect(accepted == 202 && job["state"] as? String == "running", "\(job)")
                let jobID = try #require(job["id"] as? String)
                // Before: a second job started beside the first, over the same deliveries.
                let (status, location, again) = try await client.execute(
                    uri: "/v1/webhooks/\(webhookID)/recover", method: .post, headers: auth(f.operatorKey),
                    body: ByteBuffer(string: #"{"since": "2021-01-01T00:00:00Z"}"#)
                ) { response in
                    (response.status.code, response.headers[.location],
                     (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:])
                }
                #expect(status == 200 && again["id"] as? String == jobID && again["state"] as? String == "running", "\(again)")
                #expect(location == "/v1/recoveries/\(jobID)")
                #expect(try await f.components.store.runningRecoveries().map(\.id) == [jobID])
            }
        }
    }
}
