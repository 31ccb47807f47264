import Foundation
import Formats
import Model
import Testing

/// The SentencePiece tokenizer against its references on 67 strings (unicode, emoji, whitespace runs,
/// digits, code, special tokens): llama.cpp tokenizing the tiny model's vocab-only GGUF (fixtures/spm,
/// fixtures/make_spm.py; with and without special tokens parsed) and transformers tokenizing the same model
/// from tokenizer.json (fixtures/hf, Metaspace "first" prefixing).
@Suite struct SentencePieceTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures").path

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
}
