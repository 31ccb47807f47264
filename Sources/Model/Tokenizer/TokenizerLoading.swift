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
            let strip = SpecialTokenStrip(modelName: gguf["general.name"]?.stringValue, tokens: tokens)
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

    /// From a Hugging Face tokenizer.json with a BPE model (merges as "a b" strings or [a, b] pairs) and a
    /// ByteLevel pre-tokenizer, optionally after individual Digits (SmolLM2).
    public static func load(tokenizerJSON json: JSONValue, path: String) throws(ModelError) -> BPETokenizer {
        guard let model = json["model"], model["type"]?.stringValue == "BPE" else {
            throw .invalidValue(path: path, key: "model.type", reason: "only BPE tokenizers are byte-level BPE")
        }
        guard let vocab = model["vocab"]?.objectValue else { throw .missingKey(path: path, key: "model.vocab") }
        var byID: [Int: String] = [:]
        for (token, id) in vocab { if let i = id.int64Value { byID[Int(i)] = token } }
        var types: [Int: SentencePieceBPE.TokenType] = [:]
        for added in json["added_tokens"]?.arrayValue ?? [] {
            guard let id = added["id"]?.int64Value, let content = added["content"]?.stringValue else { continue }
            byID[Int(id)] = content
            types[Int(id)] = added["special"]?.boolValue == true ? .control : .userDefined
        }
        let count = (byID.keys.max() ?? -1) + 1
        guard count <= vocab.count + (json["added_tokens"]?.arrayValue?.count ?? 0) + 1_000_000 else {
            throw .invalidValue(path: path, key: "model.vocab", reason: "ids reach \(count - 1)")
        }
        let tokens = (0..<count).map { byID[$0] ?? "" }
        // "Ġ t" strings, or ["Ġ", "t"] pairs in which a space inside a part is written as U+0120 (gguf-py).
        let merges: [String] = (model["merges"]?.arrayValue ?? []).compactMap { m in
            if let s = m.stringValue { return s }
            guard let pair = m.arrayValue, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue else { return nil }
            return a.replacing(" ", with: "\u{120}") + " " + b.replacing(" ", with: "\u{120}")
        }
        let pre = json["pre_tokenizer"]
        let kinds = (pre?["pretokenizers"]?.arrayValue ?? (pre.map { [$0] } ?? [])).compactMap { $0["type"]?.stringValue }
        guard kinds.last == "ByteLevel" else {
            throw .invalidValue(path: path, key: "pre_tokenizer", reason: "\(kinds) is not a ByteLevel pre-tokenizer")
        }
        let name = kinds.first == "Digits" ? "smollm" : "gpt-2"
        guard let (preTokenizer, options) = PreTokenizerTable.llamaCpp(named: name) else { throw .missingKey(path: path, key: "pre_tokenizer") }
        return BPETokenizer(tokens: tokens, merges: merges, types: (0..<count).map { types[$0] ?? .normal },
                            preTokenizer: preTokenizer, options: options)
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
