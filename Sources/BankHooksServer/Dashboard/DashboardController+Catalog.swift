import BankHooksCore
import Foundation
import Hummingbird

/// The event catalog: every type the application can publish and subscribe to (built in and its
/// own), by family, and a type with its description, formats, JSON Schema and an example made
/// from that schema. Read through /v1/event-types.
extension DashboardController {
    @Sendable func listEventTypes(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context) { visit in
            let search = (request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespaces)
            var families: [(family: String, types: [[String: Any]])] = []
            for type in try await eventTypes(visit: visit) {
                let name = type["name"] as? String ?? ""
                let description = type["description"] as? String ?? ""
                guard search.isEmpty || name.localizedCaseInsensitiveContains(search) || description.localizedCaseInsensitiveContains(search) else { continue }
                let family = type["family"] as? String ?? "custom"
                let entry: [String: Any] = [
                    "name": name, "namePath": DashboardURL.segment(name), "description": description,
                    "formats": (type["formats"] as? [String] ?? []).joined(separator: ", "),
                ]
                if let i = families.firstIndex(where: { $0.family == family }) { families[i].types.append(entry) } else { families.append((family, [entry])) }
            }
            let model: [String: Any] = [
                "q": search, "searched": !search.isEmpty, "hasTypes": !families.isEmpty,
                "families": families.map { ["family": $0.family, "count": $0.types.count, "types": $0.types] as [String: Any] },
            ]
            return render("eventTypes", title: "Event catalog", model, visit: visit, section: "catalog")
        }
    }

    @Sendable func showEventType(_ request: Request, context: AppRequestContext) async throws -> Response {
        await page(request, context, back: Back(href: "/dashboard/event-types", label: "Back to the catalog")) { visit in
            let name = try context.pathParameter("name")
            let answer = try await visit.call(api, .get, "/v1/event-types/\(DashboardURL.segment(name))")
            let type = answer.object
            let schema = type["schema"] as? [String: Any]
            let example = DashboardJSON.example(schema)
            var model: [String: Any] = [
                "name": type["name"] as? String ?? name, "family": type["family"] as? String ?? "",
                "description": type["description"] as? String ?? "", "formats": type["formats"] as? [String] ?? [],
                "hasSchema": schema != nil,
                "schema": DashboardJSON.member("schema", of: answer.bytes).map(DashboardJSON.pretty) ?? "null",
            ]
            if schema != nil {
                model["example"] = DashboardJSON.pretty(example)
                model["publish"] = DashboardJSON.pretty(["type": type["name"] as? String ?? name, "data": example] as [String: Any])
            }
            if type["created_at"] is String { model["createdAt"] = DashboardPage.time(type["created_at"]) }
            return render("eventType", title: type["name"] as? String ?? name, model, visit: visit, section: "catalog")
        }
    }
}
