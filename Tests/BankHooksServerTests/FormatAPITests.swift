import BankHooksCore
import BankHooksServer
import BankHooksTestSupport
import BankHooksVerify
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The event catalog, provider formats and their specifics through the HTTP API.
@Suite struct FormatAPITests {
    static let okraData = #"{"record": "wz666MBjYWTp2PDzzggYhM6oWWmBb", "error": null, "new_transactions": 19}"#

    func json(_ object: Any) throws -> ByteBuffer { ByteBuffer(data: try JSONSerialization.data(withJSONObject: object)) }

    func createWebhook(_ client: any TestClientProtocol, key: String, _ body: [String: Any]) async throws -> [String: Any] {
        try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(key), body: try json(body)) { response in
            #expect(response.status == .created, "\(response.text)")
            return response.json ?? [:]
        }
    }

    /// One type's schema carries its examples: the seed's first, then a payload Lean really sent.
    @Test func anEventTypesSchemaCarriesItsExamples() async throws {
        let f = try await APIFixture()
        let viewer = try await f.key(.viewer)
        try await f.test { client in
            try await client.execute(uri: "/v1/event-types/payment.updated", method: .get, headers: auth(viewer)) { response in
                #expect(response.status == .ok, "\(response.text)")
                let schema = try #require(response.json?["schema"] as? [String: Any])
                let examples = try #require(schema["examples"] as? [[String: Any]])
                #expect(examples.count == 2)
                #expect(examples.first?["end_user_id"] as? String == "eb3b08f9-4d5e-4ea3-8d28-09b4917a61a9", "seed 001's Payment Updated")
                #expect(examples.last?["payment_destination_id"] as? String == "b497d078-da47-488c-ba63-cd602f788262", "Lean's sandbox payment.updated")
            }
            try await client.execute(uri: "/v1/event-types/webhook.disabled", method: .get, headers: auth(viewer)) { response in
                #expect(((response.json?["schema"] as? [String: Any])?["examples"] as? [Any])?.count == 1)
            }
        }
    }

    @Test func anOkraWebhookCannotSubscribeToALeanType() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            let body = try json(["url": "https://example.com/okra", "format": "okra", "event_types": ["payment.created"]])
            try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey), body: body) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.json?["field"] as? String == "/event_types/0")
                let detail = response.json?["detail"] as? String ?? ""
                #expect(detail.contains("payment.created") && detail.contains("okra") && detail.contains("lean"), "\(detail)")
            }
            // The standard format carries every family; the okra format its own.
            _ = try await createWebhook(client, key: f.operatorKey, ["url": "https://example.com/any", "event_types": ["payment.created", "item.created"]])
            _ = try await createWebhook(client, key: f.operatorKey, ["url": "https://example.com/okra", "format": "okra", "event_types": ["TRANSACTIONS.INITIAL_TRANSACTIONS"]])
            // Changing a webhook's types is checked the same way.
            let bridge = try await createWebhook(client, key: f.operatorKey, ["url": "https://example.com/b", "format": "bridge", "event_types": ["item.created"]])
            let id = try #require(bridge["id"] as? String)
            try await client.execute(uri: "/v1/webhooks/\(id)", method: .patch, headers: auth(f.operatorKey), body: try json(["event_types": ["entity.created"]])) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.json?["type"] as? String == "urn:bankhooks:problem:format-mismatch")
            }
        }
    }

    @Test func unknownTypesAndInvalidDataAre422NamingTheField() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: #"{"type": "no.such.type", "data": {}}"#)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.json?["type"] as? String == "urn:bankhooks:problem:unknown-event-type")
                #expect(response.json?["field"] as? String == "/type")
            }
            try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey),
                                     body: try json(["url": "https://example.com/x", "event_types": ["no.such.type"]])) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.json?["field"] as? String == "/event_types/0")
            }
            let badPayment = #"{"type": "payment.created", "data": {"id": "p", "customer_id": "c", "intent_id": "i", "status": "ACCEPTED_BY_BANK", "amount": "ten", "currency": "AED", "bank_transaction_reference": "r"}}"#
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: badPayment)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.json?["type"] as? String == "urn:bankhooks:problem:invalid-event-data")
                #expect(response.json?["field"] as? String == "/data/amount")
                #expect((response.json?["detail"] as? String)?.contains("expected a number") == true, "\(response.text)")
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: #"{"type": "TRANSACTIONS.INITIAL_TRANSACTIONS", "data": {"error": null}}"#)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.json?["field"] as? String == "/data/record")
            }
            // Okra's callback_type and callback_code come from the type, not from data.
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey),
                                     body: ByteBuffer(string: #"{"type": "RECORD.ERROR", "data": {"record": "r", "callback_code": "X"}}"#)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.json?["field"] as? String == "/data/callback_code")
            }
            // BankHooks' own events cannot be published by hand.
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: #"{"type": "webhook.disabled", "data": {}}"#)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.json?["field"] as? String == "/type")
            }
        }
    }

    @Test func eventTypesAreListedWithSchemasAndApplicationsRegisterTheirOwn() async throws {
        let f = try await APIFixture()
        let viewer = try await f.key(.viewer)
        let other = try await f.key(.admin, application: "app_other")
        try await f.test { client in
            try await client.execute(uri: "/v1/event-types", method: .get, headers: auth(viewer)) { response in
                #expect(response.status == .ok)
                let types = response.json?["data"] as? [[String: Any]] ?? []
                #expect(types.count >= EventCatalog.builtIn.definitions.count)
                let entity = try #require(types.first { $0["name"] as? String == "entity.created" })
                #expect(entity["family"] as? String == "lean")
                #expect(entity["formats"] as? [String] == ["lean", "standard"])
                let schema = try #require(entity["schema"] as? [String: Any])
                #expect(schema["type"] as? String == "object")
                #expect((schema["required"] as? [String])?.contains("bank_details") == true)
            }
            try await client.execute(uri: "/v1/event-types?family=okra", method: .get, headers: auth(viewer)) { response in
                let types = response.json?["data"] as? [[String: Any]] ?? []
                #expect(!types.isEmpty && types.allSatisfy { $0["family"] as? String == "okra" })
            }
            try await client.execute(uri: "/v1/event-types/TRANSACTIONS.INITIAL_TRANSACTIONS", method: .get, headers: auth(viewer)) { response in
                #expect(response.status == .ok)
                #expect(response.json?["formats"] as? [String] == ["okra", "standard"])
            }
            // Register a type (its schema is kept as sent), publish it, and see it listed.
            let register = #"{"name": "invoice.paid", "description": "An invoice was paid.", "schema": {"type": "object", "required": ["invoice_id"]}}"#
            try await client.execute(uri: "/v1/event-types", method: .post, headers: auth(viewer), body: ByteBuffer(string: register)) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/event-types", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: register)) { response in
                #expect(response.status == .created, "\(response.text)")
                #expect(response.json?["family"] as? String == "custom")
                #expect((response.json?["schema"] as? [String: Any])?["required"] as? [String] == ["invoice_id"])
            }
            try await client.execute(uri: "/v1/event-types", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: register)) { response in
                #expect(response.status == .conflict)
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: #"{"type": "invoice.paid", "data": {"invoice_id": 1}}"#)) { response in
                #expect(response.status == .accepted, "\(response.text)")
            }
            // Another application does not see it, and cannot publish it.
            try await client.execute(uri: "/v1/event-types/invoice.paid", method: .get, headers: auth(other)) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(other), body: ByteBuffer(string: #"{"type": "invoice.paid", "data": {}}"#)) { response in
                #expect(response.status == .unprocessableContent)
            }
            // A custom type is carried by the standard format only.
            try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey),
                                     body: try json(["url": "https://example.com/l", "format": "lean", "event_types": ["invoice.paid"]])) { response in
                #expect(response.status == .unprocessableContent)
            }
            try await client.execute(uri: "/v1/event-types/invoice.paid", method: .delete, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/v1/event-types/entity.created", method: .delete, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .conflict)
            }
        }
    }

    @Test func okraCallbacksCanBePulledByRecordAndMethod() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            try await client.execute(uri: "/v1/callback?record=wz666MBjYWTp2PDzzggYhM6oWWmBb&method=TRANSACTIONS", method: .get, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            for (code, count) in [("INITIAL_TRANSACTIONS", 19), ("FULL_TRANSACTIONS", 231)] {
                let body = #"{"type": "TRANSACTIONS.\#(code)", "data": {"record": "wz666MBjYWTp2PDzzggYhM6oWWmBb", "error": null, "new_transactions": \#(count)}}"#
                try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .accepted, "\(response.text)")
                }
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey),
                                     body: ByteBuffer(string: #"{"type": "BALANCE.PRODUCT_IS_READY", "data": {"record": "other-record", "error": null}}"#)) { response in
                #expect(response.status == .accepted)
            }
            try await client.execute(uri: "/v1/callback?record=wz666MBjYWTp2PDzzggYhM6oWWmBb&method=TRANSACTIONS", method: .get, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .ok)
                let expected = try canonicalJSON(Data(
                    #"{"callback_type": "TRANSACTIONS", "callback_code": "FULL_TRANSACTIONS", "record": "wz666MBjYWTp2PDzzggYhM6oWWmBb", "error": null, "new_transactions": 231}"#.utf8))
                #expect(try canonicalJSON(Data(buffer: response.body)) == expected)
            }
            try await client.execute(uri: "/v1/callback?record=wz666MBjYWTp2PDzzggYhM6oWWmBb&method=BALANCE", method: .get, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/callback?record=x&method=PAYMENTS", method: .get, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?["field"] as? String == "query:method")
            }
            try await client.execute(uri: "/v1/callback?method=AUTH", method: .get, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?["field"] as? String == "query:record")
            }
        }
    }

    @Test func changingAnOkraWebhooksURLSendsWebhookUpdateAcknowledgedToTheNewURL() async throws {
        let f = try await APIFixture()
        try await TestReceiver.run { receiver in
            try await f.test { client in
                let webhook = try await createWebhook(client, key: f.operatorKey, [
                    "url": receiver.url("/old"), "format": "okra", "event_types": ["TRANSACTIONS.INITIAL_TRANSACTIONS"], "bearer_token": "tok-1",
                ])
                let id = try #require(webhook["id"] as? String)
                #expect(webhook["has_bearer_token"] as? Bool == true)
                #expect(webhook["bearer_token"] == nil)
                try await client.execute(uri: "/v1/webhooks/\(id)", method: .patch, headers: auth(f.operatorKey), body: try json(["url": receiver.url("/new")])) { response in
                    #expect(response.status == .ok, "\(response.text)")
                }
                let received = try #require(try await receiver.waitForRequests(1).first)
                #expect(received.path == "/new")
                #expect(received.header("Authorization") == "Bearer tok-1")
                let body = try #require(try JSONSerialization.jsonObject(with: Data(received.body)) as? [String: Any])
                #expect(body["callback_type"] as? String == "RECORD")
                #expect(body["callback_code"] as? String == "WEBHOOK_UPDATE_ACKNOWLEDGED")
                #expect(body["new_callback_url"] as? String == receiver.url("/new"))
                #expect(body["record"] as? String == id)
                #expect(body.keys.contains("error") && body["error"] is NSNull)
                // A bearer token is an okra setting only.
                try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey),
                                         body: try json(["url": receiver.url(), "bearer_token": "x"])) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(response.json?["field"] as? String == "/bearer_token")
                }
            }
        }
    }

    /// Rotation: during the grace period every format signs with both secrets (standard: two `v1,`
    /// entries; bridge: two `v1=` in one header; lean: `lean-signature` and `lean-signature-previous`), each verifiable with its own
    /// secret; after it, only the new one.
    @Test(arguments: ["standard", "bridge", "lean"])
    func aRotatedSecretSignsAlongsideTheNewOneUntilItsGracePeriodEnds(_ format: String) async throws {
        let clock = ManualClock(now: Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)))
        let f = try await APIFixture(clock: clock)
        try await TestReceiver.run { receiver in
            try await f.test { client in
                let type = format == "lean" ? "results.ready" : format == "bridge" ? "user.deleted" : "results.ready"
                let data = format == "bridge" ? #"{"user_uuid": "9a95b38f-f98b-417a-988b-9d0d584893e7"}"# : #"{"id": "r-1"}"#
                let webhook = try await createWebhook(client, key: f.operatorKey, ["url": receiver.url(), "format": format, "event_types": [type]])
                let id = try #require(webhook["id"] as? String)
                let old = try #require(webhook["secret"] as? String)
                let new: String = try await client.execute(uri: "/v1/webhooks/\(id)/rotate-secret", method: .post, headers: auth(f.operatorKey)) { response in
                    #expect(response.status == .ok, "\(response.text)")
                    #expect(response.json?["previous_secret_expires_at"] is String)
                    return response.json?["secret"] as? String ?? ""
                }
                #expect(new != old && new.hasPrefix("whsec_"))
                try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: #"{"type": "\#(type)", "data": \#(data)}"#)) { response in
                    #expect(response.status == .accepted, "\(response.text)")
                }
                let first = try #require(try await receiver.waitForRequests(1).first)
                try Self.expectSignatures(first, format: format, secrets: [new, old], now: clock.date)

                clock.advance(by: .seconds(24 * 3600 + 1))
                try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: #"{"type": "\#(type)", "data": \#(data)}"#)) { response in
                    #expect(response.status == .accepted)
                }
                let second = try await receiver.waitForRequests(2)[1]
                try Self.expectSignatures(second, format: format, secrets: [new], now: clock.date)
                try await client.execute(uri: "/v1/webhooks/\(id)", method: .get, headers: auth(f.operatorKey)) { response in
                    #expect(response.json?["previous_secret_expires_at"] is NSNull)
                }
            }
        }
    }

    /// Bridge allows at most two secrets: a second rotation drops the oldest at once.
    @Test func atMostTwoSecretsSignAfterTwoRotations() async throws {
        let f = try await APIFixture()
        try await TestReceiver.run { receiver in
            try await f.test { client in
                let webhook = try await createWebhook(client, key: f.operatorKey, ["url": receiver.url(), "format": "bridge", "event_types": ["user.deleted"]])
                let id = try #require(webhook["id"] as? String)
                var secrets = [try #require(webhook["secret"] as? String)]
                for _ in 0..<2 {
                    let next: String = try await client.execute(uri: "/v1/webhooks/\(id)/rotate-secret", method: .post, headers: auth(f.operatorKey)) { response in
                        response.json?["secret"] as? String ?? ""
                    }
                    secrets.insert(next, at: 0)
                }
                try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey),
                                         body: ByteBuffer(string: #"{"type": "user.deleted", "data": {"user_uuid": "9a95b38f-f98b-417a-988b-9d0d584893e7"}}"#)) { response in
                    #expect(response.status == .accepted)
                }
                let received = try #require(try await receiver.waitForRequests(1).first)
                try Self.expectSignatures(received, format: "bridge", secrets: Array(secrets.prefix(2)), now: Date())
            }
        }
    }

    /// Each entry of the signature header verifies with exactly one of `secrets`, in order.
    static func expectSignatures(_ request: TestReceiver.Received, format: String, secrets: [String], now: Date) throws {
        switch format {
        case "standard":
            let id = try #require(request.header("webhook-id")), timestamp = try #require(request.header("webhook-timestamp"))
            let entries = try #require(request.header("webhook-signature")).split(separator: " ").map(String.init)
            #expect(entries == secrets.map { IndependentSignature.standard(id: id, timestamp: timestamp, body: request.body, secret: $0) })
        case "bridge":
            let entries = try #require(request.header("BridgeApi-Signature")).split(separator: ",").map(String.init)
            #expect(entries == secrets.map { IndependentSignature.bridge(body: request.body, secret: $0) })
        default:
            // lean: one entry with the current secret, as Lean documents; the previous one apart.
            #expect(request.header("lean-signature") == IndependentSignature.lean(body: request.body, secret: secrets[0]))
            #expect(request.header("lean-signature-previous") == secrets.dropFirst().first.map { IndependentSignature.lean(body: request.body, secret: $0) })
        }
        let parsed = WebhookRequest(headers: request.headers.map { (name: $0.key, value: $0.value) }, body: request.body)
        for secret in secrets { try WebhookVerifier.verify(format: format, parsed, secrets: [secret], now: now) }
    }

    @Test func sendATestReturnsTheAttemptAndRecordsIt() async throws {
        let f = try await APIFixture()
        let developer = try await f.key(.developer)
        try await TestReceiver.run(script: { _, _ in .init(status: 418, body: "short and stout") }) { receiver in
            try await f.test { client in
                let webhook = try await createWebhook(client, key: f.operatorKey, ["url": receiver.url()])
                let id = try #require(webhook["id"] as? String)
                try await client.execute(uri: "/v1/webhooks/\(id)/test", method: .post, headers: auth(developer)) { response in
                    #expect(response.status == .forbidden)
                }
                let eventID: String = try await client.execute(uri: "/v1/webhooks/\(id)/test", method: .post, headers: auth(f.operatorKey)) { response in
                    #expect(response.status == .ok, "\(response.text)")
                    #expect(response.json?["succeeded"] as? Bool == false)
                    #expect(response.json?["status"] as? Int == 418)
                    #expect(response.json?["response_excerpt"] as? String == "short and stout")
                    #expect(response.json?["type"] as? String == "webhook.test")
                    return response.json?["event_id"] as? String ?? ""
                }
                let received = try #require(receiver.requests.first)
                let body = try #require(try JSONSerialization.jsonObject(with: Data(received.body)) as? [String: Any])
                #expect(body["type"] as? String == "webhook.test")
                #expect((body["data"] as? [String: Any])?["webhook_id"] as? String == id)
                // Recorded like any other attempt, and not retried.
                try await client.execute(uri: "/v1/events/\(eventID)", method: .get, headers: auth(f.operatorKey)) { response in
                    let deliveries = response.json?["deliveries"] as? [[String: Any]] ?? []
                    #expect(deliveries.count == 1)
                    #expect(deliveries.first?["state"] as? String == "failed")
                    #expect((deliveries.first?["attempts"] as? [[String: Any]])?.first?["status"] as? Int == 418)
                    #expect(deliveries.first?["next_attempt_at"] is NSNull, "no retry is scheduled")
                    #expect(deliveries.first?["attempt_count"] as? Int == 1)
                }
                #expect(receiver.requests.count == 1)
            }
        }
    }

    @Test func eachFormatsTestEventDecodesWithTheReceiverLibrary() async throws {
        let f = try await APIFixture()
        try await TestReceiver.run { receiver in
            try await f.test { client in
                for format in ["standard", "lean", "okra", "bridge"] {
                    let webhook = try await createWebhook(client, key: f.operatorKey, ["url": receiver.url("/\(format)"), "format": format])
                    let id = try #require(webhook["id"] as? String)
                    try await client.execute(uri: "/v1/webhooks/\(id)/test", method: .post, headers: auth(f.operatorKey)) { response in
                        #expect(response.json?["succeeded"] as? Bool == true, "\(response.text)")
                    }
                    let received = try #require(receiver.requests.last)
                    let headers = received.headers.map { (name: $0.key, value: $0.value) }
                    try WebhookVerifier.verify(format: format, WebhookRequest(headers: headers, body: received.body), secrets: [webhook["secret"] as? String ?? ""])
                    let event = try EventDecoder.decode(format: format, body: received.body, headers: headers)
                    #expect(event.type == (format == "bridge" ? "TEST_EVENT" : "webhook.test"))
                }
            }
        }
    }

    @Test func theLeanCallbackURLReceivesBankLinkResultsOnly() async throws {
        let f = try await APIFixture()
        try await TestReceiver.run { receiver in
            try await f.test { client in
                let callback: [String: Any] = try await client.execute(uri: "/v1/callback-url", method: .put, headers: auth(f.operatorKey),
                                                                          body: try json(["url": receiver.url("/lean-callback")])) { response in
                    #expect(response.status == .created, "\(response.text)")
                    return response.json ?? [:]
                }
                #expect(callback["kind"] as? String == "callback_url")
                #expect(callback["format"] as? String == "lean")
                // A webhook for every type does not get the callback body.
                _ = try await createWebhook(client, key: f.operatorKey, ["url": receiver.url("/all")])
                let failure = #"{"type": "bank_link.result", "data": {"status": {"code": "401", "message": "The username or password submitted was incorrect"}, "data": null}}"#
                try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: failure)) { response in
                    #expect(response.status == .accepted)
                    #expect(response.json?["deliveries"] as? Int == 1)
                }
                let received = try #require(try await receiver.waitForRequests(1).first)
                #expect(received.path == "/lean-callback")
                #expect(received.header("lean-signature") == IndependentSignature.lean(body: received.body, secret: callback["secret"] as? String ?? ""))
                // Changing it keeps the secret; it can be read back and removed.
                try await client.execute(uri: "/v1/callback-url", method: .put, headers: auth(f.operatorKey), body: try json(["url": receiver.url("/moved")])) { response in
                    #expect(response.status == .ok)
                    #expect(response.json?["secret"] == nil)
                    #expect(response.json?["id"] as? String == callback["id"] as? String)
                }
                try await client.execute(uri: "/v1/callback-url", method: .get, headers: auth(f.operatorKey)) { response in
                    #expect(response.json?["url"] as? String == receiver.url("/moved"))
                }
                try await client.execute(uri: "/v1/callback-url", method: .delete, headers: auth(f.operatorKey)) { response in
                    #expect(response.status == .noContent)
                }
                try await client.execute(uri: "/v1/callback-url", method: .get, headers: auth(f.operatorKey)) { response in
                    #expect(response.status == .notFound)
                }
            }
        }
    }
}

extension ManualClock {
    var date: Date { Date(timeIntervalSince1970: Double(now().milliseconds) / 1000) }
}
