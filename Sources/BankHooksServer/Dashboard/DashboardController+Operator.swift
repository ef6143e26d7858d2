import BankHooksCore
import Foundation
import Hummingbird

/// The operator pages: the application's own API keys (admins and the operator: list, create with
/// the key shown once, revoke), and for the operator every application and its keys. Roles are
/// the API's: the pages call /v1/api-keys and /v1/applications as the session's key.
extension DashboardController {
    /// The roles a new key may have (operator keys come only from the bootstrap).
    static let keyRoles = ["viewer", "developer", "admin"]

    /// Keys as the pages list them, newest first.
    func keyRows(_ items: [[String: Any]], visit: Visit, revocable: Bool) -> [[String: Any]] {
        items.sorted { ($0["created_at"] as? String ?? "") > ($1["created_at"] as? String ?? "") }.map { key in
            let id = key["id"] as? String ?? ""
            let isRevoked = key["revoked_at"] is String
            return [
                "id": id, "idPath": DashboardURL.segment(id), "prefix": key["prefix"] as? String ?? "", "role": key["role"] as? String ?? "",
                "createdAt": DashboardPage.time(key["created_at"]), "revokedAt": isRevoked ? DashboardPage.time(key["revoked_at"]) : "",
                "isRevoked": isRevoked, "isThisKey": id == visit.principal.keyID,
                "canRevoke": revocable && !isRevoked && id != visit.principal.keyID,
            ]
        }
    }

    static func roleOptions(selected: String) -> [[String: Any]] {
        keyRoles.map { ["value": $0, "selected": $0 == selected] }
    }

    /// Keeps a new key for the next page: shown once, with the copy button.
    func keepNewKey(_ created: [String: Any], visit: Visit) {
        let role = created["role"] as? String ?? ""
        sessions.setFlash(.init(kind: .success, message: "A new \(role) key was made. Give it to its user now: it is not shown again.",
                                secret: created["key"] as? String, secretLabel: "API key"), id: visit.session.id)
    }

    // MARK: The application's keys

