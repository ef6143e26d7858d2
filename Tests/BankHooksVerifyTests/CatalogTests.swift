import BankHooksVerify
import Foundation
import Testing

/// Keeps every published JSON Schema and its Swift model in agreement: instances built from the
/// schema decode, and every mutation the schema forbids (a missing required member, null where
/// null is not allowed, a wrong type, a value outside an enum) is refused by the model, with the
/// error naming the mutated field. Mutations the schema allows must be accepted.
@Suite struct CatalogTests {
    static let allowedKeywords: Set<String> = [
        "$schema", "type", "properties", "required", "items", "enum", "description", "format", "additionalProperties",
    ]

    enum Step: CustomStringConvertible {
        case key(String), index(Int)
        var description: String { switch self { case .key(let k): k; case .index(let i): String(i) } }
    }

    static func types(_ node: [String: Any]) -> [String] {
        (node["type"] as? [String]) ?? ((node["type"] as? String).map { [$0] } ?? [])
    }

    /// A value the node accepts: every property when `full`, only required ones otherwise.
    static func sample(_ node: [String: Any], full: Bool) -> Any {
        if let values = node["enum"] as? [Any], let first = values.first { return first }
        switch types(node).first(where: { $0 != "null" }) ?? "null" {
        case "object":
            let properties = node["properties"] as? [String: [String: Any]] ?? [:]
            let required = Set(node["required"] as? [String] ?? [])
            var object: [String: Any] = [:]
            for (name, child) in properties where full || required.contains(name) { object[name] = sample(child, full: full) }
            return object
        case "array": return [sample(node["items"] as? [String: Any] ?? [:], full: full)]
        case "string": return node["format"] as? String == "date-time" ? "2021-09-02T15:38:54.573741Z" : "text"
        case "integer": return 7
        case "number": return 7.5
        case "boolean": return true
        default: return NSNull()
        }
    }

    /// Every field path in `value` (built from `node`) with the schema node that describes it.
    static func paths(_ node: [String: Any], value: Any, prefix: [Step] = []) -> [(path: [Step], node: [String: Any], required: Bool)] {
        var out: [(path: [Step], node: [String: Any], required: Bool)] = []
        if let object = value as? [String: Any], let properties = node["properties"] as? [String: [String: Any]] {
            let required = Set(node["required"] as? [String] ?? [])
            for (name, child) in properties.sorted(by: { $0.key < $1.key }) {
                guard let childValue = object[name] else { continue }
                out.append((prefix + [.key(name)], child, required.contains(name)))
                out += paths(child, value: childValue, prefix: prefix + [.key(name)])
            }
        } else if let array = value as? [Any], let first = array.first, let items = node["items"] as? [String: Any] {
            out += paths(items, value: first, prefix: prefix + [.index(0)])
        }
        return out
    }

    /// `value` with the member at `path` replaced (or removed when `replacement` is nil).
    static func mutate(_ value: Any, at path: ArraySlice<Step>, _ replacement: Any?) -> Any {
        guard let step = path.first else { return replacement as Any }
        switch step {
        case .key(let key):
            var object = value as! [String: Any]
            if path.count == 1 {
                object[key] = replacement
            } else {
                object[key] = mutate(object[key]!, at: path.dropFirst(), replacement)
            }
            return object
        case .index(let index):
            var array = value as! [Any]
            array[index] = mutate(array[index], at: path.dropFirst(), replacement)
            return array
        }
    }

    /// A value of a JSON type the node does not allow, if there is one.
    static func wrongValue(for node: [String: Any]) -> Any? {
        let allowed = Set(types(node))
        let candidates: [(String, Any)] = [("string", "text"), ("integer", 7), ("number", 7.5), ("boolean", true), ("array", [Any]()), ("object", [String: Any]())]
        for (type, value) in candidates {
            let accepted = allowed.contains(type) || (type == "integer" && allowed.contains("number"))
            if !accepted { return value }
        }
        return nil
    }

    static func validate(_ name: String, _ value: Any) -> EventDataError? {
        let data = try! JSONSerialization.data(withJSONObject: value)
        do {
            try EventCatalog.builtIn.validate(type: name, data: data)
            return nil
        } catch {
            return error
        }
    }

    static func pointer(_ path: [Step]) -> String { path.map { "/\($0)" }.joined() }

