import BankHooksCore
import BankHooksSandbox
import Foundation
import Mustache

/// The consent page as HTML: the form (institution, who asks, the permissions, login fields,
/// Approve / Deny, the magic logins) or a page saying why the request cannot go on.
enum ConsentPage {
    /// The bank look of a page whose institution is not known (an unknown authorisation).
    static let neutralBank = Bank(name: "BankHooks Sandbox Bank", mainColor: "#183F3F", countryCode: "Sandbox")

    /// The institution as the page shows it: colours checked to be hex (they go into CSS and SVG).
    struct Bank: Sendable {
        var name: String
        var mainColor: String
        var countryCode: String

        init(name: String, mainColor: String, countryCode: String) {
            self.name = name
            self.mainColor = Self.isHexColor(mainColor) ? mainColor : "#183F3F"
            self.countryCode = countryCode
        }

        init(_ institution: SandboxInstitution) {
            self.init(name: institution.bankDetails.name, mainColor: institution.bankDetails.mainColor, countryCode: institution.countryCode)
        }

        /// `#rgb` or `#rrggbb`.
        static func isHexColor(_ text: String) -> Bool {
            let digits = text.utf8.dropFirst()
            return text.hasPrefix("#") && (digits.count == 3 || digits.count == 6) && digits.allSatisfy { FormBody.hexValue($0) != nil }
        }

        /// Text on the main colour: dark on a light colour, white on a dark one (WCAG relative luminance).
        var inkColor: String {
            var hex = Array(mainColor.utf8.dropFirst())
            if hex.count == 3 { hex = hex.flatMap { [$0, $0] } }
            func channel(_ i: Int) -> Double {
                let value = Double((FormBody.hexValue(hex[i]) ?? 0) << 4 | (FormBody.hexValue(hex[i + 1]) ?? 0)) / 255
                return value <= 0.03928 ? value / 12.92 : pow((value + 0.055) / 1.055, 2.4)
            }
            let luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
            return luminance > 0.4 ? "#1c2430" : "#ffffff"
        }

        var context: [String: Any] { ["name": name, "mainColor": mainColor, "inkColor": inkColor, "countryCode": countryCode] }
    }

    /// What the form needs.
    struct Form: Sendable {
        var bank: Bank
        var applicationName: String
        var authorisation: Authorisation
        /// The form's `csrf` field for the browser's cookie.
        var csrf: String
        /// The username to show again (after a wrong password).
        var username: String = ""
        /// Why the last attempt failed (a wrong password), shown above the form.
        var failure: String?
        var magicLogins: [(login: String, outcome: String)]
    }

    /// The form page.
    static func render(_ form: Form) -> String {
        var model: [String: Any] = [
            "applicationName": form.applicationName,
            "permissions": form.authorisation.permissions.map { name -> [String: Any] in
                let (title, detail) = describe(permission: name)
                return ["title": title, "detail": detail]
            },
            "action": "/sandbox-bank/authorise/\(form.authorisation.id)",
            "state": form.authorisation.state,
            "csrf": form.csrf,
            "username": form.username,
            "expiresAt": form.authorisation.expiresAt.iso8601,
            "magicLogins": form.magicLogins.map { ["login": $0.login, "outcome": $0.outcome] as [String: Any] },
        ]
        if let failure = form.failure { model["failure"] = failure }
        return render(bank: form.bank, title: "Authorise \(form.applicationName)", ["form": model])
    }

    /// A page saying why the request cannot go on (`kind` styles it: `problem` or `info`).
    static func message(bank: Bank = neutralBank, heading: String, message: String, kind: String = "problem") -> String {
        render(bank: bank, title: heading, ["error": ["heading": heading, "message": message, "kind": kind] as [String: Any]])
    }

    static func render(bank: Bank, title: String, _ content: [String: Any]) -> String {
        var model = content
        model["bank"] = bank.context
        model["title"] = title
        model["css"] = ConsentPageTemplate.css
        switch ConsentPageTemplate.page {
        case .success(let template):
            return template.render(model)
        case .failure:
            // Unreachable once the tests have rendered the page; a plain page rather than a crash.
            return "<!doctype html><title>Sandbox bank</title><p>The sandbox bank's page template does not parse.</p>"
        }
    }

    /// A Lean permission as the page lists it: a title and what it covers.
    static func describe(permission: String) -> (String, String) {
        switch permission {
        case "identity": ("Identity", "your name, date of birth and contact details")
        case "accounts": ("Accounts", "the names, numbers and types of your accounts")
        case "balance": ("Balances", "the current balance of each account")
        case "transactions": ("Transactions", "your transaction history, with amounts and descriptions")
        case "beneficiaries": ("Beneficiaries", "the people and businesses you pay")
        case "direct_debits": ("Direct debits", "your direct debit mandates")
        case "standing_orders": ("Standing orders", "your standing orders")
        case "scheduled_payments": ("Scheduled payments", "payments set up for later dates")
        case "payments": ("Payments", "permission to make payments from your account")
        default: (permission, "")
        }
    }
}
