import BankHooksCore
import Foundation
import Testing

@Suite struct OrderedJSONEncoderTests {
    struct Inner: Encodable {
        var z: Int
        var a: [Double]
    }

    struct Sample: Encodable {
        var zulu: String
        var alpha: Bool
        var missing: String?
        var written: String?
        var nested: Inner
        var list: [Inner?]
        var big: Int64

        enum CodingKeys: String, CodingKey { case zulu, alpha, missing, written, nested, list, big }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(zulu, forKey: .zulu)
            try c.encode(alpha, forKey: .alpha)
            try c.encodeIfPresent(missing, forKey: .missing)
            try c.encode(written, forKey: .written)
            try c.encode(nested, forKey: .nested)
            try c.encode(list, forKey: .list)
            try c.encode(big, forKey: .big)
        }
    }

    @Test func membersComeOutInTheOrderTheValueEncodesThem() throws {
        let sample = Sample(
            zulu: "a/b \"q\" \\ \n\u{1}é", alpha: false, missing: nil, written: nil, nested: Inner(z: -3, a: [1, 2.5, 1e-7]),
            list: [Inner(z: 1, a: []), nil], big: 9_007_199_254_740_993)
        let text = String(decoding: try OrderedJSONEncoder.encode(sample), as: UTF8.self)
        #expect(text == #"{"zulu":"a/b \"q\" \\ \n\u0001é","alpha":false,"written":null,"nested":{"z":-3,"a":[1,2.5,1e-07]},"list":[{"z":1,"a":[]},null],"big":9007199254740993}"#)
        // And it is JSON that reads back to the same values.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["zulu"] as? String == sample.zulu)
        #expect(object["missing"] == nil)
    }

    @Test func aNonFiniteNumberIsAnErrorNotJSON() {
        #expect(throws: EncodingError.self) { try OrderedJSONEncoder.encode(["x": Double.nan]) }
        #expect(throws: EncodingError.self) { try OrderedJSONEncoder.encode([Double.infinity]) }
    }

    @Test func everyNumberTypeIsANumber() throws {
        struct Numbers: Encodable {
            var a: Int32 = -5, b: UInt8 = 200, c: UInt64 = 18_446_744_073_709_551_615, d: Float = 1.5, e = Decimal(string: "12.34")!, f: Int16? = 7
        }
        #expect(String(decoding: try OrderedJSONEncoder.encode(Numbers()), as: UTF8.self)
            == #"{"a":-5,"b":200,"c":18446744073709551615,"d":1.5,"e":12.34,"f":7}"#)
        #expect(throws: EncodingError.self) { try OrderedJSONEncoder.encode([Float.nan]) }
    }

    @Test func aTopLevelScalarOrEnumEncodesAsItself() throws {
        enum Reason: String, Encodable { case gone }
        #expect(try OrderedJSONEncoder.encode(Reason.gone) == Array(#""gone""#.utf8))
        #expect(try OrderedJSONEncoder.encode([Reason.gone]) == Array(#"["gone"]"#.utf8))
    }
}
