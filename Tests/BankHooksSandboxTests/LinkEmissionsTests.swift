import BankHooksCore
@testable import BankHooksSandbox
import BankHooksTestSupport
import BankHooksVerify
import Foundation
import Testing

/// What a link sets off, as scheduled events: every payload is its catalog model's, in the
/// provider's member order, due when the design says.
@Suite struct LinkEmissionsTests {
    static let now = Timestamp(milliseconds: 1_700_000_000_000)

    /// Seed 000's bank: "Lean Mockbank 1" / LEANMB1 / #183F3F, no logo.
    static let mockbank = SandboxInstitution.builtIn(id: "leanmb1")!

    static func consent(id: String = "f08fb010-878f-407a-9ac2-a7840fb56185", login: String = "user", appUserID: String? = "00001") -> Consent {
        Consent(
            id: id, applicationID: "app", authorisationID: id, institutionID: mockbank.id, applicationUserID: appUserID,
            userUUID: "9a95b38f-f98b-417a-988b-9d0d584893e7", login: login, permissions: ["transactions", "balance", "identity", "accounts"],
            createdAt: now, authorizedAt: now, expiresAt: now.adding(.seconds(90 * 86_400)),
            leanEntityID: "f08fb010-878f-407a-9ac2-a7840fb56185", okraRecordID: "5f0c0e4b2a1b3c4d5e6f7a8b", bridgeItemID: 8_123_456)
    }

    static func authorisation() -> Authorisation {
        Authorisation(
            id: "f08fb010-878f-407a-9ac2-a7840fb56185", applicationID: "app", institutionID: mockbank.id, applicationUserID: "00001",
            userUUID: "9a95b38f-f98b-417a-988b-9d0d584893e7", callback: "https://example.com/cb", oneTimeToken: false,
            permissions: ["accounts"], forwardParameters: [], state: String(repeating: "a", count: 32), createdAt: now,
            expiresAt: now.adding(.seconds(1800)))
    }

    static func text(_ event: ScheduledEvent) -> String { String(decoding: event.data, as: UTF8.self) }

    /// Every event decodes with its type's catalog model (what the event service checks).
    static func expectCatalogValid(_ events: [ScheduledEvent]) throws {
        for event in events {
            let definition = try #require(EventCatalog.builtIn[event.type], "\(event.type) is a catalog type")
            #expect(throws: Never.self, "\(event.type) data matches its model") { _ = try definition.decode(Data(event.data)) }
            #expect(event.id.hasPrefix("sev_"))
            #expect(event.applicationID == "app")
            #expect(event.webhookID == nil)
        }
    }

    @Test func aLinkSetsOffEveryFamilysEventsInOrderAndOnTime() throws {
        let emissions = LinkEmissions(timings: SandboxTimings())
        let events = try emissions.linked([Self.consent()], institution: Self.mockbank, now: Self.now)
        try Self.expectCatalogValid(events)
        let accounts = SandboxData.accounts(login: "user")
        let expected: [(String, Int64)] = [
            ("bank_link.result", 0), ("entity.created", 0), ("results.ready", 2000),
            ("AUTH.AUTH_SUCCESS", 0), ("TRANSACTIONS.INITIAL_TRANSACTIONS", 1000), ("BALANCE.PRODUCT_IS_READY", 2000),
            ("IDENTITY.PRODUCT_IS_READY", 2000), ("TRANSACTIONS.FULL_TRANSACTIONS", 4000), ("INCOME.PRODUCT_IS_READY", 4000),
            ("item.created", 0), ("item.refreshed", 1000),
        ] + accounts.map { _ in ("item.account.created", 1000) }
        #expect(events.map(\.type) == expected.map(\.0))
        #expect(events.map { $0.dueAt.milliseconds - Self.now.milliseconds } == expected.map(\.1))
        // Ids increase in the order the events were made, so equal due times publish in that order.
        #expect(events.map(\.id) == events.map(\.id).sorted())
        #expect(Set(events.map(\.id)).count == events.count)
    }

