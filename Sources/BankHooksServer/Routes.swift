import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import Hummingbird
import NIOCore

/// The route table.
func buildRouter(
    store: any Store, publisher: Publisher, dispatcher: Dispatcher, recoveries: RecoveryRunner, clock: any WallClock, maxBodySize: Int,
    rateLimiter: RateLimiter, quotas: TenantQuotas, wakeDispatcher: @escaping @Sendable () -> Void
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: BodyLimitMiddleware(maxBodySize: maxBodySize))
    router.get("healthz") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
    }
    router.get("openapi.json") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_json)))
    }
    let authenticator = KeyAuthenticator(store: store)
    let v1 = router.group("v1").add(middleware: AuthenticationMiddleware(
        authenticator: authenticator, rateLimiter: rateLimiter.keyLimit == nil && rateLimiter.applicationLimit == nil ? nil : rateLimiter))
    let registry = EventTypeRegistry(store: store)
    EventsController(store: store, publisher: publisher, registry: registry, clock: clock).addRoutes(to: v1)
    WebhooksController(
        store: store, formats: .builtIn, registry: registry, publisher: publisher, dispatcher: dispatcher, clock: clock, wake: wakeDispatcher,
        quotas: quotas
    ).addRoutes(to: v1)
    EventTypesController(store: store, registry: registry, clock: clock, quotas: quotas).addRoutes(to: v1)
    OkraCallbackController(store: store).addRoutes(to: v1)
    ApplicationsController(store: store, authenticator: authenticator, clock: clock, quotas: quotas) { ids in
        for id in ids { dispatcher.webhookChanged(id: id) }
    }.addRoutes(to: v1)
    DeliveryLogController(store: store, dispatcher: dispatcher, recoveries: recoveries, clock: clock).addRoutes(to: v1)
    return router
}

/// Sets the body limit on the context.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let maxBodySize: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.maxUploadSize = maxBodySize
        return try await next(request, context)
    }
}
