import Formats

extension ByteLevelBPE {
    /// From GGUF tokenizer keys (`tokenizer.ggml.model` = gpt2): tokens, merges, token types (control and
    /// user-defined tokens are matched in text), pre-tokenizer from `tokenizer.ggml.pre`.
    public static func load(gguf: GGUFFile) throws(ModelError) -> ByteLevelBPE {
        let path = gguf.path
        guard let model = gguf[GGUFKeys.tokenizerModel]?.stringValue else { throw .missingKey(path: path, key: GGUFKeys.tokenizerModel) }
        guard model == "gpt2" else {
            throw .invalidValue(path: path, key: GGUFKeys.tokenizerModel, reason: "'\(model)' is not byte-level BPE (gpt2)")
        }
        let pre = gguf[GGUFKeys.tokenizerPre]?.stringValue ?? "default"
        guard let preTokenizer = PreTokenizer(rawValue: pre == "default" ? "gpt-2" : pre) else {
            throw .invalidValue(path: path, key: GGUFKeys.tokenizerPre, reason: "pre-tokenizer '\(pre)' is not supported (gpt-2, smollm)")
        }
        do {
            guard let tokens = try gguf[GGUFKeys.tokens]?.arrayValue?.stringValues() else { throw ModelError.missingKey(path: path, key: GGUFKeys.tokens) }
            let merges = try gguf[GGUFKeys.merges]?.arrayValue?.stringValues() ?? []
            let types = try gguf[GGUFKeys.tokenTypes]?.arrayValue?.values().compactMap(\.integerValue) ?? []
            // 3 = control, 4 = user-defined (formats.md §4.4).
            let specials = types.enumerated().filter { $0.element == 3 || $0.element == 4 }.map(\.offset)
            return ByteLevelBPE(tokens: tokens, merges: merges, specialTokenIDs: specials, preTokenizer: preTokenizer)
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
    public static func load(tokenizerJSON json: JSONValue, path: String) throws(ModelError) -> ByteLevelBPE {
        guard let model = json["model"], model["type"]?.stringValue == "BPE" else {
            throw .invalidValue(path: path, key: "model.type", reason: "only BPE tokenizers are byte-level BPE")
        }
        guard let vocab = model["vocab"]?.objectValue else { throw .missingKey(path: path, key: "model.vocab") }
        var byID: [Int: String] = [:]
        for (token, id) in vocab { if let i = id.int64Value { byID[Int(i)] = token } }
        var specials: [Int] = []
        for added in json["added_tokens"]?.arrayValue ?? [] {
            guard let id = added["id"]?.int64Value, let content = added["content"]?.stringValue else { continue }
            byID[Int(id)] = content
            if added["special"]?.boolValue == true || added["normalized"]?.boolValue == false { specials.append(Int(id)) }
        }
        let count = (byID.keys.max() ?? -1) + 1
        let tokens = (0..<count).map { byID[$0] ?? "" }
        // "Ġ t" strings, or ["Ġ", "t"] pairs in which a space inside a part is written as U+0120 (gguf-py).
        let merges: [String] = (model["merges"]?.arrayValue ?? []).compactMap { m in
            if let s = m.stringValue { return s }
            guard let pair = m.arrayValue, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue else { return nil }
            return a.replacing(" ", with: "\u{120}") + " " + b.replacing(" ", with: "\u{120}")
        }
        let pre = json["pre_tokenizer"]
        let kinds = (pre?["pretokenizers"]?.arrayValue ?? (pre.map { [$0] } ?? [])).compactMap { $0["type"]?.stringValue }
        let digits = kinds.first == "Digits"
        guard kinds.last == "ByteLevel" else {
            throw .invalidValue(path: path, key: "pre_tokenizer", reason: "\(kinds) is not a ByteLevel pre-tokenizer")
        }
        return ByteLevelBPE(tokens: tokens, merges: merges, specialTokenIDs: specials, preTokenizer: digits ? .smollm : .gpt2)
    }
}
