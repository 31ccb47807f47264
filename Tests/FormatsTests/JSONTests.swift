import Formats
import Testing

@Suite struct JSONTests {
    func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func keepsOrderAndExactIntegers() throws {
        let v = try parse(#" {"b": [1, 18446744073709551615, -2.5e3], "a": {"x": null, "y": true}} "#)
        #expect(v.objectValue?.map(\.0) == ["b", "a"])
        #expect(v["b"]?.arrayValue?[1].uint64Value == UInt64.max)
        #expect(v["b"]?.arrayValue?[2].doubleValue == -2500)
        #expect(v["a"]?["y"]?.boolValue == true)
    }

    @Test func decodesEscapes() throws {
        let v = try parse(#""a\"b\\c\/\n\t\u00e9\ud83e\udd99""#)
        #expect(v.stringValue == "a\"b\\c/\n\té🦙")
    }

    @Test(arguments: [#"{"a":1,"a":2}"#, #"{"x":{"k":1,"k":1}}"#])
    func rejectsDuplicateKeys(_ text: String) throws {
        #expect(throws: JSONParser.Failure.self) { try parse(text) }
        do { _ = try parse(text) } catch let failure as JSONParser.Failure {
            #expect(failure.duplicateKey != nil)
        }
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\u{01}\"", "\"\\ud800\"", "tru", "{} x",
                      String(repeating: "[", count: 200) + String(repeating: "]", count: 200)])
    func rejectsInvalidText(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try parse(text) }
    }

    /// serde_json escaping (safetensors headers) and Python json.dumps(indent=2, ensure_ascii) (HF index).
    @Test func writesLikeTheReferences() {
        let v: JSONValue = .object([("k\u{1}\"é", .array([.int(1), .string("\t")])), ("e", .object([]))])
        #expect(JSONWriter.compact(v) == "{\"k\\u0001\\\"é\":[1,\"\\t\"],\"e\":{}}")
        #expect(JSONWriter.pretty(v, asciiOnly: true) == "{\n  \"k\\u0001\\\"\\u00e9\": [\n    1,\n    \"\\t\"\n  ],\n  \"e\": {}\n}")
    }
}
