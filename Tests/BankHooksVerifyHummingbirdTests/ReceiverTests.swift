import BankHooksCore
import BankHooksVerify
import Foundation
import Testing

/// The error `body` throws, or nil if it succeeds.
func receiveFailure(_ body: () throws(WebhookReceiveError) -> ReceivedEvent) -> WebhookReceiveError? {
    do throws(WebhookReceiveError) {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// The kind of verification failure `body` throws; nil if it succeeds or fails to decode instead.
func verificationFailure(_ body: () throws(WebhookReceiveError) -> ReceivedEvent) -> VerificationError.Kind? {
    guard case .verification(let failure) = receiveFailure(body) else { return nil }
    return failure.kind
}

@Suite struct WebhookReceiverTests {
    let current = WebhookSecret.generate()
    let previous = WebhookSecret.generate()

    @Test(arguments: FormatCase.all)
    func acceptsADeliverySignedByBankHooksAndDecodesItsModel(_ format: FormatCase) throws {
        let delivery = format.delivery(secrets: [current])
        let event = try format.receiver([current]).receive(body: delivery.body, headers: delivery.headers)
        #expect(event.type == format.type)
        #expect(format.isModel(event.data))
        #expect(!event.rawData.isEmpty)
    }

    @Test(arguments: FormatCase.all)
    func duringARotationEitherSecretVerifies(_ format: FormatCase) throws {
        // BankHooks signs with the current and the previous secret during the grace period.
        let delivery = format.delivery(secrets: [current, previous])
        for secrets in [[current], [previous], [WebhookSecret.generate(), previous]] {
            let event = try format.receiver(secrets).receive(body: delivery.body, headers: delivery.headers)
            #expect(event.type == format.type)
        }
    }

    @Test(arguments: FormatCase.all)
    func refusesATamperedBody(_ format: FormatCase) {
        var delivery = format.delivery(secrets: [current])
        let last = delivery.body.count - 1
        delivery.body.insert(UInt8(ascii: " "), at: last)
        #expect(verificationFailure { () throws(WebhookReceiveError) in
            try format.receiver([current]).receive(body: delivery.body, headers: delivery.headers)
        } == .signatureMismatch)
    }

    @Test(arguments: FormatCase.all)
    func refusesAWrongSecret(_ format: FormatCase) {
        let delivery = format.delivery(secrets: [current])
        let receive: () throws(WebhookReceiveError) -> ReceivedEvent = { () throws(WebhookReceiveError) in
            try format.receiver([previous]).receive(body: delivery.body, headers: delivery.headers)
        }
        #expect(verificationFailure(receive) == .signatureMismatch)
        #expect(receiveFailure(receive)?.description.hasPrefix("the webhook did not verify") == true)
    }

    @Test(arguments: FormatCase.all.filter { ["standard", "okra"].contains($0.format.name) })
    func refusesAStaleTimestamp(_ format: FormatCase) {
        let delivery = format.delivery(secrets: [current], sentAt: Timestamp.now.adding(.seconds(-600)))
        #expect(verificationFailure { () throws(WebhookReceiveError) in
            try format.receiver([current]).receive(body: delivery.body, headers: delivery.headers)
        } == .timestampTooOld)
    }

    @Test func refusesOkrasWrongBearerToken() {
        let okra = FormatCase.all[2]
        let delivery = okra.delivery(secrets: [current])
        let receiver = WebhookReceiver(format: "okra", secrets: [current.text], token: "another-token")
        #expect(verificationFailure { () throws(WebhookReceiveError) in try receiver.receive(body: delivery.body, headers: delivery.headers) } == .tokenMismatch)
    }

    @Test func aVerifiedBodyThatIsNotItsModelIsADecodingError() {
        let standard = FormatCase.all[0]
        let delivery = standard.delivery(secrets: [current], data: Array(#"{"id":5}"#.utf8))
        let error = receiveFailure { () throws(WebhookReceiveError) in
            try standard.receiver([current]).receive(body: delivery.body, headers: delivery.headers)
        }
        guard case .decoding(let failure) = error else {
            Issue.record("expected a decoding failure, got \(String(describing: error))")
            return
        }
        #expect(failure.kind == .invalidData)
        #expect(error?.description.hasPrefix("the webhook verified but its event did not decode") == true)
    }

    @Test func anUnknownFormatIsRefusedBeforeAnythingIsDecoded() {
        let delivery = FormatCase.all[0].delivery(secrets: [current])
        let receiver = WebhookReceiver(format: "stripe", secrets: [current.text])
        #expect(verificationFailure { () throws(WebhookReceiveError) in
            try receiver.receive(body: delivery.body, headers: delivery.headers)
        } == .malformedRequest)
    }
}
