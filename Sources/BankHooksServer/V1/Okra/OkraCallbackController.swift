import BankHooksCore
import BankHooksStorage
import Hummingbird
import NIOCore

/// `GET /v1/callback?record=<id>&method=AUTH|TRANSACTIONS|IDENTITY|INCOME|BALANCE|ACCOUNTS` (seed
/// 002), and the same at `/v2/callback`, where Okra's real callbacks point (`callback_url`): the
/// latest callback of that product for that record, as Okra's body, so a receiver that missed a
/// callback can pull it.
struct OkraCallbackController {
    let store: any Store

    /// Seed 002's products, and ACCOUNTS, whose real callbacks give `method=ACCOUNTS`.
    static let methods = ["AUTH", "TRANSACTIONS", "IDENTITY", "INCOME", "BALANCE", "ACCOUNTS"]

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("callback", use: latest)
    }

    /// The pull path under `/v2`, as Okra's real callbacks give it.
    func addV2Routes(to v2: RouterGroup<AppRequestContext>) {
        v2.get("callback", use: latest)
    }

    @Sendable func latest(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.readers, to: "read callbacks")
        let query = request.uri.queryParameters
        guard let record = query.get("record"), !record.isEmpty else {
            throw PageQuery.invalid("record", "`record` (the record id) is required")
        }
        guard let method = query.get("method"), Self.methods.contains(method) else {
            throw PageQuery.invalid("method", "`method` must be one of \(Self.methods.joined(separator: ", "))")
        }
        guard let event = try await store.latestEvent(applicationID: principal.applicationID, subject: record, typePrefix: method + ".") else {
            throw Problem(.notFound, "not-found", title: "Not found",
                          detail: "record \(record) has no \(method) callback", field: "query:record")
        }
        let body = OkraFormat().body(for: OutboundEvent(id: event.id, type: event.type, timestamp: event.timestamp, data: event.data))
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
