/// Something the sandbox bank refuses, with the member at fault when there is one: the API maps
/// each code to its problem (status and type), the consent page to its message.
public struct SandboxError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// A member of the request has a value it may not have (422 `invalid-field`).
        case invalidField = "invalid-field"
        /// No such institution, authorisation, consent, payment (404 `not-found`).
        case notFound = "not-found"
        /// The institution is offline or disabled for what was asked (422 `institution-unavailable`).
        case institutionUnavailable = "institution-unavailable"
        /// The authorisation was completed already (409 `authorisation-completed`).
        case authorisationCompleted = "authorisation-completed"
        /// The authorisation can no longer be completed (409 `authorisation-expired`).
        case authorisationExpired = "authorisation-expired"
        /// The consent page's `state` is not the authorisation's (403 `state-mismatch`).
        case stateMismatch = "state-mismatch"
        /// The login's password is wrong (422 `wrong-password`); the authorisation stays open.
        case wrongPassword = "wrong-password"
        /// A one-time token that is unknown, expired, used, or another application's (400 `invalid-one-time-token`).
        case invalidOneTimeToken = "invalid-one-time-token"
        /// A consent token that does not verify, or whose consent is not authorised (403 `consent-invalid`).
        case consentInvalid = "consent-invalid"
        /// The sandbox is for sandbox applications only (403 `sandbox-only`).
        case sandboxOnly = "sandbox-only"
    }

    public var code: Code
    /// JSON pointer into the request body, for `invalidField`.
    public var pointer: String?
    public var message: String

    public init(_ code: Code, at pointer: String? = nil, _ message: String) {
        self.code = code
        self.pointer = pointer
        self.message = message
    }

    public var description: String { pointer.map { "\($0): \(message)" } ?? message }
}
