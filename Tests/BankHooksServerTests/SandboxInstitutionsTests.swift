import BankHooksCore
import BankHooksSandbox
import BankHooksTestSupport
import Foundation
import Testing

/// `/v1/sandbox/institutions`: the seeds' banks with their details, and availability changes per
/// application that publish Lean's availability events (and stop new links when data is down).
@Suite struct SandboxInstitutionsTests {
    @Test func theInstitutionsCarryTheSeedsBankDetails() async throws {
        try await SandboxServer.run { server in
            let list = try await server.call(.GET, "/v1/sandbox/institutions", template: "/v1/sandbox/institutions")
            #expect(list.status == 200)
            let data = try #require(list.json?["data"] as? [[String: Any]])
            #expect(data.map { $0["id"] as? String ?? "" } == SandboxInstitution.builtIn.map(\.id))
            let one = try await server.call(.GET, "/v1/sandbox/institutions/leanmb1", template: "/v1/sandbox/institutions/{id}")
            let bank = try #require(one.json)
            // Seed 000's bank.
            #expect(bank["name"] as? String == "Lean Mockbank 1")
            #expect(bank["identifier"] as? String == "LEANMB1")
            #expect(bank["main_color"] as? String == "#183F3F")
            #expect(bank["logo"] as? String == "")
            #expect(bank["account_type"] as? String == "PERSONAL")
            let availability = try #require(bank["availability"] as? [String: [String: Bool]])
            #expect(availability == ["active": ["payments": true, "data": true], "enabled": ["payments": true, "data": true]])
            let iban = try #require(bank["iban_verification"] as? [String: Any])
            #expect(iban["global"] as? String == "enabled")
            #expect(((iban["account_type"] as? [String: Any])?["business"] as? [String: String]) == ["match": "enabled", "no_match": "enabled"])
            let unknown = try await server.call(.GET, "/v1/sandbox/institutions/no-such-bank", template: "/v1/sandbox/institutions/{id}")
            #expect(unknown.status == 404 && unknown.json?["field"] as? String == "path:id")
            #expect(unknown.json?["type"] as? String == "urn:bankhooks:problem:not-found")
        }
    }

