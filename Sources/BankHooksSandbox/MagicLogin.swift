import BankHooksCore
import Foundation

/// One row of seed 003's error table: what the institution said (`bankError`), and what the
/// redirect back reports (`error-source`, `error`, `error-description`).
public struct BankError: Hashable, Sendable {
    /// `error-source`: who failed the authorisation.
    public enum Source: String, Hashable, Sendable, CaseIterable {
        case user
        case institution
    }

    public var source: Source
    /// `error`: the high-level code.
    public var error: String
    /// The institution's own error text (the table's third column), which `error-description` carries in base64.
    public var bankError: String

    public init(source: Source, error: String, bankError: String) {
        self.source = source
        self.error = error
        self.bankError = bankError
    }

    /// `error-description`: standard base64 (with `=` padding) of the institution's error.
    public var errorDescription: String { Data(bankError.utf8).base64EncodedString() }

    /// The authorisation's status after this failure: REJECTED when the user said no, FAILED when the institution did.
    public var authorisationStatus: Authorisation.Status { source == .user ? .rejected : .failed }

    /// The login that produces this row (`error.<bank error>`; `error.uncategorized` for the table's `-`).
    public var login: String { "error." + (self == .uncategorized ? "uncategorized" : bankError) }

    /// Too many wrong passwords (`MagicLogin.maxWrongPasswords`): the user could not log in, so
    /// the row says `user / access_denied / login_required` (seed 003's `error.login_required`),
    /// but the bank ended it, not the user: the authorisation is FAILED, not REJECTED.
    public static let tooManyWrongPasswords = BankError(source: .user, error: "access_denied", bankError: "login_required")
    /// The user refused (the Deny button, and `error.access_denied`).
    public static let accessDenied = BankError(source: .user, error: "access_denied", bankError: "access_denied")
    /// The table's last row: no institution error, so the sandbox sends Yapily's real-world text.
    public static let uncategorized = BankError(
        source: .institution, error: "uncategorized_error", bankError: "This request has already been authorised")
    /// The institution is offline for data when the user approves (its availability changed after the request).
    public static let temporarilyUnavailable = BankError(source: .institution, error: "invalid_grant", bankError: "temporarily_unavailable")

    /// Seed 003's error table, in its order.
    public static let table: [BankError] = {
        func rows(_ source: Source, _ error: String, _ bankErrors: [String]) -> [BankError] {
            bankErrors.map { BankError(source: source, error: error, bankError: $0) }
        }
        return rows(.user, "access_denied", ["access_denied", "user_cancelled", "login_required", "account_selection_required", "interaction_required"])
            + rows(.institution, "invalid_grant", [
                "invalid_grant", "consent_required", "server_error", "temporarily_unavailable", "request_not_supported",
                "request_uri_not_supported",
            ])
            + rows(.institution, "institution_server_error", [
                "invalid_request", "registration_not_supported", "unauthorized_client", "unsupported_grant_type", "invalid_scope",
            ])
            + rows(.institution, "configuration_error", ["invalid_client"])
            + [uncategorized]
    }()
}

/// What a sandbox login does when the user approves: the login names the outcome (DESIGN "Magic
/// logins"). Logins are compared trimmed and case-insensitively; the password of every login is
/// the login itself.
public enum MagicLogin: Hashable, Sendable {
    /// One consent; the login seeds the user's data.
    case success(login: String)
    /// Two consents (repeated `consent=` / `one-time-token=` parameters).
    case multi
    /// One consent, but the redirect is answered after `SandboxTimings.slowLogin`.
    case slow
    /// Lean's 401 ("The username or password submitted was incorrect"); the authorisation stays open.
    case wrongPassword
    /// A row of the error table.
    case failure(BankError)

    /// The login as it is compared and stored: trimmed, lower case.
    public static func normalise(_ login: String) -> String {
        login.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// The outcome of `login` (already normalised or not).
    public init(login: String) {
        let login = Self.normalise(login)
        switch login {
        case "multi": self = .multi
        case "slow": self = .slow
        case "wrong_password": self = .wrongPassword
        default:
            if let row = Self.errorLogins[login] {
                self = .failure(row)
            } else {
                self = .success(login: login)
            }
        }
    }

    /// The outcome of a login and password: a password other than the login is a wrong password.
    /// A nil password (the headless completion without one) is not checked.
    public init(login: String, password: String?) {
        if let password, Self.normalise(password) != Self.normalise(login) {
            self = .wrongPassword
        } else {
            self.init(login: login)
        }
    }

    /// How many consents a successful outcome makes (0 for the others).
    public var consentCount: Int {
        switch self {
        case .success, .slow: 1
        case .multi: 2
        case .wrongPassword, .failure: 0
        }
    }

    /// The `error.<bank error>` logins, by login.
    static let errorLogins: [String: BankError] = Dictionary(uniqueKeysWithValues: BankError.table.map { ($0.login, $0) })

    /// Lean's message for a wrong password (seed 000's 401 body), shown again on the consent page.
    public static let wrongPasswordMessage = "The username or password submitted was incorrect"
    /// Wrong passwords an authorisation takes (each re-shows the form and publishes Lean's 401
    /// body); the next one fails it with `BankError.tooManyWrongPasswords`.
    public static let maxWrongPasswords = 5

    /// Every magic login and what it does, for the consent page and the docs.
    public static let table: [(login: String, outcome: String)] = {
        var rows: [(login: String, outcome: String)] = [
            ("user (or any other login)", "Success: one consent; the login seeds the accounts and transactions"),
            ("multi", "Success with two consents (repeated consent= or one-time-token= parameters)"),
            ("slow", "Success, but the redirect is answered after a delay (a slow bank)"),
            ("wrong_password (or any password that is not the login)", "Lean's 401: \"\(wrongPasswordMessage)\"; you may try again, \(maxWrongPasswords) times: the next one fails (error-source=user, error=access_denied, bank error \"login_required\")"),
        ]
        for row in BankError.table {
            rows.append((row.login, "Fails: error-source=\(row.source.rawValue), error=\(row.error), bank error \"\(row.bankError)\""))
        }
        rows.append(("Deny (any login)", "Fails: error-source=user, error=access_denied, bank error \"access_denied\""))
        return rows
    }()
}
