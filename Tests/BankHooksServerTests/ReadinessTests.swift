import BankHooksCore
@testable import BankHooksServer
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// `/readyz` beside `/healthz`: ready only when the store answers in time and is migrated, 503
/// from SIGTERM on while the server drains (still serving), then a clean exit.
@Suite struct ReadinessTests {
    /// Stops `server` with SIGTERM on a thread of its own, so the test goes on while it drains.
    static func terminate(_ server: ServerProcess) async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: server.terminate()) }
        }
    }

    @Test(arguments: TestBackend.all)
    func aServeProcessIsReadyThenDrainsOnSIGTERMServingHealthAndPublishesThenExitsZero(_ backend: TestBackend) async throws {
        // Long enough for the checks below on a loaded machine (the whole suite at once).
        let drain = 8
        try await TestReceiver.run { receiver in
            let dir = TemporaryDirectory()
            let database = try await backend.database(in: dir, name: "ready.sqlite")
            let server = try await ServerProcess(
                database: database,
                arguments: ["--allow-destination", "127.0.0.1/32", "--drain-seconds", "\(drain)"] + backend.serveArguments(in: dir))
            let key = try #require(server.bootstrapKey)
            let api = API(baseURL: server.baseURL, key: key), open = API(baseURL: server.baseURL, key: nil)
            let ready = try await open.call(.GET, "/readyz")
            #expect(ready.status == 200)
            #expect(ready.text == #"{"status":"ready"}"#)
            #expect(try await api.call(.POST, "/v1/webhooks", body: #"{"url": "\#(receiver.url())"}"#).status == 201)
            #expect(try await api.call(.POST, "/v1/event-types", body: #"{"name": "bank.offline", "description": "A bank went offline."}"#).status == 201)

            let signalled = ContinuousClock.now
            async let exitStatus = Self.terminate(server)
            try await eventually("/readyz answers 503 once SIGTERM arrived", timeout: .seconds(Int64(drain))) {
                (try? await open.call(.GET, "/readyz"))?.status == 503
            }
            let draining = try await open.call(.GET, "/readyz")
            #expect(draining.status == 503)
            #expect(draining.headers.first(name: "content-type") == "application/problem+json")
            #expect(draining.json?["type"] as? String == "urn:bankhooks:problem:draining")
            #expect(draining.headers.first(name: "retry-after") == "1")
            // Still serving: liveness, and a publish, which is delivered before the shutdown.
            let health = try await open.call(.GET, "/healthz")
            #expect(health.status == 200)
            let published = try await api.call(.POST, "/v1/events", body: #"{"id": "evt-drain", "type": "bank.offline", "data": {"n": 1}}"#)
            #expect(published.status == 202)
            #expect(ContinuousClock.now - signalled < .seconds(Int64(drain)), "the checks ran within the drain")
            let delivered = try await receiver.waitForRequests(1, timeout: .seconds(Int64(drain)))
            #expect(delivered.first?.header("webhook-id") == "evt-drain")
            #expect(await exitStatus == 0)
            #expect(ContinuousClock.now - signalled >= .seconds(Int64(drain)), "it kept serving for the drain period")
        }
    }

    @Test(arguments: TestBackend.all)
    func readyzIsReadyOnAMigratedStoreAndDrainingOnceToldSo(_ backend: TestBackend) async throws {
        let f = try await APIFixture(backend: backend)
        try await f.test { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text == #"{"status":"ready"}"#)
            }
            f.components.readiness.beginDraining()
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.json?["type"] as? String == "urn:bankhooks:problem:draining")
            }
            // Liveness only: draining does not change it.
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }

    /// A database no connection can be made to keeps each query waiting about a minute (PostgresNIO's
    /// pool retries until its circuit breaker trips): `/readyz` answers 503 within its deadline instead.
    @Test func aStoreThatDoesNotAnswerIsUnavailableWithinTheDeadline() async throws {
        let store = try TestPostgres.store(url: "postgres://bankhooks@127.0.0.1:1/none?sslmode=disable")
        let router = Router(context: AppRequestContext.self)
        addHealthRoutes(to: router, readiness: Readiness(store: store, deadline: .seconds(1)))
        try await Application(router: router).test(.live) { client in
            let started = ContinuousClock.now
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.json?["type"] as? String == "urn:bankhooks:problem:store-unavailable")
            }
            #expect(ContinuousClock.now - started < .seconds(5), "answered at the deadline, not when the pool gave up")
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
        // The probe still waits in the pool: closing it ends that wait (and the pool's retries).
        await store.close()
    }

    @Test func aDatabaseWithoutThisBinarysMigrationsIsNotReady() async throws {
        let store = try TestPostgres.store(url: try await TestPostgres.freshDatabase(migrated: false))
        let problem = try #require(await Readiness(store: store).problem())
        #expect(problem.slug == "migrations-pending")
        #expect(problem.detail.contains("v1"), "names the missing migrations: \(problem.detail)")
        try await store.migrate()
        #expect(await Readiness(store: store).problem().map(\.slug) == nil)
    }

    /// Anyone may ask `/readyz`: a store error other than unavailability (a file path, a statement) is not shown.
    @Test func anUnexpectedStoreErrorIsNotShown() async throws {
        struct Leaky: Error, CustomStringConvertible { var description: String { "no such table at /srv/secret/bankhooks.sqlite" } }
        let problem = try #require(await Readiness(deadline: .seconds(5)) { throw Leaky() }.problem())
        #expect(problem.slug == "store-unavailable")
        #expect(!problem.detail.contains("/srv/secret"), "\(problem.detail)")
        let unavailable = try #require(await Readiness(deadline: .seconds(5)) { throw StoreUnavailableError("the database connection was lost") }.problem())
        #expect(unavailable.detail.contains("the database connection was lost"), "unavailability says why: \(unavailable.detail)")
    }

    @Test func theDeadlineAnswersForABodyThatNeverReturns() async throws {
        let started = ContinuousClock.now
        let outcome = await Readiness.outcome(within: .milliseconds(200)) { () async throws -> Int in
            try await Task.sleep(for: .seconds(60))
            return 1
        }
        #expect(outcome == nil)
        #expect(ContinuousClock.now - started < .seconds(5))
        let answered = await Readiness.outcome(within: .seconds(5)) { 7 }
        #expect(try answered?.get() == 7)
    }

    /// Polls while the store hangs share the one query under way; once it answers, the next poll asks again.
    @Test func pollsWhileAProbeHangsWaitForItInsteadOfAskingAgain() async throws {
        let calls = Atomic<Int>(0)
        let (release, releaser) = AsyncStream.makeStream(of: Void.self)
        let readiness = Readiness(deadline: .milliseconds(100)) {
            if calls.add(1, ordering: .relaxed).newValue == 1 {
                for await _ in release { break }
            }
            return []
        }
        for _ in 0..<5 { #expect(await readiness.problem()?.slug == "store-unavailable") }
        #expect(calls.load(ordering: .relaxed) == 1)
        releaser.yield()
        try await eventually("the hung probe finished and the next poll asked again") {
            await readiness.problem() == nil && calls.load(ordering: .relaxed) == 2
        }
    }

    @Test(arguments: ["-1", "3601", "x"])
    func serveRefusesADrainOutOfRange(_ value: String) async throws {
        let result = try #require(try await ServeFlagTests.serve(["--drain-seconds", value]), "serve refused it")
        #expect(result.status == 64)
        #expect(result.output.contains("--drain-seconds"), "\(result.output)")
    }
}
