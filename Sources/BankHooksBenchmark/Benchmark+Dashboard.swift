import AsyncHTTPClient
import BankHooksCore
import BankHooksLoopback
import BankHooksServer
import BankHooksStorage
import Foundation
import Logging
import NIOCore

extension Benchmark {
    /// The dashboard's page times with `deliveries` deliveries in the store: the store is loaded
    /// (events over the last 50 hours, fanned out to the webhooks, each delivery attempted once:
    /// 90 % succeeded, 10 % failed), then the server runs on it and a signed-in browser session asks
    /// each page `samples` times, reading the server's time (`Server-Timing: page;dur=`) and the
    /// time to the last byte over loopback HTTP.
    public func runDashboard(deliveries: Int, samples: Int = 50) async throws {
        try await withDirectory("bankhooks-dashboard") { dir in
            try await withStorage(dir, "dashboard.sqlite") { storage in
                say("dashboard: \(deliveries) deliveries over \(options.webhooks) webhooks, \(options.payloadBytes) B payloads, " + (options.database == nil ? "SQLite, " : "") + backendName)
                let start = ContinuousClock.now
                let loaded = try await loadDashboardStore(storage, deliveries: deliveries)
                say(String(format: "dashboard: loaded in %.1f s; peak RSS %d MB", (ContinuousClock.now - start).secondsDouble, Quantiles.peakRSSMegabytes()))
                try await withDashboardServer(storage: storage) { baseURL, adminKey in
                    try await timePages(baseURL: baseURL, adminKey: adminKey, loaded: loaded, samples: samples)
                }
            }
        }
    }

    /// What the load left for the pages to ask about.
    struct DashboardLoad: Sendable {
        var webhookIDs: [String]
        var middleDeliveryID: Int64
        var middleTime: Timestamp
        var someEventID: String
        var someDeliveryID: Int64
    }

    /// The event types the load publishes (an application's own: no schema to check).
    static let dashboardTypes = (0..<5).map { "bench.type\($0)" }

    private func loadDashboardStore(_ storage: StorageConfiguration, deliveries: Int) async throws -> DashboardLoad {
        let logger = { var logger = Logger(label: "bench.dashboard"); logger.logLevel = .error; return logger }()
        let sealer = SecretSealer(box: SecretBox(base64: Self.benchMasterKey))
        let opened = try await storage.open(sealer: sealer, logger: logger)
        return try await withThrowingTaskGroup(of: DashboardLoad?.self) { group in
            for service in opened.services { group.addTask { try await service.run(); return nil } }
            defer { group.cancelAll() }
            return try await fillDashboardStore(opened.store, deliveries: deliveries)
        }
    }

