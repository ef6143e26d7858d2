import BankHooksCore
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Testing

/// A backend under test: makes a fresh, empty store.
struct Backend: CustomTestStringConvertible, Sendable {
    var name: String
    var make: @Sendable (TemporaryDirectory) async throws -> any Store
    var testDescription: String { name }

    /// Every backend the contract runs against.
    static let all: [Backend] = [
        Backend(name: "sqlite") { dir in try SQLiteStore(path: dir.file("store.sqlite")) },
        Backend(name: "postgres") { _ in try await TestPostgres.freshStore() },
    ]
}

/// The contract every store must keep. Each test runs once per backend in `Backend.all`.
@Suite struct StoreContractTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    /// A store with an application `app_a` and the given webhooks (URL irrelevant here).
    func fixture(_ backend: Backend, webhooks: [(id: String, types: [String]?, enabled: Bool)] = [("wh_1", nil, true)]) async throws -> (any Store, TemporaryDirectory) {
        let dir = TemporaryDirectory()
        let store = try await backend.make(dir)
        try await store.createApplication(Application(id: "app_a", name: "A", environment: .sandbox, createdAt: t0))
        try await store.createApplication(Application(id: "app_b", name: "B", environment: .sandbox, createdAt: t0))
        for webhook in webhooks {
            try await store.createWebhook(Webhook(
                id: webhook.id, applicationID: "app_a", url: "http://127.0.0.1:9/\(webhook.id)", eventTypes: webhook.types,
                secret: .generate(), isEnabled: webhook.enabled, createdAt: t0, updatedAt: t0))
        }
        return (store, dir)
    }

    func request(_ id: String, type: String = "payment.updated", key: String? = nil, app: String = "app_a") -> PublishRequest {
        PublishRequest(applicationID: app, eventID: id, idempotencyKey: key, type: type, timestamp: t0, data: Array(#"{"n": 1}"#.utf8))
    }

    @Test(arguments: Backend.all)
    func publishFansOutToEnabledSubscribedWebhooksOnly(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend, webhooks: [
            ("wh_all", nil, true), ("wh_pay", ["payment.updated"], true), ("wh_other", ["entity.created"], true), ("wh_off", nil, false),
        ])
        _ = dir
        let results = try await store.publish([request("e1"), request("e2", type: "entity.created")], now: t0)
        #expect(results.map(\.deliveryCount) == [2, 2])
        #expect(results.allSatisfy { !$0.isReplay })
        let deliveries = try await store.deliveries(eventID: "e1", applicationID: "app_a")
        #expect(Set(deliveries.map(\.webhookID)) == ["wh_all", "wh_pay"])
        #expect(deliveries.allSatisfy { $0.state == .pending && $0.attempts == 0 && $0.nextAttemptAt == t0 })
        let event = try #require(try await store.event(id: "e1", applicationID: "app_a"))
        #expect(String(decoding: event.data, as: UTF8.self) == #"{"n": 1}"#)
        #expect(try await store.event(id: "e1", applicationID: "app_b") == nil)
    }

    @Test(arguments: Backend.all)
    func repeatedIdOrIdempotencyKeyReturnsTheFirstResultAndCreatesNothing(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        let first = try await store.publish([request("e1", key: "k1")], now: t0)[0]
        // Same id, same key, and both inside one batch.
        let again = try await store.publish([request("e1"), request("e9", key: "k1"), request("e2"), request("e2")], now: t0)
        #expect(again[0] == PublishResult(eventID: "e1", type: first.type, timestamp: first.timestamp, deliveryCount: 1, isReplay: true))
        #expect(again[1].eventID == "e1" && again[1].isReplay)
        #expect(!again[2].isReplay && again[3].isReplay && again[3].eventID == "e2")
        #expect(try await store.event(id: "e9", applicationID: "app_a") == nil)
        #expect(try await store.deliveryCounts()[.pending] == 2)
        // Ids are scoped to the application.
        let other = try await store.publish([request("e1", app: "app_b")], now: t0)
        #expect(!other[0].isReplay)
    }

    @Test(arguments: Backend.all)
    func claimLeasesDueDeliveriesUntilTheLeaseExpires(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        _ = try await store.publish((1...5).map { request("e\($0)") }, now: t0)
        let lease = t0.adding(.seconds(60))
        let first = try await store.claimDue(owner: "a", now: t0, leaseUntil: lease, limit: 3, excludingWebhooks: [])
        #expect(first.count == 3)
        #expect(first[0].event.type == "payment.updated" && first[0].webhook.id == "wh_1" && first[0].attemptsMade == 0)
        #expect(String(decoding: first[0].event.data, as: UTF8.self) == #"{"n": 1}"#)
        let second = try await store.claimDue(owner: "b", now: t0, leaseUntil: lease, limit: 10, excludingWebhooks: [])
        #expect(second.count == 2)
        #expect(Set(first.map(\.id)).isDisjoint(with: second.map(\.id)))
        #expect(try await store.claimDue(owner: "c", now: t0.adding(.seconds(59)), leaseUntil: lease, limit: 10, excludingWebhooks: []).isEmpty)
        #expect(try await store.nextDueTime() == lease)
        // The owners died: after the lease, everything is claimable again.
        let reclaimed = try await store.claimDue(owner: "c", now: lease, leaseUntil: lease.adding(.seconds(60)), limit: 10, excludingWebhooks: [])
        #expect(reclaimed.count == 5)
    }

    @Test(arguments: Backend.all)
    func claimSkipsExcludedWebhooks(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend, webhooks: [("wh_1", nil, true), ("wh_2", nil, true)])
        _ = dir
        _ = try await store.publish([request("e1"), request("e2")], now: t0)
        let claimed = try await store.claimDue(owner: "a", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 10, excludingWebhooks: ["wh_1"])
        #expect(claimed.count == 2)
        #expect(claimed.allSatisfy { $0.webhook.id == "wh_2" })
    }

    @Test(arguments: Backend.all)
    func aBusyWebhooksBacklogDoesNotHideOtherWebhooksWork(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend, webhooks: [("wh_busy", ["bulk"], true), ("wh_other", ["other"], true)])
        _ = dir
        // 3,000 deliveries for the busy webhook are due first; the other webhook's 5 come after them.
        _ = try await store.publish((0..<3000).map { request("bulk\($0)", type: "bulk") }, now: t0)
        _ = try await store.publish((0..<5).map { request("other\($0)", type: "other") }, now: t0.adding(.seconds(1)))
        let later = t0.adding(.seconds(2))
        let claimed = try await store.claimDue(owner: "p/1", now: later, leaseUntil: later.adding(.seconds(60)), limit: 100, excludingWebhooks: ["wh_busy"])
        #expect(claimed.count == 5)
        #expect(claimed.allSatisfy { $0.webhook.id == "wh_other" })
        // Without the exclusion, the earliest work comes first.
        let all = try await store.claimDue(owner: "p/2", now: later, leaseUntil: later.adding(.seconds(60)), limit: 100, excludingWebhooks: [])
        #expect(all.count == 100 && all.allSatisfy { $0.webhook.id == "wh_busy" })
    }

    @Test(arguments: Backend.all)
    func recordSetsStateAndKeepsEveryAttempt(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        _ = try await store.publish([request("ok"), request("retry"), request("fail")], now: t0)
        let claimed = try await store.claimDue(owner: "a/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 10, excludingWebhooks: [])
        #expect(claimed.allSatisfy { $0.leaseOwner == "a/1" })
        let byEvent = Dictionary(uniqueKeysWithValues: claimed.map { ($0.event.id, $0) })
        func attempt(_ id: String, _ status: Int) -> Attempt {
            Attempt(deliveryID: byEvent[id]!.id, number: 1, startedAt: t0, durationMicroseconds: 1500, status: status,
                    responseExcerpt: "body", errorKind: nil, errorMessage: nil)
        }
        let retryAt = t0.adding(.seconds(5))
        try await store.record([
            AttemptRecord(attempt: attempt("ok", 200), leaseOwner: "a/1", webhookID: "wh_1", outcome: .succeeded),
            AttemptRecord(attempt: attempt("retry", 500), leaseOwner: "a/1", webhookID: "wh_1", outcome: .retry(at: retryAt)),
            AttemptRecord(attempt: attempt("fail", 400), leaseOwner: "a/1", webhookID: "wh_1", outcome: .failed),
        ], releasing: [], now: t0)
        func delivery(_ event: String) async throws -> Delivery {
            try #require(try await store.deliveries(eventID: event, applicationID: "app_a").first)
        }
        #expect(try await delivery("ok").state == .succeeded)
        #expect(try await delivery("fail").state == .failed)
        let retrying = try await delivery("retry")
        #expect(retrying.state == .pending && retrying.nextAttemptAt == retryAt && retrying.attempts == 1 && retrying.lastStatus == 500)
        let attempts = try await store.attempts(deliveryID: retrying.id)
        #expect(attempts.map { var a = $0; a.id = nil; return a } == [attempt("retry", 500)])
        #expect(attempts.first?.id != nil, "a recorded attempt has its id")
        #expect(try await store.nextDueTime() == retryAt)
        let again = try await store.claimDue(owner: "a", now: retryAt, leaseUntil: retryAt.adding(.seconds(60)), limit: 10, excludingWebhooks: [])
        #expect(again.map(\.event.id) == ["retry"])
        #expect(again[0].attemptsMade == 1)
    }

    func attempt(_ deliveryID: Int64, status: Int, number: Int = 1) -> Attempt {
        Attempt(deliveryID: deliveryID, number: number, startedAt: t0, durationMicroseconds: 1, status: status, responseExcerpt: nil, errorKind: nil, errorMessage: nil)
    }

    @Test(arguments: Backend.all)
    func aStaleClaimCannotOverwriteANewerOneEvenInTheSameProcess(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        _ = try await store.publish([request("e1")], now: t0)
        let old = try await store.claimDue(owner: "p/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 1, excludingWebhooks: [])[0]
        let later = t0.adding(.seconds(61))
        let new = try await store.claimDue(owner: "p/2", now: later, leaseUntil: later.adding(.seconds(60)), limit: 1, excludingWebhooks: [])
        #expect(new.map(\.id) == [old.id])
        try await store.record([AttemptRecord(attempt: attempt(old.id, status: 200), leaseOwner: "p/1", webhookID: "wh_1", outcome: .succeeded)], releasing: [], now: later)
        try await store.record([], releasing: [ReleasedDelivery(id: old.id, leaseOwner: "p/1", dueAt: t0)], now: later)
        let delivery = try #require(try await store.deliveries(eventID: "e1", applicationID: "app_a").first)
        #expect(delivery.state == .pending, "the newer claim stands")
        #expect(try await store.claimDue(owner: "p/3", now: later, leaseUntil: later, limit: 1, excludingWebhooks: []).isEmpty, "and keeps its lease")
        #expect(try await store.attempts(deliveryID: old.id).count == 1, "the attempt happened and is kept")
    }

    @Test(arguments: Backend.all)
    func anAttemptForADeletedDeliveryDoesNotSinkTheBatch(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend, webhooks: [("wh_1", nil, true), ("wh_2", nil, true)])
        _ = dir
        _ = try await store.publish([request("e1")], now: t0)
        let claimed = try await store.claimDue(owner: "p/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 10, excludingWebhooks: [])
        let gone = try #require(claimed.first { $0.webhook.id == "wh_1" }), kept = try #require(claimed.first { $0.webhook.id == "wh_2" })
        #expect(try await store.deleteWebhook(id: "wh_1", applicationID: "app_a"))
        try await store.record([
            AttemptRecord(attempt: attempt(gone.id, status: 200), leaseOwner: "p/1", webhookID: "wh_1", outcome: .succeeded),
            AttemptRecord(attempt: attempt(kept.id, status: 200), leaseOwner: "p/1", webhookID: "wh_2", outcome: .succeeded),
        ], releasing: [ReleasedDelivery(id: gone.id, leaseOwner: "p/1", dueAt: t0)], now: t0)
        #expect(try await store.deliveries(eventID: "e1", applicationID: "app_a").map(\.state) == [.succeeded])
        #expect(try await store.attempts(deliveryID: gone.id).isEmpty)
    }

    @Test(arguments: Backend.all)
    func goneDisablesTheWebhookAndHoldsItsPendingDeliveries(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        _ = try await store.publish([request("e1"), request("e2"), request("e3"), request("e4")], now: t0)
        let claimed = try await store.claimDue(owner: "p/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 3, excludingWebhooks: [])
        try await store.record([AttemptRecord(attempt: attempt(claimed[0].id, status: 410), leaseOwner: "p/1", webhookID: "wh_1", outcome: .retry(at: t0), disablesWebhook: true)], releasing: [], now: t0)
        let webhook = try #require(try await store.webhook(id: "wh_1", applicationID: "app_a"))
        #expect(!webhook.isEnabled && webhook.disabledReason == "gone")
        // Two deliveries were in flight when the webhook was disabled: one then succeeds, one fails and would retry.
        try await store.record([
            AttemptRecord(attempt: attempt(claimed[1].id, status: 200), leaseOwner: "p/1", webhookID: "wh_1", outcome: .succeeded),
            AttemptRecord(attempt: attempt(claimed[2].id, status: 500), leaseOwner: "p/1", webhookID: "wh_1", outcome: .retry(at: t0)),
        ], releasing: [], now: t0)
        #expect(try await store.delivery(id: claimed[1].id, applicationID: "app_a")?.state == .succeeded, "a success in flight is still recorded")
        #expect(try await store.claimDue(owner: "p/2", now: t0.adding(.seconds(3600)), leaseUntil: t0.adding(.seconds(7200)), limit: 10, excludingWebhooks: []).isEmpty,
                "the retry and the unsent delivery are held")
        #expect(try await store.deliveryCounts() == [.pending: 3, .succeeded: 1], "held deliveries still show as pending")
        #expect(try await store.publish([request("e5")], now: t0)[0].deliveryCount == 0, "no fan-out to a disabled webhook")
    }

    @Test(arguments: Backend.all)
    func updatingAWebhookChangesItAndReEnablingResumesHeldDeliveries(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        _ = try await store.publish([request("e1"), request("e2")], now: t0)
        let claimed = try await store.claimDue(owner: "p/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 1, excludingWebhooks: [])
        try await store.record([AttemptRecord(attempt: attempt(claimed[0].id, status: 410), leaseOwner: "p/1", webhookID: "wh_1", outcome: .retry(at: t0.adding(.seconds(5))), disablesWebhook: true)], releasing: [], now: t0)
        #expect(try await store.claimDue(owner: "p/2", now: t0.adding(.seconds(10)), leaseUntil: t0.adding(.seconds(70)), limit: 10, excludingWebhooks: []).isEmpty)
        // Other applications cannot touch it.
        #expect(try await store.updateWebhook(id: "wh_1", applicationID: "app_b", WebhookChange(isEnabled: true), now: t0) == nil)
        let later = t0.adding(.seconds(20))
        let updated = try #require(try await store.updateWebhook(
            id: "wh_1", applicationID: "app_a",
            WebhookChange(url: "https://example.com/new", name: .some("renamed"), eventTypes: .some(["payment.updated"]), isEnabled: true), now: later))
        #expect(updated.isEnabled && updated.disabledReason == nil)
        #expect(updated.url == "https://example.com/new" && updated.name == "renamed" && updated.eventTypes == ["payment.updated"])
        #expect(updated.updatedAt == later)
        let resumed = try await store.claimDue(owner: "p/3", now: later, leaseUntil: later.adding(.seconds(60)), limit: 10, excludingWebhooks: [])
        #expect(Set(resumed.map(\.event.id)) == ["e1", "e2"], "both held deliveries are due again")
        #expect(resumed.first { $0.event.id == "e1" }?.attemptsMade == 1, "the attempt count is kept")
        // Disabling by hand holds what is pending; a null name and null event types clear them.
        try await store.record([], releasing: resumed.map { ReleasedDelivery(id: $0.id, leaseOwner: "p/3", dueAt: later) }, now: later)
        let disabled = try #require(try await store.updateWebhook(id: "wh_1", applicationID: "app_a", WebhookChange(name: .some(nil), eventTypes: .some(nil), isEnabled: false), now: later))
        #expect(!disabled.isEnabled && disabled.disabledReason == "manual" && disabled.name == nil && disabled.eventTypes == nil)
        #expect(try await store.claimDue(owner: "p/4", now: later, leaseUntil: later.adding(.seconds(60)), limit: 10, excludingWebhooks: []).isEmpty)
    }

    @Test(arguments: Backend.all)
    func releasePutsBackTheOriginalDueTime(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        _ = try await store.publish([request("e1"), request("e2"), request("e3")], now: t0)
        let claimed = try await store.claimDue(owner: "a/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 2, excludingWebhooks: [])
        let other = try await store.claimDue(owner: "b/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 2, excludingWebhooks: [])
        #expect(other.count == 1)
        try await store.record([], releasing: [ReleasedDelivery(id: claimed[0].id, leaseOwner: "a/1", dueAt: claimed[0].dueAt)], now: t0)
        #expect(try await store.nextDueTime() == t0)
        #expect(try await store.claimDue(owner: "c/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 10, excludingWebhooks: []).map(\.id) == [claimed[0].id])
        // releaseAll gives back what process "a" still holds, and nothing of process "b".
        try await store.releaseAll(process: "a", now: t0.adding(.seconds(1)))
        #expect(try await store.claimDue(owner: "d/1", now: t0.adding(.seconds(1)), leaseUntil: t0.adding(.seconds(60)), limit: 10, excludingWebhooks: []).map(\.id) == [claimed[1].id])
    }

    @Test(arguments: Backend.all)
    func webhooksAreScopedToTheirApplication(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        #expect(try await store.webhooks(applicationID: "app_a").map(\.id) == ["wh_1"])
        #expect(try await store.webhooks(applicationID: "app_b").isEmpty)
        #expect(try await store.webhook(id: "wh_1", applicationID: "app_b") == nil)
        #expect(try await !store.deleteWebhook(id: "wh_1", applicationID: "app_b"))
        _ = try await store.publish([request("e1")], now: t0)
        #expect(try await store.deleteWebhook(id: "wh_1", applicationID: "app_a"))
        #expect(try await store.deliveries(eventID: "e1", applicationID: "app_a").isEmpty)
        #expect(try await store.nextDueTime() == nil)
    }

    @Test(arguments: Backend.all)
    func apiKeysKeepOnlyTheirHash(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        #expect(try await !store.hasOperatorKey())
        let record = APIKeyRecord(id: "k1", applicationID: "app_a", role: .operator, hash: Array(repeating: 7, count: 32), createdAt: t0)
        try await store.createAPIKey(record)
        #expect(try await store.apiKey(id: "k1") == record)
        #expect(try await store.hasOperatorKey())
    }

    // MARK: Fairness and recovery

    @Test(arguments: Backend.all)
    func claimSkipsExcludedApplicationsEvenBehindTheirBacklog(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend, webhooks: [("wh_a1", nil, true), ("wh_a2", nil, true)])
        _ = dir
        try await store.createWebhook(Webhook(
            id: "wh_b", applicationID: "app_b", url: "http://127.0.0.1:9/b", secret: .generate(), createdAt: t0, updatedAt: t0))
        // Application A's 1,500 deliveries (two webhooks) are due before B's 3.
        _ = try await store.publish((0..<750).map { request("a\($0)") }, now: t0)
        _ = try await store.publish((0..<3).map { request("b\($0)", app: "app_b") }, now: t0.adding(.seconds(1)))
        let later = t0.adding(.seconds(2))
        let claimed = try await store.claimDue(
            owner: "p/1", now: later, leaseUntil: later.adding(.seconds(60)), limit: 50, excludingWebhooks: [], excludingApplications: ["app_a"])
        #expect(claimed.count == 3 && claimed.allSatisfy { $0.webhook.id == "wh_b" && $0.webhook.applicationID == "app_b" })
        let a = try await store.claimDue(owner: "p/2", now: later, leaseUntil: later.adding(.seconds(60)), limit: 10, excludingWebhooks: [])
        #expect(a.count == 10 && a.allSatisfy { $0.webhook.applicationID == "app_a" })
    }

    @Test(arguments: Backend.all)
    func aDeliveryGivenBackAfterItsWebhookWasDisabledIsHeld(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        _ = try await store.publish([request("e1")], now: t0)
        let claimed = try await store.claimDue(owner: "a/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 10, excludingWebhooks: [])
        _ = try await store.updateWebhook(id: "wh_1", applicationID: "app_a", WebhookChange(isEnabled: false), now: t0)
        try await store.record([], releasing: [ReleasedDelivery(id: claimed[0].id, leaseOwner: "a/1", dueAt: claimed[0].dueAt)], now: t0)
        #expect(try await store.nextDueTime() == nil, "held, not due")
        #expect(try await store.claimDue(owner: "b/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 10, excludingWebhooks: []).isEmpty)
        // Enabling it again makes it due at once (before: a claim in between had leased it, unsendable).
        _ = try await store.updateWebhook(id: "wh_1", applicationID: "app_a", WebhookChange(isEnabled: true), now: t0)
        #expect(try await store.claimDue(owner: "c/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 10, excludingWebhooks: []).map(\.id) == [claimed[0].id])
    }

    /// Fails every pending delivery of `wh_1` with one attempt at `at`.
    func failAll(_ store: any Store, at: Timestamp) async throws -> [Int64] {
        let claimed = try await store.claimDue(owner: "f/1", now: at, leaseUntil: at.adding(.seconds(60)), limit: 100, excludingWebhooks: [])
        try await store.record(claimed.map {
            AttemptRecord(attempt: Attempt(deliveryID: $0.id, number: $0.attemptsMade + 1, startedAt: at, durationMicroseconds: 1, status: 500,
                                           responseExcerpt: nil, errorKind: nil, errorMessage: nil),
                          leaseOwner: $0.leaseOwner, webhookID: $0.webhook.id, outcome: .failed)
        }, releasing: [], now: at)
        return claimed.map(\.id)
    }

    func recovery(_ id: String, at: Timestamp) -> Recovery {
        Recovery(id: id, applicationID: "app_a", webhookID: "wh_1", since: t0, until: nil, createdAt: at)
    }

    @Test(arguments: Backend.all)
    func aWebhookHasAtMostOneRunningRecovery(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        _ = try await store.publish([request("e1"), request("e2")], now: t0)
        _ = try await failAll(store, at: t0)
        let first = try #require(try await store.createRecovery(recovery("rcv_1", at: t0.adding(.seconds(1)))))
        #expect(first.created && first.recovery.total == 2 && first.recovery.state == .running)
        let second = try #require(try await store.createRecovery(recovery("rcv_2", at: t0.adding(.seconds(2)))))
        #expect(!second.created && second.recovery.id == "rcv_1", "the running one is returned")
        #expect(try await store.recovery(id: "rcv_2", applicationID: "app_a") == nil, "and nothing is created")
        #expect(try await store.runningRecoveries().map(\.id) == ["rcv_1"])
        var done = first.recovery
        done.state = .completed
        done.finishedAt = t0.adding(.seconds(3))
        try await store.updateRecovery(done)
        let third = try #require(try await store.createRecovery(recovery("rcv_3", at: t0.adding(.seconds(4)))))
        #expect(third.created && third.recovery.id == "rcv_3")
    }

    @Test(arguments: Backend.all)
    func aRecoveryCoversOnlyDeliveriesAttemptedBeforeItWasCreated(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        _ = try await store.publish([request("e1"), request("e2")], now: t0)
        let ids = try await failAll(store, at: t0)
        let createdAt = t0.adding(.seconds(1))
        let job = try #require(try await store.createRecovery(recovery("rcv", at: createdAt))).recovery
        #expect(job.total == 2)
        // The job resends the first in its own millisecond and it fails again; then a page is cut short (a restart).
        let now = createdAt
        let (delivery, _) = try #require(try await store.leaseForSend(
            deliveryID: ids[0], applicationID: "app_a", owner: "recovery/rcv/1", until: now.adding(.seconds(120)), now: now,
            expecting: .failed, attemptedBefore: createdAt))
        try await store.record([AttemptRecord(
            attempt: Attempt(deliveryID: ids[0], number: 2, startedAt: now, durationMicroseconds: 1, status: 500, responseExcerpt: nil,
                             errorKind: nil, errorMessage: nil),
            leaseOwner: delivery.leaseOwner, webhookID: "wh_1", outcome: .failed)], releasing: [], now: now)
        // Resumed from the cursor, it must not send that one again (before: attempted at <= created_at still counted).
        #expect(try await store.nextRecoveryDeliveries(job, limit: 10) == [ids[1]])
        await #expect(throws: StoreError.self) {
            try await store.leaseForSend(
                deliveryID: ids[0], applicationID: "app_a", owner: "recovery/rcv/2", until: now.adding(.seconds(120)), now: now,
                expecting: .failed, attemptedBefore: createdAt)
        }
    }
}
