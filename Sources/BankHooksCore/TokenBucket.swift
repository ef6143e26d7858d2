/// A token bucket: `rate` tokens per second, holding at most `burst`. Time is in seconds on any
/// monotonic or wall clock the owner chooses.
public struct TokenBucket: Sendable {
    public let rate: Double
    public let burst: Double
    private var tokens: Double
    private var updated: Double

    /// A full bucket at `now`.
    public init(rate: Double, burst: Double, now: Double) {
        self.rate = rate
        self.burst = burst
        tokens = burst
        updated = now
    }

    /// Takes one token at `now`: nil when taken, otherwise the seconds until one is available.
    public mutating func take(now: Double) -> Double? {
        if now > updated {
            tokens = min(burst, tokens + (now - updated) * rate)
            updated = now
        }
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return (1 - tokens) / rate
    }
}
