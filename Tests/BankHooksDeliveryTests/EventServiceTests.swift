import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import BankHooksTestSupport
import BankHooksVerify
import Logging
import Testing

/// The event service over a real SQLite file and a running publisher: every producer's event is
/// checked against its type and stored one way.
@Suite struct EventServiceTests {
    struct Fixture {
        let dir = TemporaryDirectory()
        let store: SQLiteStore
        let clock = ManualClock()
        let publisher: Publisher
        let events: EventService

        init() throws {
            store = try SQLiteStore(path: dir.file("events.sqlite"))
            var logger = Logger(label: "test")
            logger.logLevel = .warning
            publisher = Publisher(store: store, clock: clock, logger: logger) {}
            events = EventService(publisher: publisher, registry: EventTypeRegistry(store: store), clock: clock)
        }

        func webhook(_ id: String, format: String = "standard", types: [String]? = nil) async throws {
            let now = clock.now()
            if try await store.application(id: "app") == nil {
                try await store.createApplication(Application(id: "app", name: "app", environment: .sandbox, createdAt: now, webhookLimit: 100))
            }
            try await store.createWebhook(Webhook(
                id: id, applicationID: "app", url: "http://127.0.0.1:9/\(id)", eventTypes: types, format: format, secret: .generate(),
                createdAt: now, updatedAt: now))
        }

