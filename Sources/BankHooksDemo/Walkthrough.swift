import BankHooksLoopback
import Foundation
import NIOHTTP1

/// The demo's steps, each a call of the public HTTP API (or a browser's request to the consent
/// page), noted on the timeline as it happens. Every answer is checked; the first that is not
/// what the walk expects stops it with a `DemoFailure` naming the call and the answer.
struct Walkthrough: Sendable {
    /// A webhook the walk registered: where it sends, and how to check what it signs.
    struct Hook: Sendable {
        var label: String
        var format: String
        var path: String
        var id: String
        var secret: String
        var bearerToken: String?
    }

    /// The demo's own application and its admin key.
    struct DemoApplication: Sendable {
        var id = ""
        var key = ""
    }

    /// A created authorisation.
    struct Authorisation: Sendable {
        var id: String
        var authorisationURL: String
        var userUUID: String
    }

    let baseURL: String
    let operatorClient: APIClient
    let form: ConsentFormClient
    let receiver: LoopbackReceiver
    let page: CallbackPage
    let timeout: Duration
    let say: @Sendable (String) -> Void
    let timeline = Timeline()

    var application = DemoApplication()
    /// The application's admin key: every call after the set-up uses it.
    var client: APIClient
    var hooks: [Hook] = []
    var institutionID = ""
    var institutionName = ""
    /// Accounts of the linked user (each sets off a Bridge `item.account.created`).
    var accountCount = 0
    var paymentID = ""

    static let okraBearerToken = "demo-okra-token"
    static let applicationUserID = "demo-user-1"

    init(
        baseURL: String, operator operatorClient: APIClient, form: ConsentFormClient, receiver: LoopbackReceiver, page: CallbackPage,
        timeout: Duration, say: @escaping @Sendable (String) -> Void
    ) {
        self.baseURL = baseURL
        self.operatorClient = operatorClient
        self.form = form
        self.receiver = receiver
        self.page = page
        self.timeout = timeout
        self.say = say
        client = operatorClient
    }

    /// The whole walk: set-up, the three journeys, the wait, the timeline.
    mutating func run() async throws {
        say("BankHooks demo: the server at \(baseURL), a webhook receiver at \(receiver.url("/hooks/")), a callback page at \(page.url("/"))")
        say("Each line: seconds from the start, who acted (api: the demo calling /v1; browser: the demo as the end user's browser;")
        say("callback: the app's callback page; webhook: a delivery, with the status in BankHooks' delivery log and the signature check).")
        say("")
        do {
            try await setUp()
            try await linkWithOneTimeToken()
            try await failedLink()
            try await payment()
            let deliveries = try await waitForDeliveries()
            try await pullOkraCallback()
            printTimeline(deliveries)
            try await finalChecks(deliveries)
        } catch {
            // What happened up to the failure, then the failure.
            printTimeline(receiver.requests.map { delivery($0, recordedStatus: nil) })
            throw error
        }
    }

    // MARK: Set-up

    mutating func setUp() async throws {
        let created = try await call(operatorClient, .POST, "/v1/applications", [
            "name": "Demo shop", "environment": "sandbox", "redirect_callbacks": [page.url("/")],
        ], expect: 201)
        application.id = try created.string("id")
        let key = try await call(operatorClient, .POST, "/v1/applications/\(application.id)/api-keys", ["role": "admin"], expect: 201)
        application.key = try key.string("key")
        client = APIClient(baseURL: baseURL, key: application.key, http: operatorClient.http)
        timeline.step("api", "POST /v1/applications -> 201: \"Demo shop\" (\(application.id)), redirect callback \(page.url("/")) registered; an admin key for it")

        for format in ["standard", "lean", "okra", "bridge"] {
            var body: [String: Any] = ["url": receiver.url("/hooks/\(format)"), "name": "demo \(format)", "format": format]
            if format == "okra" { body["bearer_token"] = Self.okraBearerToken }
            let hook = try await call(client, .POST, "/v1/webhooks", body, expect: 201)
            hooks.append(Hook(label: format, format: format, path: "/hooks/\(format)", id: try hook.string("id"), secret: try hook.string("secret"),
                              bearerToken: format == "okra" ? Self.okraBearerToken : nil))
        }
        let callbackURL = try await call(client, .PUT, "/v1/callback-url", ["url": receiver.url("/hooks/lean-callback-url")], expect: 201)
        hooks.append(Hook(label: "Lean Callback URL", format: "lean", path: "/hooks/lean-callback-url", id: try callbackURL.string("id"),
                          secret: try callbackURL.string("secret"), bearerToken: nil))
        timeline.step("api", "POST /v1/webhooks x4 -> 201: one webhook per format (standard, lean, okra, bridge); PUT /v1/callback-url -> 201")

        let institutions = try await call(client, .GET, "/v1/sandbox/institutions", nil, expect: 200)
        guard let list = institutions.json?["data"] as? [[String: Any]], !list.isEmpty else {
            throw DemoFailure("GET /v1/sandbox/institutions listed no institutions: \(institutions.text.prefix(300))")
        }
        let chosen = list.first { ($0["identifier"] as? String) == "LEANMB1" } ?? list[0]
        institutionID = chosen["id"] as? String ?? ""
        institutionName = chosen["name"] as? String ?? institutionID
        timeline.step("api", "GET /v1/sandbox/institutions -> 200: \(list.count) sandbox banks; the demo uses \(institutionName) (\(institutionID))")
    }

