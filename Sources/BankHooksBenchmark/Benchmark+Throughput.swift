import BankHooksCore
import BankHooksLoopback
import BankHooksServer
import BankHooksStorage
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

extension Benchmark {
    /// The master key every node of a run shares.
    static let benchMasterKey = SecretBox.generateKey()

    /// Where the webhooks send to.
    enum Destination: Sendable {
        /// The in-process receiver: each arrival is timed as it comes.
        case inProcess(LoopbackReceiver)
        /// A receiver the user runs: deliveries are read from the delivery log.
        case external(String)
    }

    /// Publishing throughput, ack latency and delivery throughput (and, in process, the latency from
    /// publish to delivery), then the bare-sender baseline against the same receiver.
    public func runThroughput() async throws {
        try await withDirectory("bankhooks-bench") { dir in
            let logger = { var l = Logger(label: "bench"); l.logLevel = .error; return l }()
            if let url = options.receiverURL {
                try await withServer(directory: dir, logger: logger) { clients in
                    let rate = try await measure(clients: clients, to: .external(url))
                    try await bareSender(url: url, deliveryRate: rate)
                }
            } else {
                try await LoopbackReceiver.run(mode: .arrivals) { receiver in
                    try await withServer(directory: dir, logger: logger) { clients in
                        let rate = try await measure(clients: clients, to: .inProcess(receiver))
                        try await bareSender(url: receiver.url("/bare"), deliveryRate: rate)
                    }
                }
            }
        }
    }

    /// Runs the server (`nodes` of them on one store) for the duration of `body`, which gets an API
    /// client with the admin key per node.
    private func withServer(directory: String, logger: Logger, _ body: @Sendable ([APIClient]) async throws -> Void) async throws {
        try await withStorage(directory, "bench.sqlite") { storage in
            try await withNodes(storage: storage, logger: logger, started: [], body)
        }
    }

