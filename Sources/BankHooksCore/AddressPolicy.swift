#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as a value. IPv4 is kept as 4 bytes; IPv4-mapped IPv6 stays IPv6
/// here and is unwrapped by the classifier.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, network order.
    public let bytes: [UInt8]

    public var isIPv4: Bool { bytes.count == 4 }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses a textual address (`127.0.0.1`, `::1`, `[::1]`, `::ffff:10.0.0.1`).
    public init?(_ text: some StringProtocol) {
        var s = String(text)
        if s.hasPrefix("["), s.hasSuffix("]") { s = String(s.dropFirst().dropLast()) }
        if let percent = s.firstIndex(of: "%") { s = String(s[..<percent]) } // zone index
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 {
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = isIPv4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        guard ok else { return "?" }
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`),
    /// NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:AABB:CCDD::`) IPv6 address.
    public var embeddedIPv4: IPAddress? {
        guard bytes.count == 16 else { return nil }
        let prefix10Zero = bytes[0..<10].allSatisfy { $0 == 0 }
        if prefix10Zero, bytes[10] == 0xFF, bytes[11] == 0xFF { return IPAddress(bytes: Array(bytes[12..<16])) }
        if prefix10Zero, bytes[10] == 0, bytes[11] == 0, !bytes[12..<16].allSatisfy({ $0 == 0 }),
           !(bytes[12..<15].allSatisfy { $0 == 0 } && bytes[15] == 1) {
            return IPAddress(bytes: Array(bytes[12..<16]))
        }
        if bytes[0] == 0x00, bytes[1] == 0x64, bytes[2] == 0xFF, bytes[3] == 0x9B, bytes[4..<12].allSatisfy({ $0 == 0 }) {
            return IPAddress(bytes: Array(bytes[12..<16]))
        }
        if bytes[0] == 0x20, bytes[1] == 0x02 { return IPAddress(bytes: Array(bytes[2..<6])) }
        return nil
    }
}

/// An address range in CIDR notation (`127.0.0.0/8`, `::1/128`).
public struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let address = IPAddress(first) else { return nil }
        let maxLength = address.bytes.count * 8
        let length = parts.count == 2 ? Int(parts[1]) : maxLength
        guard let length, (0...maxLength).contains(length) else { return nil }
        self.network = address
        self.prefixLength = length
    }

    public func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        var remaining = prefixLength
        for i in 0..<address.bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask: UInt8 = bits == 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if address.bytes[i] & mask != network.bytes[i] & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String { "\(network)/\(prefixLength)" }
}

/// Where an address lies, for deciding whether a webhook may be sent there.
public enum AddressClass: String, Sendable {
    case `public`
    case unspecified
    case loopback
    case `private`
    case linkLocal = "link-local"
    case metadata
    case uniqueLocal = "unique-local"
    case sharedAddressSpace = "shared-address-space"
    case multicast
    case reserved
    case documentation

    /// Classifies an address; IPv6 forms that embed IPv4 are classified by the IPv4 inside.
    public init(_ address: IPAddress) {
        if let v4 = address.embeddedIPv4 {
            self = AddressClass(v4)
            return
        }
        let b = address.bytes
        if b.count == 4 {
            switch (b[0], b[1], b[2], b[3]) {
            case (169, 254, 169, 254), (169, 254, 170, 2), (100, 100, 100, 200), (192, 0, 0, 192):
                self = .metadata // AWS/GCP/Azure, ECS task metadata, Alibaba, Oracle
            case (0, _, _, _): self = .unspecified
            case (10, _, _, _): self = .private
            case (100, 64...127, _, _): self = .sharedAddressSpace
            case (127, _, _, _): self = .loopback
            case (169, 254, _, _): self = .linkLocal
            case (172, 16...31, _, _): self = .private
            case (192, 0, 0, _): self = .reserved
            case (192, 0, 2, _), (198, 51, 100, _), (203, 0, 113, _): self = .documentation
            case (192, 168, _, _): self = .private
            case (198, 18...19, _, _): self = .reserved
            case (224...239, _, _, _): self = .multicast
            case (240...255, _, _, _): self = .reserved
            default: self = .public
            }
            return
        }
        if b.allSatisfy({ $0 == 0 }) { self = .unspecified; return }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { self = .loopback; return }
        // fd00:ec2::254, the AWS instance metadata service over IPv6.
        if b == [0xFD, 0x00, 0x0E, 0xC2] + [UInt8](repeating: 0, count: 11) + [0x54] ||
            b == [0xFD, 0x00, 0x0E, 0xC2] + [UInt8](repeating: 0, count: 10) + [0x02, 0x54] {
            self = .metadata
            return
        }
        switch (b[0], b[1]) {
        case (0xFC...0xFD, _): self = .uniqueLocal
        case (0xFE, 0x80...0xBF): self = .linkLocal
        case (0xFE, 0xC0...0xFF): self = .private // deprecated site-local
        case (0xFF, _): self = .multicast
        case (0x20, 0x01) where b[2] == 0x0D && b[3] == 0xB8: self = .documentation
        case (0x20, 0x01) where b[2] == 0 && b[3] == 0: self = .reserved // Teredo tunnels to anywhere
        case (0x01, 0x00) where b[2..<8].allSatisfy({ $0 == 0 }): self = .reserved // discard-only
        case (0x00, _): self = .reserved
        default: self = .public
        }
    }
}

/// Which destination addresses outbound requests may connect to: public addresses always,
/// anything else only inside the ranges the operator allowed.
public struct DestinationPolicy: Hashable, Sendable {
    /// Non-public ranges the operator allowed (e.g. `127.0.0.1/32` for a local receiver).
    public var allowedRanges: [AddressRange]

    public init(allowedRanges: [AddressRange] = []) { self.allowedRanges = allowedRanges }

    /// Refuses every non-public address.
    public static let publicOnly = DestinationPolicy()

    /// The class of the address when it is refused, or nil when it may be connected to.
    public func refusal(for address: IPAddress) -> AddressClass? {
        let cls = AddressClass(address)
        if cls == .public { return nil }
        // Only the IPv4-mapped form (::ffff:a.b.c.d) is the same host as its IPv4 address; other
        // embedding forms (6to4, NAT64) are not opened by an IPv4 range.
        let isMapped = !address.isIPv4 && address.bytes[0..<10].allSatisfy { $0 == 0 } && address.bytes[10] == 0xFF && address.bytes[11] == 0xFF
        let plain = isMapped ? (address.embeddedIPv4 ?? address) : address
        if allowedRanges.contains(where: { $0.contains(plain) || $0.contains(address) }) { return nil }
        return cls
    }
}