    // MARK: A successful link with a one-time token

    mutating func linkWithOneTimeToken() async throws {
        let callback = page.url("/callback?order=42")
        let authorisation = try await createAuthorisation(applicationUserID: Self.applicationUserID, callback: callback, oneTimeToken: true)
        let visit = try await throughTheBrowser(authorisation, login: "user", expectedPath: "/callback")
        guard visit.value("order") == "42", visit.values("one-time-token").count == 1, visit.value("consent") == nil,
              visit.value("application-user-id") == Self.applicationUserID, visit.value("user-uuid") == authorisation.userUUID,
              visit.value("institution") == institutionID
        else {
            throw DemoFailure("the success redirect should carry order=42 (the callback's own), one one-time-token, "
                + "application-user-id=\(Self.applicationUserID), user-uuid=\(authorisation.userUUID), institution=\(institutionID) "
                + "and no consent; it carried \(Self.describe(visit.parameters))")
        }
        let token = visit.value("one-time-token") ?? ""
        let consent = try await call(client, .POST, "/v1/consent-one-time-token", ["one_time_token": token], expect: 201)
        let consentToken = try consent.string("consent_token")
        let consentID = try consent.string("id")
        guard consent.json?["status"] as? String == "AUTHORIZED", consentID == authorisation.id else {
            throw DemoFailure("the exchanged consent should be AUTHORIZED with the authorisation's id \(authorisation.id): \(consent.text.prefix(400))")
        }
        timeline.step("api", "POST /v1/consent-one-time-token -> 201: consent \(consentID) AUTHORIZED, consent_token \(Timeline.abbreviated(consentToken))")
        let again = try await call(client, .POST, "/v1/consent-one-time-token", ["one_time_token": token], expect: 400)
        timeline.step("api", "POST /v1/consent-one-time-token (the same token again) -> 400 \(again.json?["type"] as? String ?? ""): single use")
        let accounts = try await call(client, .GET, "/v1/sandbox/accounts", nil, headers: ["Consent": consentToken], expect: 200)
        accountCount = (accounts.json?["data"] as? [Any])?.count ?? 0
        guard accountCount > 0 else { throw DemoFailure("GET /v1/sandbox/accounts with the consent token listed no accounts: \(accounts.text.prefix(300))") }
        timeline.step("api", "GET /v1/sandbox/accounts (header Consent: the consent token) -> 200: \(accountCount) account\(accountCount == 1 ? "" : "s") of login \"user\"")
    }

    // MARK: A failed link

    mutating func failedLink() async throws {
        let authorisation = try await createAuthorisation(applicationUserID: "demo-user-2", callback: page.url("/callback"), oneTimeToken: false)
        let opened = try await form.open(authorisation.authorisationURL)
        timeline.step("browser", "GET \(authorisation.authorisationURL) -> 200: the consent page")
        let wrong = try await form.submit(opened, username: "user", password: "not-the-password")
        guard wrong.status == 200, wrong.body.contains("The username or password submitted was incorrect"), let again = wrong.page else {
            throw DemoFailure("a wrong password should show the form again with Lean's message; got \(wrong.status): \(wrong.body.prefix(300))")
        }
        timeline.step("browser", "POST the form as user with a wrong password -> 200: the form again, \"The username or password submitted was incorrect\"")
        let login = "error.temporarily_unavailable"
        let visit = try await submitAndFollow(again, login: login, expectedPath: "/callback")
        let description = visit.value("error-description").flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
        guard visit.value("error-source") == "institution", visit.value("error") == "invalid_grant", description == "temporarily_unavailable",
              visit.value("user-uuid") == authorisation.userUUID, visit.value("institution") == institutionID, visit.value("consent") == nil
        else {
            throw DemoFailure("the failure redirect for \(login) should carry error-source=institution, error=invalid_grant and "
                + "error-description=base64(temporarily_unavailable); it carried \(Self.describe(visit.parameters))")
        }
        timeline.step("app", "error-description \(visit.value("error-description") ?? "") is base64 of \"temporarily_unavailable\" (the bank's error)")
        let read = try await call(client, .GET, "/v1/authorisations/\(authorisation.id)", nil, expect: 200)
        guard read.json?["status"] as? String == "FAILED" else { throw DemoFailure("the failed authorisation should be FAILED: \(read.text.prefix(300))") }
        timeline.step("api", "GET /v1/authorisations/\(authorisation.id) -> 200: FAILED")
    }

