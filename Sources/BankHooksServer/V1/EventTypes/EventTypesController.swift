import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import BankHooksVerify
import Foundation
import Hummingbird
import NIOCore

/// `/v1/event-types`: the built-in catalog with JSON Schemas, and an application's own types.
struct EventTypesController {
    let store: any Store
    let registry: EventTypeRegistry
    let clock: any WallClock
    let quotas: TenantQuotas

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("event-types", use: list)
        group.post("event-types", use: create)
        group.get("event-types/:name", use: get)
        group.delete("event-types/:name", use: delete)
    }

    struct CreateRequest: Decodable {
        var name: String
        var description: String
    }

    /// Encodes one event type; `schema` is spliced in as JSON.
    static func view(name: String, family: EventFamily, description: String, formats: Set<String>, schema: String?, createdAt: Timestamp?) -> [UInt8] {
        var out = [UInt8]()
        out.append(contentsOf: #"{"name":"#.utf8)
        JSONWriter.appendString(name, to: &out)
        out.append(contentsOf: #","family":"#.utf8)
        JSONWriter.appendString(family.rawValue, to: &out)
        out.append(contentsOf: #","description":"#.utf8)
        JSONWriter.appendString(description, to: &out)
        out.append(contentsOf: #","formats":["#.utf8)
        for (i, format) in formats.sorted().enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(format, to: &out)
        }
        out.append(contentsOf: #"],"schema":"#.utf8)
        out.append(contentsOf: (schema ?? "null").utf8)
        if let createdAt {
            out.append(contentsOf: #","created_at":""#.utf8)
            createdAt.appendISO8601(to: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// One page of the listing: the built-in catalog in its order, then the application's own types
    /// by name; `cursor` is `b:<catalog index>` or `c:<name>` of the last type of the previous page.
    func page(applicationID: String, family: EventFamily?, after cursor: String?, limit: Int) async throws -> (views: [[UInt8]], next: String?) {
        var views: [[UInt8]] = []
        var firstBuiltIn = 0
        var customAfter: String?
        if let cursor {
            // A catalog index as written (no sign, no leading zeros) and inside the catalog.
            if cursor.hasPrefix("b:"), let index = Identifier.canonicalDecimal(cursor.dropFirst(2)), index < registry.catalog.definitions.count {
                firstBuiltIn = Int(index) + 1
            } else if cursor.hasPrefix("c:"), cursor.utf8.count > 2 {
                firstBuiltIn = registry.catalog.definitions.count
                customAfter = String(cursor.dropFirst(2))
            } else {
                throw PageQuery.badCursor
            }
        }
        let definitions = registry.catalog.definitions
        var lastBuiltIn: Int?
        for index in definitions.indices where index >= firstBuiltIn && (family == nil || definitions[index].family == family) {
            if views.count == limit { return (views, lastBuiltIn.map { "b:\($0)" }) }
            let definition = definitions[index]
            views.append(Self.view(
                name: definition.name, family: definition.family, description: definition.description,
                formats: registry.formatsCarrying(definition.family), schema: Self.compact(definition.schema), createdAt: nil))
            lastBuiltIn = index
        }
        guard family == nil || family == .custom else { return (views, nil) }
        let custom = try await store.eventTypes(applicationID: applicationID, after: customAfter, limit: limit - views.count)
        views += custom.items.map { Self.customView($0, registry: registry) }
        guard custom.hasMore else { return (views, nil) }
        if let last = custom.items.last { return (views, "c:" + last.name) }
        return (views, lastBuiltIn.map { "b:\($0)" })
    }

    static func customView(_ type: CustomEventType, registry: EventTypeRegistry) -> [UInt8] {
        view(name: type.name, family: .custom, description: type.description, formats: registry.formatsCarrying(.custom),
             schema: type.schema, createdAt: type.createdAt)
    }

    /// The schema text without the indentation of the Swift literal.
    static func compact(_ schema: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(schema.utf8)),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return schema }
        return String(decoding: data, as: UTF8.self)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.readers, to: "list event types")
        var family: EventFamily?
        if let text = request.uri.queryParameters.get("family") {
            guard let value = EventFamily(rawValue: text) else {
                throw PageQuery.invalid("family", "family must be one of \(EventFamily.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            family = value
        }
        let query = request.uri.queryParameters
        // The whole built-in catalog fits the first page unless a smaller one is asked for.
        let limit = try PageQuery.limit(query, default: PageQuery.maxLimit)
        var cursor: String?
        if let text = query.get("cursor") { cursor = try Self.decodeCursor(text) }
        let page = try await page(applicationID: principal.applicationID, family: family, after: cursor, limit: limit)
        let body = ListView(page: page.views.map(EncodedJSON.init), nextCursor: page.next.map(PageQuery.encodeCursor)).splicedJSON()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The key inside a listing cursor (`b:<index>` or `c:<name>`, base64url); names are longer than other lists' keys.
    static func decodeCursor(_ text: String) throws -> String {
        try PageQuery.cursor(text, maxLength: 256)
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.readers, to: "read event types")
        let name = try context.pathParameter("name")
        let body: [UInt8]
        if let definition = registry.catalog[name] {
            // One type's schema carries its examples (JSON Schema `examples`); the list leaves them out.
            body = Self.view(name: definition.name, family: definition.family, description: definition.description,
                             formats: registry.formatsCarrying(definition.family), schema: definition.schemaWithExamples, createdAt: nil)
        } else if let type = try await store.eventType(name: name, applicationID: principal.applicationID) {
            body = Self.customView(type, registry: registry)
        } else {
            throw Problem.notFound("event type \(name)", field: "path:name")
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.managers, to: "register event types")
        let buffer = try await collectJSONBody(request, context: context)
        let body = try decodeJSON(CreateRequest.self, from: buffer, context: context)
        // The schema is kept byte for byte as sent (documentation only), never re-encoded.
        let schema: String? = try buffer.withUnsafeReadableBytes { bytes in
            guard let member = try JSONScanner.objectMembers(of: bytes)?.first(where: { $0.key == "schema" }), member.kind != .null else { return nil }
            guard member.kind == .object else { throw Problem.invalidField("/schema", "`schema` must be a JSON Schema object") }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[member.valueRange]), as: UTF8.self)
        }
        guard EventTypeName.isValid(body.name) else {
            throw Problem.invalidField("/name", "`name` must be 1 to 128 characters of letters, digits and . _ : - starting with a letter or digit")
        }
        guard registry.catalog[body.name] == nil else {
            throw Problem(.conflict, "event-type-exists", title: "The event type exists",
                          detail: "`\(body.name)` is a built-in event type", field: "/name")
        }
        guard (1...1000).contains(body.description.utf8.count) else {
            throw Problem.invalidField("/description", "`description` must be 1 to 1,000 bytes of UTF-8")
        }
        if let schema, schema.utf8.count > quotas.schemaBytes {
            throw Problem.invalidField(
                "/schema", "`schema` is \(schema.utf8.count.formatted()) bytes; the schema_bytes quota is \(quotas.schemaBytes.formatted()) bytes")
        }
        let type = CustomEventType(
            applicationID: principal.applicationID, name: body.name, description: body.description,
            schema: schema, createdAt: clock.now())
        do {
            try await store.createEventType(type, limit: quotas.eventTypesPerApplication)
        } catch let error as StoreError where error.code == .limitReached {
            throw Problem.quotaReached("event_types_per_application", limit: quotas.eventTypesPerApplication, what: error.message, field: "/name")
        } catch let error as StoreError where error.code == .conflict {
            throw Problem(.conflict, "event-type-exists", title: "The event type exists",
                          detail: "this application already registered `\(body.name)`", field: "/name")
        }
        registry.invalidate(applicationID: principal.applicationID)
        return Response(status: .created, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: Self.customView(type, registry: registry))))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.managers, to: "delete event types")
        let name = try context.pathParameter("name")
        if registry.catalog[name] != nil {
            throw Problem(.conflict, "built-in-event-type", title: "Built-in event types cannot be deleted",
                          detail: "`\(name)` is a built-in event type", field: "path:name")
        }
        guard try await store.deleteEventType(name: name, applicationID: principal.applicationID) else {
            throw Problem.notFound("event type \(name)", field: "path:name")
        }
        registry.invalidate(applicationID: principal.applicationID)
        return Response(status: .noContent)
    }
}

