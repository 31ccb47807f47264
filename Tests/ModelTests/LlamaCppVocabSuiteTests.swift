import Foundation
import Formats
import Model
import Testing
import TestSupport

/// llama.cpp's tokenizer test suite (models/ggml-vocab-*.gguf with .inp strings and .out ids, produced by
/// the models' own Hugging Face tokenizers): every decoder vocabulary gives the same ids, special tokens not
/// parsed and no BOS, as test-tokenizer-0 runs it.
@Suite struct LlamaCppVocabSuiteTests {
    static let vocabularies = ["gpt-2", "llama-spm", "llama-bpe", "qwen2", "qwen35", "phi-3", "gemma-4", "deepseek-llm",
                               "deepseek-coder", "falcon", "command-r", "mpt", "starcoder", "refact"]

    static func strings(_ name: String) throws -> [String] {
        let text = try String(contentsOfFile: TestData.path("llama.cpp/models/ggml-vocab-\(name).gguf.inp"), encoding: .utf8)
        var parts = text.components(separatedBy: "\n__ggml_vocab_test__\n")
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    static func expected(_ name: String) throws -> [[Int]] {
        let text = try String(contentsOfFile: TestData.path("llama.cpp/models/ggml-vocab-\(name).gguf.out"), encoding: .utf8)
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0.split(separator: " ").compactMap { Int($0) } }
    }

    @Test(arguments: vocabularies)
    func idsMatchLlamaCpp(_ name: String) throws {
        let tokenizer = try Tokenizers.load(gguf: GGUFFile(path: TestData.path("llama.cpp/models/ggml-vocab-\(name).gguf")))
        let strings = try Self.strings(name), expected = try Self.expected(name)
        try #require(strings.count == expected.count && strings.count >= 46)
        for (text, ids) in zip(strings, expected) {
            #expect(tokenizer.encode(text, special: false) == ids, "\(name): \(text.debugDescription)")
        }
    }

    /// decode(encode(s)) == s for every string of the suite.
    @Test(arguments: vocabularies)
    func decodeInvertsEncode(_ name: String) throws {
        let tokenizer = try Tokenizers.load(gguf: GGUFFile(path: TestData.path("llama.cpp/models/ggml-vocab-\(name).gguf")))
        for text in try Self.strings(name) {
            #expect(tokenizer.decode(tokenizer.encode(text, special: false)) == text, "\(name): \(text.debugDescription)")
        }
    }
}
