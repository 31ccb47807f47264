import Foundation
import Formats
import Model
import Testing

/// The hand-written splits (GPT-2's, Llama 3's, Qwen2's) give the pieces of the regex engine running their
/// patterns, on llama.cpp's suite strings and on 3000 random strings over an alphabet of the characters
/// their rules turn on (apostrophes, contraction letters in both cases, digits, spaces, tabs, CR/LF,
/// punctuation, letters and marks of other scripts, emoji); and pattern errors are named with their offset.
@Suite struct PreTokenizerTests {
    static let alphabet: [String] = ["'", "s", "S", "t", "r", "e", "v", "l", "L", "d", "m", "x", "Q", "1", "2", "3", "٣", "½", " ", " ",
                                     "\t", "\n", "\r", "\u{A0}", "\u{3000}", ".", "(", "!", "$", "-", "é", "e\u{301}", "日", "本",
                                     "ж", "👋", "\u{200D}", "_"]

    static func strings() throws -> [String] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {  // splitmix64: the same strings every run
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) & 0x7FFF_FFFF)
        }
        var out = try LlamaCppVocabSuiteTests.strings("llama-bpe")
        for _ in 0..<3000 {
            out.append((0..<(1 + next() % 24)).map { _ in alphabet[next() % alphabet.count] }.joined())
        }
        return out
    }

    @Test(arguments: [("gpt-2", PreTokenizerTable.gpt2), ("llama-bpe", PreTokenizerTable.llama3), ("qwen2", PreTokenizerTable.qwen2)])
    func handWrittenEqualsPattern(_ name: String, _ pattern: String) throws {
        let fast = try #require(PreTokenizerTable.llamaCpp(named: name)?.0)
        for dialect in [PatternDialect.llamaCpp, .unicode] {
            let engine = PreTokenizer(name: "pattern", steps: [.isolate(try SplitPattern(pattern, dialect: dialect))])
            for text in try Self.strings() {
                #expect(fast.split(text) == engine.split(text), "\(name): \(text.debugDescription)")
            }
        }
    }

    @Test func patternErrorsSayWhere() {
        #expect(throws: PatternError.self) { try SplitPattern("[a-", dialect: .unicode) }
        do {
            _ = try SplitPattern("ab\\p{Xx}", dialect: .unicode)
            Issue.record("accepted an unknown category")
        } catch {
            #expect(error.offset == 2 && error.reason == "unknown Unicode category \\p{Xx}")
        }
        #expect(throws: PatternError.self) { try SplitPattern("(?<=a)b", dialect: .unicode) }
        #expect(throws: PatternError.self) { try SplitPattern("a{2,1}", dialect: .unicode) }
    }

    /// A pattern with nested quantifiers on a long run finishes (failed states are remembered).
    @Test func nestedQuantifiersTerminate() throws {
        let pattern = PreTokenizer(name: "p", steps: [.isolate(try SplitPattern("(a*)*b", dialect: .unicode))])
        let text = String(repeating: "a", count: 2000)
        #expect(pattern.split(text) == [text])
    }
}
