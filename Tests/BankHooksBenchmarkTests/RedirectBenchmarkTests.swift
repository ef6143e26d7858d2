import BankHooksBenchmark
import BankHooksCore
import BankHooksTestSupport
import Foundation
import Testing

/// `bench --redirect` with small numbers: every authorisation is created, its page opened and its
/// form posted to a 302 (figures are not checked, only that each step is counted and reported).
@Suite struct RedirectBenchmarkTests {
    static func options(publishers: Int, rate: Int = 0) -> Benchmark.Options {
        var options = Benchmark.Options()
        options.publishers = publishers
        options.rate = rate
        options.durability = .normal
        return options
    }

    @Test func everyAuthorisationIsCompletedThroughTheFormAndTimed() async throws {
        let lines = try await BenchmarkTests.lines(Self.options(publishers: 4)) { try await $0.runRedirect(authorisations: 24) }
        #expect(lines.first == "redirect:  24 authorisations at leanmb1, 4 clients, as fast as possible, durability normal", "\(lines)")
        #expect(lines.contains { $0.hasPrefix("create:    24 authorisations in ") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("page:      24 consent pages opened in ") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("redirect:  24 consent-form POSTs -> 302 (0 failed) in ") }, "\(lines)")
        let latency = try #require(lines.first { $0.hasPrefix("latency:   POST -> 302 p50 ") })
        #expect(!latency.contains(" - "), "every POST was timed: \(latency)")
        // Every 302 said its server time: all 24 are in the server's quantiles.
        let server = try #require(lines.first { $0.hasPrefix("server:    POST -> 302 p50 ") })
        #expect(server.hasSuffix("24 answers)") && !server.contains(" - "), "\(server)")
        #expect(!lines.contains { $0.hasPrefix("failures:") }, "\(lines)")
    }

    @Test func aRateSpacesTheCompletions() async throws {
        // 10 completions at 20/s take at least 9/20 s.
        let lines = try await BenchmarkTests.lines(Self.options(publishers: 4, rate: 20)) { try await $0.runRedirect(authorisations: 10) }
        let line = try #require(lines.first { $0.hasPrefix("redirect:  10 consent-form POSTs -> 302 (0 failed) in ") }, "\(lines)")
        let seconds = try #require(line.split(separator: " ").first { Double($0) != nil && $0.contains(".") }.flatMap { Double($0) })
        #expect(seconds >= 0.45, "\(line)")
    }
}
