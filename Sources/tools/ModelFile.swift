import Formats
import Foundation
import Model

/// A GGUF model as generate, perplexity and compare use it: weights in place, tokenizer, BOS policy.
struct ModelFile {
    let gguf: GGUFFile
    let tokenizer: any Tokenizer
    let transformer: Transformer
    /// The BOS id when the vocabulary asks for it in front of a text (`tokenizer.ggml.add_bos_token`).
    let bos: Int?

    init(path: String) throws {
        // Pages are mapped up front (MAP_POPULATE): decoding then never waits on a page fault.
        gguf = try GGUFFile(file: MappedFile(path: path, populate: true))
        tokenizer = try Tokenizers.load(gguf: gguf)
        transformer = Transformer(weights: try ModelWeights.load(gguf: gguf))
        let addBOS = gguf[GGUFKeys.addBOS]?.boolValue ?? false
        bos = addBOS ? gguf[GGUFKeys.bosTokenID]?.integerValue.map { Int($0) } : nil
    }

    /// A text file's tokens the way llama-perplexity reads them: one trailing newline dropped, special
    /// tokens not parsed, BOS in front when the vocabulary adds one.
    func tokenizeFile(_ path: String) throws -> [Int] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ToolError(message: "cannot read '\(path)'", hint: nil)
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw ToolError(message: "'\(path)' is not UTF-8 text", hint: nil)
        }
        if text.hasSuffix("\n") { text.removeLast() }
        return (bos.map { [$0] } ?? []) + tokenizer.encode(text, special: false)
    }
}

extension GGUFFile {
    /// `tokenizer.ggml.eos_token_id` when it names a token of the vocabulary, else a one-line error for `command`:
    /// every trained or sampled sequence ends with it.
    func endOfSequence(vocabSize: Int, command: String) throws -> Int {
        guard let eos = self[GGUFKeys.eosTokenID]?.integerValue.map({ Int($0) }), eos >= 0, eos < vocabSize else {
            throw ToolError(message: "\(command): '\(path)' has no usable tokenizer.ggml.eos_token_id", hint: nil)
        }
        return eos
    }
}