    static func checkKeywords(_ node: [String: Any], at path: String) {
        for key in node.keys { #expect(allowedKeywords.contains(key), "\(path): keyword \(key) is outside the supported subset") }
        for (name, child) in node["properties"] as? [String: [String: Any]] ?? [:] { checkKeywords(child, at: path + "/" + name) }
        if let items = node["items"] as? [String: Any] { checkKeywords(items, at: path + "/items") }
    }

    @Test func theCatalogCoversEveryFamilyAndNamesAreUnique() {
        let names = EventCatalog.builtIn.definitions.map(\.name)
        #expect(Set(names).count == names.count)
        for family in [EventFamily.lean, .okra, .bridge, .bankhooks] {
            #expect(EventCatalog.builtIn.definitions.contains { $0.family == family })
        }
        // Seed 001's 13 webhook types, the 3 more Lean's sandbox sends (lean-postman), the Callback
        // URL; Okra's callbacks (seed 002's, its printed PDOCUT_IS_READY, the real codes); Bridge's events (SPEC).
        #expect(EventCatalog.builtIn.definitions.filter { $0.family == .lean }.count == 17)
        for name in ["entity.data.refresh.updated", "payment_intent.created", "payment.reconciliation.updated", "INCOME.PDOCUT_IS_READY",
                     "INCOME.PRODUCT_IS_READY", "AUTH.AUTH_SUCCESS", "IDENTITY.IDENTITY_IS_READY", "BALANCE.BALANCE_SUCCESS", "ACCOUNTS.ACCOUNTS_SUCCESS"] {
            #expect(EventCatalog.builtIn[name] != nil, "\(name)")
        }
        for name in ["item.created", "item.refreshed", "item.deleted", "item.account.created", "item.account.updated",
                     "item.account.deleted", "user.deleted", "payment.transaction.created", "payment.transaction.updated",
                     "payment.link.updated", "TRANSACTIONS.INITIAL_TRANSACTIONS", "RECORD.WEBHOOK_UPDATE_ACKNOWLEDGED",
                     "bank_link.result", "webhook.disabled"] {
            #expect(EventCatalog.builtIn[name] != nil, "\(name)")
        }
        for definition in EventCatalog.builtIn.definitions where definition.family == .lean && definition.name != "bank_link.result" {
            #expect(definition.message?.isEmpty == false, "\(definition.name) has Lean's message")
        }
    }

    @Test(arguments: EventCatalog.builtIn.definitions.map(\.name))
    func schemaAndModelAgree(_ name: String) throws {
        let definition = try #require(EventCatalog.builtIn[name])
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(definition.schema.utf8)) as? [String: Any], "the schema is JSON")
        #expect(schema["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
        #expect(Self.types(schema) == ["object"])
        Self.checkKeywords(schema, at: name)

        let full = Self.sample(schema, full: true)
        #expect(Self.validate(name, full) == nil, "an instance with every member decodes: \(Self.validate(name, full).map(String.init(describing:)) ?? "")")
        let minimal = Self.sample(schema, full: false)
        #expect(Self.validate(name, minimal) == nil, "an instance with only required members decodes")

