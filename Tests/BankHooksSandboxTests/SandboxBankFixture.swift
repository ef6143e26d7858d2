import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Synchronization
import Testing

/// A sandbox bank over a real SQLite file in a temporary directory, a manual clock, and a
/// counter of the runner wake-ups; applications `app_a` (sandbox, with redirect callbacks),
/// `app_b` (sandbox) and `app_prod` (production).
final class SandboxBankFixture: Sendable {
    let directory: TemporaryDirectory
    let store: any Store
    let clock: ManualClock
    let timings: SandboxTimings
    let bank: SandboxBank
    let tokens: ConsentTokens
    let application: Application
    let other: Application
    let production: Application
    private let wakes = WakeCounter()

    static let callbacks = [
        "https://app.example/done", "https://tpp-application/", "myapp://done", "https://app.example/with?time=1335",
        "https://app.example/spa#/linked",
    ]

    init(timings: SandboxTimings = SandboxTimings()) throws {
        directory = TemporaryDirectory()
        let sealer = SecretSealer(box: SecretBox(keyBytes: Array(repeating: 3, count: 32)))
        store = try StorageConfiguration.sqlite(path: directory.file("sandbox.sqlite"), durability: .normal).open(sealer: sealer).store
        clock = ManualClock()
        self.timings = timings
        tokens = ConsentTokens(sealer: sealer)
        let created = clock.now()
        application = Application(id: "app_a", name: "A", environment: .sandbox, createdAt: created, redirectCallbacks: Self.callbacks)
        other = Application(id: "app_b", name: "B", environment: .sandbox, createdAt: created, redirectCallbacks: Self.callbacks)
        production = Application(id: "app_prod", name: "P", environment: .production, createdAt: created, redirectCallbacks: Self.callbacks)
        let wakes = self.wakes
        bank = SandboxBank(store: store, tokens: tokens, clock: clock, timings: timings, wake: { wakes.count.withLock { $0 += 1 } })
    }

    /// Creates the applications (call once before use).
    func start() async throws -> SandboxBankFixture {
        for app in [application, other, production] { try await store.createApplication(app) }
        return self
    }

    var wakeCount: Int { wakes.count.withLock { $0 } }

    /// An authorisation of `app_a` at Lean Mockbank 1 unless told otherwise.
    func authorise(
        institution: String = "leanmb1", applicationUserID: String? = "a@f.com", userUUID: String? = nil,
        callback: String = "https://app.example/done", oneTimeToken: Bool = false, forward: [String] = [], in app: Application? = nil
    ) async throws -> Authorisation {
        try await bank.createAuthorisation(
            AuthorisationRequest(
                institutionID: institution, applicationUserID: applicationUserID, userUUID: userUUID, callback: callback,
                oneTimeToken: oneTimeToken, forwardParameters: forward),
            application: app ?? application)
    }

    /// Completes through the consent page's path (state, no application, password = login).
    func completeOnPage(_ authorisation: Authorisation, login: String, password: String? = nil, decision: Decision = .approve) async throws -> Completion {
        try await bank.complete(
            authorisationID: authorisation.id, applicationID: nil, state: authorisation.state, login: login, password: password ?? login,
            decision: decision)
    }

    /// Every scheduled event, earliest first.
    func scheduled() async throws -> [ScheduledEvent] {
        try await store.dueScheduledEvents(now: Timestamp(milliseconds: .max), limit: 10_000)
    }

    /// Removes every scheduled event (so a test sees only what comes next).
    func clearScheduled() async throws {
        try await store.deleteScheduledEvents(ids: try await scheduled().map(\.id))
    }

    /// The query parameters of a URL, in order, decoded.
    static func parameters(_ url: String) -> [(String, String)] { RedirectURLTests.parameters(url) }

    static func value(_ name: String, in url: String) -> String? { parameters(url).first { $0.0 == name }?.1 }
}

/// How many times the bank woke the runner.
final class WakeCounter: Sendable {
    let count = Mutex(0)
}