    @Test func leansCallbackURLBodyIsSeed000sShape() throws {
        let events = try LinkEmissions(timings: SandboxTimings()).linked([Self.consent()], institution: Self.mockbank, now: Self.now)
        let result = try #require(events.first { $0.type == "bank_link.result" })
        #expect(Self.text(result) == ##"{"status":{"code":"200","message":"Success, here's everything you need to retrieve your user's information"},"data":{"entity":{"entity_uuid":"f08fb010-878f-407a-9ac2-a7840fb56185","app_user_id":"00001","permissions":["transactions","balance","identity","accounts"]},"bank_details":{"name":"Lean Mockbank 1","bank_identifier":"LEANMB1","logo_url":"","primary_color":"#183F3F"}}}"##)
        let wrong = try LinkEmissions(timings: SandboxTimings()).wrongPassword(Self.authorisation(), institution: Self.mockbank, now: Self.now)
        try Self.expectCatalogValid(wrong)
        #expect(wrong.map(\.type) == ["bank_link.result"])
        #expect(wrong.map(\.dueAt) == [Self.now])
        #expect(Self.text(wrong[0]) == #"{"status":{"code":"401","message":"The username or password submitted was incorrect"},"data":null}"#)
    }

    @Test func theEntityAndTheOtherPayloadsCarryTheConsentsIds() throws {
        let consent = Self.consent()
        let events = try LinkEmissions(timings: SandboxTimings()).linked([consent], institution: Self.mockbank, now: Self.now)
        func body(_ type: String) throws -> String { Self.text(try #require(events.first { $0.type == type })) }
        let customer = LinkEmissions.leanCustomerID(applicationID: "app", userUUID: consent.userUUID)
        #expect(try body("entity.created") == ##"{"id":"f08fb010-878f-407a-9ac2-a7840fb56185","app_user_id":"00001","customer_id":"\##(customer)","permissions":["transactions","balance","identity","accounts"],"bank_details":{"logo":"","name":"Lean Mockbank 1","account_type":"PERSONAL","identifier":"LEANMB1","main_color":"#183F3F","background_color":"#ffffff"}}"##)
        #expect(try body("results.ready") == #"{"id":"f08fb010-878f-407a-9ac2-a7840fb56185"}"#)
        let counts = SandboxData.transactionCounts(login: "user")
        // Okra's real AUTH callback: its code and envelope (research/provider-docs.md).
        #expect(try body("AUTH.AUTH_SUCCESS") == #"{"method":"AUTH","type":"CALLBACK","code":"AUTH_SUCCESS","env":"sandbox","status":"is_success","started_at":"\#(Self.now.iso8601)","ended_at":"\#(Self.now.iso8601)","message":"Successfully fetched auth","record":"5f0c0e4b2a1b3c4d5e6f7a8b","recordId":"5f0c0e4b2a1b3c4d5e6f7a8b"}"#)
        #expect(try body("TRANSACTIONS.INITIAL_TRANSACTIONS") == #"{"record":"5f0c0e4b2a1b3c4d5e6f7a8b","error":null,"new_transactions":\#(counts.initial)}"#)
        #expect(try body("TRANSACTIONS.FULL_TRANSACTIONS") == #"{"record":"5f0c0e4b2a1b3c4d5e6f7a8b","error":null,"new_transactions":\#(counts.total - counts.initial)}"#)
        #expect(try body("item.created") == #"{"item_id":8123456,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"}"#)
        #expect(try body("item.refreshed") == #"{"item_id":8123456,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7","status_code":0,"status_code_info":"ok","full_refresh":true,"refresh_trigger":"connect"}"#)
        let accounts = events.filter { $0.type == "item.account.created" }.map(Self.text)
        #expect(accounts == SandboxData.accounts(login: "user").map { account in
            let id = LinkEmissions.bridgeAccountID(itemID: 8_123_456, accountID: account.id)
            return #"{"account_id":\#(id),"item_id":8123456,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7","balance":\#(Double(account.balance)!)}"#
        })
        // Without an application user id, Lean's app_user_id is the user's UUID.
        let anonymous = try LinkEmissions(timings: SandboxTimings()).linked([Self.consent(appUserID: nil)], institution: Self.mockbank, now: Self.now)
        #expect(Self.text(anonymous[1]).contains(#""app_user_id":"9a95b38f-f98b-417a-988b-9d0d584893e7""#))
    }

    @Test func twoConsentsSetOffTwoSetsAndTheCustomerIsTheSameUser() throws {
        let first = Self.consent(id: "11111111-1111-4111-8111-111111111111", login: "multi")
        var second = Self.consent(id: "22222222-2222-4222-8222-222222222222", login: "multi")
        second.leanEntityID = "33333333-3333-4333-8333-333333333333"
        second.okraRecordID = "aaaaaaaaaaaaaaaaaaaaaaaa"
        second.bridgeItemID = 99
        let events = try LinkEmissions(timings: .demo).linked([first, second], institution: Self.mockbank, now: Self.now)
        try Self.expectCatalogValid(events)
        #expect(events.filter { $0.type == "entity.created" }.count == 2)
        #expect(events.filter { $0.type == "item.created" }.map(Self.text).last?.contains(#""item_id":99"#) == true)
        #expect(events.allSatisfy { $0.dueAt.duration(since: Self.now) <= .milliseconds(500) }, "the demo timings keep everything within 500 ms")
    }