        for (path, node, required) in Self.paths(schema, value: full) {
            let at = Self.pointer(path)
            let isProperty: Bool = if case .key = path.last! { true } else { false }
            if isProperty {
                let removed = Self.validate(name, Self.mutate(full, at: path[...], nil))
                if required {
                    #expect(removed?.pointer == at, "\(name)\(at) is required in the schema, so the model must refuse its absence")
                } else {
                    #expect(removed == nil, "\(name)\(at) is optional in the schema, so the model must accept its absence")
                }
            }
            let nullable = Self.types(node).contains("null")
            let nulled = Self.validate(name, Self.mutate(full, at: path[...], NSNull()))
            if nullable {
                #expect(nulled == nil, "\(name)\(at) allows null in the schema")
            } else {
                #expect(nulled?.pointer == at, "\(name)\(at) does not allow null in the schema")
            }
            if let wrong = Self.wrongValue(for: node) {
                let error = Self.validate(name, Self.mutate(full, at: path[...], wrong))
                #expect(error?.pointer == at, "\(name)\(at) must refuse \(wrong)")
            }
            if node["enum"] != nil {
                let error = Self.validate(name, Self.mutate(full, at: path[...], "NOT_ONE_OF_THEM"))
                #expect(error?.pointer == at, "\(name)\(at) is an enum")
                #expect(error?.reason.contains("one of") == true, "the error lists the allowed values: \(error?.reason ?? "")")
            }
        }
    }

    /// What the schema subset says about `value` (JSON as `CatalogValue`): one message per violation.
    static func schemaErrors(_ value: CatalogValue, _ node: [String: Any], at path: String) -> [String] {
        let allowed = types(node)
        let kind: String
        switch value {
        case .null: kind = "null"
        case .bool: kind = "boolean"
        case .number(let number): kind = number.rounded() == number ? "integer" : "number"
        case .string: kind = "string"
        case .array: kind = "array"
        case .object: kind = "object"
        }
        guard allowed.isEmpty || allowed.contains(kind) || (kind == "integer" && allowed.contains("number")) else {
            return ["\(path): a \(kind), expected \(allowed)"]
        }
        var errors: [String] = []
        if let values = node["enum"] as? [String], case .string(let text) = value, !values.contains(text) {
            errors.append("\(path): \(text) is not one of \(values)")
        }
        switch value {
        case .object(let members):
            for name in node["required"] as? [String] ?? [] where members[name] == nil { errors.append("\(path)/\(name): required, missing") }
            let properties = node["properties"] as? [String: [String: Any]] ?? [:]
            for (name, member) in members {
                if let child = properties[name] {
                    errors += schemaErrors(member, child, at: path + "/" + name)
                } else if node["additionalProperties"] as? Bool == false {
                    errors.append("\(path)/\(name): not allowed")
                }
            }
        case .array(let items):
            if let itemNode = node["items"] as? [String: Any] {
                for (index, item) in items.enumerated() { errors += schemaErrors(item, itemNode, at: "\(path)/\(index)") }
            }
        default: break
        }
        return errors
    }

    /// Every built-in type carries an example (the seed's, the provider's real one, or one written
    /// from the provider's documented fields), served as its schema's `examples`; each validates
    /// against its own schema and decodes into the type's model.
    @Test(arguments: EventCatalog.builtIn.definitions.map(\.name))
    func everyExampleMatchesItsOwnSchemaAndModel(_ name: String) throws {
        let definition = try #require(EventCatalog.builtIn[name])
        #expect(!definition.examples.isEmpty, "\(name) has an example")
        let schema = definition.schemaObject
        for example in definition.examples {
            let value = try JSONDecoder().decode(CatalogValue.self, from: Data(example.data.utf8))
            #expect(Self.schemaErrors(value, schema, at: "") == [], "\(name), \(example.source)")
            #expect(throws: Never.self, "\(name), \(example.source)") { try EventCatalog.builtIn.validate(type: name, data: Data(example.data.utf8)) }
            #expect(!example.source.isEmpty)
        }
        let served = try #require(try JSONSerialization.jsonObject(with: Data(definition.schemaWithExamples.utf8)) as? [String: Any])
        #expect((served["examples"] as? [Any])?.count == definition.examples.count)
        #expect(served["required"] as? [String] == schema["required"] as? [String])
    }

    @Test func theExampleCheckRefusesWhatTheSchemaForbids() throws {
        let schema = try #require(EventCatalog.builtIn["entity.created"]).schemaObject
        let wrong = try JSONDecoder().decode(CatalogValue.self, from: Data(#"{"id": 5, "app_user_id": "u", "customer_id": "c", "permissions": ["x", 1], "bank_details": {"name": "n", "account_type": "CORPORATE"}}"#.utf8))
        let errors = Self.schemaErrors(wrong, schema, at: "")
        for expected in ["/id:", "/permissions/1:", "/bank_details/logo: required", "/bank_details/account_type: CORPORATE"] {
            #expect(errors.contains { $0.hasPrefix(expected) }, "\(expected) in \(errors)")
        }
    }

    @Test func aViolationNamesThePathAndWhatWasExpected() throws {
        let data = Data(#"{"id": "x", "customer_id": "c", "permissions": [], "app_user_id": "u", "bank_details": {"name": "n", "identifier": "i", "logo": "l", "main_color": "m", "background_color": "b", "account_type": "CORPORATE"}}"#.utf8)
        #expect(throws: EventDataError(pointer: "/bank_details/account_type", reason: #"is not allowed; expected one of "BUSINESS", "PERSONAL""#)) {
            try EventCatalog.builtIn.validate(type: "entity.created", data: data)
        }
        let missing = Data(#"{"record": 5}"#.utf8)
        do {
            try EventCatalog.builtIn.validate(type: "TRANSACTIONS.INITIAL_TRANSACTIONS", data: missing)
            Issue.record("a number is not a record id")
        } catch {
            #expect(error.pointer == "/record")
            #expect(error.reason.contains("a string"))
        }
    }
}
