import BankHooksCore
import BankHooksDelivery
import BankHooksSandbox
import BankHooksStorage
import Hummingbird
import NIOCore

/// What the sandbox's routes are built from.
struct SandboxRoutes: Sendable {
    let bank: SandboxBank
    let payments: SandboxPayments
    /// The base of `authorisation_url` (`--public-url`, normalised); nil: `http://<Host header>`.
    let publicURL: String?
    let csrf: ConsentCSRF
}

/// The route table.
func buildRouter(
    store: any Store, events: EventService, dispatcher: Dispatcher, recoveries: RecoveryRunner, clock: any WallClock, maxBodySize: Int,
    rateLimiter: RateLimiter, quotas: TenantQuotas, sandbox: SandboxRoutes, readiness: Readiness, wakeDispatcher: @escaping @Sendable () -> Void
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: BodyLimitMiddleware(maxBodySize: maxBodySize))
    addHealthRoutes(to: router, readiness: readiness)
    router.get("openapi.json") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_json)))
    }
    let authenticator = KeyAuthenticator(store: store)
    // Errors under /v1 (and /v2) are problem+json; authentication runs inside, so its refusals are too.
    func authenticated(_ prefix: String) -> RouterGroup<AppRequestContext> {
        router.group(RouterPath(prefix)).add(middleware: ProblemMiddleware()).group().add(middleware: AuthenticationMiddleware(
            authenticator: authenticator, rateLimiter: rateLimiter.keyLimit == nil && rateLimiter.applicationLimit == nil ? nil : rateLimiter))
    }
    let v1 = authenticated("v1")
    // The /v1 controllers, made once: their routes are added to the API's group, which authenticates
    // first, and to the dashboard's in-process copy, whose requests carry the session's principal.
    let registry = events.registry
    let eventsController = EventsController(store: store, events: events)
    let webhooks = WebhooksController(
        store: store, formats: .builtIn, events: events, dispatcher: dispatcher, clock: clock, wake: wakeDispatcher,
        quotas: quotas
    )
    let eventTypes = EventTypesController(store: store, registry: registry, clock: clock, quotas: quotas)
    let okraCallbacks = OkraCallbackController(store: store)
    let applications = ApplicationsController(store: store, authenticator: authenticator, clock: clock, quotas: quotas) { ids in
        for id in ids { dispatcher.webhookChanged(id: id) }
    }
    let deliveryLog = DeliveryLogController(store: store, dispatcher: dispatcher, recoveries: recoveries, clock: clock)
    let access = SandboxAccess(store: store)
    let yapilyCredentials = YapilyCredentialsController(store: store, clock: clock, publicURL: sandbox.publicURL)
    func addV1Routes(to v1: RouterGroup<AppRequestContext>) {
        eventsController.addRoutes(to: v1)
        webhooks.addRoutes(to: v1)
        eventTypes.addRoutes(to: v1)
        okraCallbacks.addRoutes(to: v1)
        applications.addRoutes(to: v1)
        deliveryLog.addRoutes(to: v1)
        yapilyCredentials.addRoutes(to: v1)
        // The sandbox bank's API (sandbox applications only): its refusals become problems here.
        let sandboxV1 = v1.group().add(middleware: SandboxProblemMiddleware())
        SandboxInstitutionsController(bank: sandbox.bank, access: access).addRoutes(to: sandboxV1)
        AuthorisationsController(bank: sandbox.bank, access: access, clock: clock, publicURL: sandbox.publicURL).addRoutes(to: sandboxV1)
        ConsentsController(bank: sandbox.bank, access: access, clock: clock).addRoutes(to: sandboxV1)
        SandboxDataController(bank: sandbox.bank, access: access).addRoutes(to: sandboxV1)
        SandboxPaymentsController(payments: sandbox.payments, access: access, clock: clock).addRoutes(to: sandboxV1)
    }
    addV1Routes(to: v1)
    // Okra's real callbacks give their pull path as /v2/callback (`callback_url`): served there too.
    okraCallbacks.addV2Routes(to: authenticated("v2"))
    // The bank's consent page: HTML for the end user's browser, outside /v1 (no API key, no
    // problem+json: its errors are pages), CSRF-protected.
    let yapily = YapilyAPI(bank: sandbox.bank, store: store, clock: clock, publicURL: sandbox.publicURL, hopKey: sandbox.csrf)
    var consentPage = ConsentPageController(bank: sandbox.bank, store: store, csrf: sandbox.csrf, clock: clock)
    consentPage.location = { completion, request in try await yapily.location(after: completion, request: request) }
    consentPage.addRoutes(to: router)
    // The dashboard: HTML pages outside /v1 (signed in with an API key, a session cookie), which
    // read and change through the same /v1 routes in process, as the session's key.
    let dashboardAPI = Router(context: AppRequestContext.self)
    addV1Routes(to: dashboardAPI.group("v1"))
    DashboardController(
        api: DashboardAPI(responder: dashboardAPI.buildResponder()),
        sessions: DashboardSessions(isSecure: sandbox.publicURL?.lowercased().hasPrefix("https://") ?? false),
        authenticator: authenticator, store: store, clock: clock, publicURL: sandbox.publicURL,
        rateLimiter: rateLimiter.keyLimit == nil && rateLimiter.applicationLimit == nil ? nil : rateLimiter
    ).addRoutes(to: router)
    // Yapily's API shape at /yapily, over the same sandbox bank (HTTP Basic, Yapily's envelopes and errors).
    yapily.addRoutes(to: router)
    // Router middleware added after every route wraps only the not-found responder (Hummingbird
    // builds each route's chain when it is added, the not-found chain at the end): a path or method
    // no /v1 route has is a problem+json 404 without authentication; elsewhere, Hummingbird's own 404.
    router.add(middleware: UnmatchedPathProblemMiddleware(prefix: "/v1"))
    router.add(middleware: DashboardController.MethodNotAllowed())
    router.add(middleware: YapilyUnmatchedPathMiddleware())
    return router
}
