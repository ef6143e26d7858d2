import BankHooksCore
import Foundation
import Testing

@Suite struct ProviderFormatTests {
    let event = OutboundEvent(id: "evt_1", type: "results.ready", timestamp: Timestamp(milliseconds: 1_630_597_134_573), data: Array(#"{"id":"r"}"#.utf8))

    @Test func leanCountsOnly200WaitsTenSecondsAndRetriesOnItsOwnSchedule() {
        let lean = LeanFormat()
        #expect(lean.isSuccess(status: 200))
        #expect(!lean.isSuccess(status: 201) && !lean.isSuccess(status: 204) && !lean.isSuccess(status: 500))
        #expect(lean.timeout == .seconds(10))
        // 1, 2, 5, 10, 60 and 180 minutes after the first send.
        var elapsed: Int64 = 0
        var times: [Int64] = []
        for delay in lean.defaultSchedule.delays {
            elapsed += delay.components.seconds
            times.append(elapsed / 60)
        }
        #expect(times == [0, 1, 2, 5, 10, 60, 180])
        #expect(lean.defaultSchedule.jitter == 0)
        #expect(BridgeFormat().isSuccess(status: 204) && OkraFormat().isSuccess(status: 202))
        #expect(StandardWebhooksFormat().defaultSchedule == .standard && OkraFormat().defaultSchedule == .standard && BridgeFormat().defaultSchedule == .standard)
    }

    @Test func leanEventIDIsAStableUUID() throws {
        let body = LeanFormat().body(for: event)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let uuid = try #require(json["event_id"] as? String)
        #expect(UUID(uuidString: uuid) != nil)
        #expect(uuid == EventUUID.uuid(forEventID: "evt_1"))
        #expect(EventUUID.uuid(forEventID: "f8752072-cef2-4056-9ff0-d5d2aa1e4558") == "f8752072-cef2-4056-9ff0-d5d2aa1e4558")
        #expect(json["message"] as? String == "Your results are ready.")
        // Generated Lean timestamps have 6 fractional digits, as Lean documents.
        #expect(json["timestamp"] as? String == "2021-09-02T15:38:54.573000Z")
        var precise = event
        precise.timestampText = "2021-09-02T15:38:54.573741Z"
        #expect(String(decoding: LeanFormat().body(for: precise), as: UTF8.self).contains(#""timestamp":"2021-09-02T15:38:54.573741Z""#))
    }

    @Test func okraSplicesTheDataMembersAfterTheCallbackTypeAndCode() throws {
        var callback = OutboundEvent(id: "e", type: "TRANSACTIONS.INITIAL_TRANSACTIONS", timestamp: event.timestamp, data: Array(#" { "record" : "r", "error": null }"#.utf8))
        let body = OkraFormat().body(for: callback)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(json["callback_type"] as? String == "TRANSACTIONS")
        #expect(json["callback_code"] as? String == "INITIAL_TRANSACTIONS")
        #expect(json["record"] as? String == "r")
        callback.data = Array("{ }".utf8)
        #expect(String(decoding: OkraFormat().body(for: callback), as: UTF8.self) == #"{"callback_type":"TRANSACTIONS","callback_code":"INITIAL_TRANSACTIONS"}"#)
    }

    @Test func bridgeSendsEpochMillisecondsAndTheSeedsTestEvent() throws {
        var bridge = OutboundEvent(id: "e", type: "item.created", timestamp: Timestamp(milliseconds: 1_611_681_789_123), data: Array(#"{"item_id":1}"#.utf8))
        #expect(String(decoding: BridgeFormat().body(for: bridge), as: UTF8.self) == #"{"content":{"item_id":1},"timestamp":1611681789123,"type":"item.created"}"#)
        bridge.type = "TEST_EVENT"
        #expect(String(decoding: BridgeFormat().body(for: bridge), as: UTF8.self)
            == #"{"content":{"item_id":1234567890,"status":0,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"},"timestamp":1611681789,"type":"TEST_EVENT"}"#)
        let secret = WebhookSecret.generate()
        let headers = BridgeFormat().headers(for: bridge, body: [1, 2, 3], sentAt: bridge.timestamp, keys: [SigningKey(secret, key: BridgeFormat().signingKey(for: secret))])
        let signature = try #require(headers.first { $0.name == "BridgeApi-Signature" }?.value)
        #expect(signature.hasPrefix("v1=") && signature.dropFirst(3).allSatisfy { $0.isNumber || ("A"..."F").contains($0) } && signature.count == 67)
    }
}
