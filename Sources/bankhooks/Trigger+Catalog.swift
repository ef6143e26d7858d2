import BankHooksLoopback
import Foundation
import NIOHTTP1

/// The catalog side of `trigger`: the event types the server knows, and publishing one's example.
struct TriggerCatalog {
    let api: APIClient

    /// What POST /v1/events answered.
    struct Published {
        var id: String
        var type: String
        var deliveries: Int
    }

    /// Prints every event type, grouped by family in the catalog's order.
    func printList() async throws(TriggerFailure) {
        let types = try await api.everyPage("/v1/event-types", doing: "list the event types")
        var families: [String] = []
        var byFamily: [String: [[String: Any]]] = [:]
        for type in types {
            let family = type["family"] as? String ?? "?"
            if byFamily[family] == nil { families.append(family) }
            byFamily[family, default: []].append(type)
        }
        for family in families {
            let members = byFamily[family] ?? []
            let formats = (members.first?["formats"] as? [String] ?? []).joined(separator: ", ")
            let note = family == "bankhooks" ? "; sent by BankHooks itself, not published" : ""
            TriggerOutput.line("\(family) (\(members.count) \(members.count == 1 ? "type" : "types"); formats \(formats)\(note))")
            let width = members.map { ($0["name"] as? String ?? "").count }.max() ?? 0
            for member in members {
                let name = member["name"] as? String ?? "?"
                let padding = String(repeating: " ", count: width - name.count)
                TriggerOutput.line("  \(name)\(padding)  \(Self.firstSentence(member["description"] as? String ?? ""))")
            }
        }
    }

    /// The text up to the first ". " before a capital letter (the whole text when it has one sentence).
    static func firstSentence(_ text: String) -> String {
        var searched = text.startIndex
        while let end = text.range(of: ". ", range: searched..<text.endIndex) {
            if text[end.upperBound...].first?.isUppercase == true { return String(text[..<end.lowerBound]) + "." }
            searched = end.upperBound
        }
        return text
    }

    /// Publishes `type` with its first example (or `data`) and the overrides applied.
    func publish(type: String, data: String?, overrides: [String]) async throws(TriggerFailure) -> Published {
        // Arguments first: a bad one is refused before the server is asked anything.
        let assignments = try overrides.map { text throws(TriggerFailure) in try TriggerOverride(text) }
        let given = try data.map { text throws(TriggerFailure) in try Self.object(text) }
        guard let name = type.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) else {
            throw .usage("the event type \(type) cannot be put in a URL")
        }
        let definition = try await api.expect(.GET, "/v1/event-types/\(name)", doing: "read the event type \(type)",
                                              notFound: "unknown event type \(type) (bankhooks trigger --list shows the types)")
        if definition["family"] as? String == "bankhooks" {
            throw .usage("\(type) is sent by BankHooks itself and cannot be published (POST /v1/webhooks/{id}/test sends webhook.test)")
        }
        let schema = definition["schema"] as? [String: Any]
        var body: Any
        if let given {
            body = given
        } else if let example = (schema?["examples"] as? [Any])?.first {
            body = example
        } else if !assignments.isEmpty {
            body = [String: Any]()
        } else {
            throw .usage("\(type) has no example in the catalog: give the data with --data JSON or --set path=value")
        }
        for assignment in assignments { body = try assignment.apply(to: body) }
        let request: [String: Any] = ["type": type, "data": body]
        guard let encoded = try? JSONSerialization.data(withJSONObject: request, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            throw .usage("the data of \(type) cannot be written as JSON")
        }
        let answer = try await api.expect(.POST, "/v1/events", body: String(decoding: encoded, as: UTF8.self), doing: "publish \(type)")
        guard let id = answer["id"] as? String else { throw .server("the server's answer to the publish has no event id") }
        return Published(id: id, type: type, deliveries: answer["deliveries"] as? Int ?? 0)
    }

    /// `--data`: a JSON object.
    static func object(_ text: String) throws(TriggerFailure) -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw .usage("--data must be a JSON object, not \(text)")
        }
        return object
    }
}

extension APIClient {
    /// Every item of a listing, page after page (100 a page).
    func everyPage(_ path: String, doing what: String) async throws(TriggerFailure) -> [[String: Any]] {
        var items: [[String: Any]] = []
        var cursor: String?
        repeat {
            let query = cursor.map { "&cursor=\($0)" } ?? ""
            let page = try await expect(.GET, "\(path)?limit=100\(query)", doing: what)
            items += page["data"] as? [[String: Any]] ?? []
            cursor = page["next_cursor"] as? String
        } while cursor != nil
        return items
    }

    /// Sends one request and returns its JSON object; a refused connection, a problem answer or
    /// anything but a JSON object is a failure naming what was being done.
    func expect(
        _ method: HTTPMethod, _ path: String, body: String? = nil, doing what: String, notFound: String? = nil
    ) async throws(TriggerFailure) -> [String: Any] {
        let reply: Reply
        do {
            reply = try await call(method, path, body: body)
        } catch {
            throw .server("cannot \(what): no answer from \(baseURL) (\(error))")
        }
        if reply.status == 404, let notFound { throw .server(notFound) }
        guard (200..<300).contains(reply.status) else {
            let problem = reply.json
            let detail = problem?["detail"] as? String ?? problem?["title"] as? String ?? reply.text
            let field = (problem?["field"] as? String).map { " (\($0))" } ?? ""
            let hint = reply.status == 401 ? "; check --key or BANKHOOKS_API_KEY" : ""
            throw .server("cannot \(what): the server answered \(reply.status): \(detail)\(field)\(hint)")
        }
        guard let object = reply.json else { throw .server("cannot \(what): the server's answer is not a JSON object") }
        return object
    }
}
