import BankHooksCore
import BankHooksStorage
import Foundation

/// The sandbox bank: institutions and their availability, authorisation requests and their
/// completion (the consent page and the headless completion), the redirect back, consents and
/// their tokens. Pure domain over the store: every state change commits the events it sets off
/// (`LinkEmissions`) in its own transaction, then wakes the event runner; nothing is published here.
///
/// The parts live in extensions: +Create (authorisation requests), +Complete (the login and the
/// redirect), +Consents (one-time tokens, consents, revoke, consent tokens).
public final class SandboxBank: Sendable {
    let store: any SandboxStore & TenantStore
    let tokens: ConsentTokens
    let clock: any WallClock
    let timings: SandboxTimings
    let emissions: LinkEmissions
    let wake: @Sendable () -> Void

    /// A bank over `store`; `wake` is called after each commit that scheduled events (the runner's `wake`).
    public init(
        store: any SandboxStore & TenantStore, tokens: ConsentTokens, clock: any WallClock, timings: SandboxTimings,
        wake: @escaping @Sendable () -> Void
    ) {
        self.store = store
        self.tokens = tokens
        self.clock = clock
        self.timings = timings
        self.emissions = LinkEmissions(timings: timings)
        self.wake = wake
    }

    /// Every magic login and what it does, for the consent page and the docs.
    public static var magicLogins: [(login: String, outcome: String)] { MagicLogin.table }

    // MARK: Institutions

    /// The institutions as the application sees them (its availability changes applied).
    public func institutions(applicationID: String) async throws -> [SandboxInstitution] {
        try await requireSandbox(applicationID: applicationID)
        let documents = try await store.institutionAvailability(applicationID: applicationID)
        return SandboxInstitution.builtIn.map { Self.applying(documents[$0.id], to: $0) }
    }

    /// One institution as the application sees it; throws `notFound` when there is none with that id.
    public func institution(id: String, applicationID: String) async throws -> SandboxInstitution {
        try await requireSandbox(applicationID: applicationID)
        return try await resolvedInstitution(id: id, applicationID: applicationID)
    }

    /// Sets an institution's availability for the application (the whole value). Kept for callers
    /// that merged a partial change onto a read; `updateInstitution(id:applicationID:change:)` is
    /// the atomic form (this one is that with `change` replacing the value).
    public func updateInstitution(id: String, applicationID: String, availability: InstitutionAvailability) async throws -> SandboxInstitution {
        try await updateInstitution(id: id, applicationID: applicationID) { $0 = availability }
    }

    /// Changes an institution's availability for the application atomically: the stored value is
    /// read, `change` applied to it, the events computed and the result written in one store
    /// transaction, so concurrent changes of different members both survive and the events follow
    /// what is stored. A change schedules Lean `bank.availability.updated` and/or the
    /// IBAN-verification variant; no change writes and schedules nothing. An error thrown by
    /// `change` is rethrown with nothing written. Throws `notFound` for an unknown institution.
    public func updateInstitution(
        id: String, applicationID: String, change: @escaping @Sendable (inout InstitutionAvailability) throws -> Void
    ) async throws -> SandboxInstitution {
        try await requireSandbox(applicationID: applicationID)
        guard let builtIn = SandboxInstitution.builtIn(id: id) else {
            throw SandboxError(.notFound, "there is no sandbox institution `\(id)`")
        }
        let emissions = self.emissions, now = clock.now()
        let (document, changed) = try await store.updateInstitutionAvailability(applicationID: applicationID, institutionID: id) { current in
            let before = Self.applying(current, to: builtIn)
            var after = before
            try change(&after.availability)
            guard after.availability != before.availability else { return nil }
            let events = try emissions.availabilityChanged(applicationID: applicationID, before: before, after: after, now: now)
            return (try OrderedJSONEncoder.encode(after.availability), events)
        }
        if changed { wake() }
        return Self.applying(document, to: builtIn)
    }

    /// The institution with the application's availability, without the environment check.
    func resolvedInstitution(id: String, applicationID: String) async throws -> SandboxInstitution {
        guard let builtIn = SandboxInstitution.builtIn(id: id) else {
            throw SandboxError(.notFound, "there is no sandbox institution `\(id)`")
        }
        let documents = try await store.institutionAvailability(applicationID: applicationID)
        return Self.applying(documents[id], to: builtIn)
    }

    /// A built-in institution with a stored availability document. The documents are written only
    /// by `updateInstitution`; one that does not decode (never expected) leaves the built-in availability.
    static func applying(_ document: [UInt8]?, to institution: SandboxInstitution) -> SandboxInstitution {
        guard let document, let availability = try? JSONDecoder().decode(InstitutionAvailability.self, from: Data(document)) else {
            return institution
        }
        var institution = institution
        institution.availability = availability
        return institution
    }

    // MARK: Authorisations

    /// An authorisation by id alone (the consent page has no API key), with its status as of now
    /// (`EXPIRED` once an awaiting one is past its expiry); nil when unknown.
    public func authorisation(id: String) async throws -> Authorisation? {
        guard Self.isUUID(id) else { return nil }
        return try await store.authorisation(id: id).map { presented($0, at: clock.now()) }
    }

    /// An authorisation of the application; throws `notFound` when it has none with that id.
    public func authorisation(id: String, applicationID: String) async throws -> Authorisation {
        guard let authorisation = try await authorisation(id: id), authorisation.applicationID == applicationID else {
            throw SandboxError(.notFound, "there is no authorisation `\(id)`")
        }
        return authorisation
    }

    /// An authorisation's status as of `now`: an awaiting one past its expiry reads `EXPIRED`
    /// (nothing is written: it simply can no longer be completed).
    func presented(_ authorisation: Authorisation, at now: Timestamp) -> Authorisation {
        guard authorisation.status == .awaitingAuthorization, now >= authorisation.expiresAt else { return authorisation }
        var expired = authorisation
        expired.status = .expired
        return expired
    }

    // MARK: Checks and ids

    /// Throws `sandboxOnly` for a production application (and `notFound` for none).
    func requireSandbox(applicationID: String) async throws {
        guard let application = try await store.application(id: applicationID) else {
            throw SandboxError(.notFound, "there is no application `\(applicationID)`")
        }
        try Self.requireSandbox(application)
    }

    static func requireSandbox(_ application: Application) throws {
        guard application.environment == .sandbox else {
            throw SandboxError(.sandboxOnly, "the sandbox bank serves sandbox applications only; `\(application.id)` is a production application")
        }
    }

    /// A new UUID v4, lower case.
    static func newUUID() -> String { UUID().uuidString.lowercased() }

    /// `count` random bytes as lower-case hex (`state`: 16 bytes; an Okra record id: 12).
    static func randomHex(bytes count: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for _ in 0..<count {
            let byte = UInt8.random(in: .min ... .max, using: &rng)
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A Bridge item id: positive, and within JavaScript's safe integers (clients parse it as a number).
    static func newBridgeItemID() -> Int64 { Int64.random(in: 1...(1 << 53) - 1) }

    /// Whether `text` is a UUID in its canonical lower-case form.
    static func isUUID(_ text: String) -> Bool {
        text.utf8.count == 36 && UUID(uuidString: text) != nil && text == text.lowercased()
    }

    /// Equality that takes the same time wherever the texts differ (the page's `state`).
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
