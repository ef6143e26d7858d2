import BankHooksLoopback
import Foundation
import Synchronization

/// What the demo saw, in time order: its own API calls and browser steps, the callback page's
/// visits and every delivery the receiver got (with the status BankHooks recorded for it and
/// whether its signature verified with the webhook's secret).
final class Timeline: Sendable {
    /// One received delivery.
    struct Delivery: Sendable {
        var at: ContinuousClock.Instant
        /// Which webhook it came to (`lean`, `Lean Callback URL`, …).
        var webhook: String
        var type: String
        /// The status in the delivery log (nil: not looked up); the receiver answered 200.
        var status: Int?
        /// nil when it verified, else why not.
        var verificationError: String?
        /// A detail worth showing (a status inside the body).
        var detail: String?
    }

    enum Entry: Sendable {
        /// An action of the demo (an API call, a browser step) and lines under it.
        case step(at: ContinuousClock.Instant, actor: String, text: String, details: [String])
        case delivery(Delivery)
        case visit(CallbackPage.Visit)

        var at: ContinuousClock.Instant {
            switch self {
            case .step(let at, _, _, _): at
            case .delivery(let delivery): delivery.at
            case .visit(let visit): visit.receivedAt
            }
        }
    }

    let start: ContinuousClock.Instant
    private let steps = Mutex<[Entry]>([])

    init(start: ContinuousClock.Instant = .now) {
        self.start = start
    }

    /// Notes an action of the demo now.
    func step(_ actor: String, _ text: String, details: [String] = []) {
        steps.withLock { $0.append(.step(at: .now, actor: actor, text: text, details: details)) }
    }

    var recordedSteps: [Entry] { steps.withLock { $0 } }

    /// The entries in time order, as printed lines.
    func render(_ entries: [Entry]) -> [String] {
        entries.sorted { $0.at < $1.at }.map(line(for:))
    }

    func line(for entry: Entry) -> String {
        let time = Self.pad(Self.seconds(entry.at - start), 8, right: true)
        switch entry {
        case .step(_, let actor, let text, let details):
            return ([time + "  " + Self.pad(actor, 9) + text] + details.map { String(repeating: " ", count: 19) + $0 }).joined(separator: "\n")
        case .visit(let visit):
            let parameters = visit.parameters.map { "\($0.name)=\(Self.abbreviated($0.value))" }.joined(separator: " ")
            return time + "  " + Self.pad("callback", 9) + "\(visit.path) got " + (parameters.isEmpty ? "no parameters" : parameters)
        case .delivery(let delivery):
            let status = delivery.status.map { "HTTP \($0)" } ?? "HTTP 200"
            let signature = delivery.verificationError.map { "signature NOT verified: \($0)" } ?? "signature verified"
            let detail = delivery.detail.map { "  (\($0))" } ?? ""
            return time + "  " + Self.pad("webhook", 9) + Self.pad(delivery.webhook, 18) + Self.pad(delivery.type, 40) + Self.pad(status, 10)
                + signature + detail
        }
    }

    /// `+1.234s`.
    static func seconds(_ duration: Duration) -> String {
        let (s, attoseconds) = duration.components
        let milliseconds = max(0, s * 1000 + attoseconds / 1_000_000_000_000_000)
        return String(format: "+%lld.%03llds", milliseconds / 1000, milliseconds % 1000)
    }

    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let count = text.count
        guard count < width else { return text + (right ? "" : " ") }
        let spaces = String(repeating: " ", count: width - count)
        return right ? spaces + text : text + spaces
    }

    /// Long values (tokens) shortened to their start and length.
    static func abbreviated(_ value: String) -> String {
        value.count <= 48 ? value : "\(value.prefix(24))…(\(value.count) chars)"
    }
}
