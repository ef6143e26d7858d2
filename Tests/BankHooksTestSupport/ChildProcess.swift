import Foundation
import Synchronization

/// A child process started with `posix_spawn`, its standard output and error written to files.
///
/// Not Foundation's `Process`: on Linux, `Process.run()` lists `/proc/self/fd` and copies each
/// directory entry's whole 256-byte name field, reading past the end of glibc's buffer, so a test
/// process with many descriptors open crashes now and then as it starts a child (SIGSEGV in
/// `Process.run`; swift-corelibs-foundation #5472, fixed after Swift 6.3.1). Here the child's
/// descriptors from 3 up are closed by `posix_spawn_file_actions_addclosefrom_np` instead.
public final class ChildProcess: Sendable {
    public let processIdentifier: pid_t
    /// The raw wait status, once reaped.
    private let waitStatus = Mutex<Int32?>(nil)

    /// Where a standard stream goes.
    public enum Destination: Sendable {
        case null
        /// A file, created or truncated.
        case file(String)
        /// Standard error only: wherever standard output goes.
        case output
    }

    /// Starts `executable` (a path) with `arguments`; `environment` nil inherits this process's.
    public init(
        executable: String, arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        output: Destination = .null, errors: Destination = .output
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        try Self.check(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0), "stdin")
        try Self.open(output, as: 1, in: &actions)
        if case .output = errors {
            try Self.check(posix_spawn_file_actions_adddup2(&actions, 1, 2), "stderr")
        } else {
            try Self.open(errors, as: 2, in: &actions)
        }
        guard let closeFrom = Self.addCloseFrom else { throw TestFailure("posix_spawn_file_actions_addclosefrom_np is missing (glibc < 2.34)") }
        try Self.check(closeFrom(&actions, 3), "closefrom")
        if let directory {
            guard let changeDirectory = Self.addChangeDirectory else { throw TestFailure("posix_spawn_file_actions_addchdir_np is missing") }
            try Self.check(directory.withCString { changeDirectory(&actions, $0) }, "chdir \(directory)")
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, as Foundation's Process does: a Ctrl-C meant for the tests is not the child's.
        try Self.check(posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP)), "attributes")
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        try Self.check(posix_spawn(&pid, executable, &actions, &attributes, argv, envp), "posix_spawn \(executable)")
        processIdentifier = pid
    }

    /// Whether it has not exited yet (reaps it when it has).
    public var isRunning: Bool {
        waitStatus.withLock { status in
            if status != nil { return false }
            var raw: Int32 = 0
            let result = waitpid(processIdentifier, &raw, WNOHANG)
            if result == processIdentifier { status = raw; return false }
            return result == 0
        }
    }

    /// Blocks until it exits (a thread of its own: in a test, prefer `exited()`).
    public func waitUntilExit() {
        while isRunning { usleep(10_000) }
    }

    /// Waits until it exits without holding a thread: the suites' tasks share a pool of one thread
    /// per core, and one blocked in a wait for a child stalls every other test's timers.
    public func exited() async {
        while isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// Its exit code, or the signal that ended it; once it has exited.
    public var terminationStatus: Int32 {
        let raw = waitStatus.withLock { $0 } ?? 0
        return raw & 0x7f == 0 ? (raw >> 8) & 0xff : raw & 0x7f
    }

    /// Whether a signal ended it.
    public var wasSignalled: Bool {
        let raw = waitStatus.withLock { $0 } ?? 0
        return raw & 0x7f != 0 && raw & 0x7f != 0x7f
    }

    /// Sends `signal` (if it is still running).
    public func send(_ signal: Int32) {
        if isRunning { kill(processIdentifier, signal) }
    }

    deinit {
        if isRunning {
            kill(processIdentifier, SIGKILL)
            waitUntilExit()
        }
    }

    // MARK: posix_spawn

    private typealias AddDescriptor = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias AddPath = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    /// glibc's `_np` file actions, which Swift's Glibc module does not declare (they need `_GNU_SOURCE`).
    private static let addCloseFrom = unsafeBitCast(dlsym(nil, "posix_spawn_file_actions_addclosefrom_np"), to: AddDescriptor?.self)
    private static let addChangeDirectory = unsafeBitCast(dlsym(nil, "posix_spawn_file_actions_addchdir_np"), to: AddPath?.self)

    private static func open(_ destination: Destination, as descriptor: Int32, in actions: inout posix_spawn_file_actions_t) throws {
        switch destination {
        case .null, .output:
            try check(posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_WRONLY, 0), "fd \(descriptor)")
        case .file(let path):
            try check(posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644), "open \(path)")
        }
    }

    private static func check(_ result: Int32, _ what: String) throws {
        guard result == 0 else { throw TestFailure("\(what): \(String(cString: strerror(result)))") }
    }
}
