import AsyncHTTPClient
import BankHooksCore
import BankHooksSandbox
import BankHooksServer
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import Testing

/// The whole server on 127.0.0.1 (a real socket, so `authorisation_url` carries the real
/// `Host`), with the sandbox's delays shortened; a callback page a browser is redirected to; a
/// browser that keeps cookies and does not follow redirects by itself.
struct SandboxServer: Sendable {
    let baseURL: String
    let components: ServerComponentsBox
    let operatorKey: String
    let callbacks: CallbackPage
    let dir: TemporaryDirectory

    var api: API { API(baseURL: baseURL, key: operatorKey) }
    func api(key: String) -> API { API(baseURL: baseURL, key: key) }

    /// `ServerComponents` is not Sendable (it holds the router); the tests only read its store.
    final class ServerComponentsBox: @unchecked Sendable {
        let store: any Store
        init(_ components: ServerComponents) { store = components.store }
    }

    static let operatorKeyText = "bhk_sandboxop1_" + String(repeating: "s", count: 32)

    /// Runs a server (and a callback page) for `body`; the default application is a sandbox one
    /// whose `redirect_callbacks` are `callbacks` (the callback page's URL is `$PAGE`).
    static func run<T: Sendable>(
        timings: SandboxTimings = .demo, redirectCallbacks: [String] = ["$PAGE/"], publicURL: String? = nil, backend: TestBackend = .sqlite,
        clock: any WallClock = SystemClock(), _ body: @Sendable (SandboxServer) async throws -> T
    ) async throws -> T {
        try await CallbackPage.run { page in
            let dir = TemporaryDirectory()
            var configuration = ServerConfiguration()
            configuration.storage = try await backend.storage(in: dir, name: "sandbox.sqlite")
            if configuration.storage.requiresGivenMasterKey { configuration.masterKey = SecretBox.generateKey() }
            configuration.adminKey = operatorKeyText
            configuration.keyRateLimit = nil
            configuration.applicationRateLimit = nil
            configuration.allowedDestinations = [AddressRange("127.0.0.1/32")!]
            configuration.sandboxTimings = timings
            configuration.publicURL = publicURL
            configuration.host = "127.0.0.1"
            configuration.port = 0
            var logger = Logger(label: "sandbox-test")
            logger.logLevel = .critical
            let components = try await buildComponents(configuration, clock: clock, logger: logger, announce: { _ in })
            let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
            let app = Application(
                router: components.router,
                configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "BankHooks"),
                onServerRunning: { channel in
                    continuation.yield(channel.localAddress?.port ?? 0)
                    continuation.finish()
                },
                logger: logger)
            let group = ServiceGroup(configuration: .init(services: components.services + [app], gracefulShutdownSignals: [], logger: logger))
            let box = ServerComponentsBox(components)
            return try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var iterator = ports.makeAsyncIterator()
                guard let port = await iterator.next(), port > 0 else { throw TestFailure("the server did not start") }
                let server = SandboxServer(baseURL: "http://127.0.0.1:\(port)", components: box, operatorKey: operatorKeyText, callbacks: page, dir: dir)
                do {
                    let entries = redirectCallbacks.map { $0.replacingOccurrences(of: "$PAGE", with: page.baseURL) }
                    let set = try await server.api.call(.PATCH, "/v1/applications/app_default", body: try jsonText(["redirect_callbacks": entries]))
                    guard set.status == 200 else { throw TestFailure("could not register the callbacks: \(set.text)") }
                    let result = try await body(server)
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                    return result
                } catch {
                    await group.triggerGracefulShutdown()
                    try? await tasks.waitForAll()
                    throw error
                }
            }
        }
    }

    // MARK: API helpers

    /// The OpenAPI document's validator (OpenAPITests'): every answer a `call` gets is checked against it.
    static let validator: SchemaValidator? = try? SchemaValidator(document: OpenAPITests.document())

    /// One API call whose answer is checked against the operation's documented schema for its status.
    @discardableResult
    func call(
        _ method: HTTPMethod, _ path: String, template: String, body: String? = nil, key: String? = nil, headers: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> API.Reply {
        let reply = try await api(key: key ?? operatorKey).call(method, path, body: body, headers: headers)
        let validator = try #require(Self.validator, "openapi.json loads", sourceLocation: sourceLocation)
        let errors = validator.check(
            method: method.rawValue.lowercased(), path: template, status: reply.status, contentType: reply.headers.first(name: "Content-Type"),
            body: reply.body)
        #expect(errors.isEmpty, "\(method) \(path) → \(reply.status): \(errors)\n\(reply.text)", sourceLocation: sourceLocation)
        return reply
    }

    /// Creates a webhook (201 expected) and returns its JSON.
    func webhook(_ body: [String: Any]) async throws -> [String: Any] {
        let reply = try await api.call(.POST, "/v1/webhooks", body: try jsonText(body))
        guard reply.status == 201, let object = reply.json else { throw TestFailure("POST /v1/webhooks → \(reply.status): \(reply.text)") }
        return object
    }

    /// Creates an authorisation (201 expected) and returns its JSON.
    func authorise(_ body: [String: Any], key: String? = nil) async throws -> [String: Any] {
        let reply = try await api(key: key ?? operatorKey).call(.POST, "/v1/authorisations", body: try jsonText(body))
        guard reply.status == 201, let object = reply.json else { throw TestFailure("POST /v1/authorisations → \(reply.status): \(reply.text)") }
        return object
    }

    /// A key of `role` for `application` (created as `environment` when missing).
    func key(_ role: Role, application: String = "app_default", environment: BankHooksCore.Application.Environment = .sandbox) async throws -> String {
        let store = components.store
        let now = SystemClock().now()
        if try await store.application(id: application) == nil {
            try await store.createApplication(BankHooksCore.Application(
                id: application, name: application, environment: environment, createdAt: now,
                redirectCallbacks: [callbacks.baseURL + "/"]))
        }
        let (text, record) = APIKey.generate(applicationID: application, role: role, now: now)
        try await store.createAPIKey(record)
        return text
    }
}

