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

    let limit: Limit
    private let buckets = Mutex<[String: TokenBucket]>([:])
    private let origin = ContinuousClock.now

    public init(limit: Limit) {
        self.limit = limit
    }

    /// Takes one token for `key`; nil when allowed, otherwise how long until one is available.
    func take(_ key: String, now: ContinuousClock.Instant = .now) -> Duration? {
        let (s, a) = (now - origin).components
        let seconds = Double(s) + Double(a) / 1e18
        return buckets.withLock { buckets in
            if buckets.count > 100_000, buckets[key] == nil { buckets.removeAll() }
            let wait = buckets[key, default: TokenBucket(rate: limit.rate, burst: limit.burst, now: seconds)].take(now: seconds)
            return wait.map { .milliseconds(Int64(min(3_600_000, ($0 * 1000).rounded(.up)))) }
        }
    }
}
