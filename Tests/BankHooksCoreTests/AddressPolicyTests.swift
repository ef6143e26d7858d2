import BankHooksCore
import Testing

@Suite struct AddressPolicyTests {
    @Test(arguments: [
        ("127.0.0.1", AddressClass.loopback), ("127.255.0.9", .loopback), ("::1", .loopback),
        ("10.1.2.3", .private), ("172.16.0.1", .private), ("172.31.255.255", .private), ("192.168.1.1", .private),
        ("169.254.1.1", .linkLocal), ("fe80::1", .linkLocal), ("fe80::1%eth0", .linkLocal),
        ("169.254.169.254", .metadata), ("169.254.170.2", .metadata), ("100.100.100.200", .metadata), ("fd00:ec2::254", .metadata),
        ("fc00::1", .uniqueLocal), ("fd12:3456::1", .uniqueLocal),
        ("::ffff:127.0.0.1", .loopback), ("::ffff:10.0.0.1", .private), ("::ffff:169.254.169.254", .metadata),
        ("::ffff:7f00:1", .loopback), ("64:ff9b::a00:1", .private), ("2002:c0a8:0101::1", .private),
        ("0.0.0.0", .unspecified), ("::", .unspecified), ("100.64.0.1", .sharedAddressSpace),
        ("224.0.0.1", .multicast), ("ff02::1", .multicast), ("255.255.255.255", .reserved), ("240.0.0.1", .reserved),
        ("192.0.2.1", .documentation), ("2001:db8::1", .documentation), ("2001:0::1", .reserved),
    ])
    func classifiesNonPublicAddresses(_ text: String, _ expected: AddressClass) throws {
        let address = try #require(IPAddress(text))
        #expect(AddressClass(address) == expected)
        #expect(DestinationPolicy.publicOnly.refusal(for: address) == expected)
    }

    @Test(arguments: ["8.8.8.8", "1.1.1.1", "172.32.0.1", "192.169.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2a00:1450:4001::200e"])
    func allowsPublicAddresses(_ text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(AddressClass(address) == .public)
        #expect(DestinationPolicy.publicOnly.refusal(for: address) == nil)
    }

    @Test func allowedRangesOpenExactlyWhatTheyName() throws {
        let policy = DestinationPolicy(allowedRanges: [try #require(AddressRange("127.0.0.1/32")), try #require(AddressRange("::1"))])
        #expect(policy.refusal(for: try #require(IPAddress("127.0.0.1"))) == nil)
        #expect(policy.refusal(for: try #require(IPAddress("::1"))) == nil)
        #expect(policy.refusal(for: try #require(IPAddress("::ffff:127.0.0.1"))) == nil, "the mapped form of an allowed IPv4 address")
        #expect(policy.refusal(for: try #require(IPAddress("127.0.0.2"))) == .loopback)
        #expect(policy.refusal(for: try #require(IPAddress("10.0.0.1"))) == .private)
        #expect(policy.refusal(for: try #require(IPAddress("169.254.169.254"))) == .metadata)
        // An IPv4 range opens only the IPv4-mapped form of its addresses, not 6to4 or NAT64 ones.
        #expect(policy.refusal(for: try #require(IPAddress("2002:7f00:1:0:0:ff00::"))) == .loopback)
        #expect(policy.refusal(for: try #require(IPAddress("64:ff9b::7f00:1"))) == .loopback)
    }

    @Test func parsesRanges() throws {
        let range = try #require(AddressRange("10.0.0.0/8"))
        #expect(range.contains(try #require(IPAddress("10.255.1.1"))))
        #expect(!range.contains(try #require(IPAddress("11.0.0.1"))))
        #expect(AddressRange("10.0.0.0/33") == nil)
        #expect(AddressRange("nonsense") == nil)
        #expect(try #require(AddressRange("fd00::/8")).contains(try #require(IPAddress("fdff::1"))))
    }

    @Test func printsAddresses() throws {
        #expect(try #require(IPAddress("::ffff:127.0.0.1")).description == "::ffff:127.0.0.1")
        #expect(try #require(IPAddress("[::1]")).description == "::1")
        #expect(IPAddress("localhost") == nil)
        #expect(IPAddress("1.2.3") == nil)
    }
}
