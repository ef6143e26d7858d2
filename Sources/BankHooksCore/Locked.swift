import Synchronization

/// A value behind a lock that escaping and concurrent closures can share (a `Mutex` itself
/// cannot be captured: it is not copyable).
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    /// Runs `body` with exclusive access to the value.
    public func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }

    /// A copy of the value.
    public var value: Value { mutex.withLock { $0 } }
}
