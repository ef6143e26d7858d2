import BankHooksCore
import BankHooksDelivery
import BankHooksServer
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

/// Publishes are group-committed across tenants: one that cannot be written must fail alone,
/// saying why, while the others in its batch are committed and acknowledged.
@Suite struct PublishIsolationTests {
    /// A batch holding a publish for an application that no longer exists (a foreign key the
    /// transaction cannot satisfy) and publishes of another application: before, the whole
    /// transaction failed and every publish of the batch with it.
    @Test func aBadRowFailsAloneAndTheRestOfItsBatchIsDurable() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteStore(path: dir.file("p.sqlite"))
        let now = SystemClock().now()
        try await store.createApplication(Application(id: "good", name: "Good", environment: .sandbox, createdAt: now))
        try await store.createApplication(Application(id: "gone", name: "Gone", environment: .sandbox, createdAt: now))
        try await store.createWebhook(Webhook(
            id: "wh", applicationID: "good", url: "http://127.0.0.1:9/hook", eventTypes: nil, secret: .generate(), createdAt: now, updatedAt: now))
        // Deleted after its publish was accepted by the API, before the publisher wrote it.
        #expect(try await store.deleteApplication(id: "gone"))
        var logger = Logger(label: "publish-test")
        logger.logLevel = .critical
        let commits = Mutex(0)
        let publisher = Publisher(store: store, logger: logger) { commits.withLock { $0 += 1 } }
        let requests = ["good-1", "gone-1", "good-2", "good-3"].map { id in
            PublishRequest(applicationID: String(id.prefix { $0 != "-" }), eventID: id, idempotencyKey: nil, type: "a.b",
                           timestamp: now, data: Array(#"{"n":1}"#.utf8))
        }
        try await withThrowingTaskGroup(of: (String, Result<PublishResult, any Error>).self) { group in
            for request in requests {
                group.addTask {
                    do { return (request.eventID, .success(try await publisher.publish(request))) } catch { return (request.eventID, .failure(error)) }
                }
            }
            // All four wait in the queue before the write loop starts: they are one batch.
            try await eventually("four publishes queued") { publisher.queuedCount == 4 }
            let loop = Task { try await publisher.run() }
            defer { loop.cancel() }
            var outcomes: [String: Result<PublishResult, any Error>] = [:]
            for try await (id, outcome) in group { outcomes[id] = outcome }
            for id in ["good-1", "good-2", "good-3"] {
                let result = try #require(try outcomes[id]?.get(), "\(id) was not committed")
                #expect(result.eventID == id && result.deliveryCount == 1 && !result.isReplay)
                #expect(try await store.event(id: id, applicationID: "good") != nil, "\(id) is durable")
            }
            guard case .failure(let error) = outcomes["gone-1"] else { Issue.record("the publish of a deleted application succeeded"); return }
            let storeError = try #require(error as? StoreError, "\(error)")
            #expect(storeError.code == .notFound)
            #expect(storeError.message.contains("gone"))
            #expect(commits.withLock { $0 } >= 1, "the dispatcher is woken for the committed deliveries")
        }
    }

    /// Through the API: a key's application deleted behind the key cache's back (another
    /// process, or the moment between authentication and commit) is a 409 that says so, not a 500.
    @Test func publishingForADeletedApplicationIsAConflictThatSaysWhy() async throws {
        let f = try await APIFixture()
        let key = try await f.key(.developer, application: "doomed")
        try await f.components.store.createEventType(CustomEventType(
            applicationID: "doomed", name: "a.b", description: "A test type.", schema: nil, createdAt: SystemClock().now()))
        try await f.test { client in
            let body = ByteBuffer(string: #"{"type": "a.b", "data": {}}"#)
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(key), body: body) { response in
                #expect(response.status == .accepted, "\(response.text)")
            }
            // The key is cached now; the application goes away underneath it.
            #expect(try await f.components.store.deleteApplication(id: "doomed"))
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(key), body: body) { response in
                #expect(response.status == .conflict, "\(response.text)")
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.json?["type"] as? String == "urn:bankhooks:problem:application-deleted")
                #expect(response.json?["detail"] as? String == "the application of this API key was deleted; nothing was published")
            }
            // Others still publish.
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: body) { response in
                #expect(response.status == .accepted, "\(response.text)")
            }
        }
    }
}

/// Publish bodies whose meaning a reader could take two ways, or whose time cannot be written.
@Suite struct PublishStrictnessTests {
    static let payment = #""id": "e4e672fb-7f3c-43ea-be31-84195a65d0d7", "customer_id": "8ad2437d-2815-4b5c-82fd-543d85567668", "intent_id": "17e030df-91a9-4463-964c-6656605d5bcf", "amount": 670, "currency": "AED", "bank_transaction_reference": "44778733", "end_user_id": "eb3b08f9-4d5e-4ea3-8d28-09b4917a61a9""#

    @Test(arguments: [
        (#"{"type": "a.b", "data": {"x": 1, "x": 2}}"#, "/data/x"),
        (#"{"type": "a.b", "data": {"x": 1, "\u0078": 2}}"#, "/data/x"),
        (#"{"type": "a.b", "data": {"o": {"p": [1, {"k": true, "k": false}]}}}"#, "/data/o/p/1/k"),
        (#"{"type": "a.b", "data": {"a/b": {"m~n": 1, "m~n": 1}}}"#, "/data/a~1b/m~0n"),
        (#"{"type": "a.b", "type": "a.b", "data": {}}"#, "/type"),
        (#"{"type": "a.b", "data": {}, "d\u0061ta": {}}"#, "/data"),
        // A built-in type: the schema's decoder would keep one of the two and pass it.
        (#"{"type": "payment.updated", "data": {"status": "ACCEPTED_BY_BANK", "status": "FAILED", "# + payment + "}}", "/data/status"),
    ])
    func aRepeatedMemberNameAnywhereIs422NamingIt(_ body: String, _ pointer: String) async throws {
        let f = try await APIFixture()
        try await f.test { client in
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .unprocessableContent, "\(response.text)")
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.json?["field"] as? String == pointer, "\(response.text)")
                #expect((response.json?["detail"] as? String)?.contains("more than once") == true, "\(response.text)")
            }
        }
    }

    @Test func theSameDataWithoutTheRepeatIsAccepted() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            let body = #"{"type": "payment.updated", "data": {"status": "ACCEPTED_BY_BANK", "# + Self.payment + "}}"
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .accepted, "\(response.text)")
            }
        }
    }

    @Test(arguments: [
        "0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01", "9999-12-31T23:59:60Z", "10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z",
    ])
    func anEventTimestampOutsideYearsZeroToNineThousandNineHundredNinetyNineIs422(_ timestamp: String) async throws {
        let f = try await APIFixture()
        try await f.test { client in
            let body = #"{"type": "a.b", "data": {}, "timestamp": "\#(timestamp)"}"#
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .unprocessableContent, "\(response.text)")
                #expect(response.json?["field"] as? String == "/timestamp")
            }
        }
    }

    @Test func theEndsOfTheYearRangeAreAcceptedAndShownAsWritten() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            for (written, shown) in [("0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z"), ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
                                     ("0000-01-01T00:00:00-23:59", "0000-01-01T23:59:00.000Z")] {
                let body = #"{"type": "a.b", "data": {}, "timestamp": "\#(written)"}"#
                try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey), body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .accepted, "\(response.text)")
                    #expect(response.json?["timestamp"] as? String == shown, "\(response.text)")
                }
            }
        }
    }
}
