import BankHooksCore
import BankHooksStorage
import BankHooksTestSupport
import Testing

/// The Core policies (fan-out, held deliveries, disable announcements, failing streaks) as every
/// store must carry them out. Each test runs once per backend in `Backend.all`.
@Suite struct StorePolicyContractTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    /// A store with application `app_a` and the given webhooks.
    func store(_ backend: Backend, _ dir: TemporaryDirectory, webhooks: [(id: String, types: [String]?, format: String)]) async throws -> any Store {
        let store = try await backend.make(dir)
        try await store.createApplication(Application(id: "app_a", name: "A", environment: .sandbox, createdAt: t0))
        for webhook in webhooks {
            try await store.createWebhook(Webhook(
                id: webhook.id, applicationID: "app_a", url: "http://127.0.0.1:9/\(webhook.id)", eventTypes: webhook.types,
                format: webhook.format, secret: .generate(), createdAt: t0, updatedAt: t0))
        }
        return store
    }

    func request(_ id: String, type: String, formats: Set<String>? = nil, explicitOnly: Bool = false, only: String? = nil) -> PublishRequest {
        PublishRequest(
            applicationID: "app_a", eventID: id, idempotencyKey: nil, type: type, timestamp: t0, data: Array("{}".utf8), formats: formats,
            explicitOnly: explicitOnly, onlyWebhookID: only)
    }

    func receivers(_ store: any Store, _ eventID: String) async throws -> Set<String> {
        Set(try await store.deliveries(eventID: eventID, applicationID: "app_a").map(\.webhookID))
    }

    @Test(arguments: Backend.all)
    func publishFansOutByFormatExplicitTypesAndTarget(_ backend: Backend) async throws {
        let dir = TemporaryDirectory()
        let store = try await store(backend, dir, webhooks: [
            ("std_all", nil, "standard"), ("okra_all", nil, "okra"), ("std_link", ["bank_link.result"], "standard"),
        ])
        let results = try await store.publish([
            request("e1", type: "payment.updated", formats: ["standard"]),
            request("e2", type: "bank_link.result", explicitOnly: true),
            request("e3", type: "webhook.test", formats: ["standard"], explicitOnly: true, only: "okra_all"),
        ], now: t0)
        #expect(try await receivers(store, "e1") == ["std_all"], "okra cannot carry the type; std_link does not subscribe to it")
        #expect(try await receivers(store, "e2") == ["std_link"], "explicit-only: not to every-type subscriptions")
        #expect(try await receivers(store, "e3") == ["okra_all"], "a targeted publish reaches its webhook whatever it subscribes to")
        #expect(results[2].deliveryIDs.count == 1 && results[0].deliveryIDs.isEmpty)
        // A disabled target gets nothing.
        _ = try await store.updateWebhook(id: "okra_all", applicationID: "app_a", WebhookChange(isEnabled: false), now: t0)
        #expect(try await store.publish([request("e4", type: "webhook.test", only: "okra_all")], now: t0)[0].deliveryCount == 0)
    }

    /// Records one attempt of each due delivery with `outcome`.
    func attemptAll(_ store: any Store, at time: Timestamp, outcome: DeliveryOutcome) async throws {
        let claimed = try await store.claimDue(owner: "p/\(time.milliseconds)", now: time, leaseUntil: time.adding(.seconds(60)), limit: 100, excludingWebhooks: [])
        try await store.record(claimed.map {
            AttemptRecord(
                attempt: Attempt(deliveryID: $0.id, number: $0.attemptsMade + 1, startedAt: time, durationMicroseconds: 1,
                                 status: outcome == .succeeded ? 200 : 500, responseExcerpt: nil, errorKind: nil, errorMessage: nil),
                leaseOwner: $0.leaseOwner, webhookID: $0.webhook.id, outcome: outcome)
        }, releasing: [], now: time)
    }

    @Test(arguments: Backend.all)
    func aFailingStreakStartsAtTheFirstFailureAndEndsOnSuccessNewURLOrReEnable(_ backend: Backend) async throws {
        let dir = TemporaryDirectory()
        let store = try await store(backend, dir, webhooks: [("wh_1", nil, "standard")])
        let hour = Duration.seconds(3600)
        // Failures at t0 and t0+1h: the streak starts at t0 (a later failure keeps its start).
        _ = try await store.publish([request("e1", type: "payment.updated")], now: t0)
        try await attemptAll(store, at: t0, outcome: .retry(at: t0.adding(hour)))
        try await attemptAll(store, at: t0.adding(hour), outcome: .retry(at: t0.adding(hour * 2)))
        #expect(try await store.disableFailingWebhooks(failingSince: t0.adding(.seconds(-1)), now: t0.adding(hour)).isEmpty)
        // A success ends it.
        try await attemptAll(store, at: t0.adding(hour * 2), outcome: .succeeded)
        #expect(try await store.disableFailingWebhooks(failingSince: t0.adding(hour * 3), now: t0.adding(hour * 3)).isEmpty)
        // A new failing streak, then a new URL: the streak starts over.
        _ = try await store.publish([request("e2", type: "payment.updated")], now: t0.adding(hour * 3))
        try await attemptAll(store, at: t0.adding(hour * 3), outcome: .failed)
        _ = try await store.updateWebhook(id: "wh_1", applicationID: "app_a", WebhookChange(url: "http://127.0.0.1:9/new"), now: t0.adding(hour * 4))
        #expect(try await store.disableFailingWebhooks(failingSince: t0.adding(hour * 5), now: t0.adding(hour * 5)).isEmpty)
        // Another failure without a success: disabled for failing, announced once.
        _ = try await store.publish([request("e3", type: "payment.updated")], now: t0.adding(hour * 5))
        try await attemptAll(store, at: t0.adding(hour * 5), outcome: .failed)
        #expect(try await store.disableFailingWebhooks(failingSince: t0.adding(hour * 5), now: t0.adding(hour * 6)) == ["wh_1"])
        let unannounced = try await store.unannouncedDisabledWebhooks()
        #expect(unannounced.map(\.webhook.id) == ["wh_1"] && unannounced.first?.failingSince == t0.adding(hour * 5))
        #expect(unannounced.first?.webhook.disabledReason == DisableReason.failing.rawValue)
        try await store.markDisableAnnounced(webhookID: "wh_1", disabledAt: t0.adding(hour * 6))
        #expect(try await store.unannouncedDisabledWebhooks().isEmpty)
        // Enabling it again starts the streak over: the old failure does not disable it again.
        _ = try await store.updateWebhook(id: "wh_1", applicationID: "app_a", WebhookChange(isEnabled: true), now: t0.adding(hour * 7))
        #expect(try await store.disableFailingWebhooks(failingSince: t0.adding(hour * 8), now: t0.adding(hour * 8)).isEmpty)
    }

    @Test(arguments: Backend.all)
    func aManualDisableIsNotAnnouncedAndARetryAfterItIsHeld(_ backend: Backend) async throws {
        let dir = TemporaryDirectory()
        let store = try await store(backend, dir, webhooks: [("wh_1", nil, "standard")])
        _ = try await store.publish([request("e1", type: "payment.updated"), request("e2", type: "payment.updated")], now: t0)
        let claimed = try await store.claimDue(owner: "p/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 1, excludingWebhooks: [])
        _ = try await store.updateWebhook(id: "wh_1", applicationID: "app_a", WebhookChange(isEnabled: false), now: t0)
        #expect(try await store.unannouncedDisabledWebhooks().isEmpty, "whoever disabled it knows")
        // The in-flight delivery kept its lease through the disable; its retry is held when recorded.
        try await store.record([AttemptRecord(
            attempt: Attempt(deliveryID: claimed[0].id, number: 1, startedAt: t0, durationMicroseconds: 1, status: 500,
                             responseExcerpt: nil, errorKind: nil, errorMessage: nil),
            leaseOwner: "p/1", webhookID: "wh_1", outcome: .retry(at: t0))], releasing: [], now: t0)
        #expect(try await store.nextDueTime() == nil, "both are held")
        let shown = try #require(try await store.deliveries(applicationID: "app_a", of: .webhook("wh_1"), state: .pending, before: nil, limit: 10))
        #expect(shown.items.count == 2 && shown.items.allSatisfy { $0.state == .pending }, "held deliveries list as pending")
        _ = try await store.updateWebhook(id: "wh_1", applicationID: "app_a", WebhookChange(isEnabled: true), now: t0.adding(.seconds(5)))
        #expect(try await store.nextDueTime() == t0.adding(.seconds(5)), "enabling makes them due at once")
    }

    /// "Pending" is two stored codes (due and held): its pages are newest first across both,
    /// each page stops at its limit, and the cursor walks them without a gap or a repeat.
    @Test(arguments: Backend.all)
    func pendingPagesMergeDueAndHeldNewestFirst(_ backend: Backend) async throws {
        let dir = TemporaryDirectory()
        let store = try await store(backend, dir, webhooks: [("wh_1", nil, "standard")])
        _ = try await store.publish((1...5).map { request("e\($0)", type: "payment.updated") }, now: t0)
        let claimed = try await store.claimDue(owner: "p/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 2, excludingWebhooks: [])
        #expect(claimed.count == 2)
        // The three unclaimed are held by the disable; one claimed retry is held when recorded; the other stays due, leased.
        _ = try await store.updateWebhook(id: "wh_1", applicationID: "app_a", WebhookChange(isEnabled: false), now: t0)
        try await store.record([AttemptRecord(
            attempt: Attempt(deliveryID: claimed[0].id, number: 1, startedAt: t0, durationMicroseconds: 1, status: 500,
                             responseExcerpt: nil, errorKind: nil, errorMessage: nil),
            leaseOwner: "p/1", webhookID: "wh_1", outcome: .retry(at: t0))], releasing: [], now: t0)
        let all = try #require(try await store.deliveries(applicationID: "app_a", of: .webhook("wh_1"), state: nil, before: nil, limit: 10))
        var walked: [Int64] = [], before: Int64? = nil, pages = 0
        while true {
            let page = try #require(try await store.deliveries(applicationID: "app_a", of: .webhook("wh_1"), state: .pending, before: before, limit: 2))
            #expect(page.items.count <= 2 && page.items.allSatisfy { $0.state == .pending })
            walked += page.items.map(\.id)
            pages += 1
            guard page.hasMore, let last = page.items.last else { break }
            before = last.id
        }
        #expect(walked == all.items.map(\.id), "every pending delivery once, newest first")
        #expect(walked.count == 5 && pages == 3)
    }

    @Test(arguments: Backend.all)
    func aLaterCommitNeverSortsBelowAnEventAReaderWasGiven(_ backend: Backend) async throws {
        let dir = TemporaryDirectory()
        let store = try await store(backend, dir, webhooks: [])
        // A batch whose `now` was taken before another batch got the writer commits second.
        _ = try await store.publish([request("first", type: "a.b")], now: t0.adding(.milliseconds(10)))
        let firstPage = try await store.events(applicationID: "app_a", filter: EventFilter(), after: nil, limit: 1)
        _ = try await store.publish([request("late", type: "a.b")], now: t0)
        let page = try await store.events(applicationID: "app_a", filter: EventFilter(), after: nil, limit: 10)
        #expect(page.items.map(\.id) == ["late", "first"], "newest first is commit order: the late commit is above what the reader saw")
        #expect(page.items[0].createdAt == t0.adding(.milliseconds(10)), "its receipt time is the latest one, not before it")
        let after = try await store.events(applicationID: "app_a", filter: EventFilter(), after: EventCursor(after: try #require(firstPage.items.first)), limit: 10)
        #expect(after.items.isEmpty, "nothing appears below a key a reader was already given")
    }
}
