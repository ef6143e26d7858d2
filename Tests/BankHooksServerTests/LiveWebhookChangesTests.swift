import BankHooksCore
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

/// The HTTP API in process with a dispatcher configured by the test (in-flight bounds, slot wait).
struct TunedFixture: @unchecked Sendable {
    let dir = TemporaryDirectory()
    let components: ServerComponents
    let operatorKey = "bhk_operator1_" + String(repeating: "x", count: 32)

    init(clock: any WallClock = SystemClock(), _ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws {
        var configuration = ServerConfiguration()
        configuration.storage = .sqlite(path: dir.file("api.sqlite"))
        configuration.adminKey = operatorKey
        configuration.keyRateLimit = nil
        configuration.allowedDestinations = [AddressRange("127.0.0.1/32")!]
        configure(&configuration)
        var logger = Logger(label: "tuned-test")
        logger.logLevel = .critical
        components = try await buildComponents(configuration, clock: clock, logger: logger, announce: { _ in })
        try await components.store.createEventType(CustomEventType(
            applicationID: defaultApplicationID, name: "a.b", description: "A test type.", schema: nil, createdAt: clock.now()))
    }

    func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: components.router, services: components.services)
        try await app.test(.router) { client in try await body(client) }
    }

    func deliveries(_ eventID: String) async throws -> [Delivery] {
        try await components.store.deliveries(eventID: eventID, applicationID: defaultApplicationID)
    }
}

