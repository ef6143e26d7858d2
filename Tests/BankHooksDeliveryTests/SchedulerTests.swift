import BankHooksCore
@testable import BankHooksDelivery
import BankHooksStorage
import Testing

/// The dispatch loop's scheduling state, without a store, tasks or clock: every bound, the queue
/// order, lease run-outs, token waits, the claim budget and the busy sets a claim excludes.
@Suite struct SchedulerTests {
    static let now = Timestamp(milliseconds: 1_700_000_000_000)
    static let secret = WebhookSecret.generate()

    /// A claimed delivery of `webhook` (of `application`) leased for `lease` from `now`.
    static func prepared(
        _ id: Int64, webhook: String, application: String = "app", rateLimit: Double? = nil, lease: Duration = .seconds(60)
    ) -> PreparedSend {
        let delivery = ClaimedDelivery(
            id: id, leaseOwner: "p/1", attemptsMade: 0, dueAt: now.adding(.milliseconds(id)), eventKey: id,
            event: OutboundEvent(id: "evt_\(id)", type: "t", timestamp: now, data: Array("{}".utf8)),
            webhook: ClaimedWebhook(
                id: webhook, applicationID: application, url: "http://127.0.0.1:1/", format: "standard",
                credentials: StoredCredentials(secret: secret.text), settings: DeliverySettings(rateLimit: rateLimit)))
        return PreparedSend(
            delivery: delivery, format: StandardWebhooksFormat(), body: [], credentials: SendCredentials(keys: [], bearerToken: nil, headers: []),
            leaseUntil: now.adding(lease))
    }

    static func scheduler(overall: Int = 8, perWebhook: Int = 2, perApplication: Int = 3, batchSize: Int = 8) -> DispatchScheduler {
        DispatchScheduler(limits: .init(overall: overall, perWebhook: perWebhook, perApplication: perApplication, batchSize: batchSize))
    }

    /// Pumps with unlimited tokens; returns the ids started and the ids given back.
    static func pump(_ scheduler: inout DispatchScheduler, at now: Timestamp = now) -> (started: [Int64], released: [Int64]) {
        var started: [Int64] = []
        let released = scheduler.pump(now: now, takeToken: { _, _, _ in nil }, start: { started.append($0.delivery.id) })
        return (started, released.map(\.id))
    }

    @Test func aWebhookRunsAtMostItsBoundAndItsQueueStartsInClaimOrder() {
        var scheduler = Self.scheduler(perWebhook: 2)
        let admitted = (1...5).map { scheduler.admit(Self.prepared($0, webhook: "w")) }
        #expect(admitted == [true, true, false, false, false])
        #expect(scheduler.inFlight(webhookID: "w") == 2)
        #expect(scheduler.queuedCount(webhookID: "w") == 3)
        #expect(Self.pump(&scheduler).started.isEmpty, "no room until one finishes")
        scheduler.finish(webhookID: "w", applicationID: "app")
        #expect(Self.pump(&scheduler).started == [3])
        scheduler.finish(webhookID: "w", applicationID: "app")
        scheduler.finish(webhookID: "w", applicationID: "app")
        #expect(Self.pump(&scheduler).started == [4, 5])
        #expect(scheduler.queuedCount(webhookID: "w") == 0)
        #expect(scheduler.inFlight == 2)
    }

    @Test func anApplicationRunsAtMostItsBoundOverAllItsWebhooks() {
        var scheduler = Self.scheduler(perWebhook: 2, perApplication: 3)
        #expect(scheduler.admit(Self.prepared(1, webhook: "a1", application: "A")) == true)
        #expect(scheduler.admit(Self.prepared(2, webhook: "a1", application: "A")) == true)
        #expect(scheduler.admit(Self.prepared(3, webhook: "a2", application: "A")) == true)
        #expect(scheduler.admit(Self.prepared(4, webhook: "a2", application: "A")) == false, "A is at 3 although a2 has room")
        #expect(scheduler.admit(Self.prepared(5, webhook: "b1", application: "B")) == true, "another application is not held up")
        #expect(scheduler.inFlight(applicationID: "A") == 3)
        scheduler.finish(webhookID: "a1", applicationID: "A")
        #expect(Self.pump(&scheduler).started == [4])
        #expect(scheduler.inFlight(applicationID: "A") == 3)
    }

