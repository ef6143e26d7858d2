import BankHooksCore
import BankHooksServer
import BankHooksStorage
import Foundation
import Logging

extension Benchmark {
    /// Claim latency with an (almost) empty store, then with `backlog` pending deliveries. Each
    /// store is an SQLite file in the run's directory, opened through the storage configuration.
    public func runBacklog(backlog: Int) async throws {
        try await withDirectory("bankhooks-backlog") { dir in
            say("backlog:   " + (options.database == nil ? "SQLite, " : "") + backendName)
            let empty = try await withStore(dir, "empty.sqlite") { emptyStore in
                try await loadStore(emptyStore, deliveries: 1000)
                let empty = try await claimLatency(store: emptyStore, label: "1,000 pending")
                try await logPageLatency(store: emptyStore, deliveries: 1000)
                return empty
            }
            try await withStore(dir, "backlog.sqlite") { store in
            let start = ContinuousClock.now
            try await loadStore(store, deliveries: backlog)
            say(String(format: "backlog:   loaded %d pending deliveries in %.1f s; peak RSS %d MB", backlog, (ContinuousClock.now - start).secondsDouble, Quantiles.peakRSSMegabytes()))
            let full = try await claimLatency(store: store, label: "\(backlog) pending")
            say(String(format: "backlog:   claim p50 ratio %.2f (backlog / near-empty); peak RSS %d MB", Double(full) / Double(max(1, empty)), Quantiles.peakRSSMegabytes()))
            try await logPageLatency(store: store, deliveries: backlog)
            // Every webhook that holds the backlog is busy (at its in-flight limit); another webhook's
            // later work must still be found without walking the backlog.
            let now = SystemClock().now()
            try await store.createWebhook(Webhook(id: "wh_late", applicationID: "app", url: "http://127.0.0.1:9/late", eventTypes: ["late"],
                                                  secret: .generate(), createdAt: now, updatedAt: now))
            _ = try await store.publish((0..<20_000).map {
                PublishRequest(applicationID: "app", eventID: "late\($0)", idempotencyKey: nil, type: "late", timestamp: now, data: Array(#"{}"#.utf8))
            }, now: now)
            try await (store as? PostgresStore)?.refreshPlannerStatistics()
            let busy = Set((0..<options.webhooks).map { "wh_\($0)" })
            let behind = try await claimLatency(store: store, label: "\(backlog) pending on busy webhooks, claiming another's", excluding: busy)
            say(String(format: "backlog:   busy-webhook claim p50 ratio %.2f (vs near-empty)", Double(behind) / Double(max(1, empty))))
            }
        }
    }

    /// Opens the run's store `name` and runs `body` with it, its backend's services (a pool) running meanwhile.
    private func withStore<T: Sendable>(_ directory: String, _ name: String, _ body: @Sendable (any Store) async throws -> T) async throws -> T {
        try await withStorage(directory, name) { storage in
            let logger = { var logger = Logger(label: "bench.backlog"); logger.logLevel = .error; return logger }()
            let opened = try await storage.open(sealer: SecretSealer(box: nil), logger: logger)
            return try await withThrowingTaskGroup(of: T?.self) { group in
                for service in opened.services { group.addTask { try await service.run(); return nil } }
                defer { group.cancelAll() }
                return try await body(opened.store)
            }
        }
    }

    private func loadStore(_ store: any Store, deliveries: Int) async throws {
        let now = SystemClock().now()
        // The webhooks plus the late one measured behind the backlog.
        try await store.createApplication(Application(
            id: "app", name: "bench", environment: .sandbox, createdAt: now, webhookLimit: options.webhooks + 1))
        for i in 0..<options.webhooks {
            try await store.createWebhook(Webhook(id: "wh_\(i)", applicationID: "app", url: "http://127.0.0.1:9/\(i)", secret: .generate(), createdAt: now, updatedAt: now))
        }
        let data = Array((#"{"pad":""# + String(repeating: "x", count: max(0, options.payloadBytes - 10)) + #""}"#).utf8)
        let events = (deliveries + options.webhooks - 1) / options.webhooks
        var published = 0
        while published < events {
            let batch = (published..<min(events, published + 1000)).map {
                PublishRequest(applicationID: "app", eventID: "e\($0)", idempotencyKey: nil, type: "bench.event", timestamp: now, data: data)
            }
            _ = try await store.publish(batch, now: now)
            published += batch.count
        }
        try await (store as? PostgresStore)?.refreshPlannerStatistics()
    }

    /// Delivery-log pages (50 rows) at the newest end and at the middle of the tables: events, a
    /// webhook's deliveries, and its pending ones (the status filter). Keyset pages cost the same at any depth.
    private func logPageLatency(store: any Store, deliveries: Int) async throws {
        let events = (deliveries + options.webhooks - 1) / options.webhooks
        // The loader publishes every event at one time; the middle is half way down the sequence.
        guard let newest = try await store.events(applicationID: "app", filter: EventFilter(), after: nil, limit: 1).items.first else { return }
        // Far enough down that a full page follows even in the small store.
        let middleEvent = EventCursor(createdAt: newest.createdAt.milliseconds, seq: Int64(events / 2 + 51))
        let middleDelivery = Int64(deliveries / 2 + 51 * options.webhooks)
        let cases: [(String, @Sendable () async throws -> Int)] = [
            ("events, first page", { try await store.events(applicationID: "app", filter: EventFilter(), after: nil, limit: 50).items.count }),
            ("events, middle page", { try await store.events(applicationID: "app", filter: EventFilter(), after: middleEvent, limit: 50).items.count }),
            ("events of a type, middle page", {
                try await store.events(applicationID: "app", filter: EventFilter(type: "bench.event"), after: middleEvent, limit: 50).items.count
            }),
            ("webhook deliveries, first page", {
                try await store.deliveries(applicationID: "app", of: .webhook("wh_0"), state: nil, before: nil, limit: 50)?.items.count ?? 0
            }),
            ("webhook deliveries, middle page", {
                try await store.deliveries(applicationID: "app", of: .webhook("wh_0"), state: nil, before: middleDelivery, limit: 50)?.items.count ?? 0
            }),
            ("webhook pending deliveries, middle page", {
                try await store.deliveries(applicationID: "app", of: .webhook("wh_0"), state: .pending, before: middleDelivery, limit: 50)?.items.count ?? 0
            }),
        ]
        for (label, page) in cases {
            var samples: [Int64] = []
            for _ in 0..<100 {
                let started = ContinuousClock.now
                let rows = try await page()
                samples.append((ContinuousClock.now - started).microseconds)
                guard rows == 50 else { throw ConfigurationError("\(label): \(rows) rows, expected 50") }
            }
            samples.sort()
            say("log:       \(deliveries) deliveries: \(label) p50 \(Quantiles.ms(samples, 0.5)) p99 \(Quantiles.ms(samples, 0.99))")
        }
    }

    /// Claims 100 at a time, 200 times, each claim's lease expiring at once so the rows stay due; returns p50 in µs.
    private func claimLatency(store: any Store, label: String, excluding: Set<String> = []) async throws -> Int64 {
        var samples: [Int64] = []
        var clockTime = SystemClock().now()
        for _ in 0..<200 {
            clockTime = clockTime.adding(.milliseconds(1))
            let started = ContinuousClock.now
            let claimed = try await store.claimDue(owner: "bench/1", now: clockTime, leaseUntil: clockTime, limit: 100, excludingWebhooks: excluding)
            samples.append((ContinuousClock.now - started).microseconds)
            guard claimed.count == 100 else { throw ConfigurationError("claimed \(claimed.count), expected 100") }
        }
        samples.sort()
        say("claim:     \(label): claim of 100 p50 \(Quantiles.ms(samples, 0.5)) p99 \(Quantiles.ms(samples, 0.99)) max \(Quantiles.ms(samples, 1))")
        return samples[samples.count / 2]
    }
}
