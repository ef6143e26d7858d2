/// The account holder of a sandbox login: name, contact details and address, deterministic like
/// the rest of its data (the same login has the same holder on every installation).
public struct SandboxIdentity: Hashable, Sendable {
    /// A UUID derived from the login.
    public var id: String
    public var firstName: String
    public var lastName: String
    public var fullName: String
    /// ISO 8601 date (`YYYY-MM-DD`).
    public var birthDate: String
    public var email: String
    /// E.164, a UAE mobile number.
    public var phone: String
    public var addressLines: [String]
    public var city: String
    public var postalCode: String
    /// ISO 3166-1 alpha-2.
    public var countryCode: String
}

extension SandboxData {
    private static let firstNames = ["Aisha", "Omar", "Layla", "Yousef", "Mariam", "Khalid", "Noor", "Hamdan", "Sara", "Rashid", "Fatima", "Zayed"]
    private static let lastNames = ["Al Mansoori", "Haddad", "Al Suwaidi", "Nasser", "Karim", "Al Falasi", "Rahman", "Saleh"]
    private static let streets = ["Sheikh Zayed Road", "Al Wasl Road", "Jumeirah Beach Road", "Al Khail Road", "Dubai Marina Walk"]

    /// The holder of the login's accounts.
    public static func identity(login: String) -> SandboxIdentity {
        let normalized = SandboxText.trimmed(login).lowercased()
        var rng = SplitMix64(seed: DerivedID.seed("bankhooks sandbox identity v1", normalized))
        let first = firstNames[Int(rng.next() % UInt64(firstNames.count))]
        let last = lastNames[Int(rng.next() % UInt64(lastNames.count))]
        let year = 1960 + Int(rng.next() % 40), month = 1 + Int(rng.next() % 12), day = 1 + Int(rng.next() % 28)
        let building = 1 + Int(rng.next() % 300)
        let street = streets[Int(rng.next() % UInt64(streets.count))]
        let mobile = String(rng.next() % 10_000_000)
        let emailName = (first + "." + last).lowercased().filter { $0.isLetter || $0 == "." }
        return SandboxIdentity(
            id: DerivedID.uuid("identity", normalized), firstName: first, lastName: last, fullName: "\(first) \(last)",
            birthDate: "\(year)-\(SandboxText.padded(String(month), to: 2))-\(SandboxText.padded(String(day), to: 2))",
            email: "\(emailName)@sandbox.bankhooks.dev", phone: "+97150" + SandboxText.padded(mobile, to: 7),
            addressLines: ["\(building) \(street)"], city: "Dubai", postalCode: "00000", countryCode: "AE")
    }
}

extension SandboxBank {
    /// The holder of the accounts a consent token may read.
    public func identity(token: String, applicationID: String) async throws -> SandboxIdentity {
        let consent = try await authorisedConsent(token: token, applicationID: applicationID)
        return SandboxData.identity(login: consent.login)
    }
}
