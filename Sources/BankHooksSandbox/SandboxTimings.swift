/// How long the sandbox takes for what it does: the delays between a link and the events it sets
/// off, a payment's settlement, a slow login, and the lifetimes of what it hands out. The defaults
/// are the design's ("What a link sets off"); tests and the demo shorten them (`demo`).
public struct SandboxTimings: Sendable, Hashable {
    /// Okra `TRANSACTIONS.INITIAL_TRANSACTIONS` after a link (1 s).
    public var okraInitialTransactions: Duration
    /// Okra `BALANCE.PRODUCT_IS_READY` and `IDENTITY.PRODUCT_IS_READY` after a link (2 s).
    public var okraBalanceIdentity: Duration
    /// Okra `TRANSACTIONS.FULL_TRANSACTIONS` and `INCOME.PRODUCT_IS_READY` after a link (4 s).
    public var okraFullTransactions: Duration
    /// Lean `results.ready` after a link (2 s).
    public var leanResultsReady: Duration
    /// Bridge `item.refreshed` and `item.account.created` after a link (1 s).
    public var bridgeRefresh: Duration
    /// A Lean beneficiary is `AWAITING_BENEFICIARY_COOL_OFF` this long, then `ACTIVE` (5 s).
    public var beneficiaryCoolOff: Duration
    /// A payment reaches its outcome this long after it is created (2 s).
    public var paymentSettlement: Duration
    /// How long the `slow` login's redirect waits (3 s).
    public var slowLogin: Duration
    /// How long an authorisation may be completed after it is created (30 min).
    public var authorisationLifetime: Duration
    /// How long a one-time token can be exchanged (10 min).
    public var oneTimeTokenLifetime: Duration
    /// How long a consent lasts (90 days).
    public var consentLifetime: Duration

    /// The defaults.
    public init() {
        okraInitialTransactions = .seconds(1)
        okraBalanceIdentity = .seconds(2)
        okraFullTransactions = .seconds(4)
        leanResultsReady = .seconds(2)
        bridgeRefresh = .seconds(1)
        beneficiaryCoolOff = .seconds(5)
        paymentSettlement = .seconds(2)
        slowLogin = .seconds(3)
        authorisationLifetime = .seconds(30 * 60)
        oneTimeTokenLifetime = .seconds(10 * 60)
        consentLifetime = .seconds(90 * 24 * 60 * 60)
    }

    /// Every delay at most 500 ms (in the defaults' order), for the demo and tests; the
    /// lifetimes keep their defaults.
    public static let demo: SandboxTimings = {
        var timings = SandboxTimings()
        timings.okraInitialTransactions = .milliseconds(100)
        timings.okraBalanceIdentity = .milliseconds(200)
        timings.okraFullTransactions = .milliseconds(400)
        timings.leanResultsReady = .milliseconds(200)
        timings.bridgeRefresh = .milliseconds(100)
        timings.beneficiaryCoolOff = .milliseconds(500)
        timings.paymentSettlement = .milliseconds(200)
        timings.slowLogin = .milliseconds(300)
        return timings
    }()
}
