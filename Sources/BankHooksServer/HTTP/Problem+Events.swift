import BankHooksDelivery
import Hummingbird

extension Problem {
    /// The answer to a publish or a subscription the event service refused.
    init(_ error: EventError) {
        switch error.code {
        case .invalidField:
            self = .invalidField(error.pointer ?? "/", error.message)
        case .unknownType:
            self.init(.unprocessableContent, "unknown-event-type", title: "The event type is unknown", detail: error.message, field: error.pointer)
        case .invalidData:
            self.init(.unprocessableContent, "invalid-event-data", title: "The event data does not match its type", detail: error.message, field: error.pointer)
        case .formatMismatch:
            self.init(.unprocessableContent, "format-mismatch", title: "The webhook's format cannot carry this event type", detail: error.message, field: error.pointer)
        case .applicationDeleted:
            self.init(.conflict, "application-deleted", title: "The application no longer exists", detail: error.message, field: error.pointer)
        }
    }
}