    @Test func aFailureSetsOffNothingAndARevokeUpdatesTheEntity() throws {
        let emissions = LinkEmissions(timings: SandboxTimings())
        #expect(try emissions.failed(Self.authorisation(), institution: Self.mockbank, bankError: "access_denied", now: Self.now).isEmpty)
        let revoked = try emissions.revoked(Self.consent(), institution: Self.mockbank, now: Self.now)
        try Self.expectCatalogValid(revoked)
        #expect(revoked.map(\.type) == ["entity.updated"])
        let created = try emissions.linked([Self.consent()], institution: Self.mockbank, now: Self.now).first { $0.type == "entity.created" }
        #expect(revoked.first?.data == created?.data, "the same entity, ids and permissions")
    }

    @Test func anAvailabilityChangeAnnouncesOnlyWhatChanged() throws {
        let emissions = LinkEmissions(timings: SandboxTimings())
        var after = Self.mockbank
        #expect(try emissions.availabilityChanged(applicationID: "app", before: Self.mockbank, after: after, now: Self.now).isEmpty)
        after.availability.bank.active.data = false
        let bank = try emissions.availabilityChanged(applicationID: "app", before: Self.mockbank, after: after, now: Self.now)
        try Self.expectCatalogValid(bank)
        #expect(bank.map(\.type) == ["bank.availability.updated"])
        #expect(Self.text(bank[0]) == #"{"identifier":"LEANMB1","availability":{"active":{"payments":true,"data":false},"enabled":{"payments":true,"data":true}}}"#)
        after.availability.ibanVerification.accountType.business.noMatch = .disabled
        let both = try emissions.availabilityChanged(applicationID: "app", before: Self.mockbank, after: after, now: Self.now)
        try Self.expectCatalogValid(both)
        #expect(both.map(\.type) == ["bank.availability.updated", "iban_account_verification.bank.availability.updated"])
        #expect(Self.text(both[1]) == #"{"country_code":"AE","bank_code":"999","availability":{"global":"enabled","account_type":{"personal":{"match":"enabled","no_match":"enabled"},"freelancer":{"match":"enabled","no_match":"enabled"},"business":{"match":"enabled","no_match":"disabled"}}}}"#)
    }

    @Test func derivedIdsAreStableAndShaped() throws {
        let uuid = try Regex(#"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"#)
        let a = LinkEmissions.leanCustomerID(applicationID: "app", userUUID: "u1")
        #expect(a.wholeMatch(of: uuid) != nil)
        #expect(a == LinkEmissions.leanCustomerID(applicationID: "app", userUUID: "u1"))
        #expect(a != LinkEmissions.leanCustomerID(applicationID: "other", userUUID: "u1"))
        #expect(LinkEmissions.bridgeAccountID(itemID: 1, accountID: "x") == LinkEmissions.bridgeAccountID(itemID: 1, accountID: "x"))
        #expect(LinkEmissions.bridgeAccountID(itemID: 1, accountID: "x") != LinkEmissions.bridgeAccountID(itemID: 2, accountID: "x"))
    }
}

/// What a link sets off, end to end: scheduled, published by the runner through the real event
/// service, and delivered by the dispatcher to webhooks of every format on 127.0.0.1, with the
/// bodies the seeds print.
@Suite struct LinkEmissionsDeliveryTests {
    /// The pipeline with one webhook per format (and Lean's Callback URL) at the receiver.
    static func pipeline(_ receiver: TestReceiver) async throws -> SandboxPipeline {
        let p = try SandboxPipeline(delivering: true)
        try await p.webhook("wh_callback", url: receiver.url("/callback"), format: "lean", types: ["bank_link.result"])
        try await p.webhook("wh_lean", url: receiver.url("/lean"), format: "lean")
        try await p.webhook("wh_okra", url: receiver.url("/okra"), format: "okra")
        try await p.webhook("wh_bridge", url: receiver.url("/bridge"), format: "bridge")
        return p
    }

    /// The bodies received at `path`, by event type (each type once).
    static func bodies(_ receiver: TestReceiver, _ path: String, type: (String) -> String?) -> [String: String] {
        var out: [String: String] = [:]
        for request in receiver.requests where request.path == path {
            if let name = type(request.bodyText) { out[name] = request.bodyText }
        }
        return out
    }

