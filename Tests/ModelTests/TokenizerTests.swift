import Foundation
import Formats
import Model
import Testing
import TestSupport

/// Byte-level BPE against HF tokenizers (fixtures/make_tokenizer.py): a SmolLM2-style tokenizer (Digits +
/// ByteLevel, ChatML specials) trained small, 62 strings of unicode, emoji, whitespace runs, digits, code
/// and special tokens; ids identical, decode(encode(s)) == s.
@Suite struct TokenizerTests {
    static func fixture(_ name: String) throws -> JSONValue { try Repository.json("tokenizer/" + name) }

    static let tokenizer: BPETokenizer? = try? BPETokenizer.load(tokenizerJSON: fixture("tokenizer.json"), path: "tokenizer.json")

    struct Case: CustomTestStringConvertible, Sendable {
        var text: String, ids: [Int], decoded: String
        var testDescription: String { String(reflecting: String(text.prefix(30))) }
    }

    static let cases: [Case] = {
        (try? fixture("encodings.json")["cases"]?.arrayValue)??.compactMap { c in
            guard let text = c["text"]?.stringValue, let ids = c["ids"]?.arrayValue, let decoded = c["decoded"]?.stringValue
            else { return nil }
            return Case(text: text, ids: ids.compactMap { $0.int64Value.map { Int($0) } }, decoded: decoded)
        } ?? []
    }()

    @Test func loaded() throws {
        let t = try #require(Self.tokenizer)
        #expect(t.tokens.count == 700 && t.preTokenizer.name == "Digits+ByteLevel")
        #expect(Self.cases.count >= 50)
    }

    @Test(arguments: cases)
    func idsMatchHuggingFace(_ c: Case) throws {
        let t = try #require(Self.tokenizer)
        #expect(t.encode(c.text) == c.ids)
        #expect(t.decode(c.ids) == c.decoded)
        #expect(t.decode(t.encode(c.text)) == c.text)
    }

    /// Pre-tokenizer pieces on the GPT-2 pattern's corner cases.
    @Test func gpt2PatternPieces() throws {
        let gpt2 = try #require(PreTokenizerTable.llamaCpp(named: "gpt-2")?.0)
        let smollm = try #require(PreTokenizerTable.llamaCpp(named: "smollm")?.0)
        #expect(gpt2.split("Hello  world\n\nok") == ["Hello", " ", " world", "\n", "\n", "ok"])
        #expect(gpt2.split("I'm  'll x") == ["I", "'m", " ", " '", "ll", " x"])
        #expect(gpt2.split("a1b22 !!?") == ["a", "1", "b", "22", " !!?"])
        #expect(smollm.split("x123 y") == ["x", "1", "2", "3", " y"])
        #expect(gpt2.split("end   ") == ["end", "   "])
    }
}
