import Synchronization

/// A wake-up for one waiting task: any number of `signal()` calls while nobody waits collapse
/// into one, so a loop that drains its work after each wake-up never misses any and never spins.
public final class Signal: Sendable {
    private struct State {
        var isPending = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    public init() {}

    /// Wakes the waiter, or the next one to wait.
    public func signal() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { s in
            if let waiter = s.waiter {
                s.waiter = nil
                return waiter
            }
            s.isPending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns at once if signalled since the last wait, else when signalled or cancelled.
    public func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = state.withLock { s in
                    if s.isPending || Task.isCancelled {
                        s.isPending = false
                        return true
                    }
                    s.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
    }
}
