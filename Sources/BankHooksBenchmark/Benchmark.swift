import AsyncHTTPClient
import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// `bankhooks bench`: the whole server in this process (HTTP API, publisher, dispatcher, SQLite
/// file), a receiver on 127.0.0.1, and publishing clients, measured end to end.
public struct Benchmark: Sendable {
    public struct Options: Sendable {
        public var events = 20_000
        public var webhooks = 10
        public var payloadBytes = 1024
        /// Events per second offered; 0 publishes as fast as the clients can.
        public var rate = 0
        public var publishers = 32
        public var durability: SQLiteStore.Durability = .full
        public var bareRequests = 20_000
        public var maxInFlight = 256
        public var maxInFlightPerWebhook = 32
        public var directory: String?
        public init() {}
    }

    let options: Options
    let say: @Sendable (String) -> Void

    public init(options: Options, say: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.say = say
    }

    // MARK: Throughput and latency

    public func runThroughput() async throws {
        let dir = options.directory ?? NSTemporaryDirectory() + "bankhooks-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if options.directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let logger = { var l = Logger(label: "bench"); l.logLevel = .error; return l }()
        let receiver = BenchReceiver()
        try await receiver.run(logger: logger) { receiverPort in
            let adminKey = "bhk_bench_" + String(repeating: "b", count: 32)
            var configuration = ServerConfiguration()
            configuration.storage = .sqlite(path: dir + "/bench.sqlite", durability: options.durability == .full ? .full : .normal)
            configuration.port = 0
            configuration.adminKey = adminKey
            // The benchmark measures the engine, not the per-key request limit.
            configuration.keyRateLimit = nil
            configuration.allowedDestinations = [AddressRange("127.0.0.1/32")].compactMap { $0 }
            configuration.dispatcher.maxInFlight = options.maxInFlight
            configuration.dispatcher.maxInFlightPerWebhook = options.maxInFlightPerWebhook
            // All webhooks belong to one application: it gets the whole dispatcher, as every figure
            // in BENCHMARKS.md from before the per-application bound did.
            configuration.dispatcher.maxInFlightPerApplication = options.maxInFlight
            configuration.sender.connectionsPerHost = options.maxInFlight
            let ports = AsyncStream.makeStream(of: Int.self)
            let app = try await buildApplication(configuration, logger: logger, announce: { _ in }, onListening: { address in
                ports.continuation.yield(address?.port ?? 0)
                ports.continuation.finish()
            })
            let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await services.run() }
                var iterator = ports.stream.makeAsyncIterator()
                guard let serverPort = await iterator.next(), serverPort > 0 else { throw ConfigurationError("the server did not start") }
                let client = BenchClient(base: "http://127.0.0.1:\(serverPort)", key: adminKey, connections: options.publishers)
                defer { Task { try? await client.http.shutdown() } }
                try await measure(client: client, receiver: receiver, receiverPort: receiverPort)
                try await bareSender(receiver: receiver, receiverPort: receiverPort)
                await services.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }

