import Formats

extension BPETokenizer {
    /// From GGUF tokenizer keys (`tokenizer.ggml.model` gpt2 or gemma4): tokens, merges, token types, the
    /// pre-tokenizer named by `tokenizer.ggml.pre` (missing: llama.cpp's "default"; gemma4: always gemma4).
    /// An unknown pre-tokenizer is an error naming the known ones.
    public static func load(gguf: GGUFFile) throws(ModelError) -> BPETokenizer {
        let path = gguf.path
        guard let model = gguf[GGUFKeys.tokenizerModel]?.stringValue else { throw .missingKey(path: path, key: GGUFKeys.tokenizerModel) }
        guard model == "gpt2" || model == "gemma4" else {
            throw .invalidValue(path: path, key: GGUFKeys.tokenizerModel, reason: "'\(model)' is not a BPE vocabulary (gpt2, gemma4)")
        }
        let pre = model == "gemma4" ? "gemma4" : gguf[GGUFKeys.tokenizerPre]?.stringValue ?? "default"
        guard let (preTokenizer, options) = PreTokenizerTable.llamaCpp(named: pre) else {
            throw .invalidValue(path: path, key: GGUFKeys.tokenizerPre,
                                reason: "pre-tokenizer '\(pre)' is unknown; known: \(PreTokenizerTable.knownNames.joined(separator: ", "))")
        }
        do {
            guard let tokens = try gguf[GGUFKeys.tokens]?.arrayValue?.stringValues() else { throw ModelError.missingKey(path: path, key: GGUFKeys.tokens) }
            guard let merges = try gguf[GGUFKeys.merges]?.arrayValue?.stringValues() else { throw ModelError.missingKey(path: path, key: GGUFKeys.merges) }
            let types = try gguf[GGUFKeys.tokenTypes]?.arrayValue?.values().compactMap(\.integerValue) ?? []
            guard types.isEmpty || types.count == tokens.count else {
                throw ModelError.invalidValue(path: path, key: GGUFKeys.tokenTypes, reason: "has \(types.count) types for \(tokens.count) tokens")
            }
            let tokenTypes = types.isEmpty ? [SentencePieceBPE.TokenType](repeating: .normal, count: tokens.count)
                : types.map { SentencePieceBPE.TokenType(rawValue: Int($0)) ?? .normal }
            let strip = SpecialTokenStrip(modelName: gguf[GGUFKeys.name]?.stringValue, tokens: tokens)
            return BPETokenizer(tokens: tokens, merges: merges, types: tokenTypes, preTokenizer: preTokenizer,
                                options: options, strip: strip.attributes)
        } catch let error as ModelError {
            throw error
        } catch let error as FormatError {
            throw .format(error)
        } catch {
            throw .invalidValue(path: path, key: GGUFKeys.tokens, reason: "\(error)")
        }
    }
}

/// llama.cpp's per-token strip attributes (llama_vocab::impl::load, "Handle per token attributes"): for a
/// model named phi-3/phi3, special tokens swallow the whitespace after them, except <unk>, <s> and
/// <|endoftext|>.
struct SpecialTokenStrip {
    let phi3: Bool
    let keep: Set<Int>

    init(modelName: String?, tokens: [String]) {
        let name = (modelName ?? "").lowercased()
        phi3 = name.contains("phi-3") || name.contains("phi3")
        keep = Set(tokens.indices.filter { ["<unk>", "<s>", "<|endoftext|>"].contains(tokens[$0]) })
    }

    func attributes(_ id: Int) -> (lstrip: Bool, rstrip: Bool) { (false, phi3 && !keep.contains(id)) }
}
