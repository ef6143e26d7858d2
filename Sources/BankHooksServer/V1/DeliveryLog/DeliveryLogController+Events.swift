import BankHooksCore
import BankHooksStorage
import Hummingbird

extension DeliveryLogController {
    struct EventSummaryView: Encodable {
        var id: String
        var type: String
        var timestamp: Timestamp
        var createdAt: Timestamp
    }

    // MARK: Events

    @Sendable func listEvents(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.readers, to: "read events")
        let query = request.uri.queryParameters
        let limit = try PageQuery.limit(query)
        var filter = EventFilter()
        if let type = query.get("type") {
            guard EventTypeName.isValid(type) else { throw PageQuery.invalid("type", "`type` is not a valid event type name") }
            filter.type = type
        }
        filter.since = try PageQuery.time(query, "since")
        filter.until = try PageQuery.time(query, "until")
        var after: EventCursor?
        if let text = query.get("cursor") { after = try PageQuery.eventCursor(text) }
        let page = try await store.events(applicationID: principal.applicationID, filter: filter, after: after, limit: limit)
        let view = ListView(
            page, view: { EventSummaryView(id: $0.id, type: $0.type, timestamp: $0.timestamp, createdAt: $0.createdAt) },
            key: { EventCursor(after: $0).key })
        return try Response.json(view, status: .ok, context: context)
    }
}
