import BankHooksBenchmark
import BankHooksCore
import BankHooksTestSupport
import Foundation
import Testing

/// The benchmark, with small numbers, against real receivers on 127.0.0.1 (figures are not checked:
/// only that every delivery is counted and every line is reported).
@Suite struct BenchmarkTests {
    static func options(events: Int, webhooks: Int) -> Benchmark.Options {
        var options = Benchmark.Options()
        options.events = events
        options.webhooks = webhooks
        options.payloadBytes = 64
        options.publishers = 4
        options.bareRequests = 0
        options.durability = .normal
        return options
    }

    /// Runs `body` with a benchmark whose lines are collected; returns them.
    static func lines(_ options: Benchmark.Options, _ body: @Sendable (Benchmark) async throws -> Void) async throws -> [String] {
        let lines = Locked([String]())
        try await body(Benchmark(options: options, say: { line in lines.withLock { $0.append(line) } }))
        return lines.value
    }

    @Test func externalReceiverGetsEveryDeliveryCountedThroughTheLog() async throws {
        try await TestReceiver.run { receiver in
            var options = Self.options(events: 40, webhooks: 2)
            options.receiverURL = receiver.url("/external")
            options.bareRequests = 5
            let lines = try await Self.lines(options) { try await $0.runThroughput() }
            #expect(lines.contains { $0.hasPrefix("publish:   40 acked (0 failed)") })
            #expect(lines.contains { $0.hasPrefix("delivery:  80 of 80 delivered") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("latency:   publish -> delivered not measured (external receiver") })
            #expect(lines.contains { $0.hasPrefix("bare:      5 requests") })
            // Every event reached the receiver once per webhook, at the URL given (plus the bare requests).
            let hooks = receiver.requests.filter { $0.header("webhook-id") != nil }
            #expect(hooks.count == 80)
            #expect(Set(hooks.map(\.path)) == ["/external"])
            let perEvent = Dictionary(grouping: hooks, by: { $0.header("webhook-id") ?? "" }).mapValues(\.count)
            #expect(perEvent == Dictionary(uniqueKeysWithValues: (0..<40).map { ("b\($0)", 2) }))
            #expect(receiver.requests.count == 85)
        }
    }

    @Test func inProcessReceiverTimesEveryArrival() async throws {
        var options = Self.options(events: 30, webhooks: 3)
        options.bareRequests = 10
        let lines = try await Self.lines(options) { try await $0.runThroughput() }
        #expect(lines.first == "bench: 30 events x 3 webhooks, 64 B payloads, as fast as possible, 4 publishers, durability normal")
        #expect(lines.contains { $0.hasPrefix("delivery:  90 of 90 delivered") }, "\(lines)")
        let latency = try #require(lines.first { $0.hasPrefix("latency:   publish -> delivered p50 ") })
        #expect(!latency.contains(" - "), "every arrival is matched to its publish: \(latency)")
        #expect(lines.contains { $0.hasPrefix("bare:      10 requests") })
        #expect(lines.contains { $0.hasPrefix("memory:    peak RSS ") })
    }

    @Test func backlogOpensItsStoresThroughTheStorageConfiguration() async throws {
        let directory = TemporaryDirectory()
        var options = Self.options(events: 0, webhooks: 2)
        options.directory = directory.path
        let lines = try await Self.lines(options) { try await $0.runBacklog(backlog: 2000) }
        #expect(lines.filter { $0.hasPrefix("claim:     ") }.count == 3, "\(lines)")
        #expect(lines.filter { $0.hasPrefix("log:       ") }.count == 12)
        #expect(lines.contains { $0.hasPrefix("backlog:   loaded 2000 pending deliveries") })
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(files.contains("empty.sqlite") && files.contains("backlog.sqlite"))
    }
}
