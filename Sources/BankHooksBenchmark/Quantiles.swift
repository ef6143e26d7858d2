import Foundation
import Synchronization

/// How the benchmark reports what it measured.
enum Quantiles {
    /// The `quantile` of sorted µs samples, in ms with two decimals ("-" when there are none).
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
