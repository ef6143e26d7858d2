import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import BankHooksVerify
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /v1/events` (publish) and `GET /v1/events/{id}`.
struct EventsController {
    let store: any Store
    let events: EventService

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("events", use: publish)
        group.get("events/:id", use: get)
    }

    // MARK: Publish

    /// The publish response body.
    struct Published: Encodable {
        var id: String
        var type: String
        var timestamp: Timestamp
        var deliveries: Int
    }

    @Sendable func publish(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.publishers, to: "publish events")
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        var idempotencyKey: String?
        if let header = request.headers[HTTPField.Name("Idempotency-Key")!] {
            guard Identifier.isAcceptableClientValue(Substring(header)) else {
                throw Problem(.badRequest, "invalid-header", title: "A header is invalid",
                              detail: "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces", field: "header:Idempotency-Key")
            }
            idempotencyKey = header
        }
        let parsed = try body.withUnsafeReadableBytes { try PublishBody.parse($0) }
        let result = try await events.publish(
            EventService.Draft(
                type: parsed.type, data: parsed.data, id: parsed.id, timestamp: parsed.timestamp, timestampText: parsed.timestampText,
                idempotencyKey: idempotencyKey),
            applicationID: principal.applicationID
        ).result
        var headers: HTTPFields = [.contentType: "application/json"]
        if result.isReplay { headers[HTTPField.Name("Idempotent-Replayed")!] = "true" }
        let response = Published(id: result.eventID, type: result.type, timestamp: result.timestamp, deliveries: result.deliveryCount)
        return Response(status: .accepted, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try context.responseEncoder.encode(response))))
    }

    // MARK: Read

    struct EventView: Encodable {
        var id: String
        var type: String
        var timestamp: Timestamp
        var createdAt: Timestamp
        var deliveries: [DeliveryView]
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.readers, to: "read events")
        let id = try context.pathParameter("id")
        guard let event = try await store.event(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("event \(id)", field: "path:id")
        }
        var views: [DeliveryView] = []
        for delivery in try await store.deliveries(eventID: id, applicationID: principal.applicationID) {
            views.append(DeliveryView(delivery, attempts: try await store.attempts(deliveryID: delivery.id)))
        }
        let view = EventView(id: event.id, type: event.type, timestamp: event.timestamp, createdAt: event.createdAt, deliveries: views)
        // The data is returned exactly as published: spliced in as raw JSON.
        var bytes = Array(try context.responseEncoder.encode(view))
        bytes.removeLast() // "}"
        bytes.append(contentsOf: #","data":"#.utf8)
        bytes.append(contentsOf: event.data)
        bytes.append(UInt8(ascii: "}"))
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// The publish body `{type, data, id?, timestamp?}`, validated without decoding `data`.
struct PublishBody {
    var type: String
    var data: [UInt8]
    var id: String?
    var timestamp: Timestamp?
    /// The timestamp as written, when it is UTC (`Z`): formats print it as is.
    var timestampText: String?

    static let allowedMembers: Set<String> = ["type", "data", "id", "timestamp"]

    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> PublishBody {
        let members: [JSONMember]
        do {
            guard let found = try JSONScanner.objectMembers(of: bytes) else {
                throw Problem(.unprocessableContent, "invalid-field", title: "A field is invalid",
                              detail: "the body must be a JSON object {\"type\", \"data\"}", field: "/")
            }
            members = found
        } catch let error as JSONSyntaxError {
            // A repeated member name (at any depth, `data` included) is found by the scanner while
            // validating, so no second pass over `data` is needed; `malformedJSON` names it.
            throw Problem.malformedJSON(error)
        }
        var type: String?, data: [UInt8]?, id: String?, timestamp: Timestamp?, timestampText: String?
        for member in members {
            // Built only for an error: publish is the hot path. Members are unique (the scanner checked).
            var pointer: String { "/" + member.key.jsonPointerToken }
            func string() throws -> String {
                guard member.kind == .string, let text = JSONScanner.decodeString(bytes, range: member.valueRange) else {
                    throw Problem.invalidField(pointer, "`\(member.key)` must be a string, not \(member.kind.article)")
                }
                return text
            }
            switch member.key {
            case "type":
                let text = try string()
                guard EventTypeName.isValid(text) else {
                    throw Problem.invalidField(pointer, "`type` must be 1 to 128 characters of letters, digits and . _ : - starting with a letter or digit")
                }
                type = text
            case "data":
                guard member.kind == .object else {
                    throw Problem.invalidField(pointer, "`data` must be an object, not \(member.kind.article)")
                }
                data = Array(UnsafeRawBufferPointer(rebasing: bytes[member.valueRange]))
            case "id":
                let text = try string()
                guard Identifier.isAcceptableClientValue(Substring(text)) else {
                    throw Problem.invalidField(pointer, "`id` must be 1 to 255 printable ASCII characters without spaces")
                }
                id = text
            case "timestamp":
                let text = try string()
                guard let value = Timestamp(iso8601: text) else {
                    throw Problem.invalidField(pointer, "`timestamp` must be an RFC 3339 date-time in years 0000 to 9999 (in UTC), such as 2021-09-02T15:38:54.573Z")
                }
                timestamp = value
                // Kept as written when it is UTC with fractional seconds (Lean's form); otherwise formatted.
                if text.hasSuffix("Z"), text.contains(".") { timestampText = text }
            default:
                throw Problem.invalidField(pointer, "unknown member `\(member.key)`; expected type, data, id, timestamp")
            }
        }
        guard let type else { throw Problem.invalidField("/type", "`type` is required") }
        guard let data else { throw Problem.invalidField("/data", "`data` is required") }
        return PublishBody(type: type, data: data, id: id, timestamp: timestamp, timestampText: timestampText)
    }
}

/// Event type names: `entity.created`, `TRANSACTIONS.INITIAL_TRANSACTIONS`, `webhook.disabled`.
enum EventTypeName {
    static func isValid(_ text: String) -> Bool {
        guard (1...128).contains(text.utf8.count), let first = text.utf8.first, isAlphanumeric(first) else { return false }
        return text.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }
}

extension JSONKind {
    var article: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .boolean: "a boolean"
        case .null: "null"
        }
    }
}