    /// The member `"name":"value"` of a body's top level (good enough for the envelopes here).
    static func member(_ name: String, of body: String) -> String? {
        guard let range = body.range(of: "\"\(name)\":\"") else { return nil }
        return String(body[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test func aLinksEventsReachEveryFormatAsTheSeedsPrintThem() async throws {
        try await TestReceiver.run { receiver in
            let p = try await Self.pipeline(receiver)
            let consent = LinkEmissionsTests.consent()
            let linkedAt = p.clock.now()
            let events = try LinkEmissions(timings: SandboxTimings()).linked([consent], institution: LinkEmissionsTests.mockbank, now: linkedAt)
            let accounts = SandboxData.accounts(login: consent.login)
            try await p.run {
                try await p.store.scheduleEvents(events)
                p.runner.wake()
                // The ones due now arrive without the clock moving: Lean's two, Okra's AUTH, Bridge's item.created.
                _ = try await receiver.waitForRequests(4)
                p.clock.advance(by: .seconds(5))
                p.runner.wake()
                _ = try await receiver.waitForRequests(events.count)
                try await eventually("every scheduled event deleted") { try await p.store.nextScheduledEventDue() == nil }
            }
            #expect(receiver.requests.count == events.count, "each event once, to the webhooks of its format")
            // Okra's pull path (GET /v1/callback?record=&method=) finds the record's callbacks.
            for method in ["AUTH", "TRANSACTIONS", "BALANCE", "IDENTITY", "INCOME"] {
                #expect(try await p.store.latestEvent(applicationID: "app", subject: consent.okraRecordID, typePrefix: method + ".") != nil)
            }
            #expect(try await p.store.latestEvent(applicationID: "app", subject: consent.okraRecordID, typePrefix: "TRANSACTIONS.")?.type
                == "TRANSACTIONS.FULL_TRANSACTIONS")
            let callback = receiver.requests.filter { $0.path == "/callback" }.map(\.bodyText)
            #expect(callback == [##"{"status":{"code":"200","message":"Success, here's everything you need to retrieve your user's information"},"data":{"entity":{"entity_uuid":"f08fb010-878f-407a-9ac2-a7840fb56185","app_user_id":"00001","permissions":["transactions","balance","identity","accounts"]},"bank_details":{"name":"Lean Mockbank 1","bank_identifier":"LEANMB1","logo_url":"","primary_color":"#183F3F"}}}"##])
            let lean = Self.bodies(receiver, "/lean") { Self.member("type", of: $0) }
            #expect(Set(lean.keys) == ["entity.created", "results.ready"])
            let customer = LinkEmissions.leanCustomerID(applicationID: "app", userUUID: consent.userUUID)
            #expect(lean["entity.created"]?.hasPrefix(##"{"type":"entity.created","message":"An entity object has been created.","payload":{"id":"f08fb010-878f-407a-9ac2-a7840fb56185","app_user_id":"00001","customer_id":"\##(customer)","permissions":["transactions","balance","identity","accounts"],"bank_details":{"logo":"","name":"Lean Mockbank 1","account_type":"PERSONAL","identifier":"LEANMB1","main_color":"#183F3F","background_color":"#ffffff"}},"timestamp":""##) == true)
            #expect(lean["results.ready"]?.hasPrefix(#"{"type":"results.ready","message":"Your results are ready.","payload":{"id":"f08fb010-878f-407a-9ac2-a7840fb56185"},"timestamp":""#) == true)
            let okra = Self.bodies(receiver, "/okra") { body in
                Self.member("callback_type", of: body).flatMap { type in Self.member("callback_code", of: body).map { "\(type).\($0)" } }
            }
            let counts = SandboxData.transactionCounts(login: consent.login)
            let record = consent.okraRecordID
            #expect(okra == [
                "AUTH.AUTH_SUCCESS": #"{"callback_type":"AUTH","callback_code":"AUTH_SUCCESS","method":"AUTH","type":"CALLBACK","code":"AUTH_SUCCESS","env":"sandbox","status":"is_success","started_at":"\#(linkedAt.iso8601)","ended_at":"\#(linkedAt.iso8601)","message":"Successfully fetched auth","record":"\#(record)","recordId":"\#(record)"}"#,
                "TRANSACTIONS.INITIAL_TRANSACTIONS": #"{"callback_type":"TRANSACTIONS","callback_code":"INITIAL_TRANSACTIONS","record":"\#(record)","error":null,"new_transactions":\#(counts.initial)}"#,
                "BALANCE.PRODUCT_IS_READY": #"{"callback_type":"BALANCE","callback_code":"PRODUCT_IS_READY","record":"\#(record)","error":null}"#,
                "IDENTITY.PRODUCT_IS_READY": #"{"callback_type":"IDENTITY","callback_code":"PRODUCT_IS_READY","record":"\#(record)","error":null}"#,
                "TRANSACTIONS.FULL_TRANSACTIONS": #"{"callback_type":"TRANSACTIONS","callback_code":"FULL_TRANSACTIONS","record":"\#(record)","error":null,"new_transactions":\#(counts.total - counts.initial)}"#,
                "INCOME.PRODUCT_IS_READY": #"{"callback_type":"INCOME","callback_code":"PRODUCT_IS_READY","record":"\#(record)","error":null}"#,
            ])
            let bridge = receiver.requests.filter { $0.path == "/bridge" }.map(\.bodyText)
            #expect(bridge.count == 2 + accounts.count)
            let created = try #require(bridge.first { $0.hasSuffix(#""type":"item.created"}"#) })
            #expect(created.hasPrefix(#"{"content":{"item_id":8123456,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"},"timestamp":"#))
            #expect(bridge.contains { $0.hasPrefix(#"{"content":{"item_id":8123456,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7","status_code":0,"status_code_info":"ok","full_refresh":true,"refresh_trigger":"connect"},"timestamp":"#) })
            for account in accounts {
                let id = LinkEmissions.bridgeAccountID(itemID: consent.bridgeItemID, accountID: account.id)
                #expect(bridge.contains { $0.hasPrefix(#"{"content":{"account_id":\#(id),"item_id":8123456,"#) && $0.hasSuffix(#""type":"item.account.created"}"#) })
            }
        }
    }

