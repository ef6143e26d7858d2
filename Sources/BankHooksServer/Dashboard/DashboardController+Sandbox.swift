import BankHooksCore
import BankHooksSandbox
import Foundation
import Hummingbird

/// The sandbox pages: the institutions with their availability switches (a change publishes
/// Lean's availability events), starting an authorisation, and following it to its end (the
/// bank's consent page in the browser, or completed here with a magic login). All through /v1.
extension DashboardController {
    /// The availability switches the page shows, as (form value, label, path in the API's institution).
    static let availabilitySwitches: [(setting: String, label: String, short: String)] = [
        ("active.payments", "Online for payments", "Payments"), ("active.data", "Online for data", "Data"),
        ("enabled.payments", "Enabled for payments", "Payments"), ("enabled.data", "Enabled for data", "Data"),
    ]

    /// What the start form held (sent back with the API's refusal).
    struct AuthorisationForm {
        var institutionID = ""
        var callback = ""
        var applicationUserID = ""
        var userUUID = ""

        init() {}

        init(_ form: FormBody) {
            func field(_ name: String) -> String { (form[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
            (institutionID, callback, applicationUserID, userUUID) = (field("institution"), field("callback"), field("application_user_id"), field("user_uuid"))
        }

        /// The body of `POST /v1/authorisations`.
        var body: [String: Any] {
            var body: [String: Any] = ["institutionId": institutionID, "callback": callback, "oneTimeToken": false]
            if !applicationUserID.isEmpty { body["applicationUserId"] = applicationUserID }
            if !userUUID.isEmpty { body["userUuid"] = userUUID }
            return body
        }
    }

    @Sendable func showSandbox(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context) { visit in try await sandboxPage(visit: visit) }
    }

    /// The sandbox page; after a refused start, with the form as filled in and the API's words.
    func sandboxPage(visit: Visit, form: AuthorisationForm = AuthorisationForm(), problem: Problem? = nil) async throws -> Response {
        let institutions = try await visit.call(api, .get, "/v1/sandbox/institutions").items
        let rows = institutions.map { institution -> [String: Any] in
            let id = institution["id"] as? String ?? ""
            let name = institution["name"] as? String ?? id
            let availability = institution["availability"] as? [String: Any] ?? [:]
            let switches = Self.availabilitySwitches.map { item -> [String: Any] in
                let parts = item.setting.split(separator: ".").map(String.init)
                let isOn = (availability[parts[0]] as? [String: Any])?[parts[1]] as? Bool ?? false
                return Self.switchModel(setting: item.setting, label: item.label, short: item.short, isOn: isOn, next: isOn ? "false" : "true")
            }
            let iban = (institution["iban_verification"] as? [String: Any])?["global"] as? String ?? "disabled"
            let ibanSwitch = Self.switchModel(
                setting: "iban.global", label: "IBAN verification", short: "Global", isOn: iban == "enabled", next: iban == "enabled" ? "disabled" : "enabled")
            return [
                "id": id, "idPath": DashboardURL.segment(id), "name": name, "identifier": institution["identifier"] as? String ?? "",
                "country": institution["country_code"] as? String ?? "", "accountType": institution["account_type"] as? String ?? "",
                "online": switches.prefix(2).map { $0 }, "enabledSwitches": switches.suffix(2).map { $0 }, "iban": [ibanSwitch],
                "selected": id == form.institutionID,
            ]
        }
        var model: [String: Any] = [
            "institutions": rows, "hasInstitutions": !rows.isEmpty,
            "callback": form.callback, "applicationUserID": form.applicationUserID, "userUUID": form.userUUID,
        ]
        if let problem {
            model["problem"] = ["title": problem.title, "detail": Self.sentence(problem.detail)]
            // `/institutionId` or `/institution_id`, as the API names it.
            let field = (problem.field ?? "").lowercased().replacingOccurrences(of: "_", with: "")
            model["callbackInvalid"] = field == "/callback"
            model["institutionInvalid"] = field == "/institutionid"
            model["applicationUserInvalid"] = field == "/applicationuserid"
            model["userInvalid"] = field == "/useruuid"
        }
        return render("sandbox", title: "Sandbox bank", model, visit: visit, status: problem?.status ?? .ok, section: "sandbox")
    }

    static func switchModel(setting: String, label: String, short: String, isOn: Bool, next: String) -> [String: Any] {
        ["setting": setting, "label": label, "short": short, "on": isOn, "next": next, "stateText": isOn ? "On" : "Off"]
    }

    /// The sandbox page, where its forms go back to.
    static let sandboxBack = Back(href: "/dashboard/sandbox", label: "Back to the sandbox")

    @Sendable func setAvailability(_ request: Request, context: AppRequestContext) async throws -> Response {
        await action(request, context, back: Self.sandboxBack) { visit, form in
            let id = try context.pathParameter("id")
            let setting = form["setting"] ?? ""
            let value = form["value"] ?? ""
            let change: [String: Any]
            if setting == "iban.global", ["enabled", "disabled"].contains(value) {
                change = ["iban_verification": ["global": value]]
            } else if Self.availabilitySwitches.contains(where: { $0.setting == setting }), ["true", "false"].contains(value) {
                let parts = setting.split(separator: ".").map(String.init)
                change = ["availability": [parts[0]: [parts[1]: value == "true"]]]
            } else {
                throw Problem.invalidField("setting", "the switch must be one of \(Self.availabilitySwitches.map(\.setting).joined(separator: ", ")) or iban.global, set to true / false (enabled / disabled for iban.global)")
            }
            let updated = try await visit.call(api, .patch, "/v1/sandbox/institutions/\(DashboardURL.segment(id))", body: change).object
            let label = setting == "iban.global" ? "IBAN verification" : Self.availabilitySwitches.first { $0.setting == setting }?.label ?? setting
            let isOn = value == "true" || value == "enabled"
            sessions.setFlash(.init(kind: .success, message: "\(updated["name"] as? String ?? id): \(label.lowercased()) is now \(isOn ? "on" : "off"). Subscribed webhooks get the availability event."), id: visit.session.id)
            return DashboardPage.redirect(to: "/dashboard/sandbox")
        }
    }

    @Sendable func startAuthorisation(_ request: Request, context: AppRequestContext) async throws -> Response {
        await action(request, context, back: Self.sandboxBack) { visit, body in
            let form = AuthorisationForm(body)
            do {
                let created = try await visit.call(api, .post, "/v1/authorisations", body: form.body).object
                sessions.setFlash(.init(kind: .success, message: "Authorisation created: open the bank's consent page, or complete it here."), id: visit.session.id)
                return DashboardPage.redirect(to: "/dashboard/sandbox/authorisations/\(DashboardURL.segment(created["id"] as? String ?? ""))")
            } catch let problem as Problem where ![.unauthorized, .forbidden].contains(problem.status) {
                return try await sandboxPage(visit: visit, form: form, problem: problem)
            }
        }
    }

    /// How often a waiting authorisation's page reloads itself, in seconds.
    static let authorisationRefresh = 3

    @Sendable func showAuthorisation(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context, back: Self.sandboxBack) { visit in
            let id = try context.pathParameter("id")
            let authorisation = try await visit.call(api, .get, "/v1/authorisations/\(DashboardURL.segment(id))").object
            let status = authorisation["status"] as? String ?? ""
            let isWaiting = status == "AWAITING_AUTHORIZATION"
            var model: [String: Any] = [
                "id": authorisation["id"] as? String ?? id, "idPath": DashboardURL.segment(id), "status": status,
                "statusClass": ["AUTHORIZED": "succeeded", "AWAITING_AUTHORIZATION": "pending"][status] ?? "failed",
                "isWaiting": isWaiting, "url": authorisation["authorisation_url"] as? String ?? "",
                "institutionID": authorisation["institution_id"] as? String ?? "", "userUUID": authorisation["user_uuid"] as? String ?? "",
                "createdAt": DashboardPage.time(authorisation["created_at"]), "expiresAt": DashboardPage.time(authorisation["expires_at"]),
                "consents": (authorisation["consent_ids"] as? [String] ?? []).map { ["id": $0] },
                "magicLogins": SandboxBank.magicLogins.map { ["login": $0.login, "outcome": $0.outcome] },
            ]
            if let user = authorisation["application_user_id"] as? String { model["applicationUserID"] = user }
            // Waiting for the end user: the page follows the authorisation by reloading itself.
            if isWaiting { model["refresh"] = Self.authorisationRefresh }
            return render("authorisation", title: "Authorisation \(id)", model, visit: visit, section: "sandbox")
        }
    }

    @Sendable func completeAuthorisation(_ request: Request, context: AppRequestContext) async throws -> Response {
        let back = Back(href: "/dashboard/sandbox/authorisations/\(DashboardURL.segment((try? context.pathParameter("id")) ?? ""))", label: "Back to the authorisation")
        return await action(request, context, back: back) { visit, form in
            let id = try context.pathParameter("id")
            var body: [String: Any] = ["login": form["login"] ?? "", "decision": form["decision"] ?? ""]
            if let password = form["password"], !password.isEmpty { body["password"] = password }
            let completed = try await visit.call(api, .post, "/v1/sandbox/authorisations/\(DashboardURL.segment(id))/complete", body: body).object
            let redirect = completed["redirect_url"] as? String ?? ""
            sessions.setFlash(.init(kind: .success, message: "The bank answered \(completed["status"] as? String ?? ""); it sends the end user to \(redirect)."), id: visit.session.id)
            return DashboardPage.redirect(to: back.href)
        }
    }
}
