import BankHooksServer
import BankHooksTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Input one backend could store and another could not (PostgreSQL's text holds no NUL character;
/// its index rows are bounded) is refused by the API itself, the same on every backend, with a 4xx
/// naming what is wrong.
@Suite struct UnstorableInputTests {
    func json(_ object: Any) throws -> ByteBuffer { ByteBuffer(data: try JSONSerialization.data(withJSONObject: object)) }

    @Test func aNULInAPathIdOrANameAndAnOversizedOkraRecordAre4xx() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            for path in ["/v1/webhooks/%00", "/v1/events/evt%00x", "/v1/event-types/a%00b"] {
                try await client.execute(uri: path, method: .get, headers: auth(f.operatorKey)) { response in
                    #expect(response.status == .notFound, "\(path): \(response.text)")
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
            }
            try await client.execute(uri: "/v1/webhooks", method: .post, headers: auth(f.operatorKey),
                                     body: try json(["url": "https://example.com/x", "name": "a\u{0}b"])) { response in
                #expect(response.status == .unprocessableContent, "\(response.text)")
                #expect(response.json?["field"] as? String == "/name")
            }
            try await client.execute(uri: "/v1/applications", method: .post, headers: auth(f.operatorKey),
                                     body: try json(["name": "a\u{0}b", "environment": "sandbox"])) { response in
                #expect(response.status == .unprocessableContent, "\(response.text)")
                #expect(response.json?["field"] as? String == "/name")
            }
            let long = String(repeating: "r", count: 257)
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey),
                                     body: ByteBuffer(string: #"{"type": "RECORD.ERROR", "data": {"record": "\#(long)"}}"#)) { response in
                #expect(response.status == .unprocessableContent, "\(response.text)")
                #expect(response.json?["field"] as? String == "/data/record")
            }
            // 256 bytes is a record.
            try await client.execute(uri: "/v1/events", method: .post, headers: auth(f.operatorKey),
                                     body: ByteBuffer(string: #"{"type": "RECORD.ERROR", "data": {"record": "\#(long.dropLast())"}}"#)) { response in
                #expect(response.status == .accepted || response.status == .created || response.status == .ok, "\(response.text)")
            }
        }
    }
}
