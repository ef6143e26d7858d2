import BankHooksCore
import Foundation
import Hummingbird
import NIOCore

extension Response {
    /// A JSON response encoded with the context's encoder.
    static func json(_ value: some Encodable, status: HTTPResponse.Status, context: AppRequestContext) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: try context.responseEncoder.encode(value))))
    }
}

/// Decodes a JSON body, turning every decoding failure into a problem that names the field.
func decodeBody<T: Decodable>(_ type: T.Type, from request: Request, context: AppRequestContext) async throws -> T {
    try decodeJSON(type, from: try await collectJSONBody(request, context: context), context: context)
}

/// The request body, checked to be well-formed JSON (a 400 naming the offset otherwise) without
/// NUL in any string: every text a JSON body can store (names, URLs, header values, descriptions,
/// callbacks, schemas) passes here, and NUL is refused rather than cut at some later layer.
func collectJSONBody(_ request: Request, context: AppRequestContext) async throws -> ByteBuffer {
    var request = request
    let buffer = try await request.collectBody(upTo: context.maxUploadSize)
    // A JSONSyntaxError is answered by `Problem.mapping` (400, or 422 for a repeated member).
    _ = try buffer.withUnsafeReadableBytes { try JSONScanner.validate($0) }
    if buffer.withUnsafeReadableBytes(JSONText.containsEscapedNUL) {
        throw Problem.invalidField(JSONText.pointerToNUL(in: Data(buffer: buffer)), "text must not contain NUL (U+0000)")
    }
    return buffer
}

/// Checks on the text of a well-formed JSON body.
enum JSONText {
    /// Whether a string (member name or value) holds a `\u0000` escape; a raw NUL byte is not valid JSON at all.
    static func containsEscapedNUL(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let backslash = UInt8(ascii: "\\"), quote = UInt8(ascii: "\""), zero = UInt8(ascii: "0")
        var i = 0
        var isInString = false
        while i < bytes.count {
            let byte = bytes[i]
            if isInString {
                if byte == backslash {
                    if i + 5 < bytes.count, bytes[i + 1] == UInt8(ascii: "u"), bytes[i + 2] == zero, bytes[i + 3] == zero,
                       bytes[i + 4] == zero, bytes[i + 5] == zero {
                        return true
                    }
                    i += 2
                    continue
                }
                if byte == quote { isInString = false }
            } else if byte == quote {
                isInString = true
            }
            i += 1
        }
        return false
    }

    /// The JSON pointer of the first member name or string value holding NUL ("/" if none is found).
    static func pointerToNUL(in data: Data) -> String {
        func escape(_ key: String) -> String { key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
        func find(_ value: Any, _ path: String) -> String? {
            if let text = value as? String { return text.contains("\u{0}") ? path : nil }
            if let array = value as? [Any] {
                for (index, item) in array.enumerated() { if let found = find(item, path + "/\(index)") { return found } }
            }
            if let object = value as? [String: Any] {
                for key in object.keys.sorted() {
                    if key.contains("\u{0}") { return path + "/" + escape(key) }
                    if let item = object[key], let found = find(item, path + "/" + escape(key)) { return found }
                }
            }
            return nil
        }
        guard let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return "/" }
        return find(value, "").map { $0.isEmpty ? "/" : $0 } ?? "/"
    }
}

/// Decodes a well-formed JSON body; a `DecodingError` is answered by `Problem.mapping` as a 422 naming the field.
func decodeJSON<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer, context: AppRequestContext) throws -> T {
    try context.requestDecoder.decode(T.self, from: buffer)
}

extension Problem {
    /// A problem naming the field a `DecodingError` points at (snake_case JSON pointer).
    static func decoding(_ error: DecodingError) -> Problem {
        func pointer(_ path: [any CodingKey]) -> String {
            "/" + path.map { key in key.intValue.map(String.init) ?? snakeCase(key.stringValue) }.joined(separator: "/")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let path = pointer(context.codingPath + [key])
            return .invalidField(path, "`\(snakeCase(key.stringValue))` is required")
        case .typeMismatch(let type, let context):
            return .invalidField(pointer(context.codingPath), "expected \(describe(type))")
        case .valueNotFound(let type, let context):
            return .invalidField(pointer(context.codingPath), "expected \(describe(type)), found null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return Problem(.badRequest, "malformed-json", title: "The body is not valid JSON", detail: context.debugDescription, field: "/")
            }
            return .invalidField(pointer(context.codingPath), context.debugDescription)
        @unknown default:
            return .invalidField("/", "the body does not match the expected shape")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Double.Type: "a number"
        case is [String].Type, is [Any].Type: "an array"
        case is [String: Any].Type: "an object"
        // Never a Swift type name in an answer: the OpenAPI document says what each member holds.
        default: "a value of the type the API documents for it"
        }
    }

    static func snakeCase(_ text: String) -> String {
        var out = ""
        for ch in text {
            if ch.isUppercase { out.append("_"); out.append(contentsOf: ch.lowercased()) } else { out.append(ch) }
        }
        return out
    }
}

/// Any member name, for finding the ones a body may not have.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// Refuses an object member outside `allowed` (names as decoded), naming it.
    func rejectUnknownMembers(_ allowed: Set<String>) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        if let unknown = container.allKeys.first(where: { !allowed.contains($0.stringValue) }) {
            throw DecodingError.dataCorruptedError(
                forKey: unknown, in: container,
                debugDescription: "unknown member; expected \(allowed.sorted().map(Problem.snakeCase).joined(separator: ", "))")
        }
    }
}
