import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Drives the sandbox bank's consent page over HTTP the way a browser does, without one: GET the
/// `authorisation_url` (which sets the CSRF cookie and embeds the form's hidden fields), then POST
/// the form and read the answer without following it (a 302 to the callback, or the page again).
/// Shared by `bankhooks demo` and `bankhooks bench --redirect`.
public struct ConsentFormClient: Sendable {
    /// An opened consent page: where its form posts, its hidden fields and the cookies it set.
    public struct Page: Sendable {
        /// The absolute URL the form posts to.
        public var actionURL: String
        /// The form's hidden inputs (`state`, `csrf`), by name.
        public var hiddenFields: [String: String]
        /// `name=value` of each cookie the page set, to send back with the form.
        public var cookies: [String]
        /// The page's status and HTML.
        public var status: Int
        public var html: String
    }

    /// What the bank answered to a submitted form.
    public struct Answer: Sendable {
        public var status: Int
        /// The redirect's target (a 302's `Location`).
        public var location: String?
        /// The page shown again (a 200 with the form, e.g. after a wrong password).
        public var page: Page?
        public var body: String
        /// From the first byte of the request to the whole answer.
        public var duration: Duration
        /// The server's own time, from its `Server-Timing: bank;dur=<ms>` header (nil without one).
        public var serverTime: Duration?
    }

    /// The `dur` of the `bank` metric of a `Server-Timing` value (`bank;dur=3.125`), in milliseconds.
    static func bankDuration(_ header: String) -> Duration? {
        for metric in header.split(separator: ",") {
            let parts = metric.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.first == "bank" else { continue }
            for part in parts.dropFirst() where part.hasPrefix("dur=") {
                guard let ms = Double(part.dropFirst(4)), ms.isFinite, ms >= 0 else { return nil }
                return .microseconds(Int64(ms * 1000))
            }
        }
        return nil
    }

    /// Everything the client may fail on, said plainly.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// An HTTP client that never follows redirects (the demo reads each 302 itself); the caller shuts it down.
    public static func makeHTTPClient(connections: Int = 8) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    let http: HTTPClient

    /// `http` must not follow redirects (`makeHTTPClient`).
    public init(http: HTTPClient) {
        self.http = http
    }

    /// GETs the consent page at `url`; throws unless it is a 200 with a form.
    public func open(_ url: String) async throws -> Page {
        let request = HTTPClientRequest(url: url)
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = String(buffer: try await response.body.collect(upTo: 4 * 1024 * 1024))
        guard response.status == .ok else {
            throw Failure("GET \(url) answered \(response.status.code), not 200 with the consent page: \(body.prefix(300))")
        }
        return try Self.page(html: body, status: 200, url: url, cookies: Self.cookies(response.headers))
    }

    /// POSTs the page's form with these credentials and decision (`approve` or `deny`).
    public func submit(_ page: Page, username: String, password: String?, decision: String = "approve") async throws -> Answer {
        var fields = page.hiddenFields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        fields.append(("username", username))
        fields.append(("password", password ?? username))
        fields.append(("decision", decision))
        var request = HTTPClientRequest(url: page.actionURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        if !page.cookies.isEmpty { request.headers.add(name: "Cookie", value: page.cookies.joined(separator: "; ")) }
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(fields)))
        let start = ContinuousClock.now
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = String(buffer: try await response.body.collect(upTo: 4 * 1024 * 1024))
        let duration = ContinuousClock.now - start
        let status = Int(response.status.code)
        var answer = Answer(status: status, location: response.headers.first(name: "Location"), page: nil, body: body, duration: duration)
        answer.serverTime = response.headers.first(name: "Server-Timing").flatMap(Self.bankDuration)
        if status == 200 {
            // The page again: a new cookie replaces the old one, and the hidden fields may be new.
            let cookies = Self.cookies(response.headers)
            answer.page = try? Self.page(html: body, status: status, url: page.actionURL, cookies: cookies.isEmpty ? page.cookies : cookies)
        }
        return answer
    }

    // MARK: Reading the page

    /// The form of `html`: its action (resolved against `url`) and hidden inputs.
    static func page(html: String, status: Int, url: String, cookies: [String]) throws -> Page {
        guard let form = HTMLTags.first("form", in: html) else { throw Failure("the page at \(url) has no <form>: \(html.prefix(300))") }
        let action = form["action"].map { HTMLTags.unescape($0) } ?? url
        guard let base = URL(string: url), let resolved = URL(string: action, relativeTo: base)?.absoluteURL else {
            throw Failure("the form's action \(action) is not a URL")
        }
        var hidden: [String: String] = [:]
        for input in HTMLTags.all("input", in: html) where input["type"]?.lowercased() == "hidden" {
            if let name = input["name"] { hidden[HTMLTags.unescape(name)] = HTMLTags.unescape(input["value"] ?? "") }
        }
        return Page(actionURL: resolved.absoluteString, hiddenFields: hidden, cookies: cookies, status: status, html: html)
    }

    /// The `name=value` part of each `Set-Cookie`.
    static func cookies(_ headers: HTTPHeaders) -> [String] {
        headers["Set-Cookie"].compactMap { line in
            let pair = line.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return pair.contains("=") ? pair : nil
        }
    }
}

