import Foundation

// MARK: - Request

/// A received webhook request: its headers and its body exactly as received. The body must be
/// the raw bytes: every format signs them, and re-serialised JSON never verifies.
public struct WebhookRequest: Sendable {
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(headers: [(name: String, value: String)], body: [UInt8]) {
        self.headers = headers
        self.body = body
    }

    /// The first value of the header called `name` (compared case-insensitively), or nil.
    public func header(_ name: String) -> String? {
        for header in headers where Self.sameName(header.name, name) {
            return header.value
        }
        return nil
    }

    /// Reads a saved request: an optional request line (`POST /path HTTP/1.1`), then `Name: value`
    /// header lines, then an empty line, then the body, which is every remaining byte exactly.
    /// Lines may end in `\r\n` or `\n`. A file that ends before the empty line has an empty body.
    public static func parse(saved: [UInt8]) throws(VerificationError) -> WebhookRequest {
        guard !saved.isEmpty else {
            throw VerificationError(.malformedRequest, "the saved request is empty")
        }
        var headers: [(name: String, value: String)] = []
        var position = 0
        var lineNumber = 0
        while position < saved.count {
            // One line, without its `\n` and an optional `\r` before it.
            var end = position
            while end < saved.count, saved[end] != 0x0A { end += 1 }
            let next = end < saved.count ? end + 1 : end
            var lineEnd = end
            if lineEnd > position, saved[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            lineNumber += 1
            let line = saved[position..<lineEnd]
            position = next
            if line.isEmpty {
                return WebhookRequest(headers: headers, body: Array(saved[position...]))
            }
            guard let text = String(bytes: line, encoding: .utf8) else {
                throw VerificationError(.malformedRequest, "line \(lineNumber) of the saved request is not UTF-8 text")
            }
            if lineNumber == 1, isRequestLine(text) { continue }
            if let first = text.unicodeScalars.first, first == " " || first == "\t" {
                // An obsolete folded continuation of the previous header's value.
                guard !headers.isEmpty else {
                    throw VerificationError(.malformedRequest, "line \(lineNumber) of the saved request continues a header, but no header precedes it")
                }
                headers[headers.count - 1].value += " " + VerifyText.trimmed(text)
                continue
            }
            guard let colon = text.firstIndex(of: ":") else {
                throw VerificationError(.malformedRequest, "line \(lineNumber) of the saved request is not a `Name: value` header line: \(VerifyText.quoted(text))")
            }
            let name = String(text[..<colon])
            guard isToken(name) else {
                throw VerificationError(.malformedRequest, "line \(lineNumber) of the saved request has an invalid header name \(VerifyText.quoted(name))")
            }
            headers.append((name: name, value: VerifyText.trimmed(String(text[text.index(after: colon)...]))))
        }
        return WebhookRequest(headers: headers, body: [])
    }

    static func sameName(_ a: String, _ b: String) -> Bool {
        let a = a.utf8, b = b.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where lowerASCII(x) != lowerASCII(y) { return false }
        return true
    }

    private static func lowerASCII(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }

    /// A request line has no `:` before its first space (header names cannot contain spaces).
    private static func isRequestLine(_ line: String) -> Bool {
        guard let colon = line.firstIndex(of: ":") else { return true }
        return line[..<colon].contains(" ") || line[..<colon].contains("\t")
    }

    /// An HTTP token (RFC 9110 `tchar`s).
    private static func isToken(_ name: String) -> Bool {
        guard !name.isEmpty else { return false }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default:
                "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }
}

// MARK: - Errors

/// Why a request did not verify. `description` says exactly what failed.
public struct VerificationError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// A header the format requires is absent.
        case missingHeader
        /// A header is present but cannot be read (not a number, no entry of the expected form).
        case malformedHeader
        /// The signed timestamp is older than the tolerance allows.
        case timestampTooOld
        /// The signed timestamp is further in the future than the tolerance allows.
        case timestampInFuture
        /// No signature matches any secret.
        case signatureMismatch
        /// A secret given to the verifier is unusable (empty, or not base64 after `whsec_`).
        case invalidSecret
        /// The bearer token does not match.
        case tokenMismatch
        /// The request (or the verifier's arguments) cannot be used at all.
        case malformedRequest
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
