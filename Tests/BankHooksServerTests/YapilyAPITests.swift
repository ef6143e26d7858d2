import BankHooksCore
import BankHooksLoopback
import BankHooksSandbox
import BankHooksServer
import BankHooksStorage
import BankHooksTestSupport
import Foundation
import NIOHTTP1
import Testing

/// The facade's door and its plain resources: credentials issued once and stored hashed, HTTP
/// Basic with Yapily's 401, Yapily's envelope and tracing id on every error and a 404 for unknown
/// paths, users, institutions.
@Suite struct YapilyAPITests {
    static let unauthorised = "Full authentication is required to access this resource"

    @Test(arguments: TestBackend.all) func credentialsAreShownOnceStoredHashedAndReplacedByNewOnes(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let client = try await YapilyClient.make(server)
            #expect(UUID(uuidString: client.applicationUUID) != nil && client.applicationUUID == client.applicationUUID.lowercased())
            #expect(client.secret.utf8.count >= 32)
            let stored = try #require(try await server.components.store.yapilyCredential(id: client.applicationUUID))
            #expect(stored.applicationID == "app_default")
            #expect(stored.secretHash != Array(client.secret.utf8) && stored.secretHash.count == 32, "only the SHA-256 is kept")
            #expect(try await client.call(.GET, "/institutions", template: "/institutions").status == 200)
            // New credentials replace the old ones at once.
            let next = try await YapilyClient.make(server)
            #expect(next.applicationUUID != client.applicationUUID)
            client.expectError(try await client.call(.GET, "/institutions", template: "/institutions"), 401, "UNAUTHORIZED")
            #expect(try await next.call(.GET, "/institutions", template: "/institutions").status == 200)
            // Admins of the application only (operators of any); another application's admin sees no such application.
            let admin = try await server.key(.admin)
            let byAdmin = try await server.call(
                .POST, "/v1/applications/app_default/yapily-credentials", template: "/v1/applications/{id}/yapily-credentials", key: admin)
            #expect(byAdmin.status == 201)
            let developer = try await server.key(.developer)
            #expect(try await server.call(
                .POST, "/v1/applications/app_default/yapily-credentials", template: "/v1/applications/{id}/yapily-credentials", key: developer
            ).status == 403)
            let otherAdmin = try await server.key(.admin, application: "app_other")
            #expect(try await server.call(
                .POST, "/v1/applications/app_default/yapily-credentials", template: "/v1/applications/{id}/yapily-credentials", key: otherAdmin
            ).status == 404)
            #expect(try await server.call(
                .POST, "/v1/applications/app_nope/yapily-credentials", template: "/v1/applications/{id}/yapily-credentials").status == 404)
        }
    }

    /// Missing, malformed, unknown and wrong credentials: Yapily's 401 body exactly (plus the tracing id).
    @Test func badOrMissingCredentialsGetYapilys401() async throws {
        try await SandboxServer.run { server in
            let client = try await YapilyClient.make(server)
            let wrongSecret = "Basic " + Data("\(client.applicationUUID):nope".utf8).base64EncodedString()
            let unknownID = "Basic " + Data("0e7bdbd3-5a7e-4d39-a5bb-8c1f4d7e0c11:\(client.secret)".utf8).base64EncodedString()
            let cases: [String?] = [nil, "Bearer \(server.operatorKey)", "Basic", "Basic !!!", "Basic " + Data("nocolon".utf8).base64EncodedString(), wrongSecret, unknownID]
            for authorization in cases {
                let reply = try await client.call(.GET, "/users", template: "/users", authorization: authorization)
                client.expectError(reply, 401, "UNAUTHORIZED")
                #expect((reply.json?["error"] as? [String: Any])?["message"] as? String == Self.unauthorised, "\(authorization ?? "none")")
                #expect(reply.headers.first(name: "WWW-Authenticate")?.hasPrefix("Basic") == true)
                #expect((reply.json?["error"] as? [String: Any])?.keys.sorted() == ["code", "message", "status", "tracingId"])
            }
        }
    }

    @Test func unknownPathsAreYapilys404AndEveryErrorHasItsOwnTracingID() async throws {
        try await SandboxServer.run { server in
            let client = try await YapilyClient.make(server)
            var tracingIDs: Set<String> = []
            for path in ["/nope", "/users/x/y", "/", ""] {
                let reply = try await client.call(.GET, path, template: nil)
                client.expectError(reply, 404, "NOT_FOUND")
                #expect(reply.headers.first(name: "Content-Type") == "application/json;charset=UTF-8")
                tracingIDs.insert(try #require((reply.json?["error"] as? [String: Any])?["tracingId"] as? String))
            }
            // What the facade does not emulate is not there: Yapily's 404, not a native problem.
            for (method, path) in [(HTTPMethod.POST, "/payments"), (.PUT, "/account-auth-requests"), (.POST, "/webhook/events")] {
                client.expectError(try await client.call(method, path, template: nil, body: "{}"), 404, "NOT_FOUND")
            }
            // Without credentials too: the path is unknown whoever asks.
            client.expectError(try await client.call(.GET, "/nope", template: nil, authorization: nil), 404, "NOT_FOUND")
            #expect(tracingIDs.count == 4)
            // A body that is not JSON, one that is not an object, one that lacks a required member.
            for body in ["{", "[1]", "{}"] {
                let reply = try await client.call(.POST, "/consent-one-time-token", template: "/consent-one-time-token", body: body)
                client.expectError(reply, 400, "BAD_REQUEST")
            }
            // Past the body limit: Yapily's envelope, 413.
            let huge = try jsonText(["oneTimeToken": String(repeating: "x", count: 300 * 1024)])
            client.expectError(
                try await client.call(.POST, "/consent-one-time-token", template: "/consent-one-time-token", body: huge), 413, "PAYLOAD_TOO_LARGE")
            let missing = try await client.call(.POST, "/consent-one-time-token", template: "/consent-one-time-token", body: "{}")
            #expect((missing.json?["error"] as? [String: Any])?["message"] as? String == "oneTimeToken is required")
        }
    }

    @Test(arguments: TestBackend.all) func usersAreCreatedOnceReadListedAndDeleted(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let client = try await YapilyClient.make(server)
            let created = try await client.call(.POST, "/users", template: "/users", body: #"{"applicationUserId":"mofe-2","referenceId":"ref-1"}"#)
            #expect(created.status == 201)
            let uuid = try #require(created.json?["uuid"] as? String)
            #expect(created.json?["applicationUuid"] as? String == client.applicationUUID)
            #expect(created.json?["applicationUserId"] as? String == "mofe-2")
            #expect((created.json?["institutionConsents"] as? [Any])?.isEmpty == true)
            client.expectError(
                try await client.call(.POST, "/users", template: "/users", body: #"{"applicationUserId":"mofe-2"}"#), 409, "CONFLICT")
            client.expectError(try await client.call(.POST, "/users", template: "/users", body: #"{"referenceId":"x"}"#), 400, "BAD_REQUEST")
            client.expectError(try await client.call(.POST, "/users", template: "/users", body: #"{"applicationUserId":""}"#), 400, "BAD_REQUEST")
            _ = try await client.call(.POST, "/users", template: "/users", body: #"{"applicationUserId":"other"}"#)
            let all = try await client.call(.GET, "/users", template: "/users")
            let list = try #require(try JSONSerialization.jsonObject(with: all.body) as? [[String: Any]])
            #expect(list.compactMap { $0["applicationUserId"] as? String } == ["mofe-2", "other"])
            let filtered = try await client.call(.GET, "/users?filter%5BapplicationUserId%5D=mofe-2", template: "/users")
            #expect((try JSONSerialization.jsonObject(with: filtered.body) as? [[String: Any]])?.count == 1)
            let read = try await client.call(.GET, "/users/\(uuid)", template: "/users/{userUuid}")
            #expect(read.json?["referenceId"] as? String == "ref-1")
            client.expectError(try await client.call(.GET, "/users/0e7bdbd3-5a7e-4d39-a5bb-8c1f4d7e0c11", template: "/users/{userUuid}"), 404, "NOT_FOUND")
            client.expectError(try await client.call(.GET, "/users/not-a-uuid", template: "/users/{userUuid}"), 404, "NOT_FOUND")
            let deleted = try await client.call(.DELETE, "/users/\(uuid)", template: "/users/{userUuid}")
            #expect((deleted.json?["data"] as? [String: Any])?["deleteStatus"] as? String == "SUCCESS")
            #expect(YapilyFixtureTests.isTracingID((deleted.json?["meta"] as? [String: Any])?["tracingId"]))
            client.expectError(try await client.call(.GET, "/users/\(uuid)", template: "/users/{userUuid}"), 404, "NOT_FOUND")
            // Another application's client sees none of them.
            _ = try await server.key(.admin, application: "app_other")
            let other = try await YapilyClient.make(server, application: "app_other")
            let none = try await other.call(.GET, "/users", template: "/users")
            #expect((try JSONSerialization.jsonObject(with: none.body) as? [Any])?.isEmpty == true)
        }
    }

    /// Requests racing for a new applicationUserId make one user between them, on both backends.
    @Test(arguments: TestBackend.all) func concurrentRequestsForANewApplicationUserMakeOneUser(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let client = try await YapilyClient.make(server)
            let body = try jsonText(["applicationUserId": "racer", "institutionId": "modelo-sandbox", "callback": server.callbacks.url("/cb")])
            let users = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let reply = try await client.call(.POST, "/account-auth-requests", template: "/account-auth-requests", body: body)
                        return (reply.json?["data"] as? [String: Any])?["userUuid"] as? String
                    }
                }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(users.count == 8 && Set(users).count == 1 && users[0] != nil)
            let list = try await client.call(.GET, "/users", template: "/users")
            #expect((try JSONSerialization.jsonObject(with: list.body) as? [[String: Any]])?.compactMap { $0["uuid"] as? String } == [users[0]!])
        }
    }

    @Test func institutionsAreTheSandboxsAsTheApplicationSeesThem() async throws {
        try await SandboxServer.run { server in
            let client = try await YapilyClient.make(server)
            let list = try await client.call(.GET, "/institutions", template: "/institutions")
            let data = try #require(list.json?["data"] as? [[String: Any]])
            #expect(data.compactMap { $0["id"] as? String } == SandboxInstitution.builtIn.map(\.id))
            #expect((list.json?["meta"] as? [String: Any])?["count"] as? Int == data.count)
            let modelo = try await client.call(.GET, "/institutions/modelo-sandbox", template: "/institutions/{institutionId}")
            #expect(modelo.json?["environmentType"] as? String == "SANDBOX")
            #expect((modelo.json?["countries"] as? [[String: Any]])?.first?["countryCode2"] as? String == "GB")
            #expect((modelo.json?["features"] as? [String])?.contains("ACCOUNT_TRANSACTIONS") == true)
            client.expectError(try await client.call(.GET, "/institutions/nope", template: "/institutions/{institutionId}"), 404, "NOT_FOUND")
            // Data switched off for the application: its account features go.
            let patched = try await server.api.call(
                .PATCH, "/v1/sandbox/institutions/modelo-sandbox", body: #"{"availability": {"active": {"data": false}}}"#)
            #expect(patched.status == 200)
            let down = try await client.call(.GET, "/institutions/modelo-sandbox", template: "/institutions/{institutionId}")
            #expect((down.json?["features"] as? [String])?.contains("ACCOUNT_TRANSACTIONS") == false)
        }
    }

    @Test func aProductionApplicationIsRefusedWithYapilys403() async throws {
        try await SandboxServer.run { server in
            _ = try await server.key(.admin, application: "app_live", environment: .production)
            let client = try await YapilyClient.make(server, application: "app_live")
            client.expectError(try await client.call(.GET, "/institutions", template: "/institutions"), 403, "FORBIDDEN")
            client.expectError(try await client.call(.GET, "/users", template: "/users"), 403, "FORBIDDEN")
        }
    }
}
