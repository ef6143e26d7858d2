import BankHooksCore
import BankHooksStorage
import Hummingbird

extension DeliveryLogController {
    struct RecoverRequest: Decodable {
        var since: Timestamp
        var until: Timestamp?

        enum CodingKeys: String, CodingKey { case since, until }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownMembers(["since", "until"])
            let c = try decoder.container(keyedBy: CodingKeys.self)
            since = try c.decode(Timestamp.self, forKey: .since)
            until = try c.decodeIfPresent(Timestamp.self, forKey: .until)
        }
    }

    struct RecoveryView: Encodable {
        var id: String
        var webhookId: String
        var since: Timestamp
        @Null var until: Timestamp?
        var state: Recovery.State
        var total: Int
        var processed: Int
        var succeeded: Int
        var failed: Int
        var createdAt: Timestamp
        @Null var finishedAt: Timestamp?

        init(_ r: Recovery) {
            (id, webhookId, since, until, state) = (r.id, r.webhookID, r.since, r.until, r.state)
            (total, processed, succeeded, failed, createdAt, finishedAt) = (r.total, r.processed, r.succeeded, r.failed, r.createdAt, r.finishedAt)
        }
    }

    /// Starts re-sending every failed delivery of the webhook created in `[since, until)`, in the
    /// background: one new attempt each. Answers 202 with the job; `GET /v1/recoveries/{id}` shows progress.
    /// While a recovery of the webhook is running, no second one starts: the answer is 200 with the
    /// running job (whatever window it covers), so a repeated request never sends anything twice.
    @Sendable func recover(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.managers, to: "recover deliveries")
        let id = try context.pathParameter("id")
        let body = try await decodeBody(RecoverRequest.self, from: request, context: context)
        if let until = body.until, until <= body.since {
            throw Problem.invalidField("/until", "`until` must be after `since`")
        }
        let now = clock.now()
        guard let (job, created) = try await store.createRecovery(Recovery(
            id: Identifier.make("rcv", at: now), applicationID: principal.applicationID, webhookID: id, since: body.since,
            until: body.until, createdAt: now)) else {
            throw Problem.notFound("webhook \(id)", field: "path:id")
        }
        if created { recoveries.wake() }
        var response = try Response.json(RecoveryView(job), status: created ? .accepted : .ok, context: context)
        response.headers[.location] = "/v1/recoveries/\(job.id)"
        return response
    }

    @Sendable func getRecovery(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Roles.readers, to: "read recoveries")
        let id = try context.pathParameter("id")
        guard let job = try await store.recovery(id: id, applicationID: principal.applicationID) else {
            throw Problem.notFound("recovery \(id)", field: "path:id")
        }
        return try Response.json(RecoveryView(job), status: .ok, context: context)
    }
}
