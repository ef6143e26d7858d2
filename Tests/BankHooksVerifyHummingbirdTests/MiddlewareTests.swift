import BankHooksCore
import BankHooksVerify
import BankHooksVerifyHummingbird
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// An app's own context, adopting the protocol the middleware fills in.
struct HookContext: WebhookRequestContext {
    var coreContext: CoreRequestContextStorage
    var webhookEvent: ReceivedEvent?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webhookEvent = nil
    }
}

@Suite struct WebhookReceiverMiddlewareTests {
    let secret = WebhookSecret.generate()

    /// An app whose `POST /hooks` is behind the middleware; `reached` records what each call of the route saw.
    func app(_ format: FormatCase, maxBodySize: Int = 1024 * 1024, reached: Locked<[String]>) -> some ApplicationProtocol {
        let router = Router(context: HookContext.self)
        router.group("hooks")
            .add(middleware: WebhookReceiverMiddleware(format.receiver([secret]), maxBodySize: maxBodySize))
            .post { request, context -> String in
                let event = try context.requireWebhookEvent()
                // The body is still there for the route, exactly as received.
                let body = try await request.body.collect(upTo: maxBodySize)
                reached.withLock { $0.append("\(event.type) \(format.isModel(event.data)) \(body.readableBytes)") }
                return event.eventID ?? "no id"
            }
        return Application(router: router)
    }

    func send(_ delivery: Delivery, to client: some TestClientProtocol, check: @escaping @Sendable (TestResponse) -> Void) async throws {
        var fields = HTTPFields()
        for (name, value) in delivery.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        try await client.execute(uri: "/hooks", method: .post, headers: fields, body: ByteBuffer(bytes: delivery.body)) { check($0) }
    }

    @Test(arguments: FormatCase.all)
    func aGoodDeliveryReachesTheRouteWithItsDecodedEvent(_ format: FormatCase) async throws {
        let reached = Locked<[String]>([])
        let delivery = format.delivery(secrets: [secret])
        try await app(format, reached: reached).test(.router) { client in
            try await send(delivery, to: client) { response in
                #expect(response.status == .ok)
            }
        }
        #expect(reached.value == ["\(format.type) true \(delivery.body.count)"])
    }

    @Test(arguments: FormatCase.all)
    func aBadSignatureIs401AndNeverReachesTheRoute(_ format: FormatCase) async throws {
        let reached = Locked<[String]>([])
        let delivery = format.delivery(secrets: [WebhookSecret.generate()])
        try await app(format, reached: reached).test(.router) { client in
            try await send(delivery, to: client) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(problem?["type"] as? String == "urn:bankhooks:problem:invalid-signature")
                #expect(problem?["status"] as? Int == 401)
                #expect((problem?["detail"] as? String)?.contains("does not match") == true)
            }
            var unsigned = delivery
            unsigned.headers = [("content-type", "application/json")]
            try await send(unsigned, to: client) { response in
                #expect(response.status == .unauthorized)
            }
        }
        #expect(reached.value.isEmpty)
    }

    @Test func anOversizedBodyIs413AndNeverReachesTheRoute() async throws {
        let reached = Locked<[String]>([])
        let standard = FormatCase.all[0]
        let delivery = standard.delivery(secrets: [secret])
        try await app(standard, maxBodySize: delivery.body.count - 1, reached: reached).test(.router) { client in
            try await send(delivery, to: client) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
        }
        #expect(reached.value.isEmpty)
    }

    @Test func aVerifiedBodyThatDoesNotDecodeIs422AndNeverReachesTheRoute() async throws {
        let reached = Locked<[String]>([])
        let standard = FormatCase.all[0]
        let delivery = standard.delivery(secrets: [secret], data: Array(#"{"id":5}"#.utf8))
        try await app(standard, reached: reached).test(.router) { client in
            try await send(delivery, to: client) { response in
                #expect(response.status == .unprocessableContent)
                let problem = try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(problem?["type"] as? String == "urn:bankhooks:problem:invalid-event")
            }
        }
        #expect(reached.value.isEmpty)
    }

    @Test func aDeliveryOverRealHTTPReachesTheRoute() async throws {
        let reached = Locked<[String]>([])
        let bridge = FormatCase.all[3]
        let delivery = bridge.delivery(secrets: [secret])
        try await app(bridge, reached: reached).test(.live) { client in
            try await send(delivery, to: client) { response in
                #expect(response.status == .ok)
            }
        }
        #expect(reached.value == ["item.created true \(delivery.body.count)"])
    }
}
