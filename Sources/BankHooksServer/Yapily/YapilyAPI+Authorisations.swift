import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// `POST /account-auth-requests`, `POST /payment-auth-requests`, `PATCH /account-auth-requests`
/// and the QR code of an authorisation URL. A request becomes a sandbox authorisation (the same
/// checks: a registered callback, an available institution, the redirect's length); its user is
/// the Yapily user it names, or the one with its `applicationUserId` (made when there is none).
extension YapilyAPI {
    func addAuthorisationRoutes(to api: RouterGroup<AppRequestContext>) {
        api.post("account-auth-requests", use: createAccountAuthorisation)
        api.patch("account-auth-requests", use: reauthoriseAccount)
        api.post("payment-auth-requests", use: createPaymentAuthorisation)
    }

    /// `true`, `false`, or (as Yapily's own blog sends it) `"true"` / `"false"`.
    struct LenientBool: Decodable {
        var value: Bool

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Bool.self) {
                self.value = value
            } else if let text = try? container.decode(String.self), let value = Bool(text.lowercased()) {
                self.value = value
            } else {
                throw DecodingError.typeMismatch(Bool.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a boolean"))
            }
        }
    }

    /// The members of Yapily's `AccountAuthorisationRequest` and `PaymentAuthorisationRequest`
    /// that BankHooks reads (`accountRequest` and the like are accepted and not used).
    struct AuthorisationBody: Decodable {
        struct Redirect: Decodable { var url: String? }
        struct PaymentRequest: Decodable {
            struct Amount: Decodable {
                var amount: Double?
                var currency: String?
            }
            struct Payee: Decodable { var name: String? }
            var paymentIdempotencyId: String?
            var amount: Amount?
            var payee: Payee?
            var type: String?
        }
        var userUuid: String?
        var applicationUserId: String?
        var institutionId: String?
        var callback: String?
        var redirect: Redirect?
        var oneTimeToken: LenientBool?
        var forwardParameters: [String]?
        var paymentRequest: PaymentRequest?
    }

    @Sendable func createAccountAuthorisation(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await createAuthorisation(request, context: context, kind: .account)
    }

    @Sendable func createPaymentAuthorisation(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await createAuthorisation(request, context: context, kind: .payment)
    }

    func createAuthorisation(_ request: Request, context: AppRequestContext, kind: YapilyRequestKind) async throws -> Response {
        let application = try await application(context)
        let body = try await YapilyJSON.body(AuthorisationBody.self, from: request, context: context)
        guard let institutionID = body.institutionId else { throw YapilyError.badRequest("institutionId is required") }
        if kind == .payment { try Self.checkPaymentRequest(body.paymentRequest) }
        let (callback, oneTimeToken) = try Self.sandboxCallback(body)
        let user = try await requestUser(userUUID: body.userUuid, applicationUserID: body.applicationUserId, application: application)
        // Known before the authorisation exists, so the new institution check and the redirect's bound apply.
        guard SandboxInstitution.builtIn(id: institutionID) != nil else {
            throw YapilyError.badRequest("institutionId \(institutionID) is not a sandbox institution (GET /institutions lists them)")
        }
        let authorisation = try await bank.createAuthorisation(
            AuthorisationRequest(
                institutionID: institutionID, applicationUserID: user.applicationUserID, userUUID: user.uuid, callback: callback,
                oneTimeToken: oneTimeToken, forwardParameters: body.forwardParameters ?? []),
            application: application, facade: CallbackRegistration.facadeTarget(callback) != nil)
        // Recorded for every request: its kind, and that its browser takes the auth.yapily.com step.
        try await store.recordYapilyRequest(authorisationID: authorisation.id, applicationID: application.id, kind: kind)
        let base = try publicBase(request)
        let view = YapilyConsentView(
            authorisation, kind: kind, authorisationURL: AuthorisationsController.authorisationURL(base: base, authorisation),
            qrCodeURL: Self.qrCodeURL(base: base, authorisation))
        return try YapilyJSON.response(YapilyEnvelope(view), status: .created)
    }

    // MARK: Steps

    /// The sandbox callback of a request, and whether the bank issues one-time tokens: its
    /// `callback` (a registered one) with its `oneTimeToken`; its custom `redirect` (a registered
    /// URL without a fragment), with one-time tokens as the codes; or, with neither, the result
    /// page of the auth.yapily.com step (no `oneTimeToken`, which needs a callback, as at Yapily).
    static func sandboxCallback(_ body: AuthorisationBody) throws -> (callback: String, oneTimeToken: Bool) {
        let oneTimeToken = body.oneTimeToken?.value ?? false
        switch (body.callback, body.redirect) {
        case (.some, .some):
            throw YapilyError.badRequest(
                "Give either callback or redirect, not both: with a custom redirect the bank sends the user straight to it")
        case (let callback?, nil):
            return (callback, oneTimeToken)
        case (nil, let redirect?):
            guard let url = redirect.url else { throw YapilyError.badRequest("redirect.url is required") }
            guard !url.contains("#") else { throw YapilyError.badRequest("redirect.url must not have a fragment (#), as OAuth's redirect URIs") }
            guard !url.isEmpty else { throw YapilyError.badRequest("redirect.url must not be empty") }
            return (customRedirectPrefix + url, true)
        case (nil, nil):
            guard !oneTimeToken else { throw YapilyError.badRequest("oneTimeToken can only be used when the callback is set") }
            return (resultPageCallback, false)
        }
    }

    /// The Yapily user a request is for: the one `userUuid` names (404 when the application has
    /// none), or the one with `applicationUserId`, made when there is none.
    func requestUser(userUUID: String?, applicationUserID: String?, application: BankHooksCore.Application) async throws -> YapilyUser {
        if let userUUID {
            let user = try await user(userUUID, application: application)
            if let applicationUserID, applicationUserID != user.applicationUserID {
                throw YapilyError.badRequest("userUuid \(user.uuid) belongs to applicationUserId \(user.applicationUserID), not \(applicationUserID)")
            }
            return user
        }
        guard let applicationUserID else { throw YapilyError.badRequest("Either the userUuid or applicationUserId must be provided") }
        let candidate = YapilyUser(
            uuid: UUID().uuidString.lowercased(), applicationID: application.id, applicationUserID: try Self.checkedApplicationUserID(applicationUserID),
            referenceID: nil, createdAt: clock.now())
        return try await store.yapilyUser(findingOrCreating: candidate, limit: Self.maxUsers)
    }

    /// The required members of Yapily's `PaymentRequest`.
    static func checkPaymentRequest(_ payment: AuthorisationBody.PaymentRequest?) throws {
        guard let payment else { throw YapilyError.badRequest("paymentRequest is required") }
        guard let id = payment.paymentIdempotencyId, (1...35).contains(id.utf8.count) else {
            throw YapilyError.badRequest("paymentRequest.paymentIdempotencyId is required (1 to 35 characters)")
        }
        guard let amount = payment.amount?.amount, amount > 0, amount.isFinite else {
            throw YapilyError.badRequest("paymentRequest.amount.amount is required and must be more than 0")
        }
        guard let currency = payment.amount?.currency, currency.utf8.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw YapilyError.badRequest("paymentRequest.amount.currency is required (an ISO 4217 code such as GBP)")
        }
        guard let name = payment.payee?.name, SandboxInput.text(name) else { throw YapilyError.badRequest("paymentRequest.payee.name is required") }
        guard let type = payment.type, SandboxInput.text(type) else { throw YapilyError.badRequest("paymentRequest.type is required") }
    }

    /// The consent the request's `consent` header stands for (400 without one; 403 when it is not
    /// a token of an authorised consent of this application).
    func consent(fromHeader request: Request, application: BankHooksCore.Application) async throws -> Consent {
        guard let token = request.headers[Self.consentHeader], !token.isEmpty else {
            throw YapilyError.badRequest("Missing request header 'consent' for method parameter of type String")
        }
        do {
            return try await bank.authorisedConsent(token: token, applicationID: application.id)
        } catch let error as SandboxError where error.code == .consentInvalid {
            throw YapilyError(.forbidden, "The consent is no longer authorised to access financial data or to make a payment (\(error.message))")
        }
    }

    static let consentHeader = HTTPField.Name("consent")!

    // MARK: The QR code

    /// `qrCodeUrl`: the QR code of the authorisation URL, as SVG; its `state` keeps it to whoever was given the URL.
    static func qrCodeURL(base: String, _ authorisation: Authorisation) -> String {
        "\(base)/yapily/qr/\(authorisation.id)?state=\(authorisation.state)"
    }

    @Sendable func qrCode(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try pathParameter("consentId", context)
        let state = try Self.single(try Self.query(request), "state") ?? ""
        guard let authorisation = try await bank.authorisation(id: id), ConsentPageController.constantTimeEqual(state, authorisation.state) else {
            throw YapilyError.notFound("Resource not found")
        }
        let url = AuthorisationsController.authorisationURL(base: try publicBase(request), authorisation)
        let svg = try QRCode(text: url).svg()
        return Response(
            status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: svg)))
    }
}