    private func fillDashboardStore(_ store: any Store, deliveries: Int) async throws -> DashboardLoad {
        let app = defaultApplicationID
        let now = SystemClock().now()
        // The default application, as the server's bootstrap would make it, with room for the webhooks.
        try await store.createApplication(Application(id: app, name: "Default", environment: .sandbox, createdAt: now, webhookLimit: options.webhooks))
        for type in Self.dashboardTypes {
            try await store.createEventType(CustomEventType(applicationID: app, name: type, description: "A benchmark type.", schema: nil, createdAt: now))
        }
        let webhookIDs = (0..<options.webhooks).map { "wh_bench\($0)" }
        for (i, id) in webhookIDs.enumerated() {
            try await store.createWebhook(Webhook(id: id, applicationID: app, url: "http://127.0.0.1:9/\(i)", secret: .generate(), createdAt: now, updatedAt: now))
        }
        let data = Array((#"{"pad":""# + String(repeating: "x", count: max(0, options.payloadBytes - 10)) + #""}"#).utf8)
        let events = (deliveries + options.webhooks - 1) / options.webhooks
        let batchSize = 1000
        let batches = (events + batchSize - 1) / batchSize
        // Batches spread over the last 50 hours, oldest first: the 24-hour figures see half of them.
        let span: Int64 = 50 * 3600 * 1000
        var someEventID = ""
        for batch in 0..<batches {
            let at = Timestamp(milliseconds: now.milliseconds - span + span * Int64(batch) / Int64(max(1, batches)))
            let requests = (batch * batchSize..<min(events, (batch + 1) * batchSize)).map {
                PublishRequest(applicationID: app, eventID: "evt_\($0)", idempotencyKey: nil, type: Self.dashboardTypes[$0 % Self.dashboardTypes.count],
                               timestamp: at, data: data)
            }
            _ = try await store.publish(requests, now: at)
            if batch == batches / 2 { someEventID = requests[0].eventID }
            // Each delivery attempted once at its event's time: 1 in 10 failed.
            while true {
                let claimed = try await store.claimDue(owner: "bench/\(batch)", now: at, leaseUntil: at.adding(.seconds(60)), limit: 1000, excludingWebhooks: [])
                guard !claimed.isEmpty else { break }
                let records = claimed.map { delivery in
                    let failed = delivery.id % 10 == 0
                    return AttemptRecord(
                        attempt: Attempt(
                            deliveryID: delivery.id, number: 1, startedAt: at, durationMicroseconds: 1000 + delivery.id % 50_000,
                            status: failed ? 500 : 200, responseExcerpt: failed ? "upstream unavailable" : "ok", errorKind: nil, errorMessage: nil,
                            requestHeaders: #"{"content-type":"application/json","webhook-id":"msg_\#(delivery.id)"}"#),
                        leaseOwner: delivery.leaseOwner, webhookID: delivery.webhook.id, outcome: failed ? .failed : .succeeded)
                }
                try await store.record(records, releasing: [], now: at)
            }
        }
        let middle = Int64(events * options.webhooks / 2)
        return DashboardLoad(
            webhookIDs: webhookIDs, middleDeliveryID: middle, middleTime: Timestamp(milliseconds: now.milliseconds - span / 2),
            someEventID: someEventID, someDeliveryID: middle + 1)
    }

    /// Runs the server on the loaded store for `body`, with its base URL and the operator key.
    private func withDashboardServer(storage: StorageConfiguration, _ body: @escaping @Sendable (String, String) async throws -> Void) async throws {
        let logger = { var logger = Logger(label: "bench.dashboard"); logger.logLevel = .error; return logger }()
        let adminKey = "bhk_bench_" + String(repeating: "d", count: 32)
        var configuration = ServerConfiguration()
        configuration.storage = storage
        configuration.masterKey = Self.benchMasterKey
        configuration.port = 0
        configuration.adminKey = adminKey
        configuration.keyRateLimit = nil
        configuration.allowedDestinations = [AddressRange("127.0.0.1/32")!]
        try await LoopbackService.run(logger: logger, notStarted: ConfigurationError("the server did not start")) { listening in
            try await buildApplication(configuration, logger: logger, announce: { _ in }, onListening: { address in listening(address?.port ?? 0) })
        } _: { port in
            try await body("http://127.0.0.1:\(port)", adminKey)
        }
    }

    /// A browser's session: its cookies, sent with every request.
    private struct DashboardSession: Sendable {
        var baseURL: String
        var cookies: [String: String] = [:]
        let http: HTTPClient

        mutating func request(_ path: String, form: String? = nil) async throws -> (status: UInt, serverTiming: String?, body: String) {
            var request = HTTPClientRequest(url: baseURL + path)
            if !cookies.isEmpty { request.headers.add(name: "Cookie", value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")) }
            if let form {
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.headers.add(name: "Origin", value: baseURL)
                request.body = .bytes(ByteBuffer(string: form))
            }
            let response = try await http.execute(request, timeout: .seconds(30))
            let body = String(buffer: try await response.body.collect(upTo: 16 * 1024 * 1024))
            for line in response.headers["Set-Cookie"] {
                let pair = line.prefix { $0 != ";" }.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if pair.count == 2 { cookies[String(pair[0])] = String(pair[1]) }
            }
            return (response.status.code, response.headers["Server-Timing"].first, body)
        }
    }

    private func timePages(baseURL: String, adminKey: String, loaded: DashboardLoad, samples: Int) async throws {
        // A browser's session: redirects are read, not followed (a 303 after sign-in sets the cookie).
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 4)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            var session = DashboardSession(baseURL: baseURL, http: http)
            let form = try await session.request("/dashboard/sign-in")
            guard let range = form.body.range(of: #"name="csrf" value=""#) else { throw ConfigurationError("the sign-in form has no CSRF field") }
            let csrf = String(form.body[range.upperBound...].prefix { $0 != "\"" })
            let signedIn = try await session.request("/dashboard/sign-in", form: "csrf=\(csrf)&key=\(adminKey)")
            guard signedIn.status == 303, session.cookies["bh_session"] != nil else { throw ConfigurationError("signing in failed: \(signedIn.status) \(signedIn.body)") }
            let webhook = loaded.webhookIDs[0]
            let middleCursor = Data(String(loaded.middleDeliveryID).utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            let window = Timestamp(milliseconds: loaded.middleTime.milliseconds - 3_600_000).iso8601
            let pages = [
                "/dashboard/webhooks", "/dashboard/webhooks/\(webhook)", "/dashboard/webhooks/\(webhook)?status=failed",
                "/dashboard/webhooks/\(webhook)?cursor=\(middleCursor)", "/dashboard/deliveries/\(loaded.someDeliveryID)",
                "/dashboard/events", "/dashboard/events?type=bench.type3", "/dashboard/events?since=\(window)&until=\(loaded.middleTime.iso8601)",
                "/dashboard/events/\(loaded.someEventID)", "/dashboard/event-types", "/dashboard/event-types/bank.availability.updated",
                "/dashboard/sandbox", "/dashboard/api-keys", "/dashboard/applications",
            ]
            var worst = 0.0
            for page in pages {
                var server: [Int64] = [], wall: [Int64] = []
                for _ in 0..<samples {
                    let began = ContinuousClock.now
                    let reply = try await session.request(page)
                    wall.append((ContinuousClock.now - began).microseconds)
                    guard reply.status == 200 else { throw ConfigurationError("\(page): \(reply.status) \(reply.body.prefix(300))") }
                    guard let timing = reply.serverTiming, let value = timing.split(separator: "=").last, let ms = Double(value) else {
                        throw ConfigurationError("\(page): no Server-Timing")
                    }
                    server.append(Int64(ms * 1000))
                }
                server.sort()
                wall.sort()
                worst = max(worst, Double(server[server.count * 99 / 100]) / 1000)
                say("page:      \(page): server p50 \(Quantiles.ms(server, 0.5)) p99 \(Quantiles.ms(server, 0.99)) max \(Quantiles.ms(server, 1)); last byte p50 \(Quantiles.ms(wall, 0.5))")
            }
            say(String(format: "dashboard: slowest page p99 %.1f ms (target 100 ms): %@", worst, worst <= 100 ? "within" : "OVER"))
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }
}
