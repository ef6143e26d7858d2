import BankHooksCore
import BankHooksServer
import BankHooksStorage
import BankHooksTestSupport
import BankHooksVerify
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// One request through the test client: status and JSON body.
func call(
    _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String, body: String? = nil
) async throws -> (status: Int, json: [String: Any]) {
    try await client.execute(uri: uri, method: method, headers: auth(key), body: body.map { ByteBuffer(string: $0) }) { response in
        (Int(response.status.code), response.json ?? [:])
    }
}

/// Quotas on everything a tenant can grow, each refused with a problem naming the quota and its value.
@Suite struct QuotaTests {
    static func quotas(_ change: (inout TenantQuotas) -> Void) -> TenantQuotas {
        var quotas = TenantQuotas()
        change(&quotas)
        return quotas
    }

    @Test func anApplicationRegistersAtMostItsQuotaOfEventTypes() async throws {
        let f = try await APIFixture(quotas: Self.quotas { $0.eventTypesPerApplication = 3 })
        let admin = try await f.key(.admin, application: "app_types")
        let other = try await f.key(.admin, application: "app_other")
        try await f.test { client in
            for i in 0..<3 {
                let created = try await call(client, .post, "/v1/event-types", key: admin, body: #"{"name": "t.\#(i)", "description": "Type \#(i)."}"#)
                #expect(created.status == 201)
            }
            let refused = try await call(client, .post, "/v1/event-types", key: admin, body: #"{"name": "t.3", "description": "One more."}"#)
            #expect(refused.status == 409)
            #expect(refused.json["type"] as? String == "urn:bankhooks:problem:quota-reached")
            #expect((refused.json["detail"] as? String)?.contains("event_types_per_application quota is 3") == true, "\(refused.json)")
            // Quotas are per application.
            #expect(try await call(client, .post, "/v1/event-types", key: other, body: #"{"name": "t.3", "description": "Elsewhere."}"#).status == 201)
            // Deleting one frees its place.
            #expect(try await call(client, .delete, "/v1/event-types/t.0", key: admin).status == 204)
            #expect(try await call(client, .post, "/v1/event-types", key: admin, body: #"{"name": "t.3", "description": "Now it fits."}"#).status == 201)
        }
    }

    @Test func aCustomTypesSchemaIsAtMostItsQuotaOfBytes() async throws {
        let f = try await APIFixture(quotas: Self.quotas { $0.schemaBytes = 1024 })
        try await f.test { client in
            let properties = (0..<60).map { #""p\#($0)": {"type": "string"}"# }.joined(separator: ", ")
            let big = #"{"name": "big.type", "description": "Too big.", "schema": {"type": "object", "properties": {\#(properties)}}}"#
            let refused = try await call(client, .post, "/v1/event-types", key: f.operatorKey, body: big)
            #expect(refused.status == 422)
            #expect(refused.json["field"] as? String == "/schema")
            #expect((refused.json["detail"] as? String)?.contains("schema_bytes quota is 1,024 bytes") == true, "\(refused.json)")
            let small = #"{"name": "small.type", "description": "Fits.", "schema": {"type": "object"}}"#
            #expect(try await call(client, .post, "/v1/event-types", key: f.operatorKey, body: small).status == 201)
        }
    }

    @Test func theEventTypeListingIsPaged() async throws {
        let f = try await APIFixture()
        let admin = try await f.key(.admin, application: "app_listing")
        try await f.test { client in
            for i in 0..<7 {
                #expect(try await call(client, .post, "/v1/event-types", key: admin, body: #"{"name": "c.\#(i)", "description": "Custom \#(i)."}"#).status == 201)
            }
            // The first page of the default size (100) holds the whole built-in catalog, here with the 7 custom types.
            let first = try await call(client, .get, "/v1/event-types", key: admin)
            let firstNames = (first.json["data"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(firstNames.count == EventCatalog.builtIn.definitions.count + 7)
            #expect(first.json["next_cursor"] is NSNull || first.json["next_cursor"] == nil)
            #expect(Array(firstNames.prefix(EventCatalog.builtIn.definitions.count)) == EventCatalog.builtIn.definitions.map(\.name))
            // Walking small pages visits every type once: the built-in ones, then the application's by name.
            var names: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await call(client, .get, "/v1/event-types?limit=7" + (cursor.map { "&cursor=\($0)" } ?? ""), key: admin)
                #expect(page.status == 200)
                let items = (page.json["data"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                #expect(items.count <= 7 && !items.isEmpty)
                names += items
                cursor = page.json["next_cursor"] as? String
                pages += 1
            } while cursor != nil && pages < 100
            #expect(Set(names).count == names.count)
            #expect(Array(names.suffix(7)) == (0..<7).map { "c.\($0)" })
            #expect(names.filter { !$0.hasPrefix("c.") }.count == EventCatalog.builtIn.definitions.count)
            // A family pages on its own.
            let custom = try await call(client, .get, "/v1/event-types?family=custom&limit=5", key: admin)
            #expect((custom.json["data"] as? [[String: Any]])?.count == 5)
            let next = try #require(custom.json["next_cursor"] as? String)
            let rest = try await call(client, .get, "/v1/event-types?family=custom&limit=5&cursor=\(next)", key: admin)
            #expect((rest.json["data"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } == ["c.5", "c.6"])
            #expect(rest.json["next_cursor"] is NSNull)
            // A cursor this list never gave out, and a bad limit, are 400s naming the parameter.
            #expect(try await call(client, .get, "/v1/event-types?cursor=bm9wZQ", key: admin).json["field"] as? String == "query:cursor")
            #expect(try await call(client, .get, "/v1/event-types?limit=0", key: admin).json["field"] as? String == "query:limit")
            // Cursors naming no position of the listing, or one written another way: a catalog index
            // past its end (Int.max once trapped the server on `index + 1`), signed, padded with
            // zeros or negative, and base64 with padding or standard alphabet.
            let count = EventCatalog.builtIn.definitions.count
            for key in ["b:9223372036854775807", "b:\(count)", "b:+5", "b:007", "b:-1", "b:", "c:", "x:1"] {
                let text = Data(key.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                    .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
                let reply = try await call(client, .get, "/v1/event-types?cursor=\(text)", key: admin)
                #expect(reply.status == 400 && reply.json["field"] as? String == "query:cursor", "cursor key \(key): \(reply.status)")
            }
            let padded = Data("b:3".utf8).base64EncodedString() // "Yjoz" needs none; force a padded form
            #expect(try await call(client, .get, "/v1/event-types?cursor=\(padded)==", key: admin).status == 400)
        }
    }

    @Test func aWebhookSubscribesByNameToAtMostItsQuotaOfTypes() async throws {
        let f = try await APIFixture(quotas: Self.quotas { $0.eventTypesPerWebhook = 2 })
        try await f.test { client in
            let three = #"["payment.updated", "results.ready", "bank_link.result"]"#
            let refused = try await call(client, .post, "/v1/webhooks", key: f.operatorKey, body: #"{"url": "https://example.com/h", "event_types": \#(three)}"#)
            #expect(refused.status == 422)
            #expect(refused.json["field"] as? String == "/event_types")
            #expect((refused.json["detail"] as? String)?.contains("event_types_per_webhook quota is 2") == true, "\(refused.json)")
            let created = try await call(client, .post, "/v1/webhooks", key: f.operatorKey,
                                         body: #"{"url": "https://example.com/h", "event_types": ["payment.updated", "results.ready"]}"#)
            #expect(created.status == 201)
            let id = try #require(created.json["id"] as? String)
            let patched = try await call(client, .patch, "/v1/webhooks/\(id)", key: f.operatorKey, body: #"{"event_types": \#(three)}"#)
            #expect(patched.status == 422)
            #expect(patched.json["field"] as? String == "/event_types")
        }
    }

    @Test func aWebhooksCustomHeadersAreAtMostTheirQuotaOfBytes() async throws {
        let f = try await APIFixture(quotas: Self.quotas { $0.headerBytesPerWebhook = 100 })
        try await f.test { client in
            let value = String(repeating: "v", count: 60)
            let body = #"{"url": "https://example.com/h", "headers": {"X-One": "\#(value)", "X-Two": "\#(value)"}}"#
            let refused = try await call(client, .post, "/v1/webhooks", key: f.operatorKey, body: body)
            #expect(refused.status == 422)
            #expect(refused.json["field"] as? String == "/headers")
            #expect((refused.json["detail"] as? String)?.contains("header_bytes_per_webhook quota is 100 bytes") == true, "\(refused.json)")
            let created = try await call(client, .post, "/v1/webhooks", key: f.operatorKey, body: #"{"url": "https://example.com/h", "headers": {"X-One": "\#(value)"}}"#)
            #expect(created.status == 201)
            let id = try #require(created.json["id"] as? String)
            #expect(try await call(client, .patch, "/v1/webhooks/\(id)", key: f.operatorKey, body: #"{"headers": {"X-One": "\#(value)", "X-Two": "\#(value)"}}"#).status == 422)
        }
    }

    @Test func anApplicationHoldsAtMostItsQuotaOfKeys() async throws {
        let f = try await APIFixture(quotas: Self.quotas { $0.apiKeysPerApplication = 3 })
        try await f.test { client in
            let app = try await call(client, .post, "/v1/applications", key: f.operatorKey, body: #"{"name": "Keys"}"#)
            let id = try #require(app.json["id"] as? String)
            var keyIDs: [String] = []
            for _ in 0..<3 {
                let created = try await call(client, .post, "/v1/applications/\(id)/api-keys", key: f.operatorKey, body: #"{"role": "admin"}"#)
                #expect(created.status == 201)
                keyIDs.append(created.json["id"] as? String ?? "")
            }
            let refused = try await call(client, .post, "/v1/applications/\(id)/api-keys", key: f.operatorKey, body: #"{"role": "viewer"}"#)
            #expect(refused.status == 409)
            #expect(refused.json["type"] as? String == "urn:bankhooks:problem:quota-reached")
            #expect((refused.json["detail"] as? String)?.contains("api_keys_per_application quota is 3") == true, "\(refused.json)")
            // An admin of the application meets the same quota; a revoked key frees its place.
            let listed = try await call(client, .get, "/v1/applications/\(id)/api-keys", key: f.operatorKey)
            #expect((listed.json["data"] as? [Any])?.count == 3)
            // A fourth key made through the store (over the quota): its admin is refused a fifth too.
            let adminKey = try await f.key(.admin, application: id)
            #expect(try await call(client, .post, "/v1/api-keys", key: adminKey, body: #"{"role": "viewer"}"#).status == 409)
            #expect(try await call(client, .delete, "/v1/api-keys/\(keyIDs[0])", key: adminKey).status == 204)
            #expect(try await call(client, .delete, "/v1/api-keys/\(keyIDs[1])", key: adminKey).status == 204)
            #expect(try await call(client, .post, "/v1/api-keys", key: adminKey, body: #"{"role": "viewer"}"#).status == 201)
        }
    }
}

/// Text a client sends is stored whole or refused: NUL is refused (never cut), and length limits
/// count UTF-8 bytes, the size it takes on disk and on the wire.
@Suite struct StoredTextTests {
    @Test(arguments: [
        ("/v1/webhooks", "POST", #"{"url": "https://example.com/a\u0000.evil.example/"}"#, "/url"),
        ("/v1/webhooks", "POST", #"{"url": "https://example.com/h", "name": "a\u0000b"}"#, "/name"),
        ("/v1/webhooks", "POST", #"{"url": "https://example.com/h", "headers": {"X-A": "v\u0000w"}}"#, "/headers/X-A"),
        ("/v1/webhooks", "POST", #"{"url": "https://example.com/h", "headers": {"X-\u0000": "v"}}"#, "/headers/X-\u{0}"),
        ("/v1/event-types", "POST", #"{"name": "n.one", "description": "d\u0000"}"#, "/description"),
        ("/v1/event-types", "POST", #"{"name": "n.two", "description": "d", "schema": {"title": "\u0000"}}"#, "/schema/title"),
        ("/v1/applications", "POST", #"{"name": "Acme\u0000"}"#, "/name"),
        ("/v1/applications", "POST", #"{"name": "Acme", "redirect_callbacks": ["acme://done\u0000"]}"#, "/redirect_callbacks/0"),
        ("/v1/callback-url", "PUT", #"{"url": "https://example.com/cb\u0000"}"#, "/url"),
    ])
    func nulInAnyStoredTextIsRefusedNamingTheField(_ uri: String, _ method: String, _ body: String, _ field: String) async throws {
        let f = try await APIFixture()
        try await f.test { client in
            let answer = try await call(client, method == "PUT" ? .put : .post, uri, key: f.operatorKey, body: body)
            #expect(answer.status == 422, "\(answer.json)")
            #expect(answer.json["field"] as? String == field)
            #expect((answer.json["detail"] as? String)?.contains("NUL") == true)
        }
    }

    /// A repeated member name means different things to different readers: every route refuses
    /// it with a 422 naming the member (before: a 400 naming the whole body on every route but publish).
    @Test(arguments: [
        ("/v1/webhooks", "POST", #"{"url": "https://example.com/a", "url": "http://127.0.0.1/b"}"#, "/url"),
        ("/v1/webhooks", "POST", #"{"url": "https://example.com/h", "headers": {"X-A": "1", "X-\u0041": "2"}}"#, "/headers/X-A"),
        ("/v1/applications", "POST", #"{"name": "Acme", "environment": "sandbox", "environment": "production"}"#, "/environment"),
        ("/v1/callback-url", "PUT", #"{"url": "https://example.com/cb", "url": "https://example.com/other"}"#, "/url"),
    ])
    func aRepeatedMemberNameIsRefusedNamingIt(_ uri: String, _ method: String, _ body: String, _ field: String) async throws {
        let f = try await APIFixture()
        try await f.test { client in
            let answer = try await call(client, method == "PUT" ? .put : .post, uri, key: f.operatorKey, body: body)
            #expect(answer.status == 422, "\(answer.json)")
            #expect(answer.json["field"] as? String == field)
        }
    }

    @Test func anEscapedBackslashBeforeU0000IsNotNUL() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            // `\\u0000` is a backslash followed by the text u0000: allowed, stored as sent.
            let created = try await call(client, .post, "/v1/webhooks", key: f.operatorKey, body: #"{"url": "https://example.com/h", "name": "a\\u0000b"}"#)
            #expect(created.status == 201)
            #expect(created.json["name"] as? String == #"a\u0000b"#)
        }
    }

    @Test func lengthLimitsCountUTF8Bytes() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            // 150 characters, 300 bytes: over the 200-byte name.
            let wide = String(repeating: "é", count: 150)
            let webhook = try await call(client, .post, "/v1/webhooks", key: f.operatorKey, body: #"{"url": "https://example.com/h", "name": "\#(wide)"}"#)
            #expect(webhook.status == 422)
            #expect(webhook.json["field"] as? String == "/name")
            // One grapheme cluster of 25 bytes (a family emoji), nine times: 9 characters, 225 bytes.
            let family = String(repeating: "👨‍👩‍👧‍👦", count: 9)
            #expect(try await call(client, .post, "/v1/webhooks", key: f.operatorKey, body: #"{"url": "https://example.com/h", "name": "\#(family)"}"#).status == 422)
            let application = try await call(client, .post, "/v1/applications", key: f.operatorKey, body: #"{"name": "\#(wide)"}"#)
            #expect(application.status == 422)
            #expect(application.json["field"] as? String == "/name")
            let description = String(repeating: "é", count: 600)
            let type = try await call(client, .post, "/v1/event-types", key: f.operatorKey, body: #"{"name": "wide.type", "description": "\#(description)"}"#)
            #expect(type.status == 422)
            #expect(type.json["field"] as? String == "/description")
            // At the bound in bytes, accepted.
            let fits = String(repeating: "é", count: 100)
            #expect(try await call(client, .post, "/v1/webhooks", key: f.operatorKey, body: #"{"url": "https://example.com/h", "name": "\#(fits)"}"#).status == 201)
        }
    }
}

/// The database, its write-ahead log and shared memory, and the master key file are private (0600).
@Suite struct FileModeTests {
    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions].flatMap { ($0 as? NSNumber)?.intValue }
    }

    @Test func theDatabaseItsWALAndSHMAndTheKeyFileAreCreated0600() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            // A write, so the WAL and shared memory files exist.
            let created = try await call(client, .post, "/v1/webhooks", key: f.operatorKey, body: #"{"url": "https://example.com/h"}"#)
            #expect(created.status == 201)
        }
        let database = f.dir.file("api.sqlite")
        for file in [database, database + "-wal", database + "-shm", database + ".key"] {
            #expect(FileManager.default.fileExists(atPath: file), "\(file) exists")
            #expect(Self.mode(file) == 0o600, "\(file) has mode \(String(Self.mode(file) ?? 0, radix: 8))")
        }
    }

    @Test func anExistingReadableDatabaseIsMadePrivate() async throws {
        let dir = TemporaryDirectory()
        let database = dir.file("old.sqlite")
        do {
            let store = try SQLiteStore(path: database)
            try await store.createApplication(Application(id: "app_old", name: "Old", environment: .sandbox, createdAt: SystemClock().now()))
        }
        for file in [database, database + "-wal", database + "-shm"] where FileManager.default.fileExists(atPath: file) {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        }
        let store = try SQLiteStore(path: database)
        #expect(try await store.application(id: "app_old") != nil)
        for file in [database, database + "-wal", database + "-shm"] where FileManager.default.fileExists(atPath: file) {
            #expect(Self.mode(file) == 0o600, "\(file) has mode \(String(Self.mode(file) ?? 0, radix: 8))")
        }
    }
}
