import Foundation
import Formats
import Model
import Testing
import TestSupport

/// The SentencePiece tokenizer against its references on 67 strings (unicode, emoji, whitespace runs,
/// digits, code, special tokens): llama.cpp tokenizing the tiny model's vocab-only GGUF (fixtures/spm,
/// fixtures/make_spm.py; with and without special tokens parsed) and transformers tokenizing the same model
/// from tokenizer.json (fixtures/hf, Metaspace "first" prefixing).
@Suite struct SentencePieceTests {
    static let fixtures = Repository.fixtures()

    static func ids(_ v: JSONValue?) -> [Int] { (v?.arrayValue ?? []).compactMap { $0.int64Value }.map { Int($0) } }

    @Test func matchesLlamaCpp() throws {
        let gguf = try GGUFFile(path: Self.fixtures + "/spm/vocab.gguf")
        let tokenizer = try #require(try Tokenizers.load(gguf: gguf) as? SentencePieceBPE)
        let cases = try #require(try JSONFile.read(Self.fixtures + "/spm/expected.json")["cases"]?.arrayValue)
        #expect(cases.count >= 50)
        for c in cases {
            let text = c["text"]?.stringValue ?? ""
            #expect(tokenizer.encode(text, special: false) == Self.ids(c["ids"]), "\(text.debugDescription)")
            let special = tokenizer.encode(text, special: true)
            #expect(special == Self.ids(c["ids_special"]), "special: \(text.debugDescription)")
            #expect(String(decoding: tokenizer.pieces(special), as: UTF8.self) == c["pieces"]?.stringValue, "pieces: \(text.debugDescription)")
        }
    }

    @Test func matchesTransformers() throws {
        let json = try JSONFile.read(Self.fixtures + "/hf/llama-tied/safetensors/tokenizer.json")
        let tokenizer = try #require(try Tokenizers.load(tokenizerJSON: json, path: "tokenizer.json") as? SentencePieceBPE)
        let cases = try #require(try JSONFile.read(Self.fixtures + "/hf/tokenizer_expected.json")["cases"]?.arrayValue)
        for c in cases {
            let text = c["text"]?.stringValue ?? ""
            let sp = c["sp"]
            #expect(tokenizer.encode(text, special: true) == Self.ids(sp?["ids"]), "\(text.debugDescription)")
            #expect(tokenizer.decode(Self.ids(sp?["ids"])) == sp?["decoded"]?.stringValue, "decode: \(text.debugDescription)")
        }
    }

    /// tokenizer.model decoded by protobuf-c equals the sentencepiece library's view of it (the vocab-only
    /// GGUF make_spm.py wrote with it: pieces, scores, types), and tokenizes as llama.cpp does.
    @Test func tokenizerModelMatchesTheSentencepieceLibrary() throws {
        let model = try SentencePieceModel(path: Self.fixtures + "/hf/llama-tied/safetensors/tokenizer.model")
        let gguf = try GGUFFile(path: Self.fixtures + "/spm/vocab.gguf")
        #expect(model.pieces.map(\.text) == (try gguf["tokenizer.ggml.tokens"]?.arrayValue?.stringValues()))
        let scores = try (gguf["tokenizer.ggml.scores"]?.arrayValue?.values() ?? []).map { v -> UInt32 in
            if case .float32(let f) = v { return f.bitPattern } else { return 0 }
        }
        #expect(model.pieces.map(\.score.bitPattern) == scores)
        let types = try (gguf["tokenizer.ggml.token_type"]?.arrayValue?.values() ?? []).compactMap(\.integerValue).map { Int($0) }
        #expect(model.pieces.map(\.type) == types)
        #expect(model.modelType == .bpe && model.byteFallback && model.addDummyPrefix && model.bosID == 1 && model.eosID == 2)
        let tokenizer = SentencePieceBPE.load(model: model)
        for c in try #require(try JSONFile.read(Self.fixtures + "/spm/expected.json")["cases"]?.arrayValue) {
            let text = c["text"]?.stringValue ?? ""
            #expect(tokenizer.encode(text, special: true) == Self.ids(c["ids_special"]), "\(text.debugDescription)")
        }
    }

    @Test func notAModelIsAnError() {
        #expect(throws: FormatError.self) { _ = try SentencePieceModel(path: Self.fixtures + "/hf/llama-tied/safetensors/config.json") }
    }
}