    private func measure(client: BenchClient, receiver: BenchReceiver, receiverPort: Int) async throws {
        let limit = try await client.patch("/v1/applications/\(defaultApplicationID)", #"{"webhook_limit": \#(options.webhooks)}"#)
        guard limit.status == 200 else { throw ConfigurationError("raising the webhook limit failed: \(limit.status) \(limit.body)") }
        for i in 0..<options.webhooks {
            let reply = try await client.post("/v1/webhooks", #"{"url": "http://127.0.0.1:\#(receiverPort)/hook/\#(i)"}"#)
            guard reply.status == 201 else { throw ConfigurationError("creating a webhook failed: \(reply.status) \(reply.body)") }
        }
        let filler = String(repeating: "x", count: max(0, options.payloadBytes - 40))
        let total = options.events
        let expected = total * options.webhooks
        say("bench: \(total) events x \(options.webhooks) webhooks, \(options.payloadBytes) B payloads, "
            + (options.rate > 0 ? "\(options.rate) events/s offered" : "as fast as possible") + ", \(options.publishers) publishers, durability \(options.durability.rawValue)")
        receiver.reset(expecting: expected)
        let publishStarts = PublishTimes(count: total)
        let ackLatencies = Locked([Int64]())
        let next = Locked(0)
        let failures = Locked(0)
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<options.publishers {
                group.addTask {
                    var local: [Int64] = []
                    while true {
                        let index = next.withLock { n -> Int in defer { n += 1 }; return n }
                        guard index < total else { break }
                        if options.rate > 0 {
                            let due = start.advanced(by: .microseconds(Int64(index) * 1_000_000 / Int64(options.rate)))
                            if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
                        }
                        let sent = ContinuousClock.now
                        publishStarts.set(index, sent)
                        // A built-in type, so publish pays for validating data against the type's model.
                        let body = #"{"id": "b\#(index)", "type": "results.ready", "data": {"id": "r\#(index)", "pad": "\#(filler)"}}"#
                        let reply = try? await client.post("/v1/events", body)
                        if reply?.status == 202 {
                            local.append((ContinuousClock.now - sent).microseconds)
                        } else {
                            failures.withLock { $0 += 1 }
                        }
                    }
                    let collected = local
                    ackLatencies.withLock { $0.append(contentsOf: collected) }
                }
            }
        }
        let publishElapsed = ContinuousClock.now - start
        let delivered = await receiver.waitForAll(timeout: .seconds(600))
        let lastDelivery = receiver.lastReceived ?? .now
        let deliverElapsed = lastDelivery - start
        var endToEnd: [Int64] = []
        endToEnd.reserveCapacity(expected)
        for (index, receivedAt) in receiver.receipts() {
            guard index < total, let sent = publishStarts.get(index) else { continue }
            endToEnd.append((receivedAt - sent).microseconds)
        }
        let acks = ackLatencies.value.sorted()
        endToEnd.sort()
        say(String(format: "publish:   %d acked (%d failed) in %.2f s = %.0f acks/s; ack latency p50 %@ p99 %@ p99.9 %@",
                   acks.count, failures.value, publishElapsed.secondsDouble, Double(acks.count) / publishElapsed.secondsDouble,
                   Self.ms(acks, 0.5), Self.ms(acks, 0.99), Self.ms(acks, 0.999)))
        say(String(format: "delivery:  %d of %d delivered in %.2f s = %.0f deliveries/s", delivered, expected,
                   deliverElapsed.secondsDouble, Double(delivered) / deliverElapsed.secondsDouble))
        say("latency:   publish -> delivered p50 \(Self.ms(endToEnd, 0.5)) p99 \(Self.ms(endToEnd, 0.99)) p99.9 \(Self.ms(endToEnd, 0.999))")
        say("memory:    peak RSS \(Self.peakRSSMegabytes()) MB")
        lastDeliveryRate.withLock { $0 = Double(delivered) / deliverElapsed.secondsDouble }
    }

    private let lastDeliveryRate = Locked(0.0)

    /// The same receiver, hit by a bare AsyncHTTPClient (64 in flight, one HMAC header, body read):
    /// the ceiling the dispatcher is compared against.
    private func bareSender(receiver: BenchReceiver, receiverPort: Int) async throws {
        guard options.bareRequests > 0 else { return }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let key = SymmetricKey(size: .bits256)
        let body = ByteBuffer(string: #"{"type":"bench","timestamp":"2026-01-01T00:00:00.000Z","data":{"pad":""# + String(repeating: "x", count: max(0, options.payloadBytes - 40)) + #""}}"#)
        let count = options.bareRequests
        let next = Locked(0)
        let url = "http://127.0.0.1:\(receiverPort)/bare"
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    while next.withLock({ n -> Bool in defer { n += 1 }; return n < count }) {
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        let mac = HMAC<SHA256>.authenticationCode(for: body.readableBytesView, using: key)
                        request.headers.add(name: "webhook-signature", value: "v1," + Encoding.base64(Array(mac)))
                        request.body = .bytes(body)
                        if let response = try? await http.execute(request, timeout: .seconds(15)) {
                            _ = try? await response.body.collect(upTo: 64 * 1024)
                        }
                    }
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        try await http.shutdown()
        let bare = Double(count) / elapsed.secondsDouble
        let ratio = lastDeliveryRate.value / bare
        say(String(format: "bare:      %d requests in %.2f s = %.0f requests/s; BankHooks/bare ratio %.2f", count, elapsed.secondsDouble, bare, ratio))
    }

    // MARK: Backlog

    /// Claim latency with an (almost) empty store, then with `backlog` pending deliveries.
    public func runBacklog(backlog: Int) async throws {
        let dir = options.directory ?? NSTemporaryDirectory() + "bankhooks-backlog-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if options.directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let emptyStore = try await loadStore(path: dir + "/empty.sqlite", deliveries: 1000)
        let empty = try await claimLatency(store: emptyStore, label: "1,000 pending")
        try await logPageLatency(store: emptyStore, deliveries: 1000)
        let start = ContinuousClock.now
        let store = try await loadStore(path: dir + "/backlog.sqlite", deliveries: backlog)
        say(String(format: "backlog:   loaded %d pending deliveries in %.1f s; peak RSS %d MB", backlog, (ContinuousClock.now - start).secondsDouble, Self.peakRSSMegabytes()))
        let full = try await claimLatency(store: store, label: "\(backlog) pending")
        say(String(format: "backlog:   claim p50 ratio %.2f (backlog / near-empty); peak RSS %d MB", Double(full) / Double(max(1, empty)), Self.peakRSSMegabytes()))
        try await logPageLatency(store: store, deliveries: backlog)
        // Every webhook that holds the backlog is busy (at its in-flight limit); another webhook's
        // later work must still be found without walking the backlog.
        let now = SystemClock().now()
        try await store.createWebhook(Webhook(id: "wh_late", applicationID: "app", url: "http://127.0.0.1:9/late", eventTypes: ["late"],
                                              secret: .generate(), createdAt: now, updatedAt: now))
        _ = try await store.publish((0..<20_000).map {
            PublishRequest(applicationID: "app", eventID: "late\($0)", idempotencyKey: nil, type: "late", timestamp: now, data: Array(#"{}"#.utf8))
        }, now: now)
        let busy = Set((0..<options.webhooks).map { "wh_\($0)" })
        let behind = try await claimLatency(store: store, label: "\(backlog) pending on busy webhooks, claiming another's", excluding: busy)
        say(String(format: "backlog:   busy-webhook claim p50 ratio %.2f (vs near-empty)", Double(behind) / Double(max(1, empty))))
    }

    private func loadStore(path: String, deliveries: Int) async throws -> SQLiteStore {
        let store = try SQLiteStore(path: path, durability: options.durability)
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
        return store
    }

    /// Delivery-log pages (50 rows) at the newest end and at the middle of the tables: events, a
    /// webhook's deliveries, and its pending ones (the status filter). Keyset pages cost the same at any depth.
    private func logPageLatency(store: SQLiteStore, deliveries: Int) async throws {
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
            say("log:       \(deliveries) deliveries: \(label) p50 \(Self.ms(samples, 0.5)) p99 \(Self.ms(samples, 0.99))")
        }
    }

    /// Claims 100 at a time, 200 times, each claim's lease expiring at once so the rows stay due; returns p50 in µs.
    private func claimLatency(store: SQLiteStore, label: String, excluding: Set<String> = []) async throws -> Int64 {
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
        say("claim:     \(label): claim of 100 p50 \(Self.ms(samples, 0.5)) p99 \(Self.ms(samples, 0.99)) max \(Self.ms(samples, 1))")
        return samples[samples.count / 2]
    }

    // MARK: Helpers

    static func ms(_ sorted: [Int64], _ quantile: Double) -> String {
        guard !sorted.isEmpty else { return "-" }
        let index = min(sorted.count - 1, Int((Double(sorted.count) * quantile).rounded(.up)) - 1)
        return String(format: "%.2f ms", Double(sorted[max(0, index)]) / 1000)
    }

    /// VmHWM of this process, in MB.
    static func peakRSSMegabytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
        return kb / 1024
    }
}

extension Duration {
    var microseconds: Int64 {
        let (s, a) = components
        return s * 1_000_000 + a / 1_000_000_000_000
    }
}

/// Publish start times by event index, written once each from many tasks.
final class PublishTimes: Sendable {
    private let times: Mutex<[ContinuousClock.Instant?]>
    init(count: Int) { times = Mutex(Array(repeating: nil, count: count)) }
    func set(_ index: Int, _ instant: ContinuousClock.Instant) { times.withLock { $0[index] = instant } }
    func get(_ index: Int) -> ContinuousClock.Instant? { times.withLock { $0[index] } }
}

/// The publishing side: an HTTP client to the server's API.
struct BenchClient: Sendable {
    let base: String
    let key: String
    let http: HTTPClient

    init(base: String, key: String, connections: Int) {
        self.base = base
        self.key = key
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func post(_ path: String, _ body: String) async throws -> (status: Int, body: String) {
        try await send(.POST, path, body)
    }

    func patch(_ path: String, _ body: String) async throws -> (status: Int, body: String) {
        try await send(.PATCH, path, body)
    }

    private func send(_ method: NIOHTTP1.HTTPMethod, _ path: String, _ body: String) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1024 * 1024)
        return (Int(response.status.code), String(buffer: bytes))
    }
}

/// A minimal receiver on 127.0.0.1 that notes when each event (by `webhook-id` = `b<index>`) arrives.
final class BenchReceiver: Sendable {
    private struct State {
        var receipts: [(Int, ContinuousClock.Instant)] = []
        var expected = 0
        var last: ContinuousClock.Instant?
    }
    private let state = Mutex(State())
    private let done = Signal()