    @Test func theWholeDispatcherRunsAtMostItsOverallBound() {
        var scheduler = Self.scheduler(overall: 3, perWebhook: 5, perApplication: 5)
        let admitted = (1...4).map { scheduler.admit(Self.prepared($0, webhook: "w\($0)", application: "app\($0)")) }
        #expect(admitted == [true, true, true, false])
        #expect(scheduler.grantSlot(webhookID: "x", applicationID: "y") == false, "a slot outside the loop counts against the same bound")
        scheduler.finish(webhookID: "w1", applicationID: "app1")
        #expect(scheduler.grantSlot(webhookID: "x", applicationID: "y") == true, "a waiting send gets the freed slot first")
        #expect(Self.pump(&scheduler).started.isEmpty)
        scheduler.finish(webhookID: "x", applicationID: "y")
        #expect(Self.pump(&scheduler).started == [4])
        #expect(scheduler.inFlight == 3)
    }

    @Test func grantedSlotsCountAgainstTheWebhookAndApplication() {
        var scheduler = Self.scheduler(perWebhook: 2, perApplication: 3)
        #expect(scheduler.grantSlot(webhookID: "w", applicationID: "app") == true)
        #expect(scheduler.grantSlot(webhookID: "w", applicationID: "app") == true)
        #expect(scheduler.grantSlot(webhookID: "w", applicationID: "app") == false)
        #expect(scheduler.admit(Self.prepared(1, webhook: "w")) == false, "the loop's delivery waits behind the granted slots")
        scheduler.finish(webhookID: "w", applicationID: "app")
        #expect(scheduler.inFlight(webhookID: "w") == 1)
    }

    @Test func aQueuedDeliveryWhoseLeaseWouldRunOutIsGivenBackNotSent() {
        var scheduler = Self.scheduler(perWebhook: 1)
        #expect(scheduler.admit(Self.prepared(1, webhook: "w")) == true)
        #expect(scheduler.admit(Self.prepared(2, webhook: "w", lease: .seconds(60))) == false)
        #expect(scheduler.admit(Self.prepared(3, webhook: "w", lease: .seconds(60))) == false)
        scheduler.finish(webhookID: "w", applicationID: "app")
        // 46 s on, 15 s of the format's deadline reach past the 60 s lease: both go back, none starts.
        let late = Self.pump(&scheduler, at: Self.now.adding(.seconds(46)))
        #expect(late.started.isEmpty)
        #expect(late.released == [2, 3])
        #expect(scheduler.inFlight == 0)
        #expect(scheduler.queuedCount(webhookID: "w") == 0)
    }

    @Test func aRateLimitedWebhookWaitsForItsTokenAndDoesNotUseTheClaimBudget() {
        var scheduler = Self.scheduler(overall: 8, perWebhook: 8, perApplication: 8, batchSize: 8)
        #expect(scheduler.admit(Self.prepared(1, webhook: "r", rateLimit: 1)) == false, "a rate-limited delivery always waits for its token")
        #expect(scheduler.admit(Self.prepared(2, webhook: "r", rateLimit: 1)) == false)
        var buckets = RateBuckets()
        var started: [Int64] = []
        let take = { (id: String, rate: Double, now: Timestamp) in buckets.take(webhookID: id, rate: rate, now: now) }
        _ = scheduler.pump(now: Self.now, takeToken: take, start: { started.append($0.delivery.id) })
        #expect(started == [1], "the bucket holds one token")
        #expect(scheduler.rateDue == Self.now.adding(.seconds(1)))
        // Seven free slots, one queued delivery that cannot use one: the claim may take all seven.
        #expect(scheduler.claimPlan(excluding: [])?.limit == 7)
        _ = scheduler.pump(now: Self.now.adding(.seconds(1)), takeToken: take, start: { started.append($0.delivery.id) })
        #expect(started == [1, 2])
        #expect(scheduler.rateDue == nil)
    }

