import BankHooksCore
import BankHooksStorage
import Hummingbird

extension DeliveryLogController {
    @Sendable func eventDeliveries(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.readers, to: "read deliveries")
        let id = try context.pathParameter("id")
        return try await deliveries(of: .event(id), what: "event \(id)", principal: principal, request: request, context: context)
    }

    @Sendable func webhookDeliveries(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.readers, to: "read deliveries")
        let id = try context.pathParameter("id")
        return try await deliveries(of: .webhook(id), what: "webhook \(id)", principal: principal, request: request, context: context)
    }

    private func deliveries(of owner: DeliveryOwner, what: String, principal: Principal, request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let limit = try PageQuery.limit(query)
        var state: DeliveryState?
        if let text = query.get("status") {
            guard let value = DeliveryState(rawValue: text) else {
                throw PageQuery.invalid("status", "`status` must be one of pending, succeeded, failed, cancelled")
            }
            state = value
        }
        var before: Int64?
        if let text = query.get("cursor") {
            before = try PageQuery.deliveryCursor(text)
        }
        guard let page = try await store.deliveries(applicationID: principal.applicationID, of: owner, state: state, before: before, limit: limit) else {
            throw Problem.notFound(what, field: "path:id")
        }
        return try Response.json(ListView(page, view: { DeliveryView($0) }, key: { String($0.id) }), status: .ok, context: context)
    }

    @Sendable func getDelivery(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.readers, to: "read deliveries")
        let id = try Self.integerID(context)
        guard let delivery = try await store.delivery(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("delivery \(id)", field: "path:id")
        }
        return try Response.json(DeliveryView(delivery, attempts: try await store.attempts(deliveryID: id)), status: .ok, context: context)
    }

    @Sendable func getAttempt(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.readers, to: "read attempts")
        let id = try Self.integerID(context)
        guard let (attempt, webhookID) = try await store.attempt(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("attempt \(id)", field: "path:id")
        }
        return try Response.json(AttemptDetailView(attempt, webhookID: webhookID), status: .ok, context: context)
    }
}
