import Crypto
import Foundation

// MARK: - Verifier

/// Verifies a received request's signature in each of BankHooks' wire formats. Every comparison
/// of a signature or token runs in constant time over the full value.
public enum WebhookVerifier {
    /// The format names `verify(format:…)` accepts.
    public static let formats = ["standard", "lean", "okra", "bridge"]

    /// Standard Webhooks 1.0: `webhook-id`, `webhook-timestamp` (unix seconds) and
    /// `webhook-signature` (space-separated `v1,<base64>` entries; other versions are ignored).
    /// The signature is HMAC-SHA256 of `{id}.{timestamp}.{body}`, keyed by the base64-decoded
    /// secret (after an optional `whsec_` prefix). Valid if any `v1` entry matches and the
    /// timestamp is within ±`tolerance` seconds of `now`.
    public static func verifyStandard(
        _ request: WebhookRequest, secret: String, now: Date = Date(), tolerance: TimeInterval = 300
    ) throws(VerificationError) {
        try verifyStandard(request, secrets: [secret], now: now, tolerance: tolerance)
    }

    /// Lean: `lean-signature: sha512=<hex>`, hex (either case) of HMAC-SHA512 of the raw body keyed
    /// by the UTF-8 bytes of the secret text exactly as shown, `whsec_` prefix included. During a
    /// rotation BankHooks signs with the previous secret too, in `lean-signature-previous`; both
    /// headers are read (and comma-separated `sha512=` entries in either); valid if any matches.
    public static func verifyLean(_ request: WebhookRequest, secret: String) throws(VerificationError) {
        try verifyLean(request, secrets: [secret])
    }

    /// Bridge: `BridgeApi-Signature: v1=<HEX>[,v1=<HEX>]`, hex (either case) of HMAC-SHA256 of the
    /// raw body keyed by the UTF-8 bytes of a secret's text. There is one entry per valid secret
    /// while a rotated secret is in its grace period; valid if any entry matches any secret.
    public static func verifyBridge(_ request: WebhookRequest, secrets: [String]) throws(VerificationError) {
        let keys = try textKeys(secrets, format: "bridge")
        let name = "BridgeApi-Signature"
        guard let value = request.header(name) else {
            throw VerificationError(.missingHeader, "missing header \(name)")
        }
        var signatures: [[UInt8]] = []
        var malformed: [String] = []
        for entry in value.split(separator: ",") {
            let entry = VerifyText.trimmed(String(entry))
            guard let equals = entry.firstIndex(of: "=") else {
                if !entry.isEmpty { malformed.append(entry) }
                continue
            }
            guard entry[..<equals] == "v1" else { continue }
            if let mac = decodeHex(entry[entry.index(after: equals)...]), mac.count == SHA256.byteCount {
                signatures.append(mac)
            } else {
                malformed.append(entry)
            }
        }
        guard !signatures.isEmpty else {
            throw VerificationError(.malformedHeader, "\(name) has no v1=<64 hex digits> entry"
                + (malformed.isEmpty ? "" : " (unreadable: \(malformed.map(VerifyText.quoted).joined(separator: ", ")))"))
        }
        let expected = keys.map { key in mac(SHA256.self, key: key, parts: [request.body]) }
        try requireMatch(signatures, expected, noun: "v1 signature", location: "in \(name)", secrets: keys.count,
                         algorithm: "HMAC-SHA256 of the body")
    }

    /// Okra signs nothing. With `token`, `Authorization` must be exactly `Bearer <token>`; with
    /// `secret`, the Standard Webhooks headers BankHooks also sends are verified as in
    /// `verifyStandard`. At least one of them must be given.
    public static func verifyOkra(
        _ request: WebhookRequest, token: String?, secret: String?, now: Date = Date(), tolerance: TimeInterval = 300
    ) throws(VerificationError) {
        try verifyOkra(request, token: token, secrets: secret.map { [$0] } ?? [], now: now, tolerance: tolerance)
    }

    /// Verifies `request` in the format called `format` (`standard`, `lean`, `okra`, `bridge`).
    /// For standard, lean and bridge the request is valid if any of `secrets` verifies it; for
    /// okra, `token` and/or `secrets` are checked as in `verifyOkra`.
    public static func verify(
        format: String, _ request: WebhookRequest, secrets: [String], token: String? = nil,
        now: Date = Date(), tolerance: TimeInterval = 300
    ) throws(VerificationError) {
        switch format {
        case "standard": try verifyStandard(request, secrets: secrets, now: now, tolerance: tolerance)
        case "lean": try verifyLean(request, secrets: secrets)
        case "bridge": try verifyBridge(request, secrets: secrets)
        case "okra": try verifyOkra(request, token: token, secrets: secrets, now: now, tolerance: tolerance)
        default:
            throw VerificationError(.malformedRequest, "unknown format \(VerifyText.quoted(format)); expected one of \(formats.joined(separator: ", "))")
        }
    }