    /// Starts node `started.count` and then the rest, each on its own port; runs `body` once all listen.
    private func withNodes(
        storage: StorageConfiguration, logger: Logger, started ports: [Int], _ body: @Sendable ([APIClient]) async throws -> Void
    ) async throws {
        let adminKey = "bhk_bench_" + String(repeating: "b", count: 32)
        var configuration = ServerConfiguration()
        configuration.storage = storage
        // Several nodes share one key, as they would share one database.
        configuration.masterKey = Self.benchMasterKey
        configuration.dispatcher.owner = ServerConfiguration.defaultOwner() + "-n\(ports.count)"
        configuration.port = 0
        configuration.adminKey = adminKey
        // The benchmark measures the engine, not the per-key request limit.
        configuration.keyRateLimit = nil
        // The in-process receiver listens on 127.0.0.1; a receiver the user runs may be on any loopback address.
        let destinations = options.receiverURL == nil ? ["127.0.0.1/32"] : ["127.0.0.0/8", "::1/128"]
        configuration.allowedDestinations = destinations.compactMap { AddressRange($0) }
        configuration.dispatcher.maxInFlight = options.maxInFlight
        configuration.dispatcher.maxInFlightPerWebhook = options.maxInFlightPerWebhook
        // All webhooks belong to one application: it gets the whole dispatcher, as every figure
        // in BENCHMARKS.md from before the per-application bound did.
        configuration.dispatcher.maxInFlightPerApplication = options.maxInFlight
        configuration.sender.connectionsPerHost = options.maxInFlight
        let publishers = options.publishers
        try await LoopbackService.run(logger: logger, notStarted: ConfigurationError("the server did not start")) { listening in
            try await buildApplication(configuration, logger: logger, announce: { _ in }, onListening: { address in listening(address?.port ?? 0) })
        } _: { serverPort in
            let ports = ports + [serverPort]
            guard ports.count == options.nodes else {
                return try await withNodes(storage: storage, logger: logger, started: ports, body)
            }
            let http = APIClient.makeHTTPClient(connections: publishers)
            do {
                try await body(ports.map { APIClient(baseURL: "http://127.0.0.1:\($0)", key: adminKey, http: http) })
            } catch {
                try? await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }

    /// Creates the webhooks, publishes every event and waits for every delivery; returns deliveries per second.
    private func measure(clients: [APIClient], to destination: Destination) async throws -> Double {
        let client = clients[0]
        let limit = try await client.call(.PATCH, "/v1/applications/\(defaultApplicationID)", body: #"{"webhook_limit": \#(options.webhooks)}"#)
        guard limit.status == 200 else { throw ConfigurationError("raising the webhook limit failed: \(limit.status) \(limit.text)") }
        var webhookIDs: [String] = []
        for i in 0..<options.webhooks {
            let url: String
            switch destination {
            case .inProcess(let receiver): url = receiver.url("/hook/\(i)")
            case .external(let external): url = external
            }
            let reply = try await client.call(.POST, "/v1/webhooks", body: #"{"url": "\#(url)"}"#)
            guard reply.status == 201, let id = reply.json?["id"] as? String else {
                throw ConfigurationError("creating a webhook failed: \(reply.status) \(reply.text)")
            }
            webhookIDs.append(id)
        }
        let total = options.events
        let expected = total * options.webhooks
        say("bench: \(total) events x \(options.webhooks) webhooks, \(options.payloadBytes) B payloads, "
            + (options.rate > 0 ? "\(options.rate) events/s offered" : "as fast as possible") + ", \(options.publishers) publishers, \(backendName)")
        if case .inProcess(let receiver) = destination { receiver.reset(expecting: expected) }
        let publishStarts = PublishTimes(count: total)
        let start = ContinuousClock.now
        let (acks, failures) = await publishAll(clients: clients, start: start, publishStarts: publishStarts)
        let publishElapsed = ContinuousClock.now - start
        say(String(format: "publish:   %d acked (%d failed) in %.2f s = %.0f acks/s; ack latency p50 %@ p99 %@ p99.9 %@",
                   acks.count, failures, publishElapsed.secondsDouble, Double(acks.count) / publishElapsed.secondsDouble,
                   Quantiles.ms(acks, 0.5), Quantiles.ms(acks, 0.99), Quantiles.ms(acks, 0.999)))
        let delivered: Int
        let deliverElapsed: Duration
        switch destination {
        case .inProcess(let receiver):
            delivered = await receiver.waitForAll(timeout: .seconds(600))
            deliverElapsed = (receiver.lastReceived ?? .now) - start
        case .external:
            (delivered, deliverElapsed) = try await deliveredThroughLog(client: client, webhookIDs: webhookIDs, start: start, timeout: .seconds(600))
        }
        say(String(format: "delivery:  %d of %d delivered in %.2f s = %.0f deliveries/s", delivered, expected,
                   deliverElapsed.secondsDouble, Double(delivered) / deliverElapsed.secondsDouble)
            + (clients.count > 1 ? String(format: " (%.0f per node, %d nodes)", Double(delivered) / deliverElapsed.secondsDouble / Double(clients.count), clients.count) : ""))
        switch destination {
        case .inProcess(let receiver):
            var endToEnd: [Int64] = []
            endToEnd.reserveCapacity(expected)
            for (index, receivedAt) in receiver.receipts() {
                guard index < total, let sent = publishStarts.get(index) else { continue }
                endToEnd.append((receivedAt - sent).microseconds)
            }
            endToEnd.sort()
            say("latency:   publish -> delivered p50 \(Quantiles.ms(endToEnd, 0.5)) p99 \(Quantiles.ms(endToEnd, 0.99)) p99.9 \(Quantiles.ms(endToEnd, 0.999))")
        case .external:
            say("latency:   publish -> delivered not measured (external receiver: delivered means succeeded in the delivery log, "
                + "timed to the poll that found none pending, every \(Self.logPollInterval.wholeMilliseconds) ms)")
        }
        say("memory:    peak RSS \(Quantiles.peakRSSMegabytes()) MB")
        return Double(delivered) / deliverElapsed.secondsDouble
    }

    /// The publishing clients: each takes the next event index until all are sent (paced when
    /// `rate` is set); returns the sorted ack latencies in µs and the number of failed publishes.
    private func publishAll(clients: [APIClient], start: ContinuousClock.Instant, publishStarts: PublishTimes) async -> ([Int64], Int) {
        let filler = String(repeating: "x", count: max(0, options.payloadBytes - 40))
        let total = options.events
        let ackLatencies = Locked([Int64]())
        let next = Locked(0)
        let failures = Locked(0)
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
                        // Round-robin over the nodes.
                        let reply = try? await clients[index % clients.count].call(.POST, "/v1/events", body: body)
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
        return (ackLatencies.value.sorted(), failures.value)
    }
}
