import BankHooksCore
import Synchronization

/// A token bucket per API key: `rate` requests per second on average, up to `burst` at once.
/// Over the limit, a request is answered 429 with `Retry-After` (whole seconds until a token).
public final class RateLimiter: Sendable {
    public struct Limit: Sendable, Hashable {
        public var rate: Double
        public var burst: Double

        public init(rate: Double, burst: Double) {
            self.rate = rate
            self.burst = burst
        }
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let limit: Limit
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(limit: Limit) {
        self.limit = limit
    }

    /// Takes one token for `key`; nil when allowed, otherwise how long until one is available.
    func take(_ key: String, now: ContinuousClock.Instant = .now) -> Duration? {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: limit.burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(limit.burst, bucket.tokens + seconds * limit.rate)
            bucket.updated = now
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                if buckets.count > 100_000 { buckets.removeAll() }
                buckets[key] = bucket
                return nil
            }
            buckets[key] = bucket
            return .milliseconds(Int64(min(3_600_000, ((1 - bucket.tokens) / limit.rate * 1000).rounded(.up))))
        }
    }
}
