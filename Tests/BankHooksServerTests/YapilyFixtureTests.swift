import AsyncHTTPClient
import BankHooksCore
import BankHooksLoopback
import BankHooksSandbox
import BankHooksServer
import BankHooksTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Yapily's own schemas, as kept under Fixtures/yapily (see extract.py there): the subset of
/// yapily/yapily-openapi's document 12.13.0 the facade answers with, and the members and enum
/// values yapily/yapily-sdk-java 2.13.1 knows. An answer passes only when it is what both accept:
/// the members the schema requires, each of the type it says, enum values of both, date-times
/// and UUIDs that parse, no `null` anywhere (Yapily's Python SDK refuses it) and no member the
/// schema or the Java SDK does not know (its Jackson mapper fails on one).
struct YapilySchema: @unchecked Sendable {
    let document: [String: Any]
    let sdkModels: [String: Set<String>]
    let sdkEnums: [String: Set<String>]

    static let directory = OpenAPITests.root.appendingPathComponent("Tests/BankHooksServerTests/Fixtures/yapily")

    static func load() throws -> YapilySchema {
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("openapi-subset.json"))) as? [String: Any])
        let sdk = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("sdk-java-models.json"))) as? [String: Any])
        let models = (sdk["models"] as? [String: [String]] ?? [:]).mapValues(Set.init)
        let enums = (sdk["enums"] as? [String: [String]] ?? [:]).mapValues(Set.init)
        return YapilySchema(document: document, sdkModels: models, sdkEnums: enums)
    }

    static let shared: YapilySchema? = try? load()

    /// What is wrong with an answer to `method path` (the document's path template) with `status`.
    func check(method: String, path: String, status: Int, contentType: String?, body: Data) -> [String] {
        guard let operation = ((document["paths"] as? [String: Any])?[path] as? [String: Any])?[method] as? [String: Any] else {
            return ["\(method) \(path) is not in Yapily's document"]
        }
        let responses = operation["responses"] as? [String: Any] ?? [:]
        guard let response = (responses[String(status)] ?? responses["default"]) as? [String: Any],
              let content = response["content"] as? [String: Any], let media = content["application/json;charset=UTF-8"] as? [String: Any],
              let schema = media["schema"] as? [String: Any]
        else { return ["status \(status) has no JSON schema for \(method) \(path)"] }
        var errors: [String] = []
        if contentType != "application/json;charset=UTF-8" { errors.append("Content-Type is \(contentType ?? "missing"), not application/json;charset=UTF-8") }
        guard let value = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else { return errors + ["the body is not JSON"] }
        return errors + validate(value, schema, name: nil, at: "")
    }

    /// The schema a `$ref` names, and that name.
    func resolve(_ node: [String: Any]) -> (schema: [String: Any], name: String?) {
        guard let ref = node["$ref"] as? String else { return (node, nil) }
        let name = String(ref.split(separator: "/").last ?? "")
        let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any]
        return (schemas?[name] as? [String: Any] ?? [:], name)
    }

    func validate(_ value: Any, _ node: [String: Any], name given: String?, at path: String) -> [String] {
        let (schema, resolved) = resolve(node)
        let name = resolved ?? given
        let here = path.isEmpty ? "/" : path
        if value is NSNull { return ["\(here): null"] }
        var errors: [String] = []
        for part in schema["allOf"] as? [[String: Any]] ?? [] { errors += validate(value, part, name: name, at: path) }
        let actual = SchemaValidator.typeName(value)
        if let type = schema["type"] as? String, !(type == actual || (type == "number" && actual == "integer")) {
            return errors + ["\(here): \(actual), expected \(type)"]
        }
        if let options = schema["enum"] as? [String], let text = value as? String {
            if !options.contains(text) { errors.append("\(here): \(text) is not one of Yapily's \(name ?? "values")") }
            if let name, let known = sdkEnums[name], !known.contains(text) { errors.append("\(here): the Java SDK's \(name) has no \(text)") }
        }
        if let text = value as? String {
            switch schema["format"] as? String {
            case "date-time" where Timestamp(iso8601: text) == nil: errors.append("\(here): \(text) is not a date-time")
            case "uuid" where UUID(uuidString: text) == nil: errors.append("\(here): \(text) is not a UUID")
            default: break
            }
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            for required in schema["required"] as? [String] ?? [] where object[required] == nil { errors.append("\(path)/\(required): required, missing") }
            for (member, item) in object.sorted(by: { $0.key < $1.key }) {
                guard let property = properties[member] else {
                    if properties.isEmpty, schema["additionalProperties"] != nil { continue }
                    errors.append("\(path)/\(member): not a member of Yapily's \(name ?? "object")")
                    continue
                }
                if let name, let known = sdkModels[name], !known.contains(member) {
                    errors.append("\(path)/\(member): the Java SDK's \(name) has no such member")
                }
                errors += validate(item, property, name: nil, at: "\(path)/\(member)")
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, item) in array.enumerated() { errors += validate(item, items, name: nil, at: "\(path)/\(index)") }
        }
        return errors
    }
}

/// A Yapily client of a sandbox server: the application's credentials (issued through
/// `/v1/applications/{id}/yapily-credentials`), HTTP Basic on every call, and every answer checked
/// against Yapily's schema for its operation and status.
struct YapilyClient: Sendable {
    let server: SandboxServer
    let applicationUUID: String
    let secret: String

