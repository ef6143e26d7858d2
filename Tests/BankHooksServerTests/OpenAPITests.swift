import BankHooksCore
import BankHooksServer
import BankHooksTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The OpenAPI document stays true: it names exactly the routes the code registers, and real
/// answers of every kind of operation match the schema it gives for their status.
/// (In CI, schemathesis then fuzzes every operation against it: scripts/schemathesis.sh.)
@Suite struct OpenAPITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func document() throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent("Sources/BankHooksServer/openapi.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// `METHOD /path/{param}` of every route registered in the server's sources (the benchmark's own
    /// receiver is not the API).
    static func registeredRoutes() throws -> Set<String> {
        let directory = root.appendingPathComponent("Sources/BankHooksServer")
        // `group.` routes are under /v1, `v2.` ones (Okra's pull path) under /v2.
        let pattern = try NSRegularExpression(pattern: #"(group|router|v2)\.(get|post|put|patch|delete)\("([^"]*)""#)
        var routes: Set<String> = []
        // The sources are in folders by resource (V1/<resource>/, HTTP/): every file below the target.
        let files = FileManager.default.enumerator(atPath: directory.path)?.compactMap { $0 as? String } ?? []
        for file in files where file.hasSuffix(".swift") && !file.hasSuffix("Benchmark.swift") {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let scope = String(text[Range(match.range(at: 1), in: text)!])
                let method = text[Range(match.range(at: 2), in: text)!].uppercased()
                let path = String(text[Range(match.range(at: 3), in: text)!])
                    .split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
                routes.insert("\(method) \(scope == "group" ? "/v1/" : scope == "v2" ? "/v2/" : "/")\(path)")
            }
        }
        return routes
    }

    @Test func theDocumentNamesExactlyTheRoutesTheServerHas() throws {
        let document = try Self.document()
        #expect(document["openapi"] as? String == "3.1.0")
        var documented: Set<String> = []
        for (path, item) in try #require(document["paths"] as? [String: [String: Any]]) {
            for method in item.keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let registered = try Self.registeredRoutes()
        #expect(registered.count > 30, "the route scan found the routes")
        #expect(registered.subtracting(documented).sorted() == [], "routes missing from openapi.json")
        #expect(documented.subtracting(registered).sorted() == [], "documented routes the server does not have")
    }

    @Test func theValidatorCatchesAnAnswerThatDoesNotMatch() throws {
        let validator = try SchemaValidator(document: Self.document())
        let schema: [String: Any] = ["$ref": "#/components/schemas/Webhook"]
        let wrong: [String: Any] = ["id": 5, "url": "https://example.com", "enabled": "yes"]
        let errors = validator.validate(wrong, schema, at: "")
        #expect(errors.contains { $0.hasPrefix("/id:") } && errors.contains { $0.hasPrefix("/enabled:") } && errors.contains { $0.contains("required, missing") })
        #expect(!validator.check(method: "get", path: "/v1/webhooks", status: 200, contentType: "application/json", body: Data(#"{"data": 1}"#.utf8)).isEmpty)
        #expect(!validator.check(method: "get", path: "/v1/webhooks", status: 299, contentType: "application/json", body: Data()).isEmpty)
    }

    @Test func theServerServesTheDocument() async throws {
        let f = try await APIFixture()
        let expected = try Data(contentsOf: Self.root.appendingPathComponent("Sources/BankHooksServer/openapi.json"))
        try await f.test { client in
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(Data(buffer: response.body) == expected, "the served document is the file, byte for byte")
            }
        }
    }

    @Test func answersMatchTheDocumentedSchemas() async throws {
        let f = try await APIFixture()
        let validator = try SchemaValidator(document: Self.document())
        try await TestReceiver.run { receiver in
            try await f.test { client in
                let developer = try await f.key(.developer)
                var checked = 0
                /// Calls, and checks the answer against the operation's schema for its status.
                @discardableResult
                func call(_ method: HTTPRequest.Method, _ uri: String, template: String, _ body: String? = nil, key: String? = nil) async throws -> [String: Any] {
                    let (status, contentType, data) = try await client.execute(
                        uri: uri, method: method, headers: auth(key ?? f.operatorKey), body: body.map { ByteBuffer(string: $0) }
                    ) { response in (Int(response.status.code), response.headers[.contentType], Data(buffer: response.body)) }
                    let errors = validator.check(method: method.rawValue.lowercased(), path: template, status: status, contentType: contentType, body: data)
                    #expect(errors.isEmpty, "\(method) \(uri) → \(status): \(errors)\n\(String(decoding: data, as: UTF8.self))")
                    checked += 1
                    return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
                }
                let hook = try await call(.post, "/v1/webhooks", template: "/v1/webhooks",
                                          #"{"url": "\#(receiver.url())", "headers": {"X-A": "1"}, "retry_schedule": [1], "rate_limit": 100}"#)
                let hookID = try #require(hook["id"] as? String)
                try await call(.post, "/v1/webhooks", template: "/v1/webhooks", #"{"url": "ftp://x"}"#)
                try await call(.get, "/v1/webhooks", template: "/v1/webhooks")
                try await call(.get, "/v1/webhooks/\(hookID)", template: "/v1/webhooks/{id}")
                try await call(.patch, "/v1/webhooks/\(hookID)", template: "/v1/webhooks/{id}", #"{"name": "n", "rate_limit": null}"#)
                try await call(.post, "/v1/webhooks/\(hookID)/rotate-secret", template: "/v1/webhooks/{id}/rotate-secret")
                try await call(.post, "/v1/webhooks/\(hookID)/test", template: "/v1/webhooks/{id}/test")
                let published = try await call(.post, "/v1/events", template: "/v1/events", #"{"type": "a.b", "data": {"x": 1}}"#, key: developer)
                let eventID = try #require(published["id"] as? String)
                try await call(.post, "/v1/events", template: "/v1/events", #"{"type": "a.b"}"#)
                try await call(.post, "/v1/events", template: "/v1/events", #"{"type": "a.b", "data": {}}"#, key: try await f.key(.viewer))
                _ = try await receiver.waitForRequests(2)
                try await eventually("delivered") { try await f.components.store.deliveryCounts()[.succeeded] == 2 }
                try await call(.get, "/v1/events?limit=1", template: "/v1/events")
                try await call(.get, "/v1/events?limit=0", template: "/v1/events")
                try await call(.get, "/v1/events/\(eventID)", template: "/v1/events/{id}")
                let deliveries = try await call(.get, "/v1/events/\(eventID)/deliveries", template: "/v1/events/{id}/deliveries")
                let deliveryID = try #require((deliveries["data"] as? [[String: Any]])?.first?["id"] as? Int)
                try await call(.get, "/v1/webhooks/\(hookID)/deliveries?status=succeeded", template: "/v1/webhooks/{id}/deliveries")
                let delivery = try await call(.get, "/v1/deliveries/\(deliveryID)", template: "/v1/deliveries/{id}")
                let attemptID = try #require((delivery["attempts"] as? [[String: Any]])?.first?["id"] as? Int)
                try await call(.get, "/v1/attempts/\(attemptID)", template: "/v1/attempts/{id}")
                try await call(.post, "/v1/deliveries/\(deliveryID)/resend", template: "/v1/deliveries/{id}/resend")
                let job = try await call(.post, "/v1/webhooks/\(hookID)/recover", template: "/v1/webhooks/{id}/recover", #"{"since": "2026-01-01T00:00:00Z"}"#)
                try await call(.get, "/v1/recoveries/\(job["id"] as? String ?? "")", template: "/v1/recoveries/{id}")
                try await call(.get, "/v1/recoveries/rcv_none", template: "/v1/recoveries/{id}")
                try await call(.get, "/v1/event-types?family=lean", template: "/v1/event-types")
                try await call(.get, "/v1/event-types/payment.updated", template: "/v1/event-types/{name}")
                try await call(.put, "/v1/callback-url", template: "/v1/callback-url", #"{"url": "\#(receiver.url("/cb"))"}"#)
                try await call(.get, "/v1/callback-url", template: "/v1/callback-url")
                // Okra's pull path, at /v1 and at /v2 (where Okra's real callbacks point): a record's latest callback, and a 404.
                try await call(.post, "/v1/events", template: "/v1/events", #"{"type": "AUTH.AUTH_SUCCESS", "data": {"record": "rec-openapi", "method": "AUTH"}}"#)
                for version in ["v1", "v2"] {
                    let latest = try await call(.get, "/\(version)/callback?record=rec-openapi&method=AUTH", template: "/\(version)/callback")
                    #expect(latest["callback_code"] as? String == "AUTH_SUCCESS", "\(version): \(latest)")
                    try await call(.get, "/\(version)/callback?record=rec-none&method=ACCOUNTS", template: "/\(version)/callback")
                }
                let app = try await call(.post, "/v1/applications", template: "/v1/applications", #"{"name": "Acme", "environment": "production"}"#)
                let appID = try #require(app["id"] as? String)
                try await call(.get, "/v1/applications/\(appID)", template: "/v1/applications/{id}")
                try await call(.post, "/v1/applications/\(appID)/api-keys", template: "/v1/applications/{id}/api-keys", #"{"role": "viewer"}"#)
                try await call(.get, "/v1/applications/\(appID)/api-keys", template: "/v1/applications/{id}/api-keys")
                try await call(.get, "/v1/api-keys", template: "/v1/api-keys")
                // A key revoking itself is a 409 `own-key` (schemathesis found it undocumented).
                let ownID = String(f.operatorKey.split(separator: "_")[1])
                let own = try await call(.delete, "/v1/api-keys/\(ownID)", template: "/v1/api-keys/{id}")
                #expect(own["type"] as? String == "urn:bankhooks:problem:own-key")
                try await call(.delete, "/v1/webhooks/\(hookID)", template: "/v1/webhooks/{id}")
                try await call(.delete, "/v1/applications/\(appID)", template: "/v1/applications/{id}")
                #expect(checked == 38, "every call above was checked")
            }
        }
    }
}

/// Just enough JSON Schema (2020-12, as OpenAPI 3.1 uses it) to check answers: `$ref`, `type`
/// (one or several), `properties`, `required`, `additionalProperties`, `items`, `enum`, `const`,
/// `oneOf`, `anyOf`, `allOf`. Unchecked Sendable: the document is immutable after init.
struct SchemaValidator: @unchecked Sendable {
    let document: [String: Any]

    init(document: [String: Any]) throws {
        self.document = document
    }

    /// What is wrong with an answer, per the operation's response for `status` (or `default`).
    func check(method: String, path: String, status: Int, contentType: String?, body: Data) -> [String] {
        guard let operation = ((document["paths"] as? [String: Any])?[path] as? [String: Any])?[method] as? [String: Any] else {
            return ["\(method) \(path) is not documented"]
        }
        let responses = operation["responses"] as? [String: Any] ?? [:]
        guard var response = (responses[String(status)] ?? responses["default"]) as? [String: Any] else {
            return ["status \(status) is not documented"]
        }
        response = resolve(response)
        guard let content = response["content"] as? [String: Any] else {
            return body.isEmpty ? [] : ["status \(status) documents no body, got \(body.count) bytes"]
        }
        let type = contentType.map { String($0.split(separator: ";")[0]) } ?? ""
        guard let media = content[type] as? [String: Any] else { return ["content type \(type) is not documented for \(status)"] }
        guard let schema = media["schema"] as? [String: Any] else { return [] }
        guard let value = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else { return ["the body is not JSON"] }
        return validate(value, schema, at: "")
    }

    func resolve(_ node: [String: Any]) -> [String: Any] {
        guard let ref = node["$ref"] as? String, ref.hasPrefix("#/") else { return node }
        var current: Any = document
        for part in ref.dropFirst(2).split(separator: "/") {
            current = (current as? [String: Any])?[String(part).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")] as Any
        }
        return resolve(current as? [String: Any] ?? [:])
    }

    static func typeName(_ value: Any) -> String {
        switch value {
        case is NSNull: "null"
        case let n as NSNumber:
            if String(describing: type(of: n)).contains("Boolean") { "boolean" } else if n.doubleValue == n.doubleValue.rounded() { "integer" } else { "number" }
        case is String: "string"
        case is [Any]: "array"
        case is [String: Any]: "object"
        default: "unknown"
        }
    }

    func validate(_ value: Any, _ raw: [String: Any], at path: String) -> [String] {
        let schema = resolve(raw)
        var errors: [String] = []
        let actual = Self.typeName(value)
        if let type = schema["type"] {
            let allowed = (type as? [String]) ?? [type as? String ?? ""]
            if !(allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))) {
                return ["\(path.isEmpty ? "/" : path): \(actual), expected \(allowed.joined(separator: " or "))"]
            }
        }
        if let options = schema["enum"] as? [Any], !options.contains(where: { ($0 as? NSObject)?.isEqual(value) == true }) {
            errors.append("\(path): \(value) is not one of \(options)")
        }
        if let constant = schema["const"], (constant as? NSObject)?.isEqual(value) != true {
            errors.append("\(path): \(value) is not \(constant)")
        }
        for part in schema["allOf"] as? [[String: Any]] ?? [] { errors += validate(value, part, at: path) }
        if let options = schema["oneOf"] as? [[String: Any]] ?? schema["anyOf"] as? [[String: Any]] {
            let matching = options.filter { validate(value, $0, at: path).isEmpty }.count
            if matching == 0 || (schema["oneOf"] != nil && matching > 1) {
                errors.append("\(path): matches \(matching) of the \(options.count) alternatives")
            }
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            for name in schema["required"] as? [String] ?? [] where object[name] == nil { errors.append("\(path)/\(name): required, missing") }
            for (name, member) in object {
                if let property = properties[name] {
                    errors += validate(member, property, at: "\(path)/\(name)")
                } else if let extra = schema["additionalProperties"] {
                    if let allowed = extra as? Bool, !allowed { errors.append("\(path)/\(name): not allowed") }
                    if let extraSchema = extra as? [String: Any] { errors += validate(member, extraSchema, at: "\(path)/\(name)") }
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (i, item) in array.enumerated() { errors += validate(item, items, at: "\(path)/\(i)") }
        }
        return errors
    }
}
