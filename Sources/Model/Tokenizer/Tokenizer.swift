import Formats

/// What generate, perplexity and training need from a tokenizer, whatever its algorithm.
public protocol Tokenizer: AnyObject, Sendable {
    /// Token texts by id, as the vocabulary stores them.
    var tokens: [String] { get }
    /// Token ids of `text`; with `special`, control tokens written in the text become their ids.
    func encode(_ text: String, special: Bool) -> [Int]
    /// The text of `ids` (control tokens rendered as their text; invalid UTF-8 becomes U+FFFD).
    func decode(_ ids: [Int]) -> String
}

extension BPETokenizer: Tokenizer {}
extension SentencePieceBPE: Tokenizer {}

/// Picks the algorithm from the model's own description.
public enum Tokenizers {
    /// `tokenizer.ggml.model` gpt2 or gemma4 → BPE; llama → SentencePiece BPE.
    public static func load(gguf: GGUFFile) throws(ModelError) -> any Tokenizer {
        switch gguf[GGUFKeys.tokenizerModel]?.stringValue {
        case "llama": try SentencePieceBPE.load(gguf: gguf)
        case "gpt2", "gemma4": try BPETokenizer.load(gguf: gguf)
        case nil: throw .missingKey(path: gguf.path, key: GGUFKeys.tokenizerModel)
        case let other?:
            throw .invalidValue(path: gguf.path, key: GGUFKeys.tokenizerModel,
                                reason: "'\(other)' is not supported (gpt2, gemma4: BPE; llama: SentencePiece)")
        }
    }

    /// tokenizer.json: a Metaspace pre-tokenizer (or Prepend/Replace normalizer) with byte fallback →
    /// SentencePiece BPE; a ByteLevel pre-tokenizer → byte-level BPE.
    public static func load(tokenizerJSON json: JSONValue, path: String) throws(ModelError) -> any Tokenizer {
        if SentencePieceBPE.isSentencePiece(json) { return try SentencePieceBPE.load(tokenizerJSON: json, path: path) }
        return try BPETokenizer.load(tokenizerJSON: json, path: path)
    }
}
