import BankHooksTestSupport
import Testing

/// The shared receiver's two modes, hit over real HTTP by the shared client.
@Suite struct LoopbackReceiverTests {
    @Test func arrivalsModeNotesEventIndexesAndIgnoresOtherRequests() async throws {
        try await LoopbackReceiver.run(mode: .arrivals) { receiver in
            receiver.reset(expecting: 3)
            let client = APIClient(baseURL: receiver.url(""), key: nil)
            for (path, id) in [("/hook/0", "b7"), ("/bare", nil), ("/hook/1", "x1"), ("/hook/0", "b2"), ("/hook/1", "b7")] {
                let reply = try await client.call(.POST, path, body: "{}", headers: id.map { ["webhook-id": $0] } ?? [:])
                #expect(reply.status == 200 && reply.text == "ok")
            }
            #expect(await receiver.waitForAll(timeout: .seconds(10)) == 3)
            #expect(receiver.receipts().map(\.0) == [7, 2, 7])
            #expect(receiver.lastReceived == receiver.receipts().last?.1)
            // Nothing is recorded in full in this mode.
            #expect(receiver.requests.isEmpty)
            receiver.reset(expecting: 1)
            #expect(receiver.receipts().isEmpty && receiver.lastReceived == nil)
        }
    }

    @Test func waitForAllReturnsWhatArrivedWhenTheTimeoutPasses() async throws {
        try await LoopbackReceiver.run(mode: .arrivals) { receiver in
            receiver.reset(expecting: 2)
            _ = try await APIClient(baseURL: receiver.url(""), key: nil).call(.POST, "/hook", headers: ["webhook-id": "b0"])
            #expect(await receiver.waitForAll(timeout: .milliseconds(200)) == 1)
        }
    }

    @Test func recordModeRecordsEveryRequestAndAnswersAsScripted() async throws {
        try await LoopbackReceiver.run(script: { received, index in
            .init(status: index == 0 ? 503 : 201, headers: ["Retry-After": "3", "bad name": "dropped"], body: received.path)
        }) { receiver in
            let client = APIClient(baseURL: receiver.url(""), key: "k")
            let first = try await client.call(.POST, "/a", body: #"{"n":1}"#)
            let second = try await client.call(.POST, "/b")
            #expect(first.status == 503 && first.text == "/a" && first.headers["retry-after"] == ["3"])
            #expect(second.status == 201 && second.text == "/b")
            let requests = try await receiver.waitForRequests(2)
            #expect(requests.map(\.path) == ["/a", "/b"])
            #expect(requests[0].bodyText == #"{"n":1}"# && requests[0].header("Authorization") == "Bearer k")
            #expect(requests[0].header("content-type") == "application/json")
            await #expect(throws: ReceiverTimeout.self) { _ = try await receiver.waitForRequests(3, timeout: .milliseconds(50)) }
        }
    }
}
