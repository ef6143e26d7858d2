import BankHooksCore
import BankHooksServer
import BankHooksTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Applications, API keys, roles, the webhook limit, and isolation between applications.
@Suite struct AccessTests {
    func body(_ object: Any) throws -> ByteBuffer { ByteBuffer(data: try JSONSerialization.data(withJSONObject: object)) }

    @Test func theOperatorManagesApplicationsAndTheirKeys() async throws {
        let f = try await APIFixture()
        let admin = try await f.key(.admin)
        try await f.test { client in
            let app: [String: Any] = try await client.execute(
                uri: "/v1/applications", method: .post, headers: auth(f.operatorKey),
                body: try body(["name": "Acme", "environment": "production", "redirect_callbacks": ["acme://done", "https://acme.example/cb"]])
            ) { response in
                #expect(response.status == .created, "\(response.text)")
                return response.json ?? [:]
            }
            let id = try #require(app["id"] as? String)
            #expect(app["webhook_limit"] as? Int == 10)
            #expect(app["environment"] as? String == "production")
            // Only the operator manages applications.
            try await client.execute(uri: "/v1/applications", method: .get, headers: auth(admin)) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/applications/\(id)", method: .patch, headers: auth(f.operatorKey), body: try body(["webhook_limit": 2])) { response in
                #expect(response.json?["webhook_limit"] as? Int == 2)
            }
            try await client.execute(uri: "/v1/applications/\(id)", method: .patch, headers: auth(f.operatorKey),
                                     body: try body(["redirect_callbacks": ["javascript:alert(1)"]])) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.json?["field"] as? String == "/redirect_callbacks/0")
            }
            // A key for it, shown once; listed by prefix only.
            let key: String = try await client.execute(uri: "/v1/applications/\(id)/api-keys", method: .post, headers: auth(f.operatorKey),
                                                       body: try body(["role": "admin"])) { response in
                #expect(response.status == .created, "\(response.text)")
                return response.json?["key"] as? String ?? ""
            }
            #expect(key.hasPrefix("bhk_"))
            try await client.execute(uri: "/v1/api-keys", method: .get, headers: auth(key)) { response in
                let keys = response.json?["data"] as? [[String: Any]] ?? []
                #expect(keys.count == 1)
                #expect(keys.first?["key"] == nil)
                #expect((keys.first?["prefix"] as? String).map { key.hasPrefix($0) && $0.count < key.count } == true)
            }
            // A production application needs https, and its limit holds.
            try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(key), body: try body(["url": "http://acme.example/hook"])) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.json?["field"] as? String == "/url")
            }
            for i in 0..<2 {
                try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(key), body: try body(["url": "https://acme.example/\(i)"])) { response in
                    #expect(response.status == .created)
                }
            }
            try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(key), body: try body(["url": "https://acme.example/3"])) { response in
                #expect(response.status == .conflict)
                #expect(response.json?["type"] as? String == "urn:bankhooks:problem:webhook-limit-reached")
                #expect((response.json?["detail"] as? String)?.contains("limit is 2") == true, "\(response.text)")
            }
            // The application's admin makes a viewer key, and revokes it: it stops working at once.
            let viewer: [String: Any] = try await client.execute(uri: "/v1/api-keys", method: .post, headers: auth(key), body: try body(["role": "viewer"])) { response in
                #expect(response.status == .created)
                return response.json ?? [:]
            }
            let viewerKey = try #require(viewer["key"] as? String)
            try await client.execute(uri: "/v1/webhooks", method: .get, headers: auth(viewerKey)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/api-keys", method: .post, headers: auth(viewerKey), body: try body(["role": "admin"])) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/api-keys/\(viewer["id"] as? String ?? "")", method: .delete, headers: auth(key)) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/v1/webhooks", method: .get, headers: auth(viewerKey)) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/api-keys", method: .post, headers: auth(key), body: try body(["role": "operator"])) { response in
                #expect(response.status == .unprocessableContent)
            }
            // The default application's admin neither sees nor revokes the operator's key.
            let defaultAdmin = try await f.key(.admin)
            try await client.execute(uri: "/v1/api-keys", method: .get, headers: auth(defaultAdmin)) { response in
                #expect(!response.text.contains("operator1"), "\(response.text)")
            }
            try await client.execute(uri: "/v1/api-keys/operator1", method: .delete, headers: auth(defaultAdmin)) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/applications", method: .get, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/applications/\(id)", method: .delete, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/v1/webhooks", method: .get, headers: auth(key)) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func theEleventhWebhookIsRefusedAndRolesLimitWhoMayDoWhat() async throws {
        let f = try await APIFixture()
        let developer = try await f.key(.developer)
        let viewer = try await f.key(.viewer)
        try await f.test { client in
            for i in 0..<10 {
                try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey), body: try body(["url": "https://example.com/\(i)"])) { response in
                    #expect(response.status == .created)
                }
            }
            try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey), body: try body(["url": "https://example.com/11"])) { response in
                #expect(response.status == .conflict)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect((response.json?["detail"] as? String)?.contains("its limit is 10") == true, "\(response.text)")
            }
            // The Lean Callback URL does not count.
            try await client.execute(uri: "/v1/callback-url", method: .put, headers: auth(f.operatorKey), body: try body(["url": "https://example.com/cb"])) { response in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(developer), body: try body(["url": "https://example.com/d"])) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(viewer), body: ByteBuffer(string: #"{"type": "a.b", "data": {}}"#)) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(developer), body: ByteBuffer(string: #"{"type": "a.b", "data": {}}"#)) { response in
                #expect(response.status == .accepted)
            }
        }
    }

    /// Every route that names something of application A answers 404 to application B's admin,
    /// as for something that does not exist; lists show B nothing of A.
    @Test func noApplicationSeesOrChangesAnothersData() async throws {
        let f = try await APIFixture()
        let a = f.operatorKey
        let b = try await f.key(.admin, application: "app_b")
        try await f.test { client in
            let webhook: [String: Any] = try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(a),
                                                                   body: try body(["url": "https://example.com/a", "format": "okra"])) { $0.json ?? [:] }
            let webhookID = try #require(webhook["id"] as? String)
            let eventID: String = try await client.execute(uri: "/v1/events", method: .post, headers: auth(a),
                body: ByteBuffer(string: #"{"type": "TRANSACTIONS.INITIAL_TRANSACTIONS", "data": {"record": "rec-a", "error": null, "new_transactions": 1}}"#)) { response in
                #expect(response.status == .accepted)
                return response.json?["id"] as? String ?? ""
            }
            try await client.execute(uri: "/v1/event-types", method: .post, headers: auth(a), body: try body(["name": "a.private", "description": "A's"])) { response in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/v1/callback-url", method: .put, headers: auth(a), body: try body(["url": "https://example.com/cb"])) { response in
                #expect(response.status == .created)
            }
            let keyID: String = try await client.execute(uri: "/v1/api-keys", method: .post, headers: auth(a), body: try body(["role": "viewer"])) { $0.json?["id"] as? String ?? "" }
            // A delivery with an attempt (to a closed local port), and a recovery job.
            let closed: [String: Any] = try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(a),
                                                                  body: try body(["url": "http://127.0.0.1:1/closed", "event_types": ["a.b"]])) { $0.json ?? [:] }
            let closedID = try #require(closed["id"] as? String)
            let otherEventID: String = try await client.execute(uri: "/v1/events", method: .post, headers: auth(a),
                                                                body: ByteBuffer(string: #"{"type": "a.b", "data": {}}"#)) { $0.json?["id"] as? String ?? "" }
            let deliveryID = try #require(try await f.components.store.deliveries(eventID: otherEventID, applicationID: defaultApplicationID).first?.id)
            try await eventually("the attempt is recorded") { try await !f.components.store.attempts(deliveryID: deliveryID).isEmpty }
            let attemptID = try #require(try await f.components.store.attempts(deliveryID: deliveryID).first?.id)
            let recoveryID: String = try await client.execute(uri: "/v1/webhooks/\(closedID)/recover", method: .post, headers: auth(a),
                                                              body: ByteBuffer(string: #"{"since": "2020-01-01T00:00:00Z"}"#)) { response in
                #expect(response.status == .accepted, "\(response.text)")
                return response.json?["id"] as? String ?? ""
            }

            let routes: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/v1/webhooks/\(webhookID)", nil),
                (.patch, "/v1/webhooks/\(webhookID)", #"{"name": "taken"}"#),
                (.post, "/v1/webhooks/\(webhookID)/rotate-secret", nil),
                (.post, "/v1/webhooks/\(webhookID)/test", nil),
                (.delete, "/v1/webhooks/\(webhookID)", nil),
                (.get, "/v1/events/\(eventID)", nil),
                (.get, "/v1/event-types/a.private", nil),
                (.delete, "/v1/event-types/a.private", nil),
                (.get, "/v1/callback?record=rec-a&method=TRANSACTIONS", nil),
                (.get, "/v1/callback-url", nil),
                (.delete, "/v1/callback-url", nil),
                (.delete, "/v1/api-keys/\(keyID)", nil),
                (.get, "/v1/events/\(otherEventID)/deliveries", nil),
                (.get, "/v1/webhooks/\(closedID)/deliveries", nil),
                (.get, "/v1/deliveries/\(deliveryID)", nil),
                (.post, "/v1/deliveries/\(deliveryID)/resend", nil),
                (.get, "/v1/attempts/\(attemptID)", nil),
                (.post, "/v1/webhooks/\(closedID)/recover", #"{"since": "2020-01-01T00:00:00Z"}"#),
                (.get, "/v1/recoveries/\(recoveryID)", nil),
            ]
            for (method, uri, text) in routes {
                try await client.execute(uri: uri, method: method, headers: auth(b), body: text.map { ByteBuffer(string: $0) }) { response in
                    #expect(response.status == .notFound, "\(method) \(uri) answered \(response.status)")
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
            }
            for uri in ["/v1/webhooks", "/v1/api-keys", "/v1/events"] {
                try await client.execute(uri: uri, method: .get, headers: auth(b)) { response in
                    #expect(response.status == .ok)
                    #expect(!response.text.contains(webhookID) && !response.text.contains(keyID) && !response.text.contains(otherEventID), "\(uri) shows A's data")
                }
            }
            try await client.execute(uri: "/v1/event-types?family=custom", method: .get, headers: auth(b)) { response in
                #expect(!response.text.contains("a.private"))
            }
            // B publishing an event with A's id creates B's own event, not a replay of A's.
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(b),
                                     body: ByteBuffer(string: #"{"id": "\#(eventID)", "type": "results.ready", "data": {"id": "x"}}"#)) { response in
                #expect(response.status == .accepted)
                #expect(response.headers[.init("Idempotent-Replayed")!] == nil)
            }
            // And A's things are all still there.
            try await client.execute(uri: "/v1/webhooks/\(webhookID)", method: .get, headers: auth(a)) { response in
                #expect(response.status == .ok)
                #expect(response.json?["name"] is NSNull)
            }
            try await client.execute(uri: "/v1/callback-url", method: .get, headers: auth(a)) { response in
                #expect(response.status == .ok)
            }
        }
    }
}

@Suite struct RateLimitTests {
    @Test func aKeyOverItsRateIsAnswered429WithRetryAfter() async throws {
        let f = try await APIFixture(keyRateLimit: RateLimiter.Limit(rate: 0.5, burst: 3), applicationRateLimit: RateLimiter.Limit(rate: 100, burst: 100))
        let other = try await f.key(.viewer)
        try await f.test { client in
            for _ in 0..<3 {
                try await client.execute(uri: "/v1/webhooks", method: .get, headers: auth(f.operatorKey)) { response in
                    #expect(response.status == .ok)
                }
            }
            try await client.execute(uri: "/v1/webhooks", method: .get, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.headers[.retryAfter] == "2")
                #expect(response.json?["type"] as? String == "urn:bankhooks:problem:rate-limited")
            }
            // The limit is per key.
            try await client.execute(uri: "/v1/webhooks", method: .get, headers: auth(other)) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func theKeysOfOneApplicationShareItsRate() async throws {
        let f = try await APIFixture(keyRateLimit: RateLimiter.Limit(rate: 100, burst: 100), applicationRateLimit: RateLimiter.Limit(rate: 0.5, burst: 3))
        var made: [String] = []
        for _ in 0..<4 { made.append(try await f.key(.viewer, application: "app_many_keys")) }
        let keys = made
        let elsewhere = try await f.key(.viewer, application: "app_elsewhere")
        try await f.test { client in
            for key in keys.prefix(3) {
                try await client.execute(uri: "/v1/webhooks", method: .get, headers: auth(key)) { response in
                    #expect(response.status == .ok)
                }
            }
            // A fresh key of the same application gets no fresh rate: the application's bucket is empty.
            try await client.execute(uri: "/v1/webhooks", method: .get, headers: auth(keys[3])) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.retryAfter] == "2")
                #expect(response.json?["type"] as? String == "urn:bankhooks:problem:rate-limited")
                #expect((response.json?["detail"] as? String)?.contains("application") == true)
            }
            // Another application's keys are not held back by it.
            try await client.execute(uri: "/v1/webhooks", method: .get, headers: auth(elsewhere)) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
