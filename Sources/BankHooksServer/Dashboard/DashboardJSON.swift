import BankHooksCore
import Foundation

/// JSON as the pages show it: a member's text cut out of an API answer as it was sent, indented
/// without reordering anything, and an example `data` made from an event type's JSON Schema.
enum DashboardJSON {
    /// The text of the top-level member `name` of the JSON object `bytes`; nil when it has none.
    static func member(_ name: String, of bytes: [UInt8]) -> ArraySlice<UInt8>? {
        bytes.withUnsafeBytes { raw in
            guard let members = try? JSONScanner.objectMembers(of: raw), let member = members.first(where: { $0.key == name }) else { return nil }
            return bytes[member.valueRange]
        }
    }

    /// Valid JSON text indented by two spaces, one member or element a line, in its own order,
    /// strings untouched (an empty object or array stays `{}` / `[]`).
    static func pretty(_ text: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 2)
        var depth = 0
        var inString = false, escaped = false
        func newline() {
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
        }
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            index += 1
            if inString {
                out.append(byte)
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                out.append(byte)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                out.append(byte)
                // An empty container stays on its line.
                var next = index
                while next < text.endIndex, [0x20, 0x0A, 0x0D, 0x09].contains(text[next]) { next += 1 }
                if next < text.endIndex, text[next] == UInt8(ascii: "}") || text[next] == UInt8(ascii: "]") {
                    out.append(text[next])
                    index = next + 1
                } else {
                    depth += 1
                    newline()
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth = max(0, depth - 1)
                newline()
                out.append(byte)
            case UInt8(ascii: ","):
                out.append(byte)
                newline()
            case UInt8(ascii: ":"):
                out.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
            case 0x20, 0x0A, 0x0D, 0x09:
                continue
            default:
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON value as indented text, members sorted by name (for values this server made).
    static func pretty(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        else { return "null" }
        return pretty(Array(data)[...])
    }

    /// An example value for `schema` (the subset the catalog's schemas use: `type`, `properties`,
    /// `items`, `enum`, `format`): every property present, the first enum value, a plausible
    /// value for each format. `name` is the property's name, for a string's text.
    static func example(_ schema: Any?, name: String = "value", depth: Int = 0) -> Any {
        guard let schema = schema as? [String: Any], depth < 16 else { return NSNull() }
        if let values = schema["enum"] as? [Any], let first = values.first(where: { !($0 is NSNull) }) ?? values.first { return first }
        if let value = schema["const"] { return value }
        let types = (schema["type"] as? [String]) ?? ((schema["type"] as? String).map { [$0] } ?? [])
        let type = types.first { $0 != "null" } ?? types.first ?? (schema["properties"] != nil ? "object" : "string")
        switch type {
        case "object":
            var object: [String: Any] = [:]
            for (key, property) in schema["properties"] as? [String: Any] ?? [:] {
                object[key] = example(property, name: key, depth: depth + 1)
            }
            return object
        case "array":
            return [example(schema["items"], name: name, depth: depth + 1)]
        case "integer":
            return 1
        case "number":
            return 100.5
        case "boolean":
            return true
        case "null":
            return NSNull()
        default:
            switch schema["format"] as? String {
            case "date-time": return "2026-01-15T09:30:00.000Z"
            case "date": return "2026-01-15"
            case "uuid": return "3f2a9c1e-6b1d-4e0a-9a57-0c6f1d2b8e41"
            case "uri", "url": return "https://example.com/\(name)"
            case "email": return "user@example.com"
            default: return "example_\(name)"
            }
        }
    }
}
