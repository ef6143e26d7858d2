/// The sandbox bank's records (seed 003, and seed 000's result): what an end user's bank
/// authorisation leaves behind. Statuses use Yapily's `AuthorisationStatus` spelling.

/// A request to authorise at a sandbox institution: created by the API, completed once by the
/// consent page or the headless completion.
public struct Authorisation: Hashable, Sendable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case awaitingAuthorization = "AWAITING_AUTHORIZATION"
        case authorized = "AUTHORIZED"
        /// The user said no (error source `user`).
        case rejected = "REJECTED"
        /// The institution failed it (error source `institution`).
        case failed = "FAILED"
        /// Not completed in time.
        case expired = "EXPIRED"
    }

    /// UUID v4, lower case (Yapily: the consent id of the first consent).
    public var id: String
    public var applicationID: String
    public var institutionID: String
    public var applicationUserID: String?
    /// UUID v4; generated when the request names none.
    public var userUUID: String
    /// The registered callback the user is sent back to.
    public var callback: String
    /// Whether the redirect carries a one-time token instead of the consent token.
    public var oneTimeToken: Bool
    public var permissions: [String]
    /// `name=value` pairs appended to the callback's query on the way back.
    public var forwardParameters: [String]
    /// 32 lower-case hex: binds the consent page to this request (OIDC `state`).
    public var state: String
    public var status: Status
    public var createdAt: Timestamp
    /// After this an awaiting request can no longer be completed.
    public var expiresAt: Timestamp
    public var completedAt: Timestamp?
    /// Where the user was sent when it was completed: a second completion gets the same answer.
    public var redirectURL: String?
    /// The consent this request re-authorises (a new journey at the bank for an existing consent,
    /// Yapily's `PATCH /account-auth-requests`); nil for a request that makes its own consents.
    public var reauthorisesConsentID: String?

    public init(
        id: String, applicationID: String, institutionID: String, applicationUserID: String?, userUUID: String, callback: String,
        oneTimeToken: Bool, permissions: [String], forwardParameters: [String], state: String, status: Status = .awaitingAuthorization,
        createdAt: Timestamp, expiresAt: Timestamp, completedAt: Timestamp? = nil, redirectURL: String? = nil,
        reauthorisesConsentID: String? = nil
    ) {
        self.id = id
        self.applicationID = applicationID
        self.institutionID = institutionID
        self.applicationUserID = applicationUserID
        self.userUUID = userUUID
        self.callback = callback
        self.oneTimeToken = oneTimeToken
        self.permissions = permissions
        self.forwardParameters = forwardParameters
        self.state = state
        self.status = status
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.completedAt = completedAt
        self.redirectURL = redirectURL
        self.reauthorisesConsentID = reauthorisesConsentID
    }
}

/// What an authorised request grants: the application may read the user's sandbox data with
/// its token. The first consent of an authorisation has the authorisation's id.
public struct Consent: Hashable, Sendable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case authorized = "AUTHORIZED"
        case revoked = "REVOKED"
        case expired = "EXPIRED"
    }

    public var id: String
    public var applicationID: String
    public var authorisationID: String
    public var institutionID: String
    public var applicationUserID: String?
    public var userUUID: String
    /// The sandbox login that approved it: it seeds the user's deterministic data.
    public var login: String
    public var permissions: [String]
    public var status: Status
    public var createdAt: Timestamp
    public var authorizedAt: Timestamp
    public var expiresAt: Timestamp
    public var revokedAt: Timestamp?
    /// The provider ids a link makes (Lean entity, Okra record, Bridge item), so later events
    /// about this consent (a revoke) name the same ones.
    public var leanEntityID: String
    public var okraRecordID: String
    public var bridgeItemID: Int64

    public init(
        id: String, applicationID: String, authorisationID: String, institutionID: String, applicationUserID: String?, userUUID: String,
        login: String, permissions: [String], status: Status = .authorized, createdAt: Timestamp, authorizedAt: Timestamp,
        expiresAt: Timestamp, revokedAt: Timestamp? = nil, leanEntityID: String, okraRecordID: String, bridgeItemID: Int64
    ) {
        self.id = id
        self.applicationID = applicationID
        self.authorisationID = authorisationID
        self.institutionID = institutionID
        self.applicationUserID = applicationUserID
        self.userUUID = userUUID
        self.login = login
        self.permissions = permissions
        self.status = status
        self.createdAt = createdAt
        self.authorizedAt = authorizedAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.leanEntityID = leanEntityID
        self.okraRecordID = okraRecordID
        self.bridgeItemID = bridgeItemID
    }
}

