import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import BankHooksTestSupport
import Testing

/// A resolver that answers from a table: stands in for DNS so a test can make a name resolve
/// to a public address while the socket actually goes to 127.0.0.1.
struct TableResolver: HostResolver {
    var table: [String: [String]]
    func resolve(host: String, port: Int) async throws -> [IPAddress] {
        guard let entries = table[host] else { throw ResolutionError(host: host) }
        return entries.compactMap(IPAddress.init)
    }
}

@Suite struct DestinationTests {
    @Test func loopbackIsRefusedByDefaultWithoutConnecting() async throws {
        try await TestReceiver.run { receiver in
            let h = try Harness(allowed: [])
            _ = try await h.addWebhook("by_ip", url: receiver.url(host: "127.0.0.1"))
            _ = try await h.addWebhook("by_name", url: receiver.url(host: "localhost"))
            try await h.run {
                try await h.publish("e1")
                let deliveries = try await h.store.deliveries(eventID: "e1", applicationID: "app")
                #expect(deliveries.count == 2)
                for delivery in deliveries {
                    try await eventually("attempt recorded") { try await h.store.attempts(deliveryID: delivery.id).count == 1 }
                    let attempt = try #require(try await h.store.attempts(deliveryID: delivery.id).first)
                    #expect(attempt.errorKind == .blocked)
                    #expect(attempt.errorMessage?.contains("loopback") == true)
                }
                #expect(receiver.requests.isEmpty, "no request reached the receiver")
            }
        }
    }

    @Test func allowedLoopbackIsDeliveredByNameAndByAddress() async throws {
        try await TestReceiver.run { receiver in
            let h = try Harness(allowed: ["127.0.0.1/32", "::1/128"])
            _ = try await h.addWebhook("by_ip", url: receiver.url(host: "127.0.0.1"))
            _ = try await h.addWebhook("by_name", url: receiver.url(host: "localhost"))
            try await h.run {
                try await h.publish("e1")
                _ = try await receiver.waitForRequests(2)
                try await eventually("both succeeded") {
                    try await h.store.deliveries(eventID: "e1", applicationID: "app").allSatisfy { $0.state == .succeeded }
                }
            }
        }
    }

    @Test func theConnectedAddressIsCheckedNotOnlyTheResolvedOne() async throws {
        // DNS says public, the socket goes to 127.0.0.1: the connect-time check must refuse it.
        try await TestReceiver.run { receiver in
            let h = try Harness(allowed: [], resolver: TableResolver(table: ["localhost": ["93.184.216.34"]]))
            _ = try await h.addWebhook("rebinding", url: receiver.url(host: "localhost"))
            try await h.run {
                try await h.publish("e1")
                try await eventually("attempt recorded") { try await h.delivery("e1").attempts == 1 }
                let attempt = try #require(try await h.store.attempts(deliveryID: try await h.delivery("e1").id).first)
                #expect(attempt.errorKind == .blocked)
                #expect(receiver.requests.isEmpty)
            }
        }
    }

    @Test func aNameThatDoesNotResolveIsADNSError() async throws {
        let h = try Harness(allowed: [], resolver: TableResolver(table: [:]))
        _ = try await h.addWebhook("wh", url: "http://no-such-host.invalid/hook")
        try await h.run {
            try await h.publish("e1")
            try await eventually("attempt recorded") { try await h.delivery("e1").attempts == 1 }
            let attempt = try #require(try await h.store.attempts(deliveryID: try await h.delivery("e1").id).first)
            #expect(attempt.errorKind == .dns)
        }
    }
}