/// `application/x-www-form-urlencoded`, and the query of a URL read back.
public enum FormEncoding {
    /// Every byte but unreserved ones percent-encoded (so `+`, `=`, `&`, `@` and space are too).
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    public static func encode(_ fields: [(String, String)]) -> String {
        fields.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text }

    /// The query's parameters in order, percent-decoded (`+` is a space, as forms send it).
    public static func parameters(ofQuery query: String) -> [(name: String, value: String)] {
        query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// The parameters of a URL's query (before any `#`); none when it has no query.
    public static func parameters(ofURL url: String) -> [(name: String, value: String)] {
        let beforeFragment = url.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard let mark = beforeFragment.firstIndex(of: "?") else { return [] }
        return parameters(ofQuery: String(beforeFragment[beforeFragment.index(after: mark)...]))
    }
}

/// Just enough HTML reading for a server-rendered form: tags by name with their attributes.
enum HTMLTags {
    /// The attributes of every `<name …>` tag in `html`, lower-cased names (a byte scan: the
    /// benchmark reads thousands of pages).
    static func all(_ name: String, in html: String) -> [[String: String]] {
        let bytes = Array(html.utf8)
        let wanted = Array(name.lowercased().utf8)
        var tags: [[String: String]] = []
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "<"), i + wanted.count + 1 < bytes.count else { i += 1; continue }
            var matches = true
            for (offset, letter) in wanted.enumerated() where bytes[i + 1 + offset] | 0x20 != letter {
                matches = false
                break
            }
            let after = i + 1 + wanted.count
            // The name must end there (`<form ` or `<form>`, not `<formula`).
            guard matches, [UInt8(ascii: " "), UInt8(ascii: ">"), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "/")].contains(bytes[after]) else {
                i += 1
                continue
            }
            guard let end = bytes[after...].firstIndex(of: UInt8(ascii: ">")) else { break }
            tags.append(attributes(String(decoding: bytes[after..<end], as: UTF8.self)))
            i = end + 1
        }
        return tags
    }

    static func first(_ name: String, in html: String) -> [String: String]? { all(name, in: html).first }

    /// `a="x" b='y' c=z d` → a dictionary (a bare attribute has an empty value).
    static func attributes(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var i = text.startIndex
        func skipSpaces() { while i < text.endIndex, text[i].isWhitespace || text[i] == "/" { i = text.index(after: i) } }
        while true {
            skipSpaces()
            guard i < text.endIndex else { break }
            let nameStart = i
            while i < text.endIndex, !text[i].isWhitespace, text[i] != "=", text[i] != "/" { i = text.index(after: i) }
            let name = text[nameStart..<i].lowercased()
            skipSpaces()
            guard i < text.endIndex, text[i] == "=" else {
                if !name.isEmpty { result[name] = "" }
                continue
            }
            i = text.index(after: i)
            while i < text.endIndex, text[i].isWhitespace { i = text.index(after: i) }
            guard i < text.endIndex else { result[name] = ""; break }
            let value: Substring
            if text[i] == "\"" || text[i] == "'" {
                let quote = text[i]
                let valueStart = text.index(after: i)
                let valueEnd = text[valueStart...].firstIndex(of: quote) ?? text.endIndex
                value = text[valueStart..<valueEnd]
                i = valueEnd < text.endIndex ? text.index(after: valueEnd) : valueEnd
            } else {
                let valueStart = i
                while i < text.endIndex, !text[i].isWhitespace { i = text.index(after: i) }
                value = text[valueStart..<i]
            }
            if !name.isEmpty { result[name] = String(value) }
        }
        return result
    }

    /// The five entities a template escapes, and numeric ones.
    static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[amp...]
            guard let semi = after.firstIndex(of: ";"), after.distance(from: amp, to: semi) <= 10 else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            let entity = after[after.index(after: amp)..<semi]
            let named = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'"]
            if let replacement = named[String(entity)] {
                out += replacement
            } else if entity.hasPrefix("#x") || entity.hasPrefix("#X"), let code = UInt32(entity.dropFirst(2), radix: 16), let scalar = Unicode.Scalar(code) {
                out.unicodeScalars.append(scalar)
            } else if entity.hasPrefix("#"), let code = UInt32(entity.dropFirst()), let scalar = Unicode.Scalar(code) {
                out.unicodeScalars.append(scalar)
            } else {
                out += after[amp...semi]
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