/// A one-time token as stored: only its SHA-256 (hex), never the token.
public struct OneTimeTokenRecord: Hashable, Sendable {
    public var tokenHash: String
    public var applicationID: String
    public var consentID: String
    public var expiresAt: Timestamp

    public init(tokenHash: String, applicationID: String, consentID: String, expiresAt: Timestamp) {
        self.tokenHash = tokenHash
        self.applicationID = applicationID
        self.consentID = consentID
        self.expiresAt = expiresAt
    }
}

/// An event the sandbox will publish at `dueAt`, committed with the state change that causes it
/// (so a crash between the change and the publish loses nothing). The runner publishes it
/// through the event service with the idempotency key `sandbox:<id>`, then deletes it.
public struct ScheduledEvent: Hashable, Sendable {
    /// Unique (time-ordered, `Identifier.make("sev", …)`).
    public var id: String
    public var applicationID: String
    public var dueAt: Timestamp
    public var type: String
    /// The event's data: a JSON object, as it will be published.
    public var data: [UInt8]
    /// Only this webhook (nil: the type's subscribers).
    public var webhookID: String?

    public init(id: String, applicationID: String, dueAt: Timestamp, type: String, data: [UInt8], webhookID: String? = nil) {
        self.id = id
        self.applicationID = applicationID
        self.dueAt = dueAt
        self.type = type
        self.data = data
        self.webhookID = webhookID
    }
}

/// A sandbox payment (Lean `payment.*`, Bridge `payment.transaction.*`): its outcome is chosen
/// by its reference when it is created, and it reaches it at `settlesAt`.
public struct SandboxPayment: Hashable, Sendable {
    public var id: String
    public var applicationID: String
    public var paymentSourceID: String?
    public var amount: String
    public var currency: String
    public var reference: String
    /// The status while pending, then the final one from `settlesAt` on (provider spellings chosen by the sandbox).
    public var initialStatus: String
    public var finalStatus: String
    public var createdAt: Timestamp
    public var settlesAt: Timestamp
    /// Free-form details the sandbox keeps for its answers (JSON object).
    public var document: [UInt8]

    public init(
        id: String, applicationID: String, paymentSourceID: String?, amount: String, currency: String, reference: String,
        initialStatus: String, finalStatus: String, createdAt: Timestamp, settlesAt: Timestamp, document: [UInt8]
    ) {
        self.id = id
        self.applicationID = applicationID
        self.paymentSourceID = paymentSourceID
        self.amount = amount
        self.currency = currency
        self.reference = reference
        self.initialStatus = initialStatus
        self.finalStatus = finalStatus
        self.createdAt = createdAt
        self.settlesAt = settlesAt
        self.document = document
    }

    /// The status at `now`.
    public func status(at now: Timestamp) -> String { now >= settlesAt ? finalStatus : initialStatus }
}

/// A sandbox payment source (Lean) with one beneficiary that becomes active after a cool-off.
public struct SandboxPaymentSource: Hashable, Sendable {
    public var id: String
    public var applicationID: String
    public var customerID: String
    public var beneficiaryID: String
    public var createdAt: Timestamp
    /// The beneficiary is `AWAITING_BENEFICIARY_COOL_OFF` before this, `ACTIVE` from it on.
    public var beneficiaryActiveAt: Timestamp
    /// Free-form details the sandbox keeps for its answers (JSON object).
    public var document: [UInt8]

    public init(
        id: String, applicationID: String, customerID: String, beneficiaryID: String, createdAt: Timestamp, beneficiaryActiveAt: Timestamp,
        document: [UInt8]
    ) {
        self.id = id
        self.applicationID = applicationID
        self.customerID = customerID
        self.beneficiaryID = beneficiaryID
        self.createdAt = createdAt
        self.beneficiaryActiveAt = beneficiaryActiveAt
        self.document = document
    }
}
