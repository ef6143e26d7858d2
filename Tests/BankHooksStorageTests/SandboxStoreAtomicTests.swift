import BankHooksCore
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Testing

/// The sandbox store's guarded changes (review findings 2, 3, 7), against a real SQLite file per test.
@Suite struct SandboxStoreAtomicTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    func fixture(_ backend: Backend) async throws -> (any Store, TemporaryDirectory) {
        let dir = TemporaryDirectory()
        let store = try await backend.make(dir)
        try await store.createApplication(Application(id: "app_a", name: "app_a", environment: .sandbox, createdAt: t0))
        return (store, dir)
    }

    func event(_ id: String) -> ScheduledEvent {
        ScheduledEvent(id: id, applicationID: "app_a", dueAt: t0, type: "entity.created", data: Array(#"{"id":"\#(id)"}"#.utf8), webhookID: nil)
    }

    /// 40 concurrent increments of a counter document: none is lost, each wrote its event.
    @Test(arguments: Backend.all)
    func availabilityUpdateIsOneTransaction(_ backend: Backend) async throws {
        let (store, dir) = try await fixture(backend)
        _ = dir
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    _ = try await store.updateInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank") { current in
                        let count = current.map { Int(String(decoding: $0, as: UTF8.self))! } ?? 0
                        return (Array(String(count + 1).utf8), [self.event("sev_\(index)")])
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.institutionAvailability(applicationID: "app_a") == ["lean-bank": Array("40".utf8)])
        #expect(try await store.dueScheduledEvents(now: t0, limit: 100).count == 40)
        // nil: nothing written; the current document comes back.
        let unchanged = try await store.updateInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank") { _ in nil }
        #expect(unchanged.document == Array("40".utf8) && !unchanged.changed)
        let none = try await store.updateInstitutionAvailability(applicationID: "app_a", institutionID: "okra-bank") { _ in nil }
        #expect(none.document == nil && !none.changed)
        // A throwing update rolls back (its events too).
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            _ = try await store.updateInstitutionAvailability(applicationID: "app_a", institutionID: "lean-bank") { _ in throw Refused() }
        }
        await #expect(throws: StoreError.self) {
            _ = try await store.updateInstitutionAvailability(applicationID: "app_gone", institutionID: "lean-bank") { _ in ([1], []) }
        }
        #expect(try await store.institutionAvailability(applicationID: "app_a").count == 1)
    }
}
