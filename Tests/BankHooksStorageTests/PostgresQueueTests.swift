import BankHooksCore
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Synchronization
import Testing

/// What only several nodes can break in the queue and the delivery log: two `PostgresStore`s (two
/// pools, as two nodes have) on one fresh database, claiming and publishing at the same time.
@Suite struct PostgresQueueTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    /// Two stores on one new, migrated database with the application `app_a` and `webhooks` in it.
    func twoNodes(webhooks: [String] = ["wh_1"]) async throws -> (PostgresStore, PostgresStore) {
        let url = try await TestPostgres.freshDatabase()
        let first = try TestPostgres.store(url: url), second = try TestPostgres.store(url: url)
        try await first.createApplication(Application(id: "app_a", name: "A", environment: .sandbox, createdAt: t0))
        for id in webhooks {
            try await first.createWebhook(Webhook(
                id: id, applicationID: "app_a", url: "http://127.0.0.1:9/\(id)", eventTypes: nil, secret: .generate(), createdAt: t0, updatedAt: t0))
        }
        return (first, second)
    }

    func request(_ id: String) -> PublishRequest {
        PublishRequest(applicationID: "app_a", eventID: id, idempotencyKey: nil, type: "payment.updated", timestamp: t0, data: Array(#"{"n": 1}"#.utf8))
    }

    /// Claims on `store` until a claim comes back empty, every claim skipping the `busy` webhooks.
    func claimAll(_ store: PostgresStore, node: String, now: Timestamp, busy: Set<String> = []) async throws -> [Int64] {
        var ids: [Int64] = []
        var sequence = 0
        while true {
            sequence += 1
            let claimed = try await store.claimDue(
                owner: "\(node)/\(sequence)", now: now, leaseUntil: now.adding(.seconds(60)), limit: 37, excludingWebhooks: busy)
            if claimed.isEmpty { return ids }
            #expect(claimed.allSatisfy { $0.leaseOwner == "\(node)/\(sequence)" && !busy.contains($0.webhook.id) })
            ids += claimed.map(\.id)
        }
    }

    @Test func twoNodesClaimingAtOnceNeverHoldTheSameDelivery() async throws {
        let (first, second) = try await twoNodes(webhooks: ["wh_1", "wh_2", "wh_3", "wh_4"])
        // 500 events to 4 webhooks: 2,000 deliveries.
        for batch in stride(from: 0, to: 500, by: 100) {
            _ = try await first.publish((batch..<batch + 100).map { request("e\($0)") }, now: t0)
        }
        #expect(try await first.deliveryCounts()[.pending] == 2000)
        // Both nodes claim at once, one with nothing busy (the due index), one with a busy webhook (the
        // window and the per-webhook probe): between them every delivery once, none twice.
        async let a = claimAll(first, node: "node1", now: t0)
        async let b = claimAll(second, node: "node2", now: t0, busy: ["wh_1"])
        let (one, two) = try await (a, b)
        #expect(Set(one).count == one.count && Set(two).count == two.count, "no node gets a delivery twice")
        #expect(Set(one).isDisjoint(with: two), "no delivery is held by both nodes")
        #expect(one.count + two.count == 2000)
        #expect(!one.isEmpty && !two.isEmpty, "both nodes claimed")
        // After the leases expire, the same again: every delivery is claimable once more, by one node.
        let later = t0.adding(.seconds(60))
        async let c = claimAll(first, node: "node1b", now: later, busy: ["wh_2"])
        async let d = claimAll(second, node: "node2b", now: later)
        let (three, four) = try await (c, d)
        #expect(Set(three).isDisjoint(with: four) && Set(three).union(four) == Set(one).union(two))
        #expect(three.count + four.count == 2000)
    }

    @Test func aPageWalkWhileTwoNodesPublishSeesEveryEventOnce() async throws {
        let (first, second) = try await twoNodes()
        let reader = first
        let batches = 100, perBatch = 7
        // Two nodes publish at once, each with a clock that wanders (as two machines' clocks do), so
        // both the commit-order of the sequences and the receipt-time clamp are exercised.
        func publishAll(_ store: PostgresStore, node: String) async throws {
            var generator = SeededGenerator(state: node == "n1" ? 1 : 2)
            for batch in 0..<batches {
                let now = t0.adding(.milliseconds(Int64(batch * 3) + Int64.random(in: -5...5, using: &generator)))
                _ = try await store.publish((0..<perBatch).map { request("\(node)-\(batch)-\($0)") }, now: now)
            }
        }
        // A client that tails the list: from the top down to the newest key it saw, again and again.
        var seen: [String] = []
        var newest: EventCursor?
        func pass() async throws {
            var cursor: EventCursor?
            var top: EventCursor?
            walk: while true {
                let page = try await reader.events(applicationID: "app_a", filter: EventFilter(), after: cursor, limit: 5)
                for event in page.items {
                    let key = EventCursor(after: event)
                    if top == nil { top = key }
                    if let newest, (key.createdAt, key.seq) <= (newest.createdAt, newest.seq) { break walk }
                    seen.append(event.id)
                }
                guard page.hasMore, let last = page.items.last else { break }
                cursor = EventCursor(after: last)
            }
            if let top { newest = top }
        }
        // The reader walks while both publish, then once more after.
        let finished = Flag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                async let a: Void = publishAll(first, node: "n1")
                async let b: Void = publishAll(second, node: "n2")
                _ = try await (a, b)
                finished.value.withLock { $0 = true }
            }
            while !finished.value.withLock({ $0 }) { try await pass() }
            try await group.waitForAll()
        }
        try await pass()
        let expected = Set(["n1", "n2"].flatMap { node in (0..<batches).flatMap { batch in (0..<perBatch).map { "\(node)-\(batch)-\($0)" } } })
        #expect(Set(seen).count == seen.count, "no event twice")
        let missed = expected.subtracting(seen)
        #expect(missed.isEmpty, "no event missed: \(missed.count) of \(expected.count) missing, e.g. \(missed.sorted().prefix(5))")
        #expect(Set(seen).isSubset(of: expected))
    }

    @Test func twoNodesPublishingTheSameEventStoreItOnce() async throws {
        let (first, second) = try await twoNodes()
        for round in 0..<20 {
            let ids = (0..<10).map { "r\(round)-\($0)" }
            async let a = first.publish(ids.map(request), now: t0)
            async let b = second.publish(ids.reversed().map(request), now: t0)
            let (one, two) = try await (a, b)
            // Each event once: one node stored it (one delivery), the other answered it as a repeat of that.
            for id in ids {
                let results = (one + two).filter { $0.eventID == id }
                #expect(results.count == 2 && results.filter(\.isReplay).count == 1 && results.allSatisfy { $0.deliveryCount == 1 })
            }
        }
        #expect(try await first.deliveryCounts()[.pending] == 200)
    }
}

/// A flag one task sets and another polls.
private final class Flag: Sendable {
    let value = Mutex(false)
}
