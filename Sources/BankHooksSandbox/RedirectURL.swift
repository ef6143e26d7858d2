/// Which callbacks an application may be sent back to: its `redirect_callbacks`, compared as
/// exact strings (no normalisation an attacker could steer). A callback matches an entry when it
/// is equal to it, or when the entry ends in `/` and the callback starts with it. So an entry
/// `https://good.example` matches only itself (not `https://good.example.evil.com`, nor
/// `https://good.example@evil.com`), and `https://good.example/` covers that host's paths only.
public enum CallbackRegistration {
    /// Longest callback accepted.
    public static let maxLength = 2048

    /// Schemes a browser would run rather than navigate to, or (Android's `intent:`) that carry
    /// their own fallback URL to any site: never a callback, even if registered.
    public static let refusedSchemes: Set<String> = ["javascript", "data", "vbscript", "file", "blob", "about", "intent"]

    /// The callbacks of BankHooks' own provider facades (the Yapily facade's result page and its
    /// custom redirects): `urn:bankhooks:facade:<name>:<registered URL or nothing>`. Only a facade
    /// creating an authorisation in process may use one (`createAuthorisation(_:application:facade:)`);
    /// `/v1` refuses them, and no application entry matches them.
    public static let facadePrefix = "urn:bankhooks:facade:"

    /// The URL a facade callback stands for (after its name), nil when `callback` is not one; "" for none.
    public static func facadeTarget(_ callback: String) -> String? {
        guard callback.hasPrefix(facadePrefix) else { return nil }
        let rest = callback.dropFirst(facadePrefix.count)
        guard let colon = rest.firstIndex(of: ":") else { return "" }
        return String(rest[rest.index(after: colon)...])
    }

    /// Whether `callback` matches one of `entries`; a facade callback, whether the URL it stands for does (none: always).
    public static func matches(_ callback: String, entries: [String]) -> Bool {
        if let target = facadeTarget(callback) { return target.isEmpty || matches(target, entries: entries) }
        return entries.contains { entry in
            if callback == entry { return true }
            return allowsPrefixMatch(entry) && callback.hasPrefix(entry)
        }
    }

    /// Whether an entry covers the callbacks it is a prefix of: it ends in `/`, and for every
    /// scheme it names an authority before that `/` (`scheme://authority/…`): a mistaken `https://`
    /// entry must not cover every site, nor `myapp://` every deep link of that scheme.
    static func allowsPrefixMatch(_ entry: String) -> Bool {
        guard entry.hasSuffix("/"), let scheme = scheme(of: entry) else { return false }
        let rest = entry.dropFirst(scheme.count + 1)
        guard rest.hasPrefix("//") else { return false }
        let authority = rest.dropFirst(2).prefix { $0 != "/" }
        return !authority.isEmpty
    }

    /// The scheme of a URL (`[A-Za-z][A-Za-z0-9+.-]*` before the first `:`), nil when it has none.
    static func scheme(of url: String) -> Substring? {
        guard let colon = url.firstIndex(of: ":") else { return nil }
        let scheme = url[..<colon]
        guard let first = scheme.unicodeScalars.first, first.isASCIILetter,
              scheme.unicodeScalars.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "+" || $0 == "." || $0 == "-" })
        else { return nil }
        return scheme
    }

    /// The callback if it may be used by an application with these entries; otherwise the
    /// `invalidField` error at `/callback` that names it.
    /// `facade`: the request comes from a facade in process, whose callback is a facade one (the URL it stands for is checked as a callback).
    public static func validate(_ callback: String, entries: [String], facade: Bool = false) throws(SandboxError) {
        if let target = facadeTarget(callback) {
            guard facade else {
                throw SandboxError(.invalidField, at: "/callback", "callbacks starting with \(facadePrefix) are BankHooks' own; give a URL")
            }
            if !target.isEmpty { try validate(target, entries: entries) }
            return
        }
        guard !facade else { throw SandboxError(.invalidField, at: "/callback", "a facade's callback starts with \(facadePrefix)") }
        guard !callback.isEmpty else { throw SandboxError(.invalidField, at: "/callback", "callback must not be empty") }
        guard callback.utf8.count <= maxLength else {
            throw SandboxError(.invalidField, at: "/callback", "callback is longer than \(maxLength) bytes")
        }
        // A character that could split the Location header, or that a browser would read
        // differently from the string compared here, is refused outright.
        guard callback.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "\\" }) else {
            throw SandboxError(
                .invalidField, at: "/callback",
                "callback must be printable ASCII without spaces or backslashes (percent-encode other characters)")
        }
        guard let scheme = scheme(of: callback) else {
            throw SandboxError(.invalidField, at: "/callback", "callback `\(callback)` is not an absolute URL (it has no scheme)")
        }
        guard !refusedSchemes.contains(scheme.lowercased()) else {
            throw SandboxError(.invalidField, at: "/callback", "callback `\(callback)` has the scheme \(scheme):, which cannot be redirected to")
        }
        guard matches(callback, entries: entries) else {
            throw SandboxError(.invalidField, at: "/callback", "`\(callback)` is not a registered redirect callback of this application")
        }
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value) }
    fileprivate var isASCIIDigit: Bool { (0x30...0x39).contains(value) }
}