    var base: String { server.baseURL + "/yapily" }
    var basic: String { "Basic " + Data("\(applicationUUID):\(secret)".utf8).base64EncodedString() }

    /// Issues the credentials of `application` with the operator key.
    static func make(_ server: SandboxServer, application: String = "app_default") async throws -> YapilyClient {
        let reply = try await server.call(
            .POST, "/v1/applications/\(application)/yapily-credentials", template: "/v1/applications/{id}/yapily-credentials")
        try #require(reply.status == 201, "\(reply.text)")
        return YapilyClient(
            server: server, applicationUUID: try #require(reply.json?["application_uuid"] as? String),
            secret: try #require(reply.json?["secret"] as? String))
    }

    /// One call under /yapily; `template` is the path in Yapily's document (nil: not checked,
    /// for answers Yapily's document has no operation for).
    @discardableResult
    func call(
        _ method: HTTPMethod, _ path: String, template: String?, body: String? = nil, headers: [String: String] = [:],
        authorization: String? = "", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> APIClient.Reply {
        var headers = headers
        if let authorization { headers["Authorization"] = authorization.isEmpty ? basic : authorization }
        let reply = try await APIClient(baseURL: base, key: nil).call(method, path, body: body, headers: headers)
        if let template {
            let schema = try #require(YapilySchema.shared, "the Yapily fixtures load", sourceLocation: sourceLocation)
            let errors = schema.check(
                method: method.rawValue.lowercased(), path: template, status: reply.status, contentType: reply.headers.first(name: "Content-Type"),
                body: reply.body)
            #expect(errors.isEmpty, "\(method) \(path) → \(reply.status): \(errors)\n\(reply.text)", sourceLocation: sourceLocation)
        }
        return reply
    }

    /// `{error: {code, status, message, tracingId}}` of a refusal: checks its code, status text and tracing id.
    func expectError(
        _ reply: APIClient.Reply, _ code: Int, _ status: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(reply.status == code, "\(reply.text)", sourceLocation: sourceLocation)
        let error = reply.json?["error"] as? [String: Any]
        #expect(error?["code"] as? Int == code && error?["status"] as? String == status, "\(reply.text)", sourceLocation: sourceLocation)
        #expect((error?["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(YapilyFixtureTests.isTracingID(error?["tracingId"]), "\(reply.text)", sourceLocation: sourceLocation)
    }
}

@Suite struct YapilyFixtureTests {
    static func isTracingID(_ value: Any?) -> Bool {
        guard let text = value as? String else { return false }
        return text.utf8.count == 32 && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    @Test func theFixturesNameTheirSourcesAndHoldEveryOperationTheFacadeAnswers() throws {
        let schema = try YapilySchema.load()
        let source = try #require(schema.document["x-source"] as? [String: Any])
        #expect(source["version"] as? String == "12.13.0")
        #expect(source["commit"] as? String == "3f9441bee86c7c3ff94983f4fdeb5be36b6949dd")
        let paths = try #require(schema.document["paths"] as? [String: Any])
        #expect(paths.count == 14)
        #expect(schema.sdkModels["Consent"]?.contains("isDeletedByInstitution") == false, "SDK 2.13.1 predates the member")
        #expect(schema.sdkEnums["AuthorisationStatus"]?.count == 17)
    }

    /// The check refuses what a Yapily SDK would: a null, an unknown member, a member the Java SDK
    /// lacks, an enum value it lacks, a missing required member, a wrong type, a bad date-time.
    @Test func theCheckRefusesWhatAYapilySDKWouldRefuse() throws {
        let schema = try YapilySchema.load()
        func errors(_ json: String, _ path: String = "/consent-one-time-token", status: Int = 201) -> [String] {
            schema.check(method: "post", path: path, status: status, contentType: "application/json;charset=UTF-8", body: Data(json.utf8))
        }
        let good = #"{"id":"56a42244-414a-4b52-8c4f-4ad2a50e82fe","status":"AUTHORIZED","createdAt":"2021-06-08T10:59:35.138Z","featureScope":["ACCOUNTS"]}"#
        #expect(errors(good).isEmpty)
        #expect(errors(#"{"id":null}"#) == ["/id: null"])
        #expect(errors(#"{"colour":"red"}"#).first?.contains("not a member") == true)
        #expect(errors(#"{"isDeletedByInstitution":false}"#).first?.contains("Java SDK") == true)
        #expect(errors(#"{"status":"PENDING"}"#).count == 2, "neither the document nor the SDK knows PENDING")
        #expect(errors(#"{"featureScope":["EXISTING_BULK_PAYMENT_DETAILS"]}"#).first?.contains("Java SDK") == true)
        #expect(errors(#"{"createdAt":"yesterday"}"#).first?.contains("date-time") == true)
        #expect(errors(#"{"id":"not-a-uuid"}"#).first?.contains("UUID") == true)
        #expect(errors(#"{"id":5}"#).first?.contains("expected string") == true)
        let error = #"{"error":{"code":401,"status":"UNAUTHORIZED","message":"m","tracingId":"0123456789abcdef0123456789abcdef"}}"#
        #expect(errors(error, status: 401).isEmpty)
        #expect(schema.check(method: "post", path: "/consent-one-time-token", status: 201, contentType: "application/json", body: Data(good.utf8)).count == 1)
    }
}
