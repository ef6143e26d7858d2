import BankHooksBenchmark
import BankHooksTestSupport
import Testing

/// The dashboard's page-time benchmark with a small store: it signs in, every page answers 200
/// with its Server-Timing, and each is reported (the figures themselves are not checked here).
@Suite struct DashboardBenchmarkTests {
    @Test func everyPageIsTimedOnALoadedStore() async throws {
        var options = BenchmarkTests.options(events: 0, webhooks: 3)
        options.payloadBytes = 32
        let lines = try await BenchmarkTests.lines(options) { try await $0.runDashboard(deliveries: 300, samples: 2) }
        #expect(lines.contains { $0.hasPrefix("dashboard: 300 deliveries over 3 webhooks") }, "\(lines)")
        let pages = lines.filter { $0.hasPrefix("page:      /dashboard/") }
        #expect(pages.count == 14, "\(lines)")
        #expect(pages.allSatisfy { $0.contains("server p50 ") && $0.contains("last byte p50 ") })
        #expect(lines.last?.hasPrefix("dashboard: slowest page p99 ") == true)
    }
}