/// The redirect back to the callback (seed 003): the callback as registered, its own query kept,
/// the outcome's parameters appended to the query (before a fragment, which moves to the end),
/// then the forwarded parameters. Values are form-URL-encoded; the callback's scheme, host and
/// path are never re-encoded (custom-scheme deep links come out as given).
public enum RedirectURL {
    /// A successful authorisation: `consent=` per consent token (or `one-time-token=` per one-time
    /// token), then `application-user-id` (when set), `user-uuid`, `institution`.
    public static func success(
        callback: String, tokens: [String], oneTimeToken: Bool, applicationUserID: String?, userUUID: String, institutionID: String,
        forwardParameters: [String]
    ) -> String {
        var parameters = tokens.map { (oneTimeToken ? "one-time-token" : "consent", $0) }
        parameters += identity(applicationUserID: applicationUserID, userUUID: userUUID, institutionID: institutionID)
        return build(callback: callback, parameters: parameters, forwardParameters: forwardParameters)
    }

    /// A failed authorisation: `application-user-id` (when set), `user-uuid`, `institution`,
    /// `error-source`, `error`, `error-description`.
    public static func failure(
        callback: String, error: BankError, applicationUserID: String?, userUUID: String, institutionID: String, forwardParameters: [String]
    ) -> String {
        var parameters = identity(applicationUserID: applicationUserID, userUUID: userUUID, institutionID: institutionID)
        parameters += [("error-source", error.source.rawValue), ("error", error.error), ("error-description", error.errorDescription)]
        return build(callback: callback, parameters: parameters, forwardParameters: forwardParameters)
    }

    static func identity(applicationUserID: String?, userUUID: String, institutionID: String) -> [(String, String)] {
        var parameters: [(String, String)] = []
        if let applicationUserID { parameters.append(("application-user-id", applicationUserID)) }
        parameters.append(("user-uuid", userUUID))
        parameters.append(("institution", institutionID))
        return parameters
    }

    /// The callback with `parameters` and then each `name=value` of `forwardParameters` appended.
    public static func build(callback: String, parameters: [(String, String)], forwardParameters: [String]) -> String {
        var pairs = parameters.map { encode($0.0) + "=" + encode($0.1) }
        for entry in forwardParameters {
            let (name, value) = split(forwardParameter: entry)
            pairs.append(encode(name) + "=" + encode(value))
        }
        let (base, fragment) = splitFragment(callback)
        var url = base
        if !pairs.isEmpty {
            if !base.contains("?") {
                url += "?"
            } else if !(base.hasSuffix("?") || base.hasSuffix("&")) {
                url += "&"
            }
            url += pairs.joined(separator: "&")
        }
        if let fragment { url += "#" + fragment }
        return url
    }

    /// A forwarded parameter's name and value (split at the first `=`).
    public static func split(forwardParameter entry: String) -> (name: String, value: String) {
        guard let equals = entry.firstIndex(of: "=") else { return (entry, "") }
        return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
    }

    /// The URL before its first `#`, and what follows it.
    static func splitFragment(_ url: String) -> (String, String?) {
        guard let hash = url.firstIndex(of: "#") else { return (url, nil) }
        return (String(url[..<hash]), String(url[url.index(after: hash)...]))
    }

    /// Form-URL-encoding as the redirect writes it: every byte but `A-Z a-z 0-9 - . _ ~` as `%XX`
    /// (upper-case hex), so `@` is `%40`, `=` is `%3D`, `+` is `%2B` and a space is `%20`.
    public static func encode(_ value: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            switch byte {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
