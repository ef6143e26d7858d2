import BankHooksCore
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Resolves host names to addresses: a seam so tests can resolve without DNS.
public protocol HostResolver: Sendable {
    func resolve(host: String, port: Int) async throws -> [IPAddress]
}

/// `getaddrinfo`, run on NIO's blocking thread pool, with a deadline: a resolver that hangs
/// fails the lookup after `timeout`, or at once when the calling task is cancelled (the blocked
/// thread finishes on its own; nobody waits for it).
public struct SystemHostResolver: HostResolver {
    public var timeout: Duration

    public init(timeout: Duration = .seconds(5)) { self.timeout = timeout }

    public func resolve(host: String, port: Int) async throws -> [IPAddress] {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        let promise = eventLoop.makePromise(of: [IPAddress].self)
        let once = Once()
        NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { try Self.lookUp(host: host, port: port) }
            .whenComplete { result in if once.claim() { promise.completeWith(result) } }
        let timer = eventLoop.scheduleTask(in: .nanoseconds(timeout.wholeMilliseconds * 1_000_000)) {
            if once.claim() { promise.fail(ResolutionError(host: host, reason: "timed out")) }
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            if once.claim() { promise.fail(CancellationError()) }
        }
    }

    static func lookUp(host: String, port: Int) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else { throw ResolutionError(host: host) }
        defer { freeaddrinfo(first) }
        var addresses: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let sa = info.pointee.ai_addr {
                var address: IPAddress?
                if info.pointee.ai_family == AF_INET {
                    address = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                        withUnsafeBytes(of: p.pointee.sin_addr) { IPAddress(bytes: Array($0)) }
                    }
                } else if info.pointee.ai_family == AF_INET6 {
                    address = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                        withUnsafeBytes(of: p.pointee.sin6_addr) { IPAddress(bytes: Array($0)) }
                    }
                }
                if let address, !addresses.contains(address) { addresses.append(address) }
            }
            cursor = info.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw ResolutionError(host: host) }
        return addresses
    }
}

/// Lets exactly one of several racing callbacks through.
final class Once: Sendable {
    private let taken = Atomic<Bool>(false)
    func claim() -> Bool { !taken.exchange(true, ordering: .acquiringAndReleasing) }
}

/// A host name that did not resolve.
public struct ResolutionError: Error, CustomStringConvertible {
    public var host: String
    public var reason: String?
    public init(host: String, reason: String? = nil) {
        self.host = host
        self.reason = reason
    }
    public var description: String { "could not resolve host \(host)" + (reason.map { " (\($0))" } ?? "") }
}

/// A destination refused by the policy. Its description, which is recorded on the attempt and
/// shown to the tenant, names neither the address nor the port: whatever the host resolved to,
/// and whether anything listens there, the tenant reads the same sentence.
public struct BlockedDestinationError: Error, CustomStringConvertible {
    /// The refused address, for the operator's log only.
    public var address: IPAddress
    public var addressClass: AddressClass
    public var description: String { "the destination resolves to a non-public address, which the destination policy does not allow" }
}

/// The attempt's deadline passed while its host name was being resolved.
public struct ResolutionDeadlineError: Error, CustomStringConvertible {
    public var host: String
    public var description: String { "timed out resolving host \(host)" }
}

/// A URL that passed the policy, and what its connection may be pinned to.
public struct CheckedDestination: Sendable {
    /// The URL's host exactly as AsyncHTTPClient reads it (the key of its DNS override).
    public var host: String
    /// Every address the host name resolved to, all of them allowed; nil when the URL names an
    /// address itself (nothing to resolve, nothing to pin).
    public var addresses: [IPAddress]?
}

/// Applies the destination policy before connecting, to every address a webhook's host resolves
/// to (so a refused host is never connected to); the sender then connects to one of exactly those
/// addresses, and checks the socket actually connected once more (`check(connected:pinnedTo:)`).
public final class DestinationGuard: Sendable {
    /// A webhook URL taken apart once.
    struct Target: Sendable {
        var host: String
        /// The host as AsyncHTTPClient's URL parsing gives it.
        var clientHost: String
        var port: Int
        /// The host as an address, when the URL names one.
        var literal: IPAddress?
    }

    public let policy: DestinationPolicy
    let resolver: any HostResolver
    let resolutionTTL: Duration
    private let targets = Mutex<[String: Target]>([:])
    /// Host → addresses, or the failure, until a time. Failures are kept briefly so a dead DNS
    /// name does not cost a lookup per attempt.
    private let resolutions = Mutex<[String: (result: Result<[IPAddress], ResolutionError>, expires: ContinuousClock.Instant)]>([:])