    @Test(arguments: TestBackend.all) func anAvailabilityChangePublishesLeansEventsAndStopsNewLinks(_ backend: TestBackend) async throws {
        try await TestReceiver.run { receiver in
            try await SandboxServer.run(backend: backend) { server in
                _ = try await server.webhook([
                    "url": receiver.url("/lean"), "format": "lean",
                    "event_types": ["bank.availability.updated", "iban_account_verification.bank.availability.updated"],
                ])
                let template = "/v1/sandbox/institutions/{id}"
                // Data goes down: only what was sent changes.
                let down = try await server.call(.PATCH, "/v1/sandbox/institutions/leanmb1", template: template, body: #"{"availability": {"active": {"data": false}}}"#)
                #expect(down.status == 200, "\(down.text)")
                let availability = try #require(down.json?["availability"] as? [String: [String: Bool]])
                #expect(availability == ["active": ["payments": true, "data": false], "enabled": ["payments": true, "data": true]])
                let first = try #require(try await receiver.waitForRequests(1).first)
                let body = try #require(try JSONSerialization.jsonObject(with: Data(first.body)) as? [String: Any])
                #expect(body["type"] as? String == "bank.availability.updated")
                let payload = try #require(body["payload"] as? [String: Any])
                #expect(payload["identifier"] as? String == "LEANMB1")
                #expect((payload["availability"] as? [String: [String: Bool]]) == availability)
                // A new link at that bank is refused while its data is down.
                let refused = try await server.call(.POST, "/v1/authorisations", template: "/v1/authorisations", body: try jsonText([
                    "institution_id": "leanmb1", "application_user_id": "u1", "callback": server.callbacks.url("/cb"),
                ]))
                #expect(refused.status == 422 && refused.json?["type"] as? String == "urn:bankhooks:problem:institution-unavailable")
                #expect(refused.json?["field"] as? String == "/institution_id")
                // The same change again: nothing changes, nothing is published.
                let same = try await server.call(.PATCH, "/v1/sandbox/institutions/leanmb1", template: template, body: #"{"availability": {"active": {"data": false}}}"#)
                #expect(same.status == 200)
                let empty = try await server.call(.PATCH, "/v1/sandbox/institutions/leanmb1", template: template, body: "{}")
                #expect(empty.status == 200)
                // The IBAN-verification variant, for its own change only.
                let iban = try await server.call(
                    .PATCH, "/v1/sandbox/institutions/bank1-ksa", template: template,
                    body: #"{"iban_verification": {"account_type": {"business": {"no_match": "disabled"}}}}"#)
                #expect(iban.status == 200, "\(iban.text)")
                let second = try await receiver.waitForRequests(2)[1]
                let variant = try #require(try JSONSerialization.jsonObject(with: Data(second.body)) as? [String: Any])
                #expect(variant["type"] as? String == "iban_account_verification.bank.availability.updated", "\(second.bodyText)")
                let variantPayload = try #require(variant["payload"] as? [String: Any])
                #expect(variantPayload["country_code"] as? String == "SA" && variantPayload["bank_code"] as? String == "80")
                let types = (variantPayload["availability"] as? [String: Any])?["account_type"] as? [String: [String: String]]
                #expect(types?["business"] == ["match": "enabled", "no_match": "disabled"])
                #expect(types?["personal"] == ["match": "enabled", "no_match": "enabled"])
                try await Task.sleep(for: .milliseconds(400))
                #expect(receiver.requests.count == 2, "the unchanged PATCHes published nothing")
                // Up again: links work again. Another application still sees the built-in availability.
                _ = try await server.call(.PATCH, "/v1/sandbox/institutions/leanmb1", template: template, body: #"{"availability": {"active": {"data": true}}}"#)
                _ = try await server.authorise(["institution_id": "leanmb1", "application_user_id": "u1", "callback": server.callbacks.url("/cb")])
                let other = try await server.key(.viewer, application: "app_other")
                let seen = try await server.call(.GET, "/v1/sandbox/institutions/bank1-ksa", template: template, key: other)
                #expect(((seen.json?["iban_verification"] as? [String: Any])?["account_type"] as? [String: [String: String]])?["business"]?["no_match"] == "enabled")
            }
        }
    }

    /// Concurrent changes of different members both survive (the merge happens in the store's transaction).
    @Test(arguments: TestBackend.all) func concurrentChangesOfDifferentMembersBothSurvive(_ backend: TestBackend) async throws {
        try await SandboxServer.run(backend: backend) { server in
            for round in 0..<10 {
                let data = round % 2 == 0, global = round % 2 == 0 ? "disabled" : "enabled"
                async let a = server.api.call(.PATCH, "/v1/sandbox/institutions/leanmb1", body: #"{"availability": {"active": {"data": \#(data)}}}"#)
                async let b = server.api.call(.PATCH, "/v1/sandbox/institutions/leanmb1", body: #"{"iban_verification": {"global": "\#(global)"}}"#)
                let (first, second) = try await (a, b)
                #expect(first.status == 200 && second.status == 200)
                let read = try await server.api.call(.GET, "/v1/sandbox/institutions/leanmb1").json
                #expect((read?["availability"] as? [String: [String: Bool]])?["active"]?["data"] == data, "round \(round)")
                #expect((read?["iban_verification"] as? [String: Any])?["global"] as? String == global, "round \(round)")
            }
        }
    }

    /// What the detail of a refusal says in the API's words, for the bodies that have one to check.
    static func expectedDetail(body: String) -> String? {
        switch body {
        case #"{"iban_verification": {"global": "maybe"}}"#: "must be enabled or disabled"
        case #"{"availability": 5}"#, "[]": "expected an object"
        default: nil
        }
    }

    @Test(arguments: [
        (#"{"availability": {"active": {"data": "no"}}}"#, 422, "/availability/active/data"),
        (#"{"availability": {"active": {"dta": true}}}"#, 422, "/availability/active/dta"),
        (#"{"availability": {"online": true}}"#, 422, "/availability/online"),
        (#"{"iban_verification": {"global": "maybe"}}"#, 422, "/iban_verification/global"),
        (#"{"iban_verification": {"account_type": {"student": {"match": "enabled"}}}}"#, 422, "/iban_verification/account_type/student"),
        (#"{"colour": "red"}"#, 422, "/colour"),
        (#"{"availability": [true]}"#, 422, "/availability"),
        (#"{"availability": "#, 400, "/"),
        (#"{"availability": 5}"#, 422, "/availability"),
        (#"[]"#, 422, "/"),
    ])
    func aBadChangeIsRefusedNamingTheField(_ body: String, _ status: Int, _ field: String) async throws {
        try await SandboxServer.run { server in
            let reply = try await server.call(.PATCH, "/v1/sandbox/institutions/leanmb1", template: "/v1/sandbox/institutions/{id}", body: body)
            #expect(reply.status == status, "\(body): \(reply.text)")
            #expect(reply.json?["field"] as? String == field, "\(body): \(reply.text)")
            // Said in the API's words, never the decoder's (`Dictionary<String, Any>`, `LeanAvailabilityState`).
            let detail = reply.json?["detail"] as? String ?? ""
            #expect(!detail.contains("Dictionary") && !detail.contains("LeanAvailabilityState") && !detail.contains("initialize"), "\(detail)")
            #expect(Self.expectedDetail(body: body).map { detail.contains($0) } ?? true, "\(detail)")
            let unknown = try await server.call(.PATCH, "/v1/sandbox/institutions/nope", template: "/v1/sandbox/institutions/{id}", body: "{}")
            #expect(unknown.status == 404)
        }
    }
}