/// A webhook change applies at once to deliveries already claimed or queued in memory, and sends
/// outside the claim loop ("Send a test", resend) count against the same in-flight bounds.
@Suite struct LiveWebhookChangesTests {
    @Test func liftingARateLimitSendsTheWaitingBacklogAtOnce() async throws {
        let f = try await TunedFixture()
        try await TestReceiver.run { receiver in
            try await f.test { client in
                let api = DeliveryLogTests.Call(client: client, key: f.operatorKey)
                let id = try await api.webhook(#"{"url": "\#(receiver.url())", "rate_limit": 0.01}"#)
                var events: [String] = []
                for _ in 0..<10 { events.append(try await api.publish()) }
                // One goes out on the first token; the next waits 100 s for its own, claimed and queued.
                _ = try await receiver.waitForRequests(1)
                let published = events
                try await eventually("a delivery is claimed and waits for its token") {
                    var leased = 0
                    for event in published {
                        if let d = try await f.deliveries(event).first, d.state == .pending, let next = d.nextAttemptAt,
                           next > SystemClock().now().adding(.seconds(30)) { leased += 1 }
                    }
                    return leased >= 1
                }
                let (status, json) = try await api.callJSON(.patch, "/v1/webhooks/\(id)", #"{"rate_limit": null}"#)
                #expect(status == 200, "\(json)")
                // Before: the queued claim kept its old snapshot (0.01/s) until its lease ran out, ~45 s.
                _ = try await receiver.waitForRequests(10, timeout: .seconds(5))
                try await eventually("all succeeded") { try await f.components.store.deliveryCounts()[.succeeded] == 10 }
            }
        }
    }

    @Test func disablingAWebhookStopsDeliveriesAlreadyQueuedForIt() async throws {
        let f = try await TunedFixture()
        try await TestReceiver.run { receiver in
            try await f.test { client in
                let api = DeliveryLogTests.Call(client: client, key: f.operatorKey)
                let id = try await api.webhook(#"{"url": "\#(receiver.url())", "rate_limit": 0.25}"#)
                let first = try await api.publish()
                _ = try await receiver.waitForRequests(1)
                try await eventually("the first is recorded") { try await f.deliveries(first).first?.state == .succeeded }
                // The second is claimed and queued for its token (4 s after the first: room for the
                // publishes and the PATCH below on a loaded machine); the others wait in the store.
                let second = try await api.publish()
                try await eventually("the second is claimed") {
                    try await f.deliveries(second).first?.nextAttemptAt.map { $0 > SystemClock().now().adding(.seconds(30)) } ?? false
                }
                let rest = [try await api.publish(), try await api.publish()]
                let (status, json) = try await api.callJSON(.patch, "/v1/webhooks/\(id)", #"{"enabled": false}"#)
                #expect(status == 200 && json["enabled"] as? Bool == false, "\(json)")
                // Before: the queued one went out on its token, to a disabled webhook (within 4 s).
                try await Task.sleep(for: .milliseconds(5000))
                #expect(receiver.requests.count == 1, "nothing is sent to a disabled webhook")
                for event in [second] + rest {
                    #expect(try await f.deliveries(event).first?.state == .pending, "held, shown as pending")
                }
                // Enabling it again sends them all.
                #expect(try await api.callJSON(.patch, "/v1/webhooks/\(id)", #"{"enabled": true, "rate_limit": null}"#).0 == 200)
                _ = try await receiver.waitForRequests(4, timeout: .seconds(15))
                try await eventually("all succeeded") { try await f.components.store.deliveryCounts()[.succeeded] == 4 }
                #expect(receiver.requests.count == 4)
            }
        }
    }

    @Test func deletingAnApplicationStopsDeliveriesAlreadyQueuedForItsWebhooks() async throws {
        let f = try await TunedFixture()
        try await TestReceiver.run { receiver in
            try await f.test { client in
                let operatorCall = DeliveryLogTests.Call(client: client, key: f.operatorKey)
                let (created, app) = try await operatorCall.callJSON(.post, "/v1/applications", #"{"name": "Leaving"}"#)
                #expect(created == 201, "\(app)")
                let appID = try #require(app["id"] as? String)
                let (keyStatus, key) = try await operatorCall.callJSON(.post, "/v1/applications/\(appID)/api-keys", #"{"role": "admin"}"#)
                #expect(keyStatus == 201, "\(key)")
                let api = DeliveryLogTests.Call(client: client, key: try #require(key["key"] as? String))
                #expect(try await api.callJSON(.post, "/v1/event-types", #"{"name": "a.b", "description": "A test type."}"#).0 == 201)
                _ = try await api.webhook(#"{"url": "\#(receiver.url())", "rate_limit": 0.25}"#)
                _ = try await api.publish()
                _ = try await receiver.waitForRequests(1)
                // The second is claimed and queued for its token, 4 s after the first.
                let second = try await api.publish()
                try await eventually("the second is claimed") {
                    try await f.components.store.deliveries(eventID: second, applicationID: appID).first?.nextAttemptAt
                        .map { $0 > SystemClock().now().adding(.seconds(30)) } ?? false
                }
                #expect(try await operatorCall.callJSON(.delete, "/v1/applications/\(appID)").0 == 204)
                // Before: the queued delivery went out on its token, signed with a deleted tenant's secret.
                try await Task.sleep(for: .milliseconds(5000))
                #expect(receiver.requests.count == 1, "nothing is sent for a deleted application")
            }
        }
    }

    @Test func sendATestAndResendWaitForTheWebhooksInFlightSlot() async throws {
        let f = try await TunedFixture { $0.dispatcher.maxInFlightPerWebhook = 1 }
        let inFlight = Atomic<Int>(0), most = Atomic<Int>(0), slowNext = Atomic<Bool>(false)
        try await TestReceiver.run(script: { _, _ in
            most.max(inFlight.add(1, ordering: .relaxed).newValue, ordering: .relaxed)
            if slowNext.exchange(false, ordering: .relaxed) { try? await Task.sleep(for: .seconds(2)) }
            inFlight.subtract(1, ordering: .relaxed)
            return .init()
        }) { receiver in
            try await f.test { client in
                let api = DeliveryLogTests.Call(client: client, key: f.operatorKey)
                let id = try await api.webhook(#"{"url": "\#(receiver.url())"}"#)
                let done = try await api.publish()
                try await eventually("delivered") { try await f.deliveries(done).first?.state == .succeeded }
                let doneID = try #require(try await f.deliveries(done).first?.id)
                // A slow request holds the webhook's only slot for 2 s.
                slowNext.store(true, ordering: .relaxed)
                try await api.publish()
                _ = try await receiver.waitForRequests(2)
                // Before: both went out at once, beside it (three requests in flight to a webhook bounded to one).
                async let test = api.callJSON(.post, "/v1/webhooks/\(id)/test")
                async let resend = api.callJSON(.post, "/v1/deliveries/\(doneID)/resend")
                let (tested, resent) = try await (test, resend)
                #expect(tested.0 == 200 && tested.1["succeeded"] as? Bool == true, "\(tested.1)")
                #expect(resent.0 == 200 && resent.1["succeeded"] as? Bool == true, "\(resent.1)")
                #expect(receiver.requests.count == 4)
                #expect(most.load(ordering: .relaxed) == 1, "never more than one request in flight to the webhook")
            }
        }
    }

    @Test func aSendThatFindsNoSlotInTimeIsA429AndChangesNothing() async throws {
        let f = try await TunedFixture {
            $0.dispatcher.maxInFlightPerWebhook = 1
            $0.dispatcher.sendSlotWait = .milliseconds(300)
        }
        let release = Atomic<Bool>(false)
        try await TestReceiver.run(script: { request, _ in
            // The first request holds the only slot until the test lets it go.
            if request.header("webhook-id")?.hasPrefix("evt_hold") == true {
                while !release.load(ordering: .relaxed) { try? await Task.sleep(for: .milliseconds(20)) }
            }
            return .init()
        }) { receiver in
            try await f.test { client in
                let api = DeliveryLogTests.Call(client: client, key: f.operatorKey)
                let id = try await api.webhook(#"{"url": "\#(receiver.url())"}"#)
                let (accepted, _) = try await api.callJSON(.post, "/v1/events", #"{"type": "a.b", "data": {}, "id": "evt_hold"}"#)
                #expect(accepted == 202)
                _ = try await receiver.waitForRequests(1)
                let eventsBefore = try await api.callJSON(.get, "/v1/events").1["data"] as? [Any]
                let reply = try await client.execute(uri: "/v1/webhooks/\(id)/test", method: .post, headers: auth(f.operatorKey)) { response in
                    (response.status.code, response.headers[.retryAfter], response.headers[.contentType],
                     (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:])
                }
                #expect(reply.0 == 429 && reply.1 == "1" && reply.2 == "application/problem+json", "\(reply)")
                #expect(reply.3["type"] as? String == "urn:bankhooks:problem:webhook-busy")
                let eventsAfter = try await api.callJSON(.get, "/v1/events").1["data"] as? [Any]
                #expect(eventsAfter?.count == eventsBefore?.count, "a refused test publishes nothing")
                release.store(true, ordering: .relaxed)
                let (status, sent) = try await api.callJSON(.post, "/v1/webhooks/\(id)/test")
                #expect(status == 200 && sent["succeeded"] as? Bool == true, "\(sent)")
                #expect(receiver.requests.count == 2)
            }
        }
    }
}
