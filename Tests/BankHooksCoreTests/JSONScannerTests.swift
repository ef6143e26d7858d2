import BankHooksCore
import Testing

@Suite struct JSONScannerTests {
    func members(_ text: String) throws -> [JSONMember]? {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { try JSONScanner.objectMembers(of: $0) }
    }

    func kind(_ text: String) throws -> JSONKind {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { try JSONScanner.validate($0) }
    }

    @Test func returnsMembersAsExactByteRanges() throws {
        let text = #" { "type" : "a.b", "data": {"x": [1, 2.5e3, -0.1, true, null, "\u00e9"]} } "#
        let found = try #require(try members(text))
        #expect(found.map(\.key) == ["type", "data"])
        #expect(found.map(\.kind) == [.string, .object])
        let bytes = Array(text.utf8)
        #expect(String(decoding: bytes[found[1].valueRange], as: UTF8.self) == #"{"x": [1, 2.5e3, -0.1, true, null, "\u00e9"]}"#)
        #expect(bytes.withUnsafeBytes { JSONScanner.decodeString($0, range: found[0].valueRange) } == "a.b")
    }

    @Test func decodesEscapesInKeysAndStrings() throws {
        let text = #"{"a\"b\\c\/\n\u00e9\ud83d\ude00": "x"}"#
        let found = try #require(try members(text))
        #expect(found[0].key == "a\"b\\c/\né😀")
    }

    @Test func nonObjectDocumentsValidateButHaveNoMembers() throws {
        #expect(try members("[1,2]") == nil)
        #expect(try kind("  \"s\" ") == .string)
        #expect(try kind("-0.5E+10") == .number)
        #expect(try kind("null") == .null)
    }

    @Test(arguments: [
        "", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "{a:1}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}",
        "{\"a\":1e}", "{\"a\":tru}", "{\"a\":\"\u{01}\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00x\"}",
        "{\"a\":1} {}", "{\"a\":\"unterminated}", "{'a':1}", "{\"a\":NaN}",
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try members(text) }
    }

    @Test func rejectsInvalidUTF8() {
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82], [0x80]] {
            let doc = Array("{\"a\":\"".utf8) + bad + Array("\"}".utf8)
            #expect(throws: JSONSyntaxError.self) { try doc.withUnsafeBytes { try JSONScanner.objectMembers(of: $0) } }
        }
        let good = Array("{\"a\":\"€𝄞é\"}".utf8)
        #expect(throws: Never.self) { try good.withUnsafeBytes { try JSONScanner.objectMembers(of: $0) } }
    }

    @Test func limitsNestingDepth() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONSyntaxError.self) { try kind(deep) }
        let fine = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect(throws: Never.self) { try kind(fine) }
    }

    @Test func reportsTheOffsetOfTheError() {
        do {
            _ = try members(#"{"a": [1, 2 x]}"#)
            Issue.record("expected an error")
        } catch let error as JSONSyntaxError {
            #expect(error.offset == 12)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
