import BankHooksCore
@testable import BankHooksDelivery
@testable import BankHooksServer
import BankHooksStorage
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The server's HTTP kit: the one list envelope, the one error mapping, and the problem
/// middleware mounted on `/v1` only.
@Suite struct HTTPKitTests {
    /// The encoder the API answers with (`AppRequestContext.responseEncoder`).
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func listViewWritesNextCursorOnlyForPagedLists() throws {
        #expect(try Self.encode(ListView(all: [1, 2])) == #"{"data":[1,2]}"#)
        #expect(try Self.encode(ListView<Int>(page: [], nextCursor: nil)) == #"{"data":[],"next_cursor":null}"#)
        #expect(try Self.encode(ListView(page: [3], nextCursor: "abc")) == #"{"data":[3],"next_cursor":"abc"}"#)
    }

    @Test func listViewOfAPageCursorsItsLastRowOnlyWhenMoreFollow() throws {
        let more = ListView(Page(items: [7, 8], hasMore: true), view: { $0 * 10 }, key: { String($0) })
        #expect(more.data == [70, 80])
        #expect(more.nextCursor == PageQuery.encodeCursor("8"))
        #expect(try PageQuery.deliveryCursor(try #require(more.nextCursor)) == 8)
        let last = ListView(Page(items: [9], hasMore: false), view: { $0 }, key: { String($0) })
        #expect(last.isPaged && last.nextCursor == nil)
    }

    @Test func splicedListMatchesTheEncodedEnvelope() throws {
        let items = [#"{"a":1}"#, #"{"b":[2]}"#]
        for next in [nil, "Yzp4"] {
            let spliced = ListView(page: items.map { EncodedJSON(bytes: Array($0.utf8)) }, nextCursor: next).splicedJSON()
            let encoded = try Self.encode(ListView(page: [1, 2], nextCursor: next))
                .replacingOccurrences(of: "[1,2]", with: "[" + items.joined(separator: ",") + "]")
            #expect(String(decoding: spliced, as: UTF8.self) == encoded)
        }
        #expect(String(decoding: ListView(all: [EncodedJSON]()).splicedJSON(), as: UTF8.self) == #"{"data":[]}"#)
        #expect(throws: EncodingError.self) { try Self.encode(ListView(all: [EncodedJSON(bytes: [])])) }
    }

    static func map(_ error: any Error) -> Problem? {
        Problem.mapping(error, method: .get, path: "/v1/x", maxUploadSize: 1024)
    }

    @Test func domainErrorsMapToProblemsInOnePlace() throws {
        let busy = try #require(Self.map(DispatcherBusyError(webhookID: "wh_1", waited: .seconds(2), limits: (1, 2, 3))))
        #expect(busy.status == .tooManyRequests && busy.slug == "webhook-busy" && busy.headers[.retryAfter] == "1")
        #expect(busy.detail.hasPrefix("webhook wh_1 had no free in-flight slot"))

        #expect(Self.map(PublisherClosedError())?.status == .serviceUnavailable)
        let lost = try #require(Self.map(StoreUnavailableError("the database connection was lost")))
        #expect(lost.status == .serviceUnavailable && lost.slug == "database-unavailable" && lost.headers[.retryAfter] == "1")
        let large = try #require(Self.map(NIOTooManyBytesError(maxBytes: 1024)))
        #expect(large.status == .contentTooLarge && large.detail.contains("1024 bytes"))

        let syntax = try #require(Self.map(JSONSyntaxError(offset: 3, reason: "expected a value")))
        #expect(syntax.status == .badRequest && syntax.slug == "malformed-json")
        let repeated = try #require(Self.map(JSONSyntaxError(offset: 9, reason: "repeated", pointer: "/data/a~1b", isDuplicateMember: true)))
        #expect(repeated.status == .unprocessableContent && repeated.field == "/data/a~1b" && repeated.detail.hasPrefix("`a/b` appears more than once"))

        struct Body: Decodable { var eventTypes: [String] }
        var thrown: (any Error)?
        do { _ = try JSONDecoder().decode(Body.self, from: Data("{}".utf8)) } catch { thrown = error }
        let decodingError = try #require(thrown)
        let decoding = try #require(Self.map(decodingError))
        #expect(decoding.status == .unprocessableContent && decoding.field == "/event_types")

        let unknown = try #require(Self.map(EventError(.unknownType, at: "/type", "no such type")))
        #expect(unknown.slug == "unknown-event-type" && unknown.field == "/type")

        let route = try #require(Self.map(HTTPError(.notFound)))
        #expect(route.slug == "not-found" && route.detail == "no route for GET /v1/x")
        let problem = Problem.notFound("webhook wh_2")
        #expect(Self.map(problem)?.detail == problem.detail)

        struct Unexpected: Error {}
        #expect(Self.map(Unexpected()) == nil)
        #expect(Self.map(CancellationError()) == nil)
    }

    /// A body or member of the wrong JSON type is named in JSON's words, never Swift's.
    @Test func typeMismatchesAreDescribedInJSONTerms() throws {
        struct Body: Decodable { var name: String; var tags: [String]; var inner: Inner }
        struct Inner: Decodable { var flag: Bool }
        func detail(_ json: String) -> String {
            do {
                _ = try JSONDecoder().decode(Body.self, from: Data(json.utf8))
                return "decoded"
            } catch let error as DecodingError {
                return Problem.decoding(error).detail
            } catch { return "\(error)" }
        }
        #expect(detail("[]") == "expected an object")
        #expect(detail(#"{"name": 1, "tags": [], "inner": {"flag": true}}"#) == "expected a string")
        #expect(detail(#"{"name": "a", "tags": {}, "inner": {"flag": true}}"#) == "expected an array")
        #expect(detail(#"{"name": "a", "tags": [], "inner": []}"#) == "expected an object")
        #expect(detail(#"{"name": "a", "tags": [], "inner": {"flag": "yes"}}"#) == "expected a boolean")
        for json in ["[]", #"{"name": "a", "tags": [], "inner": 5}"#] {
            #expect(!detail(json).contains("Dictionary"), "\(json): \(detail(json))")
        }
    }

    @Test func problemJSONIsMountedOnV1Only() async throws {
        let f = try await APIFixture()
        try await f.test { client in
            // Under /v1, an unknown path or method is a problem+json 404, before authentication.
            for (path, method) in [("/v1/nothing-here", HTTPRequest.Method.get), ("/v1", .get), ("/v1/webhooks", .put), ("/v1/events/a/b/c", .delete)] {
                try await client.execute(uri: path, method: method) { response in
                    #expect(response.status == .notFound, "\(method) \(path)")
                    #expect(response.headers[.contentType] == "application/problem+json", "\(method) \(path)")
                    #expect(response.json?["detail"] as? String == "no route for \(method) \(path)")
                    #expect(response.json?["instance"] as? String == path)
                }
            }
            // A matched /v1 route still authenticates inside the problem middleware.
            try await client.execute(uri: "/v1/webhooks", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            // Outside /v1 the problem middleware does not answer: Hummingbird's own 404.
            for path in ["/nothing-here", "/v1nothing", "/dashboard/x"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .notFound, "\(path)")
                    #expect(response.headers[.contentType] != "application/problem+json", "\(path)")
                }
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
            }
        }
    }
}