    func reset(expecting expected: Int) {
        state.withLock { s in
            s = State()
            s.expected = expected
            s.receipts.reserveCapacity(expected)
        }
    }

    func note(_ id: Substring?) {
        let now = ContinuousClock.now
        guard let id, id.first == "b", let index = Int(id.dropFirst()) else { return }
        let finished = state.withLock { s -> Bool in
            s.receipts.append((index, now))
            s.last = now
            return s.receipts.count == s.expected
        }
        if finished { done.signal() }
    }

    func receipts() -> [(Int, ContinuousClock.Instant)] { state.withLock { $0.receipts } }
    var lastReceived: ContinuousClock.Instant? { state.withLock { $0.last } }

    /// Waits for every expected delivery (or the timeout); returns how many arrived.
    func waitForAll(timeout: Duration) async -> Int {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [done] in await done.wait() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        return state.withLock { $0.receipts.count }
    }

    func run(logger: Logger, _ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.post("**") { [self] request, _ -> Response in
            self.note(request.headers[.init("webhook-id")!].map { Substring($0) })
            for try await _ in request.body {}
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }
        let ports = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { channel in
            ports.continuation.yield(channel.localAddress?.port ?? 0)
            ports.continuation.finish()
        }, logger: logger)
        let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = ports.stream.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw ConfigurationError("the receiver did not start") }
            do {
                try await body(port)
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }
}