    @Sendable func listKeys(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context) { visit in
            let keys = try await visit.call(api, .get, "/v1/api-keys").items
            let model: [String: Any] = [
                "keys": keyRows(keys, visit: visit, revocable: true), "roles": Self.roleOptions(selected: "viewer"), "keyAction": "/dashboard/api-keys",
            ]
            return render("apiKeys", title: "API keys", model, visit: visit, section: "keys")
        }
    }

    static let keysBack = Back(href: "/dashboard/api-keys", label: "Back to the keys")

    @Sendable func createKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        await action(request, context, back: Self.keysBack) { visit, form in
            let created = try await visit.call(api, .post, "/v1/api-keys", body: ["role": form["role"] ?? ""]).object
            keepNewKey(created, visit: visit)
            return DashboardPage.redirect(to: Self.keysBack.href)
        }
    }

    @Sendable func revokeKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        await action(request, context, back: Self.keysBack) { visit, _ in
            let id = try context.pathParameter("id")
            _ = try await visit.call(api, .delete, "/v1/api-keys/\(DashboardURL.segment(id))")
            sessions.setFlash(.init(kind: .success, message: "Key \(id) revoked: it stops working at once, and its dashboard sessions end."), id: visit.session.id)
            return DashboardPage.redirect(to: Self.keysBack.href)
        }
    }

    // MARK: Applications (the operator)

    @Sendable func listApplications(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context) { visit in try await applicationsPage(visit: visit) }
    }

    /// The applications page; after a refused create, with the form as filled in and the API's words.
    func applicationsPage(visit: Visit, name: String = "", environment: String = "sandbox", callbacks: String = "", problem: Problem? = nil) async throws -> Response {
        let applications = try await visit.call(api, .get, "/v1/applications").items.map { application -> [String: Any] in
            let id = application["id"] as? String ?? ""
            return [
                "id": id, "idPath": DashboardURL.segment(id), "name": application["name"] as? String ?? id,
                "environment": application["environment"] as? String ?? "", "webhookLimit": Self.integer(application["webhook_limit"]) ?? 0,
                "callbacks": (application["redirect_callbacks"] as? [String] ?? []).count, "createdAt": DashboardPage.time(application["created_at"]),
                "isOwn": id == visit.principal.applicationID,
            ]
        }
        var model: [String: Any] = [
            "applications": applications, "name": name, "callbacksText": callbacks,
            "environments": ["sandbox", "production"].map { ["value": $0, "selected": $0 == environment] as [String: Any] },
        ]
        if let problem {
            model["problem"] = ["title": problem.title, "detail": Self.sentence(problem.detail)]
            model["nameInvalid"] = problem.field == "/name"
            model["callbacksInvalid"] = problem.field?.hasPrefix("/redirect_callbacks") ?? false
        }
        return render("applications", title: "Applications", model, visit: visit, status: problem?.status ?? .ok, section: "applications")
    }

    @Sendable func createApplication(_ request: Request, context: AppRequestContext) async throws -> Response {
        await action(request, context, back: Back(href: "/dashboard/applications", label: "Back to the applications")) { visit, form in
            let name = (form["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let environment = form["environment"] ?? "sandbox"
            let callbacksText = form["redirect_callbacks"] ?? ""
            let callbacks = callbacksText.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            do {
                let created = try await visit.call(api, .post, "/v1/applications", body: [
                    "name": name, "environment": environment, "redirect_callbacks": callbacks,
                ]).object
                sessions.setFlash(.init(kind: .success, message: "Application created. Make it a key to sign in with."), id: visit.session.id)
                return DashboardPage.redirect(to: "/dashboard/applications/\(DashboardURL.segment(created["id"] as? String ?? ""))")
            } catch let problem as Problem where ![.unauthorized, .forbidden].contains(problem.status) {
                return try await applicationsPage(visit: visit, name: name, environment: environment, callbacks: callbacksText, problem: problem)
            }
        }
    }

    @Sendable func showApplication(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context, back: Back(href: "/dashboard/applications", label: "Back to the applications")) { visit in
            let id = try context.pathParameter("id")
            let path = "/v1/applications/\(DashboardURL.segment(id))"
            let application = try await visit.call(api, .get, path).object
            let keys = try await visit.call(api, .get, path + "/api-keys").items
            let model: [String: Any] = [
                "id": application["id"] as? String ?? id, "idPath": DashboardURL.segment(id), "name": application["name"] as? String ?? id,
                "environment": application["environment"] as? String ?? "", "webhookLimit": Self.integer(application["webhook_limit"]) ?? 0,
                "allowPlainHttp": application["allow_plain_http"] as? Bool ?? false,
                "callbacks": (application["redirect_callbacks"] as? [String] ?? []).map { ["url": $0] },
                "createdAt": DashboardPage.time(application["created_at"]),
                // Revoking is the application's own admins' (the API revokes only the caller's application's keys).
                "keys": keyRows(keys, visit: visit, revocable: id == visit.principal.applicationID),
                "roles": Self.roleOptions(selected: "admin"), "keyAction": "/dashboard/applications/\(DashboardURL.segment(id))/api-keys",
            ]
            return render("application", title: application["name"] as? String ?? id, model, visit: visit, section: "applications")
        }
    }

    @Sendable func createApplicationKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        let href = "/dashboard/applications/\(DashboardURL.segment((try? context.pathParameter("id")) ?? ""))"
        return await action(request, context, back: Back(href: href, label: "Back to the application")) { visit, form in
            let id = try context.pathParameter("id")
            let created = try await visit.call(api, .post, "/v1/applications/\(DashboardURL.segment(id))/api-keys", body: ["role": form["role"] ?? ""]).object
            keepNewKey(created, visit: visit)
            return DashboardPage.redirect(to: href)
        }
    }
}
