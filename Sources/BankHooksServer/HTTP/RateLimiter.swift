import BankHooksCore
import Synchronization

/// Token buckets per API key and per application: each key may make `rate` requests per second on
/// average, up to `burst` at once, and so may all the keys of one application together (so more
/// keys do not give more rate). Over either limit, a request is answered 429 with `Retry-After`
/// (whole seconds until a token) and takes no token from either bucket.
public final class RateLimiter: Sendable {
    public struct Limit: Sendable, Hashable {
        public var rate: Double
        public var burst: Double

        public init(rate: Double, burst: Double) {
            self.rate = rate
            self.burst = burst
        }
    }

    /// Which bucket refused a request.
    enum Scope: Sendable {
        case key
        case application
    }

    /// The limit of each key; nil for none.
    let keyLimit: Limit?
    /// The limit of each application, all its keys together; nil for none.
    let applicationLimit: Limit?
    private struct Buckets {
        var keys: [String: TokenBucket] = [:]
        var applications: [String: TokenBucket] = [:]
    }
    /// Both kinds under one lock: a request takes it once.
    private let buckets = Mutex(Buckets())
    private let origin = ContinuousClock.now

    public init(key keyLimit: Limit?, application applicationLimit: Limit?) {
        self.keyLimit = keyLimit
        self.applicationLimit = applicationLimit
    }

    /// A limiter per key only.
    public convenience init(limit: Limit) {
        self.init(key: limit, application: nil)
    }

    /// Takes one token for `key` and one for its `application`; nil when allowed, otherwise how long
    /// until both have one and which refused.
    func take(key: String, application: String, now: ContinuousClock.Instant = .now) -> (wait: Duration, scope: Scope)? {
        let seconds = (now - origin).secondsDouble
        func wait(_ seconds: Double) -> Duration { .milliseconds(Int64(min(3_600_000, (seconds * 1000).rounded(.up)))) }
        return buckets.withLock { buckets in
            // Taken on copies, kept only when both allow: a refused request costs neither bucket.
            var keyBucket: TokenBucket?
            if let keyLimit {
                if buckets.keys.count > 100_000, buckets.keys[key] == nil { buckets.keys.removeAll() }
                var bucket = buckets.keys[key] ?? TokenBucket(rate: keyLimit.rate, burst: keyLimit.burst, now: seconds)
                if let seconds = bucket.take(now: seconds) { return (wait(seconds), .key) }
                keyBucket = bucket
            }
            if let applicationLimit {
                if buckets.applications.count > 100_000, buckets.applications[application] == nil { buckets.applications.removeAll() }
                var bucket = buckets.applications[application]
                    ?? TokenBucket(rate: applicationLimit.rate, burst: applicationLimit.burst, now: seconds)
                if let seconds = bucket.take(now: seconds) { return (wait(seconds), .application) }
                buckets.applications[application] = bucket
            }
            if let keyBucket { buckets.keys[key] = keyBucket }
            return nil
        }
    }
}
