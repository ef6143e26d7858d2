public import BankHooksVerify
import Foundation
public import Hummingbird
import NIOCore

// MARK: - Context

/// A request context that carries the webhook event `WebhookReceiverMiddleware` verified and
/// decoded, the way hummingbird-auth's `AuthRequestContext` carries the authenticated identity.
/// Adopt it in the app's context with a stored `var webhookEvent: ReceivedEvent?` set to nil.
public protocol WebhookRequestContext: RequestContext {
    /// The verified, decoded event; nil until the middleware has run.
    var webhookEvent: ReceivedEvent? { get set }
}

extension WebhookRequestContext {
    /// The event the middleware set; a route reached without the middleware answers 500.
    public func requireWebhookEvent() throws -> ReceivedEvent {
        guard let webhookEvent else {
            throw HTTPError(.internalServerError, message: "no verified webhook event: the route is not behind WebhookReceiverMiddleware")
        }
        return webhookEvent
    }
}

/// A ready-made `WebhookRequestContext` for an app with no context of its own.
public struct BasicWebhookRequestContext: WebhookRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var webhookEvent: ReceivedEvent?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webhookEvent = nil
    }
}

// MARK: - Middleware

/// Verifies and decodes each request with a `WebhookReceiver` before the route sees it.
///
/// - A body larger than `maxBodySize` bytes: 413; a body that cannot be read: 400.
/// - A request that does not verify (signature, timestamp, token): 401, and the route is not called.
/// - A verified body that is not an event of the catalog: 422, and the route is not called.
/// - Otherwise the route runs with `context.webhookEvent` set and the body still readable.
///
/// Every refusal is `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`
/// (what failed, never a secret). BankHooks retries any answer other than a success.
public struct WebhookReceiverMiddleware<Context: WebhookRequestContext>: RouterMiddleware {
    public let receiver: WebhookReceiver
    /// Largest body accepted, in bytes.
    public let maxBodySize: Int

    public init(_ receiver: WebhookReceiver, maxBodySize: Int = 1024 * 1024) {
        self.receiver = receiver
        self.maxBodySize = maxBodySize
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBodySize)
        } catch is NIOTooManyBytesError {
            return Self.problem(.contentTooLarge, "body-too-large", "Body too large",
                                "the body is larger than the \(maxBodySize) bytes this receiver accepts")
        } catch {
            return Self.problem(.badRequest, "unreadable-body", "Unreadable body", "the body could not be read: \(error)")
        }
        let headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        let event: ReceivedEvent
        do throws(WebhookReceiveError) {
            event = try receiver.receive(body: Array(buffer: body), headers: headers)
        } catch {
            switch error {
            case .verification(let failure):
                return Self.problem(.unauthorized, "invalid-signature", "Webhook did not verify", failure.message)
            case .decoding(let failure):
                return Self.problem(.unprocessableContent, "invalid-event", "Webhook event did not decode", failure.message)
            }
        }
        var context = context
        context.webhookEvent = event
        return try await next(request, context)
    }

    /// An `application/problem+json` answer.
    static func problem(_ status: HTTPResponse.Status, _ type: String, _ title: String, _ detail: String) -> Response {
        let object: [String: Any] = [
            "type": "urn:bankhooks:problem:\(type)", "title": title, "status": status.code, "detail": detail,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/problem+json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