    @Test func rateBucketsGiveOneSecondsWorthThenTheWait() {
        var buckets = RateBuckets()
        #expect(buckets.take(webhookID: "w", rate: 2, now: Self.now) == nil)
        #expect(buckets.take(webhookID: "w", rate: 2, now: Self.now) == nil)
        #expect(buckets.take(webhookID: "w", rate: 2, now: Self.now) == .milliseconds(500))
        #expect(buckets.take(webhookID: "w", rate: 4, now: Self.now) == nil, "a changed rate starts a full bucket")
        #expect(buckets.take(webhookID: "slow", rate: 0.000_001, now: Self.now) == nil)
        #expect(buckets.take(webhookID: "slow", rate: 0.000_001, now: Self.now) == .seconds(3600), "a wait is at most an hour")
    }

    @Test func theClaimBudgetWaitsForAQuarterOfTheSlotsUnlessNothingRuns() {
        var scheduler = Self.scheduler(overall: 8, perWebhook: 8, perApplication: 8, batchSize: 8)
        #expect(scheduler.claimPlan(excluding: [])?.limit == 8, "idle: a full batch")
        for id in 1...7 { #expect(scheduler.admit(Self.prepared(Int64(id), webhook: "w\(id)")) == true) }
        #expect(scheduler.claimPlan(excluding: []) == nil, "one free slot is below the threshold of two")
        scheduler.finish(webhookID: "w1", applicationID: "app")
        #expect(scheduler.claimPlan(excluding: [])?.limit == 2)
        // A delivery queued only for a global slot uses the budget.
        var full = Self.scheduler(overall: 2, perWebhook: 2, perApplication: 2, batchSize: 8)
        #expect(full.admit(Self.prepared(1, webhook: "a")) == true)
        #expect(full.admit(Self.prepared(2, webhook: "b", application: "other")) == true)
        #expect(full.admit(Self.prepared(3, webhook: "c", application: "third")) == false)
        #expect(full.claimPlan(excluding: []) == nil)
    }

    @Test func aClaimSkipsBusyWebhooksAndApplications() throws {
        var scheduler = Self.scheduler(overall: 16, perWebhook: 2, perApplication: 3, batchSize: 16)
        #expect(scheduler.admit(Self.prepared(1, webhook: "full", application: "A")) == true)
        #expect(scheduler.admit(Self.prepared(2, webhook: "full", application: "A")) == true)
        #expect(scheduler.admit(Self.prepared(3, webhook: "other", application: "A")) == true)
        #expect(scheduler.admit(Self.prepared(4, webhook: "queued", application: "B", rateLimit: 1)) == false)
        // Its token is a second away: it waits for that, not for a slot.
        _ = scheduler.pump(now: Self.now, takeToken: { _, _, _ in .seconds(1) }, start: { _ in Issue.record("nothing has a token") })
        let plan = try #require(scheduler.claimPlan(excluding: ["gone"]))
        #expect(plan.excludingWebhooks == ["full", "queued", "gone"])
        #expect(plan.excludingApplications == ["A"])
        #expect(plan.limit == 13)
    }

    @Test func changedAndShutdownQueuesGoBackDueWhenTheyWere() {
        var scheduler = Self.scheduler(perWebhook: 1)
        #expect(scheduler.admit(Self.prepared(1, webhook: "w")) == true)
        #expect(scheduler.admit(Self.prepared(2, webhook: "w")) == false)
        #expect(scheduler.admit(Self.prepared(3, webhook: "v")) == true, "another webhook has room")
        #expect(scheduler.admit(Self.prepared(4, webhook: "v")) == false)
        let dropped = scheduler.dropQueue(webhookID: "w")
        #expect(dropped == [ReleasedDelivery(id: 2, leaseOwner: "p/1", dueAt: Self.now.adding(.milliseconds(2)))])
        #expect(scheduler.dropQueue(webhookID: "w").isEmpty)
        #expect(scheduler.drainQueues().map(\.id) == [4])
        #expect(scheduler.queuedCount(webhookID: "v") == 0)
        #expect(scheduler.inFlight == 2, "requests in flight finish as they started")
    }
}
