import BankHooksCore
import BankHooksVerify
import Foundation
import Testing

/// A delivery rendered and signed by BankHooks' own wire formats, exactly as the dispatcher sends it.
struct Delivery: Sendable {
    var headers: [(name: String, value: String)]
    var body: [UInt8]
}

/// One built-in format with a type of its family, the catalog example's data and the model it decodes to.
struct FormatCase: Sendable, CustomTestStringConvertible {
    let format: any WireFormat
    let type: String
    let isModel: @Sendable (any CatalogEvent) -> Bool
    /// Okra's bearer token, sent and checked besides the secret.
    var token: String? { format.name == "okra" ? "okra-token-1" : nil }
    var testDescription: String { format.name }

    static let all: [FormatCase] = [
        FormatCase(format: StandardWebhooksFormat(), type: "entity.created", isModel: { $0 is LeanEntity }),
        FormatCase(format: LeanFormat(), type: "entity.created", isModel: { $0 is LeanEntity }),
        FormatCase(format: OkraFormat(), type: "TRANSACTIONS.INITIAL_TRANSACTIONS", isModel: { $0 is OkraTransactionsCallback }),
        FormatCase(format: BridgeFormat(), type: "item.created", isModel: { $0 is BridgeItemEvent }),
    ]

    /// The catalog example's data of `type`.
    var exampleData: [UInt8] {
        Array((EventCatalog.builtIn[type]?.examples.first?.data ?? "{}").utf8)
    }

    /// The event signed with `secrets` (the first is current), sent at `sentAt`.
    func delivery(secrets: [WebhookSecret], sentAt: Timestamp = .now, data: [UInt8]? = nil) -> Delivery {
        let event = OutboundEvent(id: "evt_receiver_1", type: type, timestamp: sentAt, data: data ?? exampleData)
        let body = format.body(for: event)
        let keys = secrets.map { SigningKey($0, key: format.signingKey(for: $0)) }
        var headers = format.headers(for: event, body: body, sentAt: sentAt, keys: keys)
        format.appendExtraHeaders(bearerToken: token, to: &headers)
        return Delivery(headers: headers, body: body)
    }

    func receiver(_ secrets: [WebhookSecret]) -> WebhookReceiver {
        WebhookReceiver(format: format.name, secrets: secrets.map(\.text), token: token)
    }
}

extension Timestamp {
    static var now: Timestamp { Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)) }
}
