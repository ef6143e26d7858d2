// Tests get the shared receiver and client with this module.
@_exported import BankHooksLoopback
import Foundation

/// The tests' receiver: the shared loopback receiver (the benchmark's too), recording every
/// request and answering as the test scripts it.
public typealias TestReceiver = LoopbackReceiver

/// The tests' API client: the shared one (the benchmark's publishers use it too).
public typealias API = APIClient

/// A test precondition that did not hold.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A temporary directory removed when the value goes away.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init() {
        path = NSTemporaryDirectory() + "bankhooks-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Polls `condition` every 10 ms until it holds; throws after `timeout`.
public func eventually(
    _ what: String, timeout: Duration = .seconds(20), _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    throw TestFailure("timed out waiting for: \(what)")
}
