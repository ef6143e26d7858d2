import BankHooksCore
import BankHooksServer
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The HTTP API in process, on a real SQLite file (or a real PostgreSQL database, with `backend`).
/// Unchecked: the only non-Sendable member, the router, is read once to build the app before
/// any concurrent use; everything else is Sendable.
struct APIFixture: @unchecked Sendable {
    let dir = TemporaryDirectory()
    let components: ServerComponents
    let operatorKey = "bhk_operator1_" + String(repeating: "x", count: 32)

    init(
        maxBodySize: Int = 256 * 1024, clock: any WallClock = SystemClock(), keyRateLimit: RateLimiter.Limit? = nil,
        applicationRateLimit: RateLimiter.Limit? = nil, quotas: TenantQuotas = TenantQuotas(), backend: TestBackend = .sqlite
    ) async throws {
        var configuration = ServerConfiguration()
        configuration.storage = try await backend.storage(in: dir, name: "api.sqlite")
        if configuration.storage.requiresGivenMasterKey { configuration.masterKey = SecretBox.generateKey() }
        configuration.adminKey = operatorKey
        configuration.maxBodySize = maxBodySize
        configuration.keyRateLimit = keyRateLimit
        configuration.applicationRateLimit = applicationRateLimit
        configuration.quotas = quotas
        // Receivers in tests listen on 127.0.0.1.
        configuration.allowedDestinations = [AddressRange("127.0.0.1/32")!]
        var logger = Logger(label: "api-test")
        logger.logLevel = .critical
        components = try await buildComponents(configuration, clock: clock, logger: logger, announce: { _ in })
        // Types the tests publish that are not in the catalog.
        for name in ["a.b", "order.paid"] {
            try await components.store.createEventType(CustomEventType(
                applicationID: defaultApplicationID, name: name, description: "A test type.", schema: nil, createdAt: SystemClock().now()))
        }
    }

    /// A key of `role` for an application (the default one unless named; created if missing).
    func key(_ role: Role, application: String = defaultApplicationID) async throws -> String {
        let now = SystemClock().now()
        if try await components.store.application(id: application) == nil {
            try await components.store.createApplication(Application(id: application, name: application, environment: .sandbox, createdAt: now))
        }
        let (text, record) = APIKey.generate(applicationID: application, role: role, now: now)
        try await components.store.createAPIKey(record)
        return text
    }

    /// Runs `body` against the router, with the publisher running.
    func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: components.router, services: components.services)
        try await app.test(.router) { client in try await body(client) }
    }
}

extension TestResponse {
    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] }
    var text: String { String(buffer: body) }
}

func auth(_ key: String, _ extra: HTTPFields = [:]) -> HTTPFields {
    var fields: HTTPFields = [.authorization: "Bearer \(key)", .contentType: "application/json"]
    fields.append(contentsOf: extra)
    return fields
}