    public init(policy: DestinationPolicy, resolver: any HostResolver = SystemHostResolver(), resolutionTTL: Duration = .seconds(30)) {
        self.policy = policy
        self.resolver = resolver
        self.resolutionTTL = resolutionTTL
    }

    /// Checks a URL before connecting and says where its connection may go. A host name is
    /// resolved (or taken from the cache) before `deadline`. Throws `BlockedDestinationError`,
    /// `ResolutionError`, `ResolutionDeadlineError` or `InvalidURLError`.
    public func check(url: String, deadline: ContinuousClock.Instant) async throws -> CheckedDestination {
        let target = try self.target(for: url)
        if let literal = target.literal {
            if let refusal = policy.refusal(for: literal) {
                throw BlockedDestinationError(address: literal, addressClass: refusal)
            }
            return CheckedDestination(host: target.clientHost, addresses: nil)
        }
        let addresses = try await self.addresses(of: target.host, port: target.port, deadline: deadline)
        // A resolver may answer with nothing; there is then nothing to check or pin.
        guard !addresses.isEmpty else { throw ResolutionError(host: target.host, reason: "no addresses") }
        for address in addresses {
            if let refusal = policy.refusal(for: address) {
                throw BlockedDestinationError(address: address, addressClass: refusal)
            }
        }
        return CheckedDestination(host: target.clientHost, addresses: addresses)
    }

    /// Checks the peer of a connected socket: it must be allowed, and be `pinned` when the
    /// connection was pinned to an address.
    public func check(connected address: SocketAddress?, pinnedTo pinned: IPAddress? = nil) throws {
        guard let address else { return }
        let ip: IPAddress?
        switch address {
        case .v4(let v4): ip = withUnsafeBytes(of: v4.address.sin_addr) { IPAddress(bytes: Array($0)) }
        case .v6(let v6): ip = withUnsafeBytes(of: v6.address.sin6_addr) { IPAddress(bytes: Array($0)) }
        case .unixDomainSocket: ip = nil
        }
        guard let ip else { return }
        if let refusal = policy.refusal(for: ip) {
            throw BlockedDestinationError(address: ip, addressClass: refusal)
        }
        if let pinned, pinned != ip {
            throw BlockedDestinationError(address: ip, addressClass: AddressClass(ip))
        }
    }

    func target(for url: String) throws -> Target {
        if let cached = targets.withLock({ $0[url] }) { return cached }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", var host = components.host, !host.isEmpty else {
            throw InvalidURLError(url: url)
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        // AsyncHTTPClient parses with `URL`; its host is what the DNS override must name.
        guard let clientHost = URL(string: url)?.host, !clientHost.isEmpty else { throw InvalidURLError(url: url) }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        let target = Target(host: host, clientHost: clientHost, port: port, literal: IPAddress(host))
        targets.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[url] = target
        }
        return target
    }

    private func addresses(of host: String, port: Int, deadline: ContinuousClock.Instant) async throws -> [IPAddress] {
        let now = ContinuousClock.now
        if let cached = resolutions.withLock({ $0[host] }), cached.expires > now { return try cached.result.get() }
        let result: Result<[IPAddress], ResolutionError>
        do {
            result = .success(try await resolve(host: host, port: port, deadline: deadline))
        } catch let error as ResolutionDeadlineError {
            throw error // this attempt's deadline, not the name's fault: not cached
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as ResolutionError {
            result = .failure(error)
        } catch {
            result = .failure(ResolutionError(host: host, reason: "\(error)"))
        }
        let ttl: Duration = (try? result.get()) == nil ? .seconds(5) : resolutionTTL
        resolutions.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[host] = (result, now.advanced(by: ttl))
        }
        return try result.get()
    }

    /// The resolver's answer, or `ResolutionDeadlineError` once `deadline` passes (the resolver's
    /// task is cancelled then; `SystemHostResolver` returns at once and leaves its thread behind).
    private func resolve(host: String, port: Int, deadline: ContinuousClock.Instant) async throws -> [IPAddress] {
        let resolver = self.resolver
        return try await withThrowingTaskGroup(of: [IPAddress]?.self) { group in
            group.addTask { try await resolver.resolve(host: host, port: port) }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let addresses = first else { throw ResolutionDeadlineError(host: host) }
            return addresses
        }
    }
}

/// A webhook URL that cannot be sent to.
public struct InvalidURLError: Error, CustomStringConvertible {
    public var url: String
    public var description: String { "not an http(s) URL with a host: \(url)" }
}
