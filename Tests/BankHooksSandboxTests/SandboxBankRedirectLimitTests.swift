import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Foundation
import Testing

/// Forwarded parameters and the redirect's size (review findings 6 and 6b).
@Suite struct SandboxBankRedirectLimitTests {
    func refusal(_ f: SandboxBankFixture, callback: String = "https://app.example/done", applicationUserID: String? = "a@f.com", forward: [String]) async -> SandboxError? {
        do {
            _ = try await f.authorise(applicationUserID: applicationUserID, callback: callback, oneTimeToken: true, forward: forward)
            return nil
        } catch let error as SandboxError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    /// The redirect's own names (any case) are refused at their index; others pass.
    @Test(arguments: ["consent=FAKE", "error=access_denied", "One-Time-Token=x", "user-uuid=", "institution=x", "error-source=user",
                      "error-description=x", "application-user-id=x"])
    func reservedNames(entry: String) async throws {
        let f = try await SandboxBankFixture().start()
        let error = await refusal(f, forward: ["ok=1", entry])
        #expect(error?.code == .invalidField && error?.pointer == "/forward_parameters/1")
        #expect(error?.message.contains("is a parameter of the redirect itself") == true)
    }

    @Test func namesLikeTheReservedOnesPass() async throws {
        let f = try await SandboxBankFixture().start()
        let authorisation = try await f.authorise(forward: ["consents=1", "error_x=2", "my-consent=3"])
        let completion = try await f.completeOnPage(authorisation, login: "user")
        #expect(completion.redirectURL.hasSuffix("&consents=1&error_x=2&my-consent=3"))
    }

    /// The review's 67 KB case: refused at creation, naming `/forward_parameters`.
    @Test func oversizedRedirectIsRefused() async throws {
        let f = try await SandboxBankFixture().start()
        let callback = "https://tpp-application/" + String(repeating: "p", count: 2000)
        let forward = (0..<20).map { "n\($0)=" + String(repeating: "é", count: 500) }
        let error = await refusal(f, callback: callback, applicationUserID: String(repeating: "€", count: 255), forward: forward)
        #expect(error?.code == .invalidField && error?.pointer == "/forward_parameters")
        #expect(error?.message.contains("at most 8192") == true)
    }

    /// The longest accepted request: its `multi` link and its failure both stay within 8 KiB.
    @Test func longestAcceptedRedirectFits() async throws {
        let f = try await SandboxBankFixture(timings: .demo).start()
        let callback = "https://tpp-application/" + String(repeating: "p", count: 2000)
        let userID = String(repeating: "€", count: 255)
        var forward: [String] = []
        while await refusal(f, callback: callback, applicationUserID: userID, forward: forward + ["p\(forward.count)=" + String(repeating: "é", count: 20)]) == nil {
            forward.append("p\(forward.count)=" + String(repeating: "é", count: 20))
        }
        #expect(!forward.isEmpty)
        // Without forwarded parameters the callback and user id alone fit.
        #expect(await refusal(f, callback: callback, applicationUserID: userID, forward: []) == nil)
        for oneTimeToken in [false, true] {
            let multi = try await f.bank.createAuthorisation(
                AuthorisationRequest(institutionID: "leanmb1", applicationUserID: userID, callback: callback, oneTimeToken: oneTimeToken,
                                     forwardParameters: forward), application: f.application)
            let linked = try await f.completeOnPage(multi, login: "multi")
            #expect(linked.consents.count == 2)
            #expect(linked.redirectURL.utf8.count <= AuthorisationRequest.maxRedirectLength)
            #expect(linked.redirectURL.utf8.count > AuthorisationRequest.maxRedirectLength - 400 || oneTimeToken)
        }
        let failing = try await f.bank.createAuthorisation(
            AuthorisationRequest(institutionID: "leanmb1", applicationUserID: userID, callback: callback, forwardParameters: forward),
            application: f.application)
        let failed = try await f.completeOnPage(failing, login: "error.uncategorized")
        #expect(failed.redirectURL.utf8.count <= AuthorisationRequest.maxRedirectLength)
    }
}
