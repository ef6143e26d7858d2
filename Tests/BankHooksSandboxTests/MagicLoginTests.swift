import BankHooksSandbox
import Testing

/// The magic logins: the login names the outcome, the password is the login.
@Suite struct MagicLoginTests {
    /// Any other login succeeds with one consent, normalised (trimmed, lower case).
    @Test func ordinaryLoginsSucceed() {
        #expect(MagicLogin(login: "user") == .success(login: "user"))
        #expect(MagicLogin(login: "  Alice\n") == .success(login: "alice"))
        #expect(MagicLogin(login: "error.nonsense") == .success(login: "error.nonsense"))
        #expect(MagicLogin(login: "alice").consentCount == 1)
    }

    /// The special logins, case-insensitive and trimmed.
    @Test func specialLogins() {
        #expect(MagicLogin(login: "MULTI") == .multi)
        #expect(MagicLogin(login: "multi").consentCount == 2)
        #expect(MagicLogin(login: " slow ") == .slow)
        #expect(MagicLogin(login: "slow").consentCount == 1)
        #expect(MagicLogin(login: "Wrong_Password") == .wrongPassword)
        #expect(MagicLogin(login: "wrong_password").consentCount == 0)
    }

    /// One `error.<bank error>` login per row of seed 003's table (`error.uncategorized` for `-`).
    @Test(arguments: BankError.table) func errorLogins(row: BankError) {
        #expect(MagicLogin(login: row.login) == .failure(row))
        #expect(MagicLogin(login: row.login.uppercased()) == .failure(row))
        #expect(MagicLogin(login: row.login, password: row.login) == .failure(row))
    }

    /// The logins are the design's list, exactly.
    @Test func errorLoginNames() {
        #expect(BankError.table.map(\.login) == [
            "error.access_denied", "error.user_cancelled", "error.login_required", "error.account_selection_required",
            "error.interaction_required", "error.invalid_grant", "error.consent_required", "error.server_error",
            "error.temporarily_unavailable", "error.request_not_supported", "error.request_uri_not_supported", "error.invalid_request",
            "error.registration_not_supported", "error.unauthorized_client", "error.unsupported_grant_type", "error.invalid_scope",
            "error.invalid_client", "error.uncategorized",
        ])
        #expect(BankError.uncategorized.bankError == "This request has already been authorised")
    }

    /// The password is the login (compared like it); another one is a wrong password; none (headless) is not checked.
    @Test func passwords() {
        #expect(MagicLogin(login: "alice", password: "alice") == .success(login: "alice"))
        #expect(MagicLogin(login: "Alice", password: " alice ") == .success(login: "alice"))
        #expect(MagicLogin(login: "alice", password: "bob") == .wrongPassword)
        #expect(MagicLogin(login: "alice", password: "") == .wrongPassword)
        #expect(MagicLogin(login: "multi", password: "alice") == .wrongPassword)
        #expect(MagicLogin(login: "alice", password: nil) == .success(login: "alice"))
        #expect(MagicLogin(login: "wrong_password", password: "wrong_password") == .wrongPassword)
    }

    /// The documented table names every special login once, and Lean's message.
    @Test func documentedTable() {
        let logins = MagicLogin.table.map(\.login)
        for row in BankError.table { #expect(logins.filter { $0 == row.login }.count == 1) }
        #expect(logins.contains("multi") && logins.contains("slow"))
        #expect(MagicLogin.table.contains { $0.outcome.contains("The username or password submitted was incorrect") })
        #expect(SandboxBank.magicLogins.count == MagicLogin.table.count)
    }
}