    @Test func aWrongPasswordSendsLeansCallbackURLExactlySeed000sFailureAndNothingElse() async throws {
        try await TestReceiver.run { receiver in
            let p = try await Self.pipeline(receiver)
            let events = try LinkEmissions(timings: SandboxTimings())
                .wrongPassword(LinkEmissionsTests.authorisation(), institution: LinkEmissionsTests.mockbank, now: p.clock.now())
            try await p.run {
                try await p.store.scheduleEvents(events)
                p.runner.wake()
                _ = try await receiver.waitForRequests(1)
                p.clock.advance(by: .seconds(10))
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(receiver.requests.map(\.path) == ["/callback"])
            #expect(receiver.requests.first?.bodyText == #"{"status":{"code":"401","message":"The username or password submitted was incorrect"},"data":null}"#)
        }
    }

    @Test func aRevokeAndAnAvailabilityChangeReachLeanWebhooks() async throws {
        try await TestReceiver.run { receiver in
            let p = try await Self.pipeline(receiver)
            let emissions = LinkEmissions(timings: SandboxTimings())
            var after = LinkEmissionsTests.mockbank
            after.availability.bank.enabled.payments = false
            after.availability.ibanVerification.global = .disabled
            let events = try emissions.revoked(LinkEmissionsTests.consent(), institution: LinkEmissionsTests.mockbank, now: p.clock.now())
                + emissions.availabilityChanged(applicationID: "app", before: LinkEmissionsTests.mockbank, after: after, now: p.clock.now())
            try await p.run {
                try await p.store.scheduleEvents(events)
                p.runner.wake()
                _ = try await receiver.waitForRequests(3)
                try await Task.sleep(for: .milliseconds(200))
            }
            let lean = Self.bodies(receiver, "/lean") { Self.member("type", of: $0) }
            #expect(receiver.requests.count == 3)
            #expect(lean["entity.updated"]?.hasPrefix(#"{"type":"entity.updated","message":"An entity object has been updated.","payload":{"id":"f08fb010-878f-407a-9ac2-a7840fb56185","#) == true)
            #expect(lean["bank.availability.updated"]?.hasPrefix(#"{"type":"bank.availability.updated","message":"The bank status has been updated.","payload":{"identifier":"LEANMB1","availability":{"active":{"payments":true,"data":true},"enabled":{"payments":false,"data":true}}},"timestamp":""#) == true)
            #expect(lean["iban_account_verification.bank.availability.updated"]?.hasPrefix(#"{"type":"iban_account_verification.bank.availability.updated","message":"IBAN account verification bank availability has been updated","payload":{"country_code":"AE","bank_code":"999","availability":{"global":"disabled","#) == true)
        }
    }
}