@Suite struct APITests {
    @Test func healthzIsOpen() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text == #"{"status":"ok"}"#)
            }
        }
    }

    @Test func requestsWithoutAValidKeyAre401ProblemJSON() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            try await client.execute(uri: "/v1/webhooks", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.json?["field"] as? String == "header:Authorization")
            }
            let wrong = "bhk_operator1_" + String(repeating: "y", count: 32)
            try await client.execute(uri: "/v1/webhooks", method: .get, headers: auth(wrong)) { response in
                #expect(response.status == .unauthorized)
                #expect(response.json?["type"] as? String == "urn:bankhooks:problem:invalid-key")
            }
        }
    }

    @Test(arguments: [
        (#"{"type": "a.b", "data": {"x": 1"#, 400, "/"),
        (#"[1]"#, 422, "/"),
        (#"{"data": {}}"#, 422, "/type"),
        (#"{"type": "a.b"}"#, 422, "/data"),
        (#"{"type": 5, "data": {}}"#, 422, "/type"),
        (#"{"type": "has space", "data": {}}"#, 422, "/type"),
        (#"{"type": "a.b", "data": [1]}"#, 422, "/data"),
        (#"{"type": "a.b", "data": {}, "id": ""}"#, 422, "/id"),
        (#"{"type": "a.b", "data": {}, "timestamp": "yesterday"}"#, 422, "/timestamp"),
        (#"{"type": "a.b", "data": {}, "extra": 1}"#, 422, "/extra"),
        (#"{"type": "a.b", "type": "c", "data": {}}"#, 422, "/type"),
    ])
    func invalidPublishBodiesSayWhichFieldAndWhy(_ body: String, _ status: Int, _ field: String) async throws {
        let f = try await APIFixture()
        try await f.test { client in
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: body)) { response in
                #expect(Int(response.status.code) == status, "\(response.text)")
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try #require(response.json)
                #expect(problem["field"] as? String == field)
                #expect(problem["status"] as? Int == status)
                #expect((problem["detail"] as? String)?.isEmpty == false)
            }
        }
    }

    @Test func anOversizedBodyIs413() async throws {
        let f = try await APIFixture(maxBodySize: 1024)
        try await f.test { client in
            let big = #"{"type": "a.b", "data": {"x": ""# + String(repeating: "a", count: 2000) + #""}}"#
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: big)) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
        }
    }

    @Test func publishIsAcceptedOnceAndRepeatsReturnTheFirstResult() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey),
                                     body: ByteBuffer(string: #"{"url": "http://127.0.0.1:9/h"}"#)) { #expect($0.status == .created) }
            let body = ByteBuffer(string: #"{"type": "order.paid", "data": {"amount": 10.17}, "timestamp": "2022-10-07T10:43:45.128593273Z"}"#)
            var firstID = ""
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey, [.init("Idempotency-Key")!: "k-1"]), body: body) { response in
                #expect(response.status == .accepted)
                let json = try #require(response.json)
                firstID = try #require(json["id"] as? String)
                #expect(firstID.hasPrefix("evt_"))
                #expect(json["deliveries"] as? Int == 1)
                #expect(json["timestamp"] as? String == "2022-10-07T10:43:45.128Z")
                #expect(response.headers[.init("Idempotent-Replayed")!] == nil)
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey, [.init("Idempotency-Key")!: "k-1"]), body: body) { response in
                #expect(response.status == .accepted)
                #expect(response.json?["id"] as? String == firstID)
                #expect(response.headers[.init("Idempotent-Replayed")!] == "true")
            }
            let withID = ByteBuffer(string: #"{"id": "f8752072-cef2-4056-9ff0-d5d2aa1e4558", "type": "results.ready", "data": {"id": "x"}}"#)
            for expectReplay in [false, true] {
                try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: withID) { response in
                    #expect(response.json?["id"] as? String == "f8752072-cef2-4056-9ff0-d5d2aa1e4558")
                    #expect((response.headers[.init("Idempotent-Replayed")!] == "true") == expectReplay)
                }
            }
            #expect(try await f.components.store.deliveryCounts()[.pending] == 2)
            // The event reads back with its data exactly as published.
            try await client.execute(uri: "/v1/events/\(firstID)", method: .get, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .ok)
                #expect(response.text.hasSuffix(#","data":{"amount": 10.17}}"#))
                let deliveries = try #require(response.json?["deliveries"] as? [[String: Any]])
                #expect(deliveries.first?["state"] as? String == "pending")
            }
        }
    }

    @Test func webhooksLifecycleShowsTheSecretOnlyOnce() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            var id = ""
            try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey),
                                     body: ByteBuffer(string: #"{"url": "https://example.com/hook", "name": "main", "event_types": ["payment.updated"]}"#)) { response in
                #expect(response.status == .created)
                let json = try #require(response.json)
                id = try #require(json["id"] as? String)
                #expect((json["secret"] as? String)?.hasPrefix("whsec_") == true)
                #expect(json["format"] as? String == "standard")
                #expect(json["enabled"] as? Bool == true)
                #expect(json["event_types"] as? [String] == ["payment.updated"])
            }
            try await client.execute(uri: "/v1/webhooks", method: .get, headers: auth(f.operatorKey)) { response in
                let list = try #require(response.json?["data"] as? [[String: Any]])
                #expect(list.count == 1)
                #expect(list[0]["secret"] == nil)
                #expect(!response.text.contains("whsec_"))
            }
            try await client.execute(uri: "/v1/webhooks/\(id)", method: .get, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .ok)
                #expect(response.json?["secret"] == nil)
            }
            try await client.execute(uri: "/v1/webhooks/\(id)", method: .delete, headers: auth(f.operatorKey)) { #expect($0.status == .noContent) }
            try await client.execute(uri: "/v1/webhooks/\(id)", method: .get, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .notFound)
                #expect(response.json?["field"] as? String == "path:id")
            }
        }
    }

    @Test(arguments: [
        (#"{"url": "ftp://example.com/x"}"#, "/url"),
        (#"{"url": "not a url"}"#, "/url"),
        (#"{"url": "https://user:pw@example.com/"}"#, "/url"),
        (#"{}"#, "/url"),
        (#"{"url": 5}"#, "/url"),
        (#"{"url": "https://example.com", "format": "carrier-pigeon"}"#, "/format"),
        (#"{"url": "https://example.com", "event_types": []}"#, "/event_types"),
        (#"{"url": "https://example.com", "event_types": ["ok", "not ok"]}"#, "/event_types/1"),
        (#"{"url": "https://example.com", "event_types": "all"}"#, "/event_types"),
    ])
    func invalidWebhooksAreRefusedNamingTheField(_ body: String, _ field: String) async throws {
        let f = try await APIFixture()
        try await f.test { client in
            try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .unprocessableContent, "\(response.text)")
                #expect(response.json?["field"] as? String == field, "\(response.text)")
            }
        }
    }

    @Test func rolesLimitWhatAKeyMayDo() async throws {
        let f = try await APIFixture()
        let developer = try await f.key(.developer), viewer = try await f.key(.viewer), admin = try await f.key(.admin)
        try await f.test { client in
            let webhook = ByteBuffer(string: #"{"url": "https://example.com/hook"}"#)
            try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(developer), body: webhook) { response in
                #expect(response.status == .forbidden)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(admin), body: webhook) { #expect($0.status == .created) }
            let event = ByteBuffer(string: #"{"type": "a.b", "data": {}}"#)
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(viewer), body: event) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(developer), body: event) { #expect($0.status == .accepted) }
            try await client.execute(uri: "/v1/webhooks", method: .get, headers: auth(viewer)) { #expect($0.status == .ok) }
        }
    }

    @Test func patchChangesAWebhookAndChecksWhatItChanges() async throws {
        let f = try await APIFixture()
        let developer = try await f.key(.developer)
        try await f.test { client in
            var id = ""
            try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey),
                                     body: ByteBuffer(string: #"{"url": "https://example.com/hook", "name": "main"}"#)) { response in
                id = try #require(response.json?["id"] as? String)
            }
            let change = ByteBuffer(string: #"{"url": "https://example.com/v2", "event_types": ["payment.updated"], "enabled": false}"#)
            try await client.execute(uri: "/v1/webhooks/\(id)", method: .patch, headers: auth(f.operatorKey), body: change) { response in
                #expect(response.status == .ok, "\(response.text)")
                let json = try #require(response.json)
                #expect(json["url"] as? String == "https://example.com/v2")
                #expect(json["name"] as? String == "main", "members not sent stay as they were")
                #expect(json["event_types"] as? [String] == ["payment.updated"])
                #expect(json["enabled"] as? Bool == false)
                #expect(json["disabled_reason"] as? String == "manual")
                #expect(json["secret"] == nil)
            }
            try await client.execute(uri: "/v1/webhooks/\(id)", method: .patch, headers: auth(f.operatorKey),
                                     body: ByteBuffer(string: #"{"enabled": true, "event_types": null, "name": null}"#)) { response in
                let json = try #require(response.json)
                #expect(json["enabled"] as? Bool == true)
                #expect(json["event_types"] is NSNull)
                #expect(json["name"] is NSNull)
            }
            for (body, field) in [(#"{"url": "gopher://x"}"#, "/url"), (#"{"event_types": []}"#, "/event_types"), (#"{"enabled": "yes"}"#, "/enabled")] {
                try await client.execute(uri: "/v1/webhooks/\(id)", method: .patch, headers: auth(f.operatorKey), body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(response.json?["field"] as? String == field)
                }
            }
            try await client.execute(uri: "/v1/webhooks/\(id)", method: .patch, headers: auth(developer), body: ByteBuffer(string: #"{"enabled": false}"#)) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/webhooks/wh_nope", method: .patch, headers: auth(f.operatorKey), body: ByteBuffer(string: #"{"enabled": false}"#)) {
                #expect($0.status == .notFound)
            }
        }
    }

    @Test func unknownRoutesAre404ProblemJSON() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            try await client.execute(uri: "/v1/nothing-here", method: .get, headers: auth(f.operatorKey)) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
        }
    }
}
