import Foundation

/// One `--set path=value`: a dotted path into the data (`a.b.0.c`, a number indexing an array)
/// and a value, parsed as JSON if it parses (`42`, `true`, `null`, `{"x":1}`, `"text"`), else
/// taken as a string. Every member on the way must exist; only the last may be new (an object
/// member added); an array index must be one the array has.
struct TriggerOverride {
    let text: String
    let path: [String]
    let value: Any

    init(_ text: String) throws(TriggerFailure) {
        self.text = text
        guard let equals = text.firstIndex(of: "=") else {
            throw .usage("--set \(text): expected path=value (e.g. --set amount=42 or --set bank_details.name=Mockbank)")
        }
        let pathText = text[..<equals]
        let valueText = String(text[text.index(after: equals)...])
        path = pathText.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !pathText.isEmpty, !path.contains(where: \.isEmpty) else {
            throw .usage("--set \(text): the path must be member names and array indexes separated by single dots, like a.b.0.c")
        }
        value = (try? JSONSerialization.jsonObject(with: Data(valueText.utf8), options: [.fragmentsAllowed])) ?? valueText
    }

    /// `data` with the value set at the path.
    func apply(to data: Any) throws(TriggerFailure) -> Any {
        try setting(in: data, depth: 0)
    }

    private func setting(in container: Any, depth: Int) throws(TriggerFailure) -> Any {
        let component = path[depth]
        let last = depth == path.count - 1
        let here = depth == 0 ? "the data" : "`" + path[..<depth].joined(separator: ".") + "`"
        if var object = container as? [String: Any] {
            if last {
                object[component] = value
            } else {
                guard let child = object[component] else {
                    throw failure("\(here) has no member `\(component)` (members: \(object.keys.sorted().joined(separator: ", ")))")
                }
                object[component] = try setting(in: child, depth: depth + 1)
            }
            return object
        }
        if var array = container as? [Any] {
            guard let index = Int(component), array.indices.contains(index) else {
                let range = array.isEmpty ? "it is empty" : "indexes are 0 to \(array.count - 1)"
                throw failure("\(here) is an array and `\(component)` is not one of its indexes (\(range))")
            }
            if last {
                array[index] = value
            } else {
                array[index] = try setting(in: array[index], depth: depth + 1)
            }
            return array
        }
        throw failure("\(here) is \(Self.kind(of: container)), not an object or an array, so it has no `\(component)`")
    }

    private func failure(_ reason: String) -> TriggerFailure {
        .usage("--set \(text): \(reason); nothing was published")
    }

    /// "a string", "a number", ... for a JSON value.
    static func kind(of value: Any) -> String {
        switch value {
        case is NSNull: "null"
        case is String: "a string"
        case is Bool: "a boolean"
        case is NSNumber, is Int, is Double: "a number"
        default: "a value"
        }
    }
}
