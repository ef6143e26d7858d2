import BankHooksCore
import BankHooksSandbox
import BankHooksVerify
import Foundation
import Hummingbird

/// `/v1/sandbox/institutions`: the sandbox's banks with the details the seeds carry, and their
/// availability as the caller's application sees it (a change publishes Lean's availability events).
struct SandboxInstitutionsController {
    let bank: SandboxBank
    let access: SandboxAccess

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("sandbox/institutions", use: list)
        group.get("sandbox/institutions/:id", use: get)
        group.patch("sandbox/institutions/:id", use: update)
    }

    /// An institution as the API shows it.
    struct InstitutionView: Encodable, Sendable {
        var id: String
        var name: String
        var identifier: String
        var logo: String
        var mainColor: String
        var backgroundColor: String
        var accountType: String
        var countryCode: String
        var bankCode: String
        var availability: LeanBankAvailability
        var ibanVerification: LeanIBANAvailability

        init(_ institution: SandboxInstitution) {
            id = institution.id
            name = institution.bankDetails.name
            identifier = institution.bankDetails.identifier
            logo = institution.bankDetails.logo
            mainColor = institution.bankDetails.mainColor
            backgroundColor = institution.bankDetails.backgroundColor
            accountType = institution.bankDetails.accountType.rawValue
            countryCode = institution.countryCode
            bankCode = institution.bankCode
            availability = institution.availability.bank
            ibanVerification = institution.availability.ibanVerification
        }
    }

    // MARK: The change (every member optional: only what is sent changes)

    /// `enabled` or `disabled` (nil when absent or null), with a message that says so.
    static func availabilityState<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, _ key: Key) throws -> LeanAvailabilityState? {
        guard let text = try container.decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let state = LeanAvailabilityState(rawValue: text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "must be enabled or disabled, not `\(text)`")
        }
        return state
    }

    struct ProductPatch: Decodable, Sendable {
        var payments: Bool?
        var data: Bool?

        init(from decoder: any Decoder) throws {
            try decoder.sandboxObject(["payments", "data"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            payments = try container.decodeIfPresent(Bool.self, forKey: .payments)
            data = try container.decodeIfPresent(Bool.self, forKey: .data)
        }

        enum CodingKeys: String, CodingKey { case payments, data }

        func applied(to value: LeanProductAvailability) -> LeanProductAvailability {
            LeanProductAvailability(payments: payments ?? value.payments, data: data ?? value.data)
        }
    }

    struct BankPatch: Decodable, Sendable {
        var active: ProductPatch?
        var enabled: ProductPatch?

        init(from decoder: any Decoder) throws {
            try decoder.sandboxObject(["active", "enabled"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            active = try container.decodeIfPresent(ProductPatch.self, forKey: .active)
            enabled = try container.decodeIfPresent(ProductPatch.self, forKey: .enabled)
        }

        enum CodingKeys: String, CodingKey { case active, enabled }
    }

    struct MatchPatch: Decodable, Sendable {
        var match: LeanAvailabilityState?
        var noMatch: LeanAvailabilityState?

        init(from decoder: any Decoder) throws {
            try decoder.sandboxObject(["match", "noMatch"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            match = try SandboxInstitutionsController.availabilityState(container, .match)
            noMatch = try SandboxInstitutionsController.availabilityState(container, .noMatch)
        }

        enum CodingKeys: String, CodingKey { case match, noMatch }

        func applied(to value: LeanIBANMatchAvailability) -> LeanIBANMatchAvailability {
            LeanIBANMatchAvailability(match: match ?? value.match, noMatch: noMatch ?? value.noMatch)
        }
    }

    struct AccountTypePatch: Decodable, Sendable {
        var personal: MatchPatch?
        var freelancer: MatchPatch?
        var business: MatchPatch?

        init(from decoder: any Decoder) throws {
            try decoder.sandboxObject(["personal", "freelancer", "business"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            personal = try container.decodeIfPresent(MatchPatch.self, forKey: .personal)
            freelancer = try container.decodeIfPresent(MatchPatch.self, forKey: .freelancer)
            business = try container.decodeIfPresent(MatchPatch.self, forKey: .business)
        }

        enum CodingKeys: String, CodingKey { case personal, freelancer, business }
    }

    struct IBANPatch: Decodable, Sendable {
        var global: LeanAvailabilityState?
        var accountType: AccountTypePatch?

        init(from decoder: any Decoder) throws {
            try decoder.sandboxObject(["global", "accountType"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            global = try SandboxInstitutionsController.availabilityState(container, .global)
            accountType = try container.decodeIfPresent(AccountTypePatch.self, forKey: .accountType)
        }

        enum CodingKeys: String, CodingKey { case global, accountType }
    }

    struct UpdateRequest: Decodable, Sendable {
        var availability: BankPatch?
        var ibanVerification: IBANPatch?

        init(from decoder: any Decoder) throws {
            try decoder.sandboxObject(["availability", "ibanVerification"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            availability = try container.decodeIfPresent(BankPatch.self, forKey: .availability)
            ibanVerification = try container.decodeIfPresent(IBANPatch.self, forKey: .ibanVerification)
        }

        enum CodingKeys: String, CodingKey { case availability, ibanVerification }

        /// `current` with this change applied.
        func applied(to current: InstitutionAvailability) -> InstitutionAvailability {
            var result = current
            if let bank = availability {
                if let active = bank.active { result.bank.active = active.applied(to: current.bank.active) }
                if let enabled = bank.enabled { result.bank.enabled = enabled.applied(to: current.bank.enabled) }
            }
            if let iban = ibanVerification {
                if let global = iban.global { result.ibanVerification.global = global }
                if let types = iban.accountType {
                    var accountType = current.ibanVerification.accountType
                    if let personal = types.personal { accountType.personal = personal.applied(to: accountType.personal) }
                    if let freelancer = types.freelancer { accountType.freelancer = freelancer.applied(to: accountType.freelancer) }
                    if let business = types.business { accountType.business = business.applied(to: accountType.business) }
                    result.ibanVerification.accountType = accountType
                }
            }
            return result
        }
    }

    // MARK: Handlers

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await access.require(Roles.readers, to: "list sandbox institutions", context: context)
        let institutions = try await bank.institutions(applicationID: application.id)
        return try Response.json(ListView(all: institutions.map(InstitutionView.init)), status: .ok, context: context)
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await access.require(Roles.readers, to: "read sandbox institutions", context: context)
        let id = try context.pathParameter("id")
        let institution = try await namingPath("id") { try await bank.institution(id: id, applicationID: application.id) }
        return try Response.json(InstitutionView(institution), status: .ok, context: context)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let application = try await access.require(Roles.publishers, to: "change sandbox institutions", context: context)
        let id = try context.pathParameter("id")
        // An unknown institution is a 404 before the body is read.
        _ = try await namingPath("id") { try await bank.institution(id: id, applicationID: application.id) }
        let body = try await decodeBody(UpdateRequest.self, from: request, context: context)
        // Merged onto the stored value inside the bank's one transaction: concurrent changes of
        // different members both survive, and the events follow what was written (no change: none).
        let updated = try await namingPath("id") {
            try await bank.updateInstitution(id: id, applicationID: application.id) { availability in availability = body.applied(to: availability) }
        }
        return try Response.json(InstitutionView(updated), status: .ok, context: context)
    }
}