/// A JSON body.
func jsonText(_ object: [String: Any]) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
}

// MARK: The callback page

/// Where the bank sends the browser back: records each GET (path and raw query) and answers a
/// small page, as an application's callback would.
final class CallbackPage: Sendable {
    struct Visit: Sendable {
        var path: String
        /// The query as sent (nil without one).
        var query: String?
    }

    private let visited = Mutex<[Visit]>([])
    private let boundPort = Atomic<Int>(0)

    var port: Int { boundPort.load(ordering: .acquiring) }
    var baseURL: String { "http://127.0.0.1:\(port)" }
    func url(_ path: String) -> String { baseURL + path }
    var visits: [Visit] { visited.withLock { $0 } }

    static func run<T: Sendable>(_ body: @Sendable (CallbackPage) async throws -> T) async throws -> T {
        let page = CallbackPage()
        let router = Router()
        router.get("**") { request, _ -> Response in
            page.visited.withLock { $0.append(Visit(path: request.uri.path, query: request.uri.query)) }
            return Response(status: .ok, headers: [.contentType: "text/html"], body: .init(byteBuffer: ByteBuffer(string: "<p>Welcome back</p>")))
        }
        var logger = Logger(label: "callback-page")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "CallbackPage"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw TestFailure("the callback page did not start") }
            page.boundPort.store(port, ordering: .releasing)
            do {
                let result = try await body(page)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}

// MARK: The browser

/// Just enough of a browser for the consent page: GET a page (keeping its cookie), read the form's
/// hidden fields, POST it as a form, and follow a redirect by hand.
struct Browser: Sendable {
    /// Redirects are not followed: the tests read each `Location`.
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool = .init(idleTimeout: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var html: String
        var location: String? { headers.first(name: "Location") }
        /// The `bh_csrf` cookie the answer sets, if any.
        var cookie: String? {
            headers["Set-Cookie"].compactMap { line -> String? in
                guard line.hasPrefix("bh_csrf=") else { return nil }
                return String(line.dropFirst("bh_csrf=".count).prefix { $0 != ";" })
            }.first
        }
        /// The value of the form's hidden input `name`.
        func hidden(_ name: String) -> String? {
            let marker = #"<input type="hidden" name="\#(name)" value=""#
            guard let start = html.range(of: marker) else { return nil }
            return String(html[start.upperBound...].prefix { $0 != "\"" })
        }
    }

    /// A form as the page gave it: where it posts and its hidden fields, with the cookie.
    struct Form: Sendable {
        var action: String
        var state: String
        var csrf: String
        var cookie: String
    }

    func get(_ url: String, cookie: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        if let cookie { request.headers.add(name: "Cookie", value: "bh_csrf=\(cookie)") }
        return try await send(request)
    }

    func post(_ url: String, form: [(String, String)], cookie: String?, contentType: String = "application/x-www-form-urlencoded") async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        if let cookie { request.headers.add(name: "Cookie", value: "other=1; bh_csrf=\(cookie)") }
        request.body = .bytes(ByteBuffer(string: Self.encode(form)))
        return try await send(request)
    }