    // MARK: Multi-secret forms

    static func verifyStandard(
        _ request: WebhookRequest, secrets: [String], now: Date, tolerance: TimeInterval
    ) throws(VerificationError) {
        guard !secrets.isEmpty else { throw VerificationError(.invalidSecret, "no secret given for format standard") }
        let keys = try secrets.map { secret throws(VerificationError) in try standardKey(secret) }
        guard let id = request.header("webhook-id") else {
            throw VerificationError(.missingHeader, "missing header webhook-id")
        }
        guard let timestampText = request.header("webhook-timestamp") else {
            throw VerificationError(.missingHeader, "missing header webhook-timestamp")
        }
        guard let signatureHeader = request.header("webhook-signature") else {
            throw VerificationError(.missingHeader, "missing header webhook-signature")
        }
        guard let seconds = Int64(timestampText), seconds >= 0 else {
            throw VerificationError(.malformedHeader, "webhook-timestamp \(VerifyText.quoted(timestampText)) is not unix seconds (a non-negative integer)")
        }
        let offset = Double(seconds) - now.timeIntervalSince1970
        if offset < -tolerance {
            throw VerificationError(.timestampTooOld,
                "webhook-timestamp \(seconds) is \(describe(-offset)) in the past, more than the tolerance of \(describe(tolerance))")
        }
        if offset > tolerance {
            throw VerificationError(.timestampInFuture,
                "webhook-timestamp \(seconds) is \(describe(offset)) in the future, more than the tolerance of \(describe(tolerance))")
        }
        var signatures: [[UInt8]] = []
        var malformed: [String] = []
        for entry in signatureHeader.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let comma = entry.firstIndex(of: ",") else {
                malformed.append(String(entry))
                continue
            }
            guard entry[..<comma] == "v1" else { continue }
            if let mac = decodeBase64(entry[entry.index(after: comma)...]), mac.count == SHA256.byteCount {
                signatures.append(mac)
            } else {
                malformed.append(String(entry))
            }
        }
        guard !signatures.isEmpty else {
            throw VerificationError(.malformedHeader, "webhook-signature has no v1,<base64 of 32 bytes> entry"
                + (malformed.isEmpty ? "" : " (unreadable: \(malformed.map(VerifyText.quoted).joined(separator: ", ")))"))
        }
        // The signed text is the header's timestamp exactly as sent.
        let signed: [[UInt8]] = [Array(id.utf8), [UInt8(ascii: ".")], Array(timestampText.utf8), [UInt8(ascii: ".")], request.body]
        let expected = keys.map { key in mac(SHA256.self, key: key, parts: signed) }
        try requireMatch(signatures, expected, noun: "v1 signature", location: "in webhook-signature", secrets: keys.count,
                         algorithm: "HMAC-SHA256 of {id}.{timestamp}.{body}")
    }

    static func verifyLean(_ request: WebhookRequest, secrets: [String]) throws(VerificationError) {
        let keys = try textKeys(secrets, format: "lean")
        let name = "lean-signature"
        guard let current = request.header(name) else {
            throw VerificationError(.missingHeader, "missing header \(name)")
        }
        var signatures: [[UInt8]] = []
        var malformed: [String] = []
        let values = [current] + (request.header("lean-signature-previous").map { [$0] } ?? [])
        for entry in values.flatMap({ $0.split(separator: ",") }) {
            let entry = VerifyText.trimmed(String(entry))
            guard entry.hasPrefix("sha512="),
                  let mac = decodeHex(entry.dropFirst("sha512=".count)), mac.count == SHA512.byteCount
            else {
                if !entry.isEmpty { malformed.append(entry) }
                continue
            }
            signatures.append(mac)
        }
        guard !signatures.isEmpty else {
            throw VerificationError(.malformedHeader, "\(name) is not sha512=<128 hex digits>"
                + (malformed.isEmpty ? "" : ": \(malformed.map(VerifyText.quoted).joined(separator: ", "))"))
        }
        let expected = keys.map { key in mac(SHA512.self, key: key, parts: [request.body]) }
        try requireMatch(signatures, expected, noun: "sha512 signature", location: "in \(name)", secrets: keys.count,
                         algorithm: "HMAC-SHA512 of the body")
    }

    static func verifyOkra(
        _ request: WebhookRequest, token: String?, secrets: [String], now: Date, tolerance: TimeInterval
    ) throws(VerificationError) {
        guard token != nil || !secrets.isEmpty else {
            throw VerificationError(.malformedRequest, "okra has no signature of its own: give a bearer token, a secret, or both")
        }
        if let token {
            guard !token.isEmpty else { throw VerificationError(.invalidSecret, "the bearer token to check is empty") }
            guard let authorization = request.header("Authorization") else {
                throw VerificationError(.missingHeader, "missing header Authorization")
            }
            guard authorization.hasPrefix("Bearer ") else {
                throw VerificationError(.malformedHeader, "Authorization is not `Bearer <token>`")
            }
            guard constantTimeEqual(Array(authorization.utf8), Array("Bearer \(token)".utf8)) else {
                throw VerificationError(.tokenMismatch, "Authorization carries a bearer token other than the expected one")
            }
        }
        if !secrets.isEmpty {
            try verifyStandard(request, secrets: secrets, now: now, tolerance: tolerance)
        }
    }

    // MARK: Helpers

    /// Compares full byte arrays in time that depends only on their lengths: an XOR accumulator
    /// over every byte, with no early exit on the first difference.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices {
            difference |= a[index] ^ b[index]
        }
        return difference == 0
    }

    /// Throws `signatureMismatch` unless some received signature equals some expected MAC. Every
    /// pair is compared in full, so the time taken does not depend on which pair matched.
    private static func requireMatch(
        _ received: [[UInt8]], _ expected: [[UInt8]], noun: String, location: String, secrets: Int, algorithm: String
    ) throws(VerificationError) {
        var matched = false
        for signature in received {
            for mac in expected where constantTimeEqual(signature, mac) {
                matched = true
            }
        }
        guard matched else {
            let checked = received.count == 1
                ? "the one \(noun) \(location) does not match"
                : "none of the \(received.count) \(noun)s \(location) matches"
            throw VerificationError(.signatureMismatch,
                "\(checked) the \(algorithm) with \(secrets == 1 ? "the secret" : "any of the \(secrets) secrets")")
        }
    }

    private static func mac<H: HashFunction>(_ hash: H.Type, key: [UInt8], parts: [[UInt8]]) -> [UInt8] {
        var hmac = HMAC<H>(key: SymmetricKey(data: key))
        for part in parts { hmac.update(data: part) }
        return hmac.finalize().withUnsafeBytes { Array($0) }
    }

    /// A Standard Webhooks key: the base64 decoding of the secret after an optional `whsec_`.
    static func standardKey(_ secret: String) throws(VerificationError) -> [UInt8] {
        let encoded = secret.hasPrefix("whsec_") ? secret.dropFirst("whsec_".count) : Substring(secret)
        guard !encoded.isEmpty else { throw VerificationError(.invalidSecret, "the secret is empty") }
        guard let key = decodeBase64(encoded), !key.isEmpty else {
            throw VerificationError(.invalidSecret, "the secret is not base64 after its optional whsec_ prefix")
        }
        return key
    }

    /// Keys for the formats keyed by the secret's text.
    private static func textKeys(_ secrets: [String], format: String) throws(VerificationError) -> [[UInt8]] {
        guard !secrets.isEmpty else { throw VerificationError(.invalidSecret, "no secret given for format \(format)") }
        guard !secrets.contains(where: \.isEmpty) else { throw VerificationError(.invalidSecret, "a secret is empty") }
        return secrets.map { Array($0.utf8) }
    }

    /// Hex digits of either case to bytes; nil if odd in length or not hex.
    static func decodeHex(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Standard base64 (padding optional) to bytes.
    static func decodeBase64(_ text: Substring) -> [UInt8]? {
        var padded = String(text)
        let remainder = padded.utf8.count % 4
        if remainder == 1 { return nil }
        if remainder != 0 { padded += String(repeating: "=", count: 4 - remainder) }
        return Data(base64Encoded: padded).map { Array($0) }
    }

    /// "301 s", "1.5 s", "95500410 s (about 1105 days)".
    private static func describe(_ seconds: TimeInterval) -> String {
        guard seconds.isFinite else { return "\(seconds) s" }
        let rounded = (seconds * 10).rounded() / 10
        let text = rounded == rounded.rounded() || rounded >= 1000 ? String(Int64(rounded.rounded())) : String(rounded)
        let about: String
        switch seconds {
        case ..<120: about = ""
        case ..<7200: about = " (about \(Int((seconds / 60).rounded())) min)"
        case ..<172_800: about = " (about \(Int((seconds / 3600).rounded())) h)"
        default: about = " (about \(Int((seconds / 86400).rounded())) days)"
        }
        return "\(text) s\(about)"
    }
}

// MARK: - Text helpers

/// Small text helpers for error messages and header values.
enum VerifyText {
    /// Trims spaces and tabs at both ends.
    static func trimmed(_ text: String) -> String {
        var scalars = Substring(text)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }

    /// `"text"`, shortened if long, for error messages.
    static func quoted(_ text: String) -> String {
        let limit = 80
        let shown = text.count > limit ? String(text.prefix(limit)) + "…" : text
        return "\"\(shown)\""
    }
}