        func run(_ body: @Sendable () async throws -> Void) async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.publisher.run() }
                defer { group.cancelAll() }
                try await body()
            }
        }
    }

    @Test func aModelIsStoredInTheProvidersMemberOrderAndReachesOnlyFormatsThatCarryIt() async throws {
        let f = try Fixture()
        try await f.webhook("wh_standard")
        try await f.webhook("wh_okra", format: "okra")
        try await f.run {
            let published = try await f.events.publish(
                WebhookDisabled(webhookID: "wh_x", url: "https://example.com/a", reason: .gone), as: "webhook.disabled",
                applicationID: "app", id: "evt_1")
            #expect(String(decoding: published.event.data, as: UTF8.self)
                == #"{"webhook_id":"wh_x","url":"https://example.com/a","reason":"gone","failing_since":null}"#)
            let stored = try #require(try await f.store.event(id: "evt_1", applicationID: "app"))
            #expect(stored.data == published.event.data)
            // webhook.disabled is a BankHooks event: the standard format carries it, okra does not.
            #expect(try await f.store.deliveries(eventID: "evt_1", applicationID: "app").map(\.webhookID) == ["wh_standard"])
        }
    }

    @Test func aClientCannotPublishWhatBankHooksSendsItselfButBankHooksCan() async throws {
        let f = try Fixture()
        try await f.webhook("wh_1")
        try await f.run {
            let data = Array(#"{"webhook_id":"wh_1","message":"hi"}"#.utf8)
            let error = await #expect(throws: EventError.self) {
                try await f.events.publish(EventService.Draft(type: "webhook.test", data: data), applicationID: "app")
            }
            #expect(error?.code == .invalidField)
            #expect(error?.pointer == "/type")
            let published = try await f.events.publish(
                EventService.Draft(type: "webhook.test", data: data), applicationID: "app", origin: .bankHooks, to: .webhook("wh_1"))
            #expect(published.result.deliveryCount == 1)
        }
    }

    @Test func anUnknownTypeOrDataThatDoesNotMatchItsModelIsRefusedNamingTheMember() async throws {
        let f = try Fixture()
        try await f.webhook("wh_1")
        try await f.run {
            let unknown = await #expect(throws: EventError.self) {
                try await f.events.publish(EventService.Draft(type: "no.such.type", data: Array("{}".utf8)), applicationID: "app")
            }
            #expect(unknown?.code == .unknownType)
            #expect(unknown?.pointer == "/type")
            let mismatch = await #expect(throws: EventError.self) {
                try await f.events.publish(
                    EventService.Draft(type: "webhook.disabled", data: Array(#"{"webhook_id":"w","url":"u","reason":"bored"}"#.utf8)),
                    applicationID: "app", origin: .bankHooks)
            }
            #expect(mismatch?.code == .invalidData)
            #expect(mismatch?.pointer == "/data/reason")
            let counts = try await f.store.deliveryCounts()
            #expect(counts.values.reduce(0, +) == 0)
        }
    }

    @Test func anOkraCallbackIsFoundByItsRecordAndMayNotCarryItsOwnCallbackType() async throws {
        let f = try Fixture()
        try await f.webhook("wh_okra", format: "okra")
        try await f.run {
            _ = try await f.events.publish(
                OkraWebhookUpdateAcknowledged(record: "rec_1", newCallbackURL: "https://example.com/new"),
                as: "RECORD.WEBHOOK_UPDATE_ACKNOWLEDGED", applicationID: "app", id: "evt_ack")
            let latest = try await f.store.latestEvent(applicationID: "app", subject: "rec_1", typePrefix: "RECORD.")
            #expect(latest?.id == "evt_ack")
            #expect(String(decoding: latest?.data ?? [], as: UTF8.self)
                == #"{"record":"rec_1","error":null,"new_callback_url":"https://example.com/new"}"#)
            let reserved = await #expect(throws: EventError.self) {
                try await f.events.publish(
                    EventService.Draft(
                        type: "RECORD.WEBHOOK_UPDATE_ACKNOWLEDGED",
                        data: Array(#"{"record":"r","error":null,"new_callback_url":"u","callback_code":"X"}"#.utf8)),
                    applicationID: "app")
            }
            #expect(reserved?.pointer == "/data/callback_code")
        }
    }

    @Test func aPublishForADeletedApplicationSaysSo() async throws {
        let f = try Fixture()
        try await f.webhook("wh_1")
        _ = try await f.store.deleteApplication(id: "app")
        try await f.run {
            let error = await #expect(throws: EventError.self) {
                try await f.events.publish(
                    WebhookTest(webhookID: "wh_1", message: "m"), as: "webhook.test", applicationID: "app")
            }
            #expect(error?.code == .applicationDeleted)
        }
    }

    @Test func eventsPublishedInOrderReachTheLogInOrderAndEachFailsAlone() async throws {
        let f = try Fixture()
        try await f.webhook("wh_1")
        let now = f.clock.now()
        try await f.store.createApplication(Application(id: "gone", name: "gone", environment: .sandbox, createdAt: now, webhookLimit: 10))
        _ = try await f.store.deleteApplication(id: "gone")
        @Sendable func submission(_ n: Int, type: String = "webhook.test", applicationID: String = "app") -> EventService.Submission {
            EventService.Submission(
                EventService.Draft(type: type, data: Array(#"{"webhook_id":"wh_1","message":"\#(n)"}"#.utf8), id: "evt_\(n)"),
                applicationID: applicationID, origin: .bankHooks, to: .webhook("wh_1"))
        }
        try await f.run {
            // A bad type (refused by its check) and a deleted application (refused by the commit,
            // which then commits the others one by one) between good ones.
            let results = await f.events.publish(inOrder: [
                submission(1), submission(2, type: "no.such.type"), submission(3), submission(4, applicationID: "gone"), submission(5),
            ])
            #expect(results.count == 5)
            #expect(results.map { (try? $0.get())?.event.id } == ["evt_1", nil, "evt_3", nil, "evt_5"])
            if case .failure(let error as EventError) = results[1] { #expect(error.code == .unknownType) } else { Issue.record("no.such.type was published") }
            if case .failure(let error as EventError) = results[3] { #expect(error.code == .applicationDeleted) } else { Issue.record("a deleted application got an event") }
            let logged = try await f.store.events(applicationID: "app", filter: EventFilter(), after: nil, limit: 10).items.reversed().map(\.id)
            #expect(logged == ["evt_1", "evt_3", "evt_5"], "in the order given")
            // Nothing to publish is an answer too.
            #expect(await f.events.publish(inOrder: []).isEmpty)
        }
    }
}
