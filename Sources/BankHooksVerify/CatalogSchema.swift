/// Writes the catalog's JSON Schema text (Lean's, Okra's and Bridge's) from JSON fragments, so that
/// what every object schema repeats (`"type": "object"`, `properties`, `required`,
/// `"additionalProperties": true`, and the `$schema` URI at the top) is written once. Every argument
/// is JSON text: a property is one object member (`"name": {...}`), a description the content of a
/// JSON string (escapes included). The result is plain JSON text.
enum CatalogSchema {
    /// The schema of an event's `data`: an object whose `required` members must be present and
    /// which may carry members beyond `properties`.
    static func event(description: String? = nil, required: [String], properties: [String]) -> String {
        render(
            [#""$schema": "https://json-schema.org/draft/2020-12/schema""#, #""type": "object""#]
                + (description.map { [#""description": "\#($0)""#] } ?? []),
            required: required, properties: properties)
    }

    /// The schema of a member whose value is an object (or `null`, when `nullable`), to follow `"name": `.
    static func object(nullable: Bool = false, description: String, required: [String], properties: [String]) -> String {
        render(
            [nullable ? #""type": ["object", "null"]"# : #""type": "object""#, #""description": "\#(description)""#],
            required: required, properties: properties)
    }

    private static func render(_ head: [String], required: [String], properties: [String]) -> String {
        func indented(_ text: String) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n    ")
        }
        return """
            {
              \(head.joined(separator: ",\n  ")),
              "properties": {
                \(properties.map(indented).joined(separator: ",\n    "))
              },
              "required": [\(required.map { "\"\($0)\"" }.joined(separator: ", "))],
              "additionalProperties": true
            }
            """
    }
}