    // MARK: A payment

    mutating func payment() async throws {
        let source = try await call(client, .POST, "/v1/sandbox/payment-sources", [
            "beneficiary": ["name": "Demo Supplier LLC", "iban": "AE070331234567890123456"],
        ], expect: 201)
        let sourceID = try source.string("id")
        let beneficiary = (source.json?["beneficiary"] as? [String: Any])?["status"] as? String ?? "?"
        timeline.step("api", "POST /v1/sandbox/payment-sources -> 201: \(sourceID), beneficiary \(beneficiary)")
        let payment = try await call(client, .POST, "/v1/sandbox/payments", [
            "amount": "250.00", "currency": "AED", "reference": "demo order 42", "payment_source_id": sourceID,
        ], expect: 201)
        paymentID = try payment.string("id")
        timeline.step("api", "POST /v1/sandbox/payments (250.00 AED, reference \"demo order 42\") -> 201: \(paymentID) \(payment.json?["status"] as? String ?? "")")
    }

    // MARK: Steps shared by the journeys

    /// `POST /v1/authorisations`; noted on the timeline unless `record` is false.
    func createAuthorisation(applicationUserID: String, callback: String, oneTimeToken: Bool, record: Bool = true) async throws -> Authorisation {
        let created = try await call(client, .POST, "/v1/authorisations", [
            "institution_id": institutionID, "application_user_id": applicationUserID, "callback": callback, "one_time_token": oneTimeToken,
        ], expect: 201)
        let authorisation = Authorisation(
            id: try created.string("id"), authorisationURL: try created.string("authorisation_url"), userUUID: try created.string("user_uuid"))
        if record {
            timeline.step("api", "POST /v1/authorisations (\(applicationUserID), one_time_token \(oneTimeToken), callback \(callback)) -> 201 "
                + "\(created.json?["status"] as? String ?? "")", details: ["authorisation_url: \(authorisation.authorisationURL)"])
        }
        return authorisation
    }

    /// Opens the consent page, approves as `login` and follows the redirect to the callback page.
    func throughTheBrowser(_ authorisation: Authorisation, login: String, expectedPath: String) async throws -> CallbackPage.Visit {
        let opened = try await form.open(authorisation.authorisationURL)
        timeline.step("browser", "GET \(authorisation.authorisationURL) -> 200: the consent page (cookie bh_csrf, hidden state and csrf)")
        return try await submitAndFollow(opened, login: login, expectedPath: expectedPath)
    }

    /// Posts the form as `login` (its password is itself), expects a 302 and follows it.
    func submitAndFollow(_ opened: ConsentFormClient.Page, login: String, expectedPath: String) async throws -> CallbackPage.Visit {
        let answer = try await form.submit(opened, username: login, password: login)
        guard answer.status == 302, let location = answer.location else {
            throw DemoFailure("POST \(opened.actionURL) as \(login) should answer 302 to the callback; it answered \(answer.status): \(answer.body.prefix(300))")
        }
        timeline.step("browser", "POST the form as \(login), approve -> 302 in \(Self.milliseconds(answer.duration))", details: ["Location: \(location)"])
        guard location.hasPrefix(page.url(expectedPath)) else { throw DemoFailure("the redirect goes to \(location), not to the callback page \(page.url(expectedPath))") }
        let before = page.visits.count
        let followed = try await form.http.execute(.init(url: location), timeout: .seconds(30))
        _ = try await followed.body.collect(upTo: 1 << 20)
        guard followed.status == .ok, let visit = page.visits.dropFirst(before).first else {
            throw DemoFailure("following the redirect to \(location) got \(followed.status.code) from the callback page")
        }
        return visit
    }

    /// One API call with a JSON body; throws unless it answers `expect`.
    @discardableResult
    func call(_ api: APIClient, _ method: HTTPMethod, _ path: String, _ body: [String: Any]?, headers: [String: String] = [:], expect: Int) async throws -> APIClient.Reply {
        let text = try body.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self) }
        let reply = try await api.call(method, path, body: text, headers: headers)
        guard reply.status == expect else {
            throw DemoFailure("\(method) \(path) answered \(reply.status), expected \(expect): \(reply.text.prefix(500))")
        }
        return reply
    }

    static func describe(_ parameters: [(name: String, value: String)]) -> String {
        parameters.isEmpty ? "nothing" : parameters.map { "\($0.name)=\(Timeline.abbreviated($0.value))" }.joined(separator: " ")
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (s, a) = duration.components
        return String(format: "%.1f ms", Double(s) * 1000 + Double(a) / 1e15)
    }
}

extension APIClient.Reply {
    /// A string member of the JSON answer; throws naming it when it is missing.
    func string(_ name: String) throws -> String {
        guard let value = json?[name] as? String, !value.isEmpty else { throw DemoFailure("the answer has no `\(name)`: \(text.prefix(400))") }
        return value
    }
}
