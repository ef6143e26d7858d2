import BankHooksCore
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Testing

/// Tenants, webhooks, event types and recoveries on PostgreSQL: the same answers as SQLite's (each
/// parity test runs on both), and the invariants only several connections can break, with two
/// `PostgresStore`s (two nodes) on one database.
@Suite struct PostgresTenantTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    /// A store on a new, migrated database (or on the one `url` names) that runs its own client.
    static func postgresStore(url: String? = nil, secretBox: SecretBox? = nil) async throws -> PostgresStore {
        guard let url else { return try await TestPostgres.freshStore(secretBox: secretBox) }
        return try TestPostgres.store(url: url, secretBox: secretBox)
    }

    /// Both backends, for the tests that pin PostgreSQL's answers to SQLite's.
    static let backends: [Backend] = [
        Backend(name: "sqlite") { dir in try SQLiteStore(path: dir.file("store.sqlite")) },
        Backend(name: "postgres") { _ in try await postgresStore() },
    ]

    /// Two stores on one new database, with the application `app_a` (webhook limit `webhookLimit`).
    func twoNodes(webhookLimit: Int = 10) async throws -> (PostgresStore, PostgresStore) {
        let url = try await TestPostgres.freshDatabase()
        let first = try await Self.postgresStore(url: url), second = try await Self.postgresStore(url: url)
        try await first.createApplication(Application(id: "app_a", name: "A", environment: .sandbox, createdAt: t0, webhookLimit: webhookLimit))
        return (first, second)
    }

    func webhook(_ id: String, app: String = "app_a", kind: WebhookKind = .webhook) -> Webhook {
        Webhook(id: id, applicationID: app, url: "http://127.0.0.1:9/\(id)", secret: .generate(), createdAt: t0, updatedAt: t0, kind: kind)
    }

    /// Runs `count` attempts at once, alternating between the two stores; how many succeeded, and the
    /// codes of the `StoreError`s of those that did not (any other error fails the test).
    func concurrently(
        _ count: Int, on stores: (PostgresStore, PostgresStore), _ body: @escaping @Sendable (PostgresStore, Int) async throws -> Void
    ) async throws -> (succeeded: Int, refused: [StoreError.Code]) {
        try await withThrowingTaskGroup(of: StoreError.Code?.self) { group in
            for i in 0..<count {
                let store = i.isMultiple(of: 2) ? stores.0 : stores.1
                group.addTask {
                    do {
                        try await body(store, i)
                        return nil
                    } catch let error as StoreError {
                        return error.code
                    }
                }
            }
            var succeeded = 0, refused: [StoreError.Code] = []
            for try await code in group {
                if let code { refused.append(code) } else { succeeded += 1 }
            }
            return (succeeded, refused)
        }
    }

    // MARK: Quotas with two nodes

    @Test func twentyConcurrentWebhookCreationsFromTwoNodesAgainstALimitOfFiveCreateExactlyFive() async throws {
        let nodes = try await twoNodes(webhookLimit: 5)
        let outcome = try await concurrently(20, on: nodes) { store, i in try await store.createWebhook(webhook("wh_\(i)")) }
        #expect(outcome.succeeded == 5)
        #expect(outcome.refused == Array(repeating: .limitReached, count: 15))
        #expect(try await nodes.1.webhooks(applicationID: "app_a").count == 5)
        // The callback URL is not a `webhook` kind: the limit does not count or refuse it.
        try await nodes.0.createWebhook(webhook("wh_callback", kind: .callbackURL))
        #expect(try await nodes.0.webhooks(applicationID: "app_a").count == 6)
    }

    @Test func concurrentAPIKeyAndEventTypeQuotasFromTwoNodesNeverOvershoot() async throws {
        let nodes = try await twoNodes()
        let keys = try await concurrently(12, on: nodes) { store, i in
            try await store.createAPIKey(
                APIKeyRecord(id: "key_\(i)", applicationID: "app_a", role: .admin, hash: Array(repeating: UInt8(i), count: 32), createdAt: t0),
                limit: 3)
        }
        #expect(keys.succeeded == 3 && keys.refused == Array(repeating: .limitReached, count: 9))
        #expect(try await nodes.0.apiKeys(applicationID: "app_a").count == 3)
        let types = try await concurrently(16, on: nodes) { store, i in
            try await store.createEventType(
                CustomEventType(applicationID: "app_a", name: "custom.t\(i)", description: "d", schema: nil, createdAt: t0), limit: 4)
        }
        #expect(types.succeeded == 4 && types.refused == Array(repeating: .limitReached, count: 12))
        #expect(try await nodes.1.eventTypes(applicationID: "app_a").count == 4)
    }

    @Test func concurrentCreationsOfOneCallbackURLFromTwoNodesCreateOneAndRefuseTheRestAsAConflict() async throws {
        let nodes = try await twoNodes()
        let outcome = try await concurrently(6, on: nodes) { store, i in try await store.createWebhook(webhook("wh_cb\(i)", kind: .callbackURL)) }
        #expect(outcome.succeeded == 1 && outcome.refused == Array(repeating: .conflict, count: 5))
    }

    // MARK: Recoveries and disabling with two nodes

    /// Publishes `count` events to the application's webhooks and fails each delivery once at `at` (PostgreSQL via the public queue).
    func failedDeliveries(_ store: PostgresStore, count: Int, at: Timestamp, app: String = "app_a") async throws {
        _ = try await store.publish((0..<count).map {
            PublishRequest(applicationID: app, eventID: "e\($0)", idempotencyKey: nil, type: "t", timestamp: at, data: Array("{}".utf8))
        }, now: at)
        let claimed = try await store.claimDue(owner: "f/1", now: at, leaseUntil: at.adding(.seconds(60)), limit: 1000, excludingWebhooks: [])
        try await store.record(claimed.map {
            AttemptRecord(attempt: Attempt(deliveryID: $0.id, number: 1, startedAt: at, durationMicroseconds: 1, status: 500,
                                           responseExcerpt: nil, errorKind: nil, errorMessage: nil),
                          leaseOwner: $0.leaseOwner, webhookID: $0.webhook.id, outcome: .failed)
        }, releasing: [], now: at)
    }

    @Test func concurrentRecoveryRequestsForOneWebhookFromTwoNodesStartOneJob() async throws {
        let nodes = try await twoNodes()
        try await nodes.0.createWebhook(webhook("wh_1"))
        try await failedDeliveries(nodes.0, count: 3, at: t0)
        let results = try await withThrowingTaskGroup(of: (recovery: Recovery, created: Bool)?.self) { group in
            for i in 0..<10 {
                let store = i.isMultiple(of: 2) ? nodes.0 : nodes.1
                group.addTask {
                    try await store.createRecovery(Recovery(
                        id: "rcv_\(i)", applicationID: "app_a", webhookID: "wh_1", since: t0, until: nil, createdAt: t0.adding(.seconds(1))))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }.compactMap { $0 }
        #expect(results.count == 10)
        let created = results.filter(\.created)
        #expect(created.count == 1 && created.first?.recovery.total == 3)
        #expect(Set(results.map(\.recovery.id)).count == 1, "every request is answered with the one running job")
        #expect(try await nodes.1.runningRecoveries().map(\.id) == created.map(\.recovery.id))
    }

    @Test func eightSweepsOnTwoNodesAtOnceDisableEachFailingWebhookOnce() async throws {
        let nodes = try await twoNodes(webhookLimit: 20)
        // Both pools warm (connections open), so the sweeps overlap rather than wait for connections one by one.
        _ = try await concurrently(16, on: nodes) { store, _ in _ = try await store.webhooks(applicationID: "app_a") }
        // Rounds, each with webhooks of its own that start failing: a race that a round misses, another catches.
        for round in 0..<4 {
            let ids = (0..<20).map { "wh_\(round)_\($0)" }.sorted()
            let app = round == 0 ? "app_a" : "app_\(round)"
            if round > 0 {
                try await nodes.0.createApplication(Application(id: app, name: app, environment: .sandbox, createdAt: t0, webhookLimit: 20))
            }
            for id in ids { try await nodes.0.createWebhook(webhook(id, app: app)) }
            let start = t0.adding(.seconds(Int64(round) * 100)), later = start.adding(.seconds(10))
            try await failedDeliveries(nodes.0, count: 2, at: start, app: app)
            // Eight sweeps at once, four on each node (as the watchdog of every node would without a leader).
            let disabled = try await withThrowingTaskGroup(of: [String].self) { group in
                for i in 0..<8 {
                    let store = i.isMultiple(of: 2) ? nodes.0 : nodes.1
                    group.addTask { try await store.disableFailingWebhooks(failingSince: start, now: later) }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(disabled.sorted() == ids, "round \(round): each failing webhook is disabled by exactly one sweep")
            #expect(try await nodes.1.unannouncedDisabledWebhooks().map(\.webhook.id).sorted() == ids)
            #expect(try await nodes.0.nextDueTime() == nil, "their retries are held")
            for id in ids { try await nodes.0.markDisableAnnounced(webhookID: id, disabledAt: later) }
        }
    }

    @Test func recoveriesRacingTheirApplicationsDeletionOnTwoNodesAreRefusedOrCommittedNeverDeadlocked() async throws {
        let nodes = try await twoNodes()
        _ = try await concurrently(16, on: nodes) { store, _ in _ = try await store.webhooks(applicationID: "app_a") }
        // Rounds: each a new application with a webhook, four recovery requests and its deletion at once.
        // A deadlock (40P01) is a PSQLError, not a StoreError: it fails the test.
        for round in 0..<20 {
            let app = "app_r\(round)"
            try await nodes.0.createApplication(Application(id: app, name: app, environment: .sandbox, createdAt: t0))
            try await nodes.0.createWebhook(webhook("wh_r\(round)", app: app))
            let deleted = try await withThrowingTaskGroup(of: Bool?.self) { group in
                for i in 0..<4 {
                    let store = i.isMultiple(of: 2) ? nodes.0 : nodes.1
                    group.addTask {
                        _ = try await store.createRecovery(Recovery(
                            id: "rcv_\(round)_\(i)", applicationID: app, webhookID: "wh_r\(round)", since: t0, until: nil, createdAt: t0))
                        return nil
                    }
                }
                group.addTask { try await nodes.1.deleteApplication(id: app) }
                return try await group.reduce(into: [Bool]()) { all, outcome in if let outcome { all.append(outcome) } }
            }
            #expect(deleted == [true])
            #expect(try await nodes.0.application(id: app) == nil)
            #expect(try await nodes.0.recovery(id: "rcv_\(round)_0", applicationID: app) == nil, "its recoveries went with it")
        }
    }

    @Test func aRecoveryNeverGoesBackNorRunsAgainOnceFinished() async throws {
        let nodes = try await twoNodes()
        try await nodes.0.createWebhook(webhook("wh_1"))
        try await failedDeliveries(nodes.0, count: 3, at: t0)
        let job = try #require(try await nodes.0.createRecovery(Recovery(
            id: "rcv", applicationID: "app_a", webhookID: "wh_1", since: t0, until: nil, createdAt: t0.adding(.seconds(1))))).recovery
        // Two runners of one job: the one ahead writes, the one behind cannot move the cursor back.
        var ahead = job, behind = job
        ahead.cursor = job.lastDeliveryID
        ahead.processed = 3
        behind.cursor = job.lastDeliveryID - 1
        behind.processed = 2
        try await nodes.0.updateRecovery(ahead)
        try await nodes.1.updateRecovery(behind)
        #expect(try await nodes.0.recovery(id: "rcv", applicationID: "app_a") == ahead)
        var finished = ahead
        finished.state = .completed
        finished.finishedAt = t0.adding(.seconds(2))
        try await nodes.1.updateRecovery(finished)
        try await nodes.0.updateRecovery(ahead)
        #expect(try await nodes.0.recovery(id: "rcv", applicationID: "app_a") == finished, "a finished job stays finished")
    }

    // MARK: The same answers as SQLite

    @Test(arguments: Self.backends)
    func applicationsOrderBytewiseAndDeletingOneDeletesWhatItOwns(_ backend: Backend) async throws {
        let dir = TemporaryDirectory()
        let store = try await backend.make(dir)
        for id in ["app_a", "app_B", "app_-"] {
            try await store.createApplication(Application(id: id, name: id, environment: .sandbox, createdAt: t0))
        }
        #expect(try await store.applications().map(\.id) == ["app_-", "app_B", "app_a"])
        await #expect(throws: StoreError(.conflict, "application app_a exists")) {
            try await store.createApplication(Application(id: "app_a", name: "again", environment: .production, createdAt: t0))
        }
        let changed = Application(
            id: "app_a", name: "renamed", environment: .production, createdAt: t0, webhookLimit: 3,
            redirectCallbacks: ["https://example.com/cb", "myapp://host/cb"], allowsPlainHTTP: true)
        #expect(try await store.updateApplication(changed) == changed)
        #expect(try await store.application(id: "app_a") == changed)
        #expect(try await store.updateApplication(Application(id: "app_none", name: "x", environment: .sandbox, createdAt: t0)) == nil)
        try await store.createAPIKey(APIKeyRecord(id: "k1", applicationID: "app_a", role: .admin, hash: [1, 2, 3], createdAt: t0))
        try await store.createWebhook(webhook("wh_1"))
        try await store.createEventType(CustomEventType(applicationID: "app_a", name: "custom.x", description: "d", schema: nil, createdAt: t0))
        #expect(try await store.deleteApplication(id: "app_a"))
        #expect(try await !store.deleteApplication(id: "app_a"))
        #expect(try await store.application(id: "app_a") == nil)
        #expect(try await store.apiKey(id: "k1") == nil)
        #expect(try await store.webhooks(applicationID: "app_a").isEmpty)
        #expect(try await store.eventTypes(applicationID: "app_a").isEmpty)
    }

    @Test(arguments: Self.backends)
    func apiKeysListOldestFirstRevokeOnceAndOnlyUnrevokedOnesCount(_ backend: Backend) async throws {
        let dir = TemporaryDirectory()
        let store = try await backend.make(dir)
        try await store.createApplication(Application(id: "app_a", name: "A", environment: .sandbox, createdAt: t0))
        try await store.createApplication(Application(id: "app_b", name: "B", environment: .sandbox, createdAt: t0))
        let later = t0.adding(.seconds(1))
        let keys = [
            APIKeyRecord(id: "k_z", applicationID: "app_a", role: .operator, hash: Array(repeating: 9, count: 32), createdAt: t0),
            APIKeyRecord(id: "k_b", applicationID: "app_a", role: .viewer, hash: [0, 255, 7], createdAt: later),
            APIKeyRecord(id: "k_a", applicationID: "app_a", role: .developer, hash: [], createdAt: later),
        ]
        for key in keys { try await store.createAPIKey(key, limit: 3) }
        #expect(try await store.apiKeys(applicationID: "app_a") == [keys[0], keys[2], keys[1]])
        await #expect(throws: StoreError.self) {
            try await store.createAPIKey(APIKeyRecord(id: "k_4", applicationID: "app_a", role: .admin, hash: [4], createdAt: later), limit: 3)
        }
        #expect(try await store.hasOperatorKey())
        #expect(try await !store.revokeAPIKey(id: "k_z", applicationID: "app_b", now: later))
        #expect(try await store.revokeAPIKey(id: "k_z", applicationID: "app_a", now: later))
        #expect(try await store.revokeAPIKey(id: "k_z", applicationID: "app_a", now: later.adding(.seconds(5))), "a second revoke finds it")
        #expect(try await store.apiKey(id: "k_z")?.revokedAt == later, "and keeps the first time")
        #expect(try await !store.hasOperatorKey())
        try await store.createAPIKey(APIKeyRecord(id: "k_4", applicationID: "app_a", role: .admin, hash: [4], createdAt: later), limit: 3)
        #expect(try await store.apiKeys(applicationID: "app_a").count == 4)
    }

    @Test(arguments: Self.backends)
    func eventTypesPageBytewiseAndTheQuotaComesBeforeTheConflict(_ backend: Backend) async throws {
        let dir = TemporaryDirectory()
        let store = try await backend.make(dir)
        try await store.createApplication(Application(id: "app_a", name: "A", environment: .sandbox, createdAt: t0))
        try await store.createApplication(Application(id: "app_b", name: "B", environment: .sandbox, createdAt: t0))
        func type(_ name: String, schema: String? = nil) -> CustomEventType {
            CustomEventType(applicationID: "app_a", name: name, description: "about \(name)", schema: schema, createdAt: t0)
        }
        for name in ["b", "B", "a_x", "a", "a.x"] { try await store.createEventType(type(name, schema: name == "a" ? #"{"type":"object"}"# : nil)) }
        try await store.createEventType(CustomEventType(applicationID: "app_b", name: "a", description: "b's", schema: nil, createdAt: t0))
        var names: [[String]] = [], more: [Bool] = [], after: String? = nil
        repeat {
            let page = try await store.eventTypes(applicationID: "app_a", after: after, limit: 2)
            names.append(page.items.map(\.name))
            more.append(page.hasMore)
            after = page.items.last?.name
        } while more.last == true
        #expect(names == [["B", "a"], ["a.x", "a_x"], ["b"]] && more == [true, true, false])
        #expect(try await store.eventType(name: "a", applicationID: "app_a") == type("a", schema: #"{"type":"object"}"#))
        await #expect(throws: StoreError(.conflict, "event type b exists")) { try await store.createEventType(type("b")) }
        await #expect(throws: StoreError.self) { try await store.createEventType(type("b"), limit: 5) }
        #expect(try await store.deleteEventType(name: "b", applicationID: "app_a"))
        #expect(try await !store.deleteEventType(name: "b", applicationID: "app_a"))
        #expect(try await store.eventTypes(applicationID: "app_b").map(\.description) == ["b's"])
    }

    @Test(arguments: Self.backends)
    func aWebhookKeepsEverySettingAndAnUpdateChangesOnlyWhatItNames(_ backend: Backend) async throws {
        let dir = TemporaryDirectory()
        let store = try await backend.make(dir)
        try await store.createApplication(Application(id: "app_a", name: "A", environment: .sandbox, createdAt: t0, webhookLimit: 2))
        let original = Webhook(
            id: "wh_1", applicationID: "app_a", url: "https://example.com/1", name: "first", eventTypes: ["a", "b"], format: "okra",
            secret: .generate(), createdAt: t0, updatedAt: t0, bearerToken: "tok",
            settings: DeliverySettings(headers: [HTTPHeader(name: "x-team", value: "v")], retryDelays: [1, 5], rateLimit: 2.5))
        try await store.createWebhook(original)
        #expect(try await store.webhook(id: "wh_1", applicationID: "app_a") == original)
        #expect(try await store.webhook(id: "wh_1", applicationID: "app_b") == nil)
        let t1 = t0.adding(.seconds(1))
        // Nothing named: only updated_at moves.
        var expected = original
        expected.updatedAt = t1
        #expect(try await store.updateWebhook(id: "wh_1", applicationID: "app_a", WebhookChange(), now: t1) == expected)
        let t2 = t0.adding(.seconds(2))
        let cleared = try await store.updateWebhook(
            id: "wh_1", applicationID: "app_a",
            WebhookChange(name: .some(nil), eventTypes: .some(nil), bearerToken: .some(nil), retryDelays: .some(nil), rateLimit: .some(nil)), now: t2)
        expected.name = nil
        expected.eventTypes = nil
        expected.bearerToken = nil
        expected.settings = DeliverySettings(headers: [HTTPHeader(name: "x-team", value: "v")])
        expected.updatedAt = t2
        #expect(cleared == expected)
        let t3 = t0.adding(.seconds(3))
        let changed = try await store.updateWebhook(
            id: "wh_1", applicationID: "app_a",
            WebhookChange(url: "https://example.com/2", name: "second", eventTypes: ["c"], bearerToken: "tok2", headers: [], retryDelays: [3]),
            now: t3)
        expected.url = "https://example.com/2"
        expected.name = "second"
        expected.eventTypes = ["c"]
        expected.bearerToken = "tok2"
        expected.settings = DeliverySettings(retryDelays: [3])
        expected.updatedAt = t3
        #expect(changed == expected)
        #expect(try await store.updateWebhook(id: "wh_1", applicationID: "app_b", WebhookChange(name: "x"), now: t3) == nil)
        // Disabling by hand is not announced; enabling clears the reason.
        let disabled = try await store.updateWebhook(id: "wh_1", applicationID: "app_a", WebhookChange(isEnabled: false), now: t3)
        #expect(disabled?.isEnabled == false && disabled?.disabledReason == DisableReason.manual.rawValue)
        #expect(try await store.unannouncedDisabledWebhooks().isEmpty)
        let enabled = try await store.updateWebhook(id: "wh_1", applicationID: "app_a", WebhookChange(isEnabled: true), now: t3)
        #expect(enabled?.isEnabled == true && enabled?.disabledReason == nil)
        // The limit counts webhooks, not the callback URL.
        try await store.createWebhook(webhook("wh_cb", kind: .callbackURL))
        try await store.createWebhook(webhook("wh_2"))
        await #expect(throws: StoreError(.limitReached, "the application has 2 webhooks; its limit is 2")) { try await store.createWebhook(webhook("wh_3")) }
        #expect(try await store.webhooks(applicationID: "app_a").map(\.id) == ["wh_1", "wh_2", "wh_cb"])
        #expect(try await store.deleteWebhook(id: "wh_2", applicationID: "app_a"))
        #expect(try await !store.deleteWebhook(id: "wh_2", applicationID: "app_a"))
    }

    @Test(arguments: Self.backends)
    func rotatingASecretKeepsOnlyTheOneItReplaces(_ backend: Backend) async throws {
        let dir = TemporaryDirectory()
        let store = try await backend.make(dir)
        try await store.createApplication(Application(id: "app_a", name: "A", environment: .sandbox, createdAt: t0))
        let original = webhook("wh_1")
        try await store.createWebhook(original)
        let second = WebhookSecret.generate(), third = WebhookSecret.generate()
        let t1 = t0.adding(.seconds(1)), t2 = t0.adding(.seconds(2))
        let once = try #require(try await store.rotateSecret(
            id: "wh_1", applicationID: "app_a", newSecret: second, previousValidUntil: t0.adding(.seconds(86_400)), now: t1))
        #expect(once.secret == second && once.previousSecret == original.secret && once.previousSecretExpiresAt == t0.adding(.seconds(86_400)))
        #expect(once.updatedAt == t1)
        let twice = try #require(try await store.rotateSecret(
            id: "wh_1", applicationID: "app_a", newSecret: third, previousValidUntil: t2.adding(.seconds(3_600)), now: t2))
        #expect(twice.secret == third && twice.previousSecret == second && twice.previousSecretExpiresAt == t2.adding(.seconds(3_600)))
        #expect(try await store.rotateSecret(id: "wh_1", applicationID: "app_b", newSecret: second, previousValidUntil: t2, now: t2) == nil)
    }

    // MARK: Sealed credentials

    @Test func credentialsAreStoredSealedAndAStoreWithAnotherKeyCannotOpenThem() async throws {
        let url = try await TestPostgres.freshDatabase()
        let box = try #require(SecretBox(base64: SecretBox.generateKey()))
        let store = try await Self.postgresStore(url: url, secretBox: box)
        try await store.createApplication(Application(id: "app_a", name: "A", environment: .sandbox, createdAt: t0))
        var original = webhook("wh_1")
        original.bearerToken = "tok"
        original.settings = DeliverySettings(headers: [HTTPHeader(name: "x-team", value: "secret-value")])
        try await store.createWebhook(original)
        #expect(try await store.webhook(id: "wh_1", applicationID: "app_a") == original)
        // What is stored: a claim carries the credentials as the store keeps them.
        _ = try await store.publish([PublishRequest(
            applicationID: "app_a", eventID: "e1", idempotencyKey: nil, type: "t", timestamp: t0, data: Array("{}".utf8))], now: t0)
        let claimed = try #require(try await store.claimDue(
            owner: "p/1", now: t0, leaseUntil: t0.adding(.seconds(60)), limit: 1, excludingWebhooks: []).first)
        let credentials = claimed.webhook.credentials
        #expect(SecretBox.isSealed(credentials.secret) && SecretBox.isSealed(credentials.bearerToken ?? ""))
        #expect(SecretBox.isSealed(credentials.headers ?? "") && !(credentials.headers ?? "").contains("secret-value"))
        #expect(SecretSealer(box: box).openSecret(credentials.secret) == original.secret)
        let otherKey = try await Self.postgresStore(url: url, secretBox: try #require(SecretBox(base64: SecretBox.generateKey())))
        #expect(try await otherKey.webhooks(applicationID: "app_a").isEmpty, "a secret that does not open hides its webhook")
        let rotated = try #require(try await store.rotateSecret(
            id: "wh_1", applicationID: "app_a", newSecret: .generate(), previousValidUntil: t0.adding(.seconds(3_600)), now: t0))
        #expect(rotated.previousSecret == original.secret)
        let updated = try #require(try await store.updateWebhook(
            id: "wh_1", applicationID: "app_a", WebhookChange(bearerToken: "tok2", headers: [HTTPHeader(name: "x-b", value: "w")]), now: t0))
        #expect(updated.bearerToken == "tok2" && updated.settings.headers == [HTTPHeader(name: "x-b", value: "w")])
    }
}
