@testable import BankHooksServer
import BankHooksCore
import BankHooksLoopback
import BankHooksSandbox
import BankHooksTestSupport
import Foundation
import Synchronization
import Testing

/// A wall clock a test moves forward: the system's time plus an offset. Sleepers wake at most
/// 50 ms late after a move, so the server's timers keep running.
final class ShiftedClock: WallClock {
    private let offset = Atomic<Int64>(0)

    func now() -> Timestamp { Timestamp(milliseconds: SystemClock().now().milliseconds + offset.load(ordering: .acquiring)) }

    func sleep(until deadline: Timestamp) async throws {
        while case let remaining = deadline.milliseconds - now().milliseconds, remaining > 0 {
            try await Task.sleep(for: .milliseconds(min(remaining, 50)))
        }
    }

    func advance(by duration: Duration) {
        offset.add(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000, ordering: .acquiringAndReleasing)
    }
}

/// The corners: the auth.yapily.com step's 10 minutes, an expired consent's PATCH, and a PATCH
/// racing a DELETE, on both backends.
@Suite struct YapilyCornerTests {
    typealias Flow = YapilyFlowTests
    typealias Reauthorisation = YapilyReauthorisationTests

    /// The step answers for 10 minutes after the bank's answer (a reload gets the same 302), then
    /// 410 with its HTML page and no redirect; the consent itself is unaffected. A re-authorisation
    /// left for 30 minutes leaves the consent as it was. An expired consent is not re-authorised
    /// (the sandbox's token carries its expiry): 403.
    @Test(arguments: TestBackend.all) func theAuthStepExpiresTenMinutesAfterTheBankAndAnExpiredConsentIsNotReauthorised(_ backend: TestBackend) async throws {
        let clock = ShiftedClock()
        try await SandboxServer.run(backend: backend, clock: clock) { server in
            let client = try await YapilyClient.make(server)
            let created = try await Flow.authorise(client, [
                "applicationUserId": "late", "institutionId": "modelo-sandbox", "callback": server.callbacks.url("/late"),
            ])
            let step = try await Flow.bankAnswer(server, created, login: "alice")
            let first = try await Browser().get(step)
            #expect(first.status == 302)
            // 9 min 50 s on (10 s left for a loaded machine's real time): the same 302; 10 min 1 s on: 410.
            clock.advance(by: .seconds(590))
            let reload = try await Browser().get(step)
            #expect(reload.status == 302 && reload.location == first.location, "within 10 minutes")
            clock.advance(by: .seconds(11))
            let gone = try await Browser().get(step)
            #expect(gone.status == 410 && gone.location == nil)
            #expect(gone.html.contains("This link has expired"))
            #expect(gone.headers.first(name: "Content-Type") == "text/html; charset=utf-8")
            let id = try #require(created["id"] as? String)
            let consent = try await Reauthorisation.consent(client, id)
            #expect(consent["status"] as? String == "AUTHORIZED")
            let token = try #require(consent["consentToken"] as? String)

            // A re-authorisation left unfinished for 30 minutes: the consent is as it was, its data readable.
            let patched = try await YapilyReauthorisationTests.reauthorise(client, token: token)
            #expect(try await Reauthorisation.consent(client, id)["status"] as? String == "AWAITING_RE_AUTHORIZATION")
            clock.advance(by: .seconds(30 * 60))
            let after = try await Reauthorisation.consent(client, id)
            #expect(after["status"] as? String == "AUTHORIZED" && after["consentToken"] as? String == token)
            #expect(try await client.call(.GET, "/accounts", template: "/accounts", headers: ["consent": token]).status == 200)
            let expiredJourney = try await Browser().get(try #require(patched["authorisationUrl"] as? String))
            #expect(!expiredJourney.html.contains(#"<form method="post""#), "\(expiredJourney.status)")

            // 90 days on, the consent has expired: no re-authorisation, Yapily's 403.
            clock.advance(by: .seconds(90 * 24 * 3600))
            #expect(try await Reauthorisation.consent(client, id)["status"] as? String == "EXPIRED")
            client.expectError(try await client.call(
                .PATCH, "/account-auth-requests", template: "/account-auth-requests", headers: ["consent": token]), 403, "FORBIDDEN")
        }
    }

    /// A PATCH and a DELETE of the same consent at once: the DELETE always revokes it; the PATCH
    /// either comes first (201, and its journey then fails at the bank with `consent_required`)
    /// or after (403). Either way the consent stays REVOKED and its token reads nothing.
    @Test(arguments: TestBackend.all) func aPatchRacingADeleteNeverRevivesTheConsent(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            let client = try await YapilyClient.make(server)
            // In order first: PATCH, DELETE, then the user approves the journey: it fails, the consent stays REVOKED.
            let (firstID, firstToken) = try await Reauthorisation.linkedConsent(client, server, user: "race", path: "/race/first")
            let patchedFirst = try await Reauthorisation.reauthorise(client, token: firstToken)
            #expect(try await client.call(.DELETE, "/consents/\(firstID)", template: "/consents/{consentId}").status == 200)
            #expect(try await Reauthorisation.consent(client, firstID)["status"] as? String == "REVOKED")
            let late = rawParameters(try #require(try await Reauthorisation.complete(server, patchedFirst, login: "alice").query))
            #expect(late.map(\.name) == ["application-user-id", "user-uuid", "institution", "error-source", "error", "error-description"])
            #expect(late.suffix(3).map(\.value) == ["institution", "invalid_grant", AuthorisationFlowTests.encoded(Data("consent_required".utf8).base64EncodedString())])
            #expect(try await Reauthorisation.consent(client, firstID)["status"] as? String == "REVOKED")

            var outcomes: Set<Int> = []
            // The DELETE starts 0 to 11 ms after the PATCH, so the race falls at different points of the PATCH.
            for round in 0..<12 {
                let (id, token) = try await Reauthorisation.linkedConsent(client, server, user: "race", path: "/race/\(round)")
                async let patch = client.call(.PATCH, "/account-auth-requests", template: "/account-auth-requests", headers: ["consent": token])
                async let delete = { () async throws -> APIClient.Reply in
                    try await Task.sleep(for: .milliseconds(round))
                    return try await client.call(.DELETE, "/consents/\(id)", template: "/consents/{consentId}")
                }()
                let (patched, deleted) = try await (patch, delete)
                #expect(deleted.status == 200, "\(deleted.text)")
                #expect(patched.status == 201 || patched.status == 403, "\(patched.text)")
                outcomes.insert(patched.status)
                if patched.status == 201 {
                    let visit = try await Reauthorisation.complete(server, try Flow.data(patched), login: "alice")
                    let parameters = rawParameters(try #require(visit.query))
                    #expect(parameters.map(\.name).suffix(3) == ["error-source", "error", "error-description"], "\(parameters)")
                    #expect(parameters.last?.value == AuthorisationFlowTests.encoded(Data("consent_required".utf8).base64EncodedString()))
                }
                let read = try await Reauthorisation.consent(client, id)
                #expect(read["status"] as? String == "REVOKED" && read["consentToken"] == nil && read["lastConfirmedAt"] == nil, "round \(round)")
                client.expectError(try await client.call(.GET, "/accounts", template: "/accounts", headers: ["consent": token]), 403, "FORBIDDEN")
            }
            #expect(outcomes.isSubset(of: [201, 403]) && !outcomes.isEmpty)
        }
    }
}