    func send(_ request: HTTPClientRequest) async throws -> Answer {
        let response = try await Self.http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 4 * 1024 * 1024)
        return Answer(status: Int(response.status.code), headers: response.headers, html: String(buffer: body))
    }

    /// Opens the consent page and reads its form (the page must be a 200 with a cookie and both fields).
    func open(_ authorisationURL: String) async throws -> Form {
        let page = try await get(authorisationURL)
        guard page.status == 200, let cookie = page.cookie, let state = page.hidden("state"), let csrf = page.hidden("csrf"),
              let start = page.html.range(of: #"<form method="post" action=""#) else {
            throw TestFailure("GET \(authorisationURL) → \(page.status) without the form: \(page.html.prefix(400))")
        }
        let action = String(page.html[start.upperBound...].prefix { $0 != "\"" })
        guard let base = URL(string: authorisationURL), let resolved = URL(string: action, relativeTo: base)?.absoluteString else {
            throw TestFailure("the form's action \(action) is not a URL")
        }
        return Form(action: resolved, state: state, csrf: csrf, cookie: cookie)
    }

    /// Submits the form as a person would.
    func submit(_ form: Form, username: String, password: String? = nil, decision: String = "approve") async throws -> Answer {
        try await post(
            form.action, form: [("state", form.state), ("csrf", form.csrf), ("username", username), ("password", password ?? username), ("decision", decision)],
            cookie: form.cookie)
    }

    /// `application/x-www-form-urlencoded` as browsers write it.
    static func encode(_ pairs: [(String, String)]) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._*")
        func escape(_ text: String) -> String {
            (text.addingPercentEncoding(withAllowedCharacters: unreserved.union(CharacterSet(charactersIn: " "))) ?? text)
                .replacingOccurrences(of: " ", with: "+")
        }
        return pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }
}

/// A query as its `name=value` pairs in order, names and values still encoded as sent.
func rawParameters(_ query: String) -> [(name: String, value: String)] {
    query.split(separator: "&").map { pair in
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
    }
}

/// The query of a URL (between `?` and any `#`).
func query(of url: String) -> String? {
    let beforeFragment = url.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
    guard let mark = beforeFragment.firstIndex(of: "?") else { return nil }
    return String(beforeFragment[beforeFragment.index(after: mark)...])
}

/// The sandbox routes' common refusals.
@Suite struct SandboxAccessTests {
    /// Every sandbox route answers a production application 403 `sandbox-only` (after the role check).
    @Test func aProductionApplicationIsRefusedEverywhere() async throws {
        try await SandboxServer.run { server in
            let key = try await server.key(.admin, application: "app_live", environment: .production)
            let api = server.api(key: key)
            let calls: [(HTTPMethod, String, String?)] = [
                (.GET, "/v1/sandbox/institutions", nil), (.GET, "/v1/sandbox/institutions/leanmb1", nil),
                (.PATCH, "/v1/sandbox/institutions/leanmb1", "{}"),
                (.POST, "/v1/authorisations", #"{"institution_id": "leanmb1", "user_uuid": "88c8ea6c-25a3-4ecb-b134-a4b23dde2df7", "callback": "https://x.example/"}"#),
                (.GET, "/v1/authorisations/88c8ea6c-25a3-4ecb-b134-a4b23dde2df7", nil),
                (.POST, "/v1/sandbox/authorisations/88c8ea6c-25a3-4ecb-b134-a4b23dde2df7/complete", #"{"login": "user", "decision": "approve"}"#),
                (.POST, "/v1/consent-one-time-token", #"{"one_time_token": "x"}"#), (.GET, "/v1/consents", nil),
                (.GET, "/v1/consents/88c8ea6c-25a3-4ecb-b134-a4b23dde2df7", nil), (.DELETE, "/v1/consents/88c8ea6c-25a3-4ecb-b134-a4b23dde2df7", nil),
                (.GET, "/v1/sandbox/accounts", nil), (.GET, "/v1/sandbox/accounts/a/transactions", nil),
                (.POST, "/v1/sandbox/payment-sources", #"{"beneficiary": {"name": "A", "iban": "SA0380000000608010167519"}}"#),
                (.GET, "/v1/sandbox/payment-sources/x", nil),
                (.POST, "/v1/sandbox/payments", #"{"amount": "1", "currency": "SAR", "reference": "r"}"#), (.GET, "/v1/sandbox/payments/x", nil),
            ]
            for (method, path, body) in calls {
                let reply = try await api.call(method, path, body: body, headers: ["Consent": "x"])
                #expect(reply.status == 403, "\(method) \(path): \(reply.text)")
                #expect(reply.json?["type"] as? String == "urn:bankhooks:problem:sandbox-only", "\(method) \(path): \(reply.text)")
                #expect(reply.headers.first(name: "Content-Type") == "application/problem+json")
            }
            // A sandbox application's viewer may read but not change.
            let viewer = server.api(key: try await server.key(.viewer))
            #expect(try await viewer.call(.GET, "/v1/sandbox/institutions").status == 200)
            let refused = try await viewer.call(.PATCH, "/v1/sandbox/institutions/leanmb1", body: "{}")
            #expect(refused.status == 403 && refused.json?["type"] as? String == "urn:bankhooks:problem:forbidden")
            #expect(try await API(baseURL: server.baseURL, key: nil).call(.GET, "/v1/sandbox/institutions").status == 401)
        }
    }
}
