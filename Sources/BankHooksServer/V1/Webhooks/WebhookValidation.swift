import BankHooksCore
import BankHooksDelivery
import Foundation

/// Checks on the settings of a webhook, each throwing a 422 that names the field.
extension WebhooksController {
    static func validate(bearerToken: String?, format: String) throws {
        guard let bearerToken else { return }
        guard format == "okra" else {
            throw Problem.invalidField("/bearer_token", "`bearer_token` is an okra webhook setting; this webhook's format is `\(format)`")
        }
        guard (1...512).contains(bearerToken.utf8.count), bearerToken.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw Problem.invalidField("/bearer_token", "`bearer_token` must be 1 to 512 printable ASCII characters without spaces")
        }
    }

    /// Custom headers: at most 20, each an HTTP token name that is not reserved (signature, id and
    /// framing headers; okra's `Authorization`, which `bearer_token` sets) with a value of at most
    /// 1,024 printable characters, all names and values together at most `maxBytes`. Returned sorted by name.
    static func validate(headers: [String: String], format: String, maxBytes: Int) throws -> [HTTPHeader] {
        guard headers.count <= 20 else { throw Problem.invalidField("/headers", "at most 20 custom headers") }
        let size = headers.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        guard size <= maxBytes else {
            throw Problem.invalidField("/headers", "the custom headers are \(size.formatted()) bytes (names and values); the header_bytes_per_webhook quota is \(maxBytes.formatted()) bytes")
        }
        var result: [HTTPHeader] = []
        var seen: Set<String> = []
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            let pointer = "/headers/" + name.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
            let lower = name.lowercased()
            guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy(Self.isTokenCharacter) else {
                throw Problem.invalidField(pointer, "`\(name)` is not a header name (1 to 64 letters, digits and !#$%&'*+-.^_`|~)")
            }
            guard !RecordedHeaders.reserved.contains(lower), !(format == "okra" && lower == "authorization") else {
                throw Problem.invalidField(pointer, "`\(name)` is set by BankHooks itself and cannot be a custom header\(lower == "authorization" ? "; okra webhooks take `bearer_token`" : "")")
            }
            guard seen.insert(lower).inserted else { throw Problem.invalidField(pointer, "`\(name)` appears twice (header names are case-insensitive)") }
            guard value.utf8.count <= 1024, value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw Problem.invalidField(pointer, "a header value is at most 1,024 characters, without control characters or line breaks")
            }
            result.append(HTTPHeader(name: name, value: value))
        }
        return result
    }

    private static func isTokenCharacter(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || "!#$%&'*+-.^_`|~".utf8.contains(b)
    }

    /// A retry schedule: 1 to 20 delays of 1 to 86,400 seconds (nil: the format's schedule).
    static func validate(retrySchedule: [Int]?) throws -> [Int]? {
        guard let delays = retrySchedule else { return nil }
        guard (1...20).contains(delays.count) else {
            throw Problem.invalidField("/retry_schedule", "`retry_schedule` lists 1 to 20 delays in seconds (or is null for the format's schedule)")
        }
        for (i, delay) in delays.enumerated() where !(1...86_400).contains(delay) {
            throw Problem.invalidField("/retry_schedule/\(i)", "each delay is 1 to 86,400 seconds, not \(delay)")
        }
        return delays
    }

    /// A rate limit: 0.01 (one delivery every 100 s) to 10,000 deliveries per second (nil: unlimited).
    static func validate(rateLimit: Double?) throws -> Double? {
        guard let rate = rateLimit else { return nil }
        guard rate >= 0.01, rate <= 10_000 else {
            throw Problem.invalidField("/rate_limit", "`rate_limit` is deliveries per second, from 0.01 to 10,000 (or null for none)")
        }
        return rate
    }

    static func validate(name: String?) throws {
        if let name, name.utf8.count > 200 { throw Problem.invalidField("/name", "`name` is at most 200 bytes of UTF-8") }
        if let name, name.utf8.contains(0) { throw Problem.invalidField("/name", "`name` may not contain a NUL character") }
    }

    /// A subscription: 1 to `limit` distinct valid names, or nil for every type.
    static func validate(eventTypes: [String]?, limit: Int) throws {
        guard let types = eventTypes else { return }
        guard !types.isEmpty else {
            throw Problem.invalidField("/event_types", "`event_types` must name at least one type, or be omitted (or null) for every type")
        }
        guard types.count <= limit else {
            throw Problem.invalidField(
                "/event_types", "`event_types` names \(types.count.formatted()) types; the event_types_per_webhook quota is \(limit.formatted()) (null subscribes to every type)")
        }
        for (i, type) in types.enumerated() where !EventTypeName.isValid(type) {
            throw Problem.invalidField("/event_types/\(i)", "`\(type)` is not a valid event type name")
        }
        guard Set(types).count == types.count else { throw Problem.invalidField("/event_types", "`event_types` lists a type twice") }
    }
}

/// Webhook URL rules: absolute http(s) with a host, no credentials, at most 2,048 characters.
/// Whether the host may be reached is decided at send time, on the resolved address.
enum WebhookURL {
    static func validate(_ text: String, pointer: String) throws {
        guard text.utf8.count <= 2048 else { throw Problem.invalidField(pointer, "the URL is longer than 2,048 characters") }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw Problem.invalidField(pointer, "`\(text)` is not a URL")
        }
        guard scheme == "http" || scheme == "https" else {
            throw Problem.invalidField(pointer, "the URL scheme must be http or https, not \(scheme)")
        }
        guard let host = components.host, !host.isEmpty else { throw Problem.invalidField(pointer, "the URL has no host") }
        guard components.user == nil, components.password == nil else {
            throw Problem.invalidField(pointer, "the URL must not carry credentials")
        }
        if let port = components.port, !(1...65535).contains(port) { throw Problem.invalidField(pointer, "the URL's port is out of range") }
    }
}
