import BankHooksCore
import BankHooksStorage
import Foundation
import Hummingbird

/// Page parameters and cursors. A cursor is opaque to clients: base64url of the last row's key.
enum PageQuery {
    static let defaultLimit = 50
    static let maxLimit = 100

    /// A 400 naming the query parameter `name` (every list filter and query check answers this way).
    static func invalid(_ name: String, _ detail: String) -> Problem {
        Problem(.badRequest, "invalid-query", title: "A query parameter is invalid", detail: detail, field: "query:\(name)")
    }

    static let badCursor = invalid("cursor", "`cursor` is not a cursor this list gave out (use `next_cursor` as it is)")

    static func limit(_ query: Parameters, default fallback: Int = defaultLimit) throws -> Int {
        guard let text = query.get("limit") else { return fallback }
        guard let limit = Int(text), (1...maxLimit).contains(limit) else {
            throw invalid("limit", "`limit` must be an integer from 1 to \(maxLimit)")
        }
        return limit
    }

    static func time(_ query: Parameters, _ name: String) throws -> Timestamp? {
        guard let text = query.get(name) else { return nil }
        guard let time = Timestamp(iso8601: text) else {
            throw invalid(name, "`\(name)` must be an RFC 3339 date-time such as 2026-11-24T09:00:00Z")
        }
        return time
    }

    static func encodeCursor(_ key: String) -> String {
        Data(key.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The key inside a cursor: only one this list could have given out (base64url without
    /// padding, written exactly as `encodeCursor` writes it), so no two texts name one page.
    static func cursor(_ text: String, maxLength: Int = 64) throws -> String {
        // Checked before any work on the text (a query can be kilobytes long).
        guard text.utf8.count <= maxLength else { throw badCursor }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64.append("=") }
        guard let data = Data(base64Encoded: base64), let key = String(data: data, encoding: .utf8), encodeCursor(key) == text else { throw badCursor }
        return key
    }

    /// An event list's cursor: the store's key of the last event of the page before.
    static func eventCursor(_ text: String) throws -> EventCursor {
        guard let cursor = EventCursor(key: try cursor(text)) else { throw badCursor }
        return cursor
    }

    static func encodeCursor(_ cursor: EventCursor) -> String { encodeCursor(cursor.key) }

    /// A delivery list's cursor: the id of the last delivery of the page before.
    static func deliveryCursor(_ text: String) throws -> Int64 {
        guard let id = Identifier.canonicalDecimal(Substring(try cursor(text))), id > 0 else { throw badCursor }
        return id
    }

}

/// A list as the API answers it: `data`, and for a paginated list `next_cursor` (null on the last
/// page). The one envelope of every list: a handler reads its query (`PageQuery`), asks the store
/// for a `Page` (the model) and answers this view.
struct ListView<Item: Encodable & Sendable>: Encodable, Sendable {
    var data: [Item]
    /// Whether the list is paginated: only then does it carry `next_cursor`.
    var isPaged: Bool
    /// The cursor of the next page, as the client sends it back (already encoded).
    var nextCursor: String?

    /// A list answered whole (no `next_cursor` member).
    init(all items: [Item]) {
        (data, isPaged, nextCursor) = (items, false, nil)
    }

    /// One page, whose `next_cursor` is `nextCursor` (null on the last page).
    init(page items: [Item], nextCursor: String?) {
        (data, isPaged, self.nextCursor) = (items, true, nextCursor)
    }

    /// One page of store rows: each shown as `view` makes it, and when more follow, `next_cursor`
    /// is the cursor of the last row (`key` gives the row's key, encoded here).
    init<Row>(_ page: Page<Row>, view: (Row) -> Item, key: (Row) -> String) {
        self.init(page: page.items.map(view), nextCursor: page.hasMore ? page.items.last.map { PageQuery.encodeCursor(key($0)) } : nil)
    }

    enum CodingKeys: String, CodingKey { case data, nextCursor }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(data, forKey: .data)
        guard isPaged else { return }
        if let nextCursor { try container.encode(nextCursor, forKey: .nextCursor) } else { try container.encodeNil(forKey: .nextCursor) }
    }
}

/// An item already written as JSON text (an event type, whose schema is spliced in as it was sent).
struct EncodedJSON: Encodable, Sendable {
    var bytes: [UInt8]

    /// `JSONEncoder` cannot write raw text; a list of these is written by `ListView.splicedJSON()`.
    func encode(to encoder: any Encoder) throws {
        throw EncodingError.invalidValue(bytes, .init(codingPath: encoder.codingPath, debugDescription: "write lists of EncodedJSON with splicedJSON()"))
    }
}

extension ListView where Item == EncodedJSON {
    /// The list as JSON with each item's text spliced in, members in the order `JSONEncoder` sorts them.
    func splicedJSON() -> [UInt8] {
        var body = Array(#"{"data":["#.utf8)
        for (i, item) in data.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: item.bytes)
        }
        body.append(UInt8(ascii: "]"))
        if isPaged {
            body.append(contentsOf: #","next_cursor":"#.utf8)
            if let nextCursor { JSONWriter.appendString(nextCursor, to: &body) } else { body.append(contentsOf: "null".utf8) }
        }
        body.append(UInt8(ascii: "}"))
        return body
    }
}
