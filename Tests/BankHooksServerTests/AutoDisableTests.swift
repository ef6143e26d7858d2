import BankHooksCore
import BankHooksServer
import BankHooksTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A webhook that fails for days is disabled, with a `webhook.disabled` event (injected clock).
@Suite struct AutoDisableTests {
    @Test func aWebhookFailingForItsWholeRetryWindowEndsFailedThenIsDisabledWithAnEvent() async throws {
        let clock = ManualClock(now: Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)))
        let f = try await APIFixture(clock: clock)
        try await TestReceiver.run(script: { request, _ in .init(status: request.path == "/down" ? 503 : 200) }) { receiver in
            try await f.test { client in
                func create(_ body: String) async throws -> String {
                    try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: body)) { response in
                        #expect(response.status == .created, "\(response.text)")
                        return response.json?["id"] as? String ?? ""
                    }
                }
                let down = try await create(#"{"url": "\#(receiver.url("/down"))", "event_types": ["a.b"]}"#)
                let ops = try await create(#"{"url": "\#(receiver.url("/ops"))", "event_types": ["webhook.disabled"]}"#)
                let eventID: String = try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey),
                                                               body: ByteBuffer(string: #"{"type": "a.b", "data": {}}"#)) { $0.json?["id"] as? String ?? "" }
                // Walk the clock through the whole schedule (8 attempts, about 27.6 h with jitter).
                var attempts = 0
                for _ in 0..<40 where attempts < RetrySchedule.standard.maxAttempts {
                    let made = attempts
                    try await eventually("attempt \(made + 1)") { receiver.requests.filter { $0.path == "/down" }.count > made }
                    attempts = receiver.requests.filter { $0.path == "/down" }.count
                    let sent = attempts
                    try await eventually("the attempt is recorded") {
                        let delivery = try await f.components.store.deliveries(eventID: eventID, applicationID: defaultApplicationID).first
                        return delivery?.attempts == sent
                    }
                    clock.advance(by: .seconds(12 * 3600 + 1))
                }
                #expect(attempts == 8)
                try await client.execute(uri: "/v1/events/\(eventID)", method: .get, headers: auth(f.operatorKey)) { response in
                    let delivery = (response.json?["deliveries"] as? [[String: Any]])?.first
                    #expect(delivery?["state"] as? String == "failed")
                    #expect((delivery?["attempts"] as? [[String: Any]])?.allSatisfy { $0["status"] as? Int == 503 } == true)
                }
                try await client.execute(uri: "/v1/webhooks/\(down)", method: .get, headers: auth(f.operatorKey)) { response in
                    #expect(response.json?["enabled"] as? Bool == true, "not yet: the period is 5 days from the first failure")
                }
                // Five days after the first failure, the watchdog disables it and says so.
                clock.advance(by: .seconds(5 * 24 * 3600))
                let announced = try await receiver.waitForRequests(9).last
                #expect(announced?.path == "/ops")
                let announcedBody = try #require(announced).body
                let body = try #require(try JSONSerialization.jsonObject(with: Data(announcedBody)) as? [String: Any])
                #expect(body["type"] as? String == "webhook.disabled")
                let data = try #require(body["data"] as? [String: Any])
                #expect(data["webhook_id"] as? String == down)
                #expect(data["reason"] as? String == "failing")
                #expect(data["failing_since"] is String)
                try await client.execute(uri: "/v1/webhooks/\(down)", method: .get, headers: auth(f.operatorKey)) { response in
                    #expect(response.json?["enabled"] as? Bool == false)
                    #expect(response.json?["disabled_reason"] as? String == "failing")
                }
                // Announced once only (once its delivery is recorded: moving the clock past an unrecorded
                // send's lease would make it due again, as after a crash).
                try await eventually("the announcement is recorded") {
                    try await f.components.store.deliveries(applicationID: defaultApplicationID, of: .webhook(ops), state: .succeeded, before: nil, limit: 5)?.items.count == 1
                }
                clock.advance(by: .seconds(120))
                try await Task.sleep(for: .milliseconds(200))
                #expect(receiver.requests.filter { $0.path == "/ops" }.count == 1)
            }
        }
    }

    @Test func a410IsAnnouncedAsGone() async throws {
        let clock = ManualClock(now: Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)))
        let f = try await APIFixture(clock: clock)
        try await TestReceiver.run(script: { request, _ in .init(status: request.path == "/gone" ? 410 : 200) }) { receiver in
            try await f.test { client in
                for body in [#"{"url": "\#(receiver.url("/gone"))", "event_types": ["a.b"]}"#, #"{"url": "\#(receiver.url("/ops"))", "event_types": ["webhook.disabled"]}"#] {
                    try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: body)) { response in
                        #expect(response.status == .created)
                    }
                }
                try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: #"{"type": "a.b", "data": {}}"#)) { _ in }
                _ = try await receiver.waitForRequests(1)
                try await eventually("the 410 disables the webhook") {
                    try await f.components.store.webhooks(applicationID: defaultApplicationID).contains { $0.disabledReason == "gone" }
                }
                clock.advance(by: .seconds(61))
                let announced = try #require(try await receiver.waitForRequests(2).last)
                #expect(announced.path == "/ops")
                #expect(announced.bodyText.contains(#""reason":"gone""#))
            }
        }
    }
}
