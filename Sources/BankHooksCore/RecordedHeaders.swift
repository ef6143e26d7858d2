/// Request headers as recorded with an attempt: a JSON object, with the values of headers that
/// may carry credentials (authorization, cookies, tokens, keys, secrets, passwords) and of every
/// custom header (a webhook's own; any of them may be a credential) replaced by `[redacted]`.
/// Signatures are kept: they are derived from the secret and reveal nothing of it.
public enum RecordedHeaders {
    public static let redacted = "[redacted]"

    /// Whether a header's value is kept out of records and API answers.
    public static func isSensitive(_ name: String) -> Bool {
        let lower = name.lowercased()
        return ["authorization", "cookie", "token", "secret", "password", "key", "auth", "credential"].contains { lower.contains($0) }
    }

    /// The JSON object of `headers` with sensitive values redacted; those from `customFrom` on are
    /// the webhook's custom headers, all redacted.
    public static func json(_ headers: [(name: String, value: String)], customFrom: Int) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(headers.count * 48)
        for (i, header) in headers.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(header.name, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.appendString(i >= customFrom || isSensitive(header.name) ? redacted : header.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Headers a webhook may not set itself: every format's id and signature headers, and those
    /// HTTP itself owns.
    public static let reserved: Set<String> = [
        "webhook-id", "webhook-timestamp", "webhook-signature", "lean-signature", "lean-signature-previous", "bridgeapi-signature",
        "content-type", "content-length", "host", "transfer-encoding", "connection", "user-agent", "te", "upgrade",
        "keep-alive", "proxy-authorization", "expect",
    ]
}
