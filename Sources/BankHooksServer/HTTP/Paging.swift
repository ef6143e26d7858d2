import BankHooksCore
import BankHooksStorage
import Foundation
import Hummingbird

/// Page parameters and cursors. A cursor is opaque to clients: base64url of the last row's key.
enum PageQuery {
    static let defaultLimit = 50
    static let maxLimit = 100

    static func invalid(_ name: String, _ detail: String) -> Problem {
        Problem(.badRequest, "invalid-query", title: "A query parameter is invalid", detail: detail, field: "query:\(name)")
    }

    static let badCursor = invalid("cursor", "`cursor` is not a cursor this list gave out (use `next_cursor` as it is)")

    static func limit(_ query: Parameters) throws -> Int {
        guard let text = query.get("limit") else { return defaultLimit }
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

    /// An event list's cursor: `<created_at ms>.<seq>` of the last event of the page before.
    static func eventCursor(_ text: String) throws -> EventCursor {
        let parts = try cursor(text).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let created = decimal(parts[0]), let seq = decimal(parts[1]) else { throw badCursor }
        return EventCursor(createdAt: created, seq: seq)
    }

    static func encodeCursor(_ cursor: EventCursor) -> String { encodeCursor("\(cursor.createdAt).\(cursor.seq)") }

    /// A delivery list's cursor: the id of the last delivery of the page before.
    static func deliveryCursor(_ text: String) throws -> Int64 {
        guard let id = decimal(Substring(try cursor(text))), id > 0 else { throw badCursor }
        return id
    }

    /// A number as keys are written: decimal digits without sign or leading zeros, within Int64.
    static func decimal(_ text: Substring) -> Int64? {
        guard let first = text.utf8.first, first != UInt8(ascii: "0") || text.utf8.count == 1,
              text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(text)
    }
}
