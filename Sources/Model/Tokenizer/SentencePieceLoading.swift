import Formats

extension SentencePieceBPE {
    /// From GGUF keys (`tokenizer.ggml.model` = llama): tokens, scores, token types, add_space_prefix
    /// (default true, as llama.cpp).
    public static func load(gguf: GGUFFile) throws(ModelError) -> SentencePieceBPE {
        let path = gguf.path
        do {
            guard let tokens = try gguf[GGUFKeys.tokens]?.arrayValue?.stringValues() else {
                throw ModelError.missingKey(path: path, key: GGUFKeys.tokens)
            }
            let scores = try gguf[GGUFKeys.scores]?.arrayValue?.values().compactMap(\.doubleValue).map { Float($0) }
                ?? [Float](repeating: 0, count: tokens.count)
            let rawTypes = try gguf[GGUFKeys.tokenTypes]?.arrayValue?.values().compactMap(\.integerValue)
                ?? [Int64](repeating: 1, count: tokens.count)
            guard scores.count == tokens.count, rawTypes.count == tokens.count else {
                throw ModelError.invalidValue(path: path, key: GGUFKeys.scores,
                                              reason: "has \(scores.count) scores and \(rawTypes.count) types for \(tokens.count) tokens")
            }
            let prefix = gguf[GGUFKeys.addSpacePrefix]?.boolValue ?? true
            let strip = SpecialTokenStrip(modelName: gguf[GGUFKeys.name]?.stringValue, tokens: tokens)
            return SentencePieceBPE(tokens: tokens, scores: scores, types: rawTypes.map { TokenType(rawValue: Int($0)) ?? .normal },
                                    spacePrefix: prefix ? .always : .never, strip: strip.attributes)
        } catch let error as ModelError {
            throw error
        } catch let error as FormatError {
            throw .format(error)
        } catch {
            throw .invalidValue(path: path, key: GGUFKeys.tokens, reason: "\(error)")
        }
    }

    /// A tokenizer.json converted from SentencePiece: a BPE model with byte fallback and a Metaspace
    /// pre-tokenizer (or the older Prepend("▁") + Replace(" ", "▁") normalizer).
    public static func isSentencePiece(_ json: JSONValue) -> Bool {
        guard json["model"]?["type"]?.stringValue == "BPE" else { return false }
        let pre = json["pre_tokenizer"]?["type"]?.stringValue
        return pre == "Metaspace" || normalizerTypes(json).contains("Prepend") || escapesSpaces(json)
    }

    static func normalizerTypes(_ json: JSONValue) -> [String] {
        let normalizer = json["normalizer"]
        return (normalizer?["normalizers"]?.arrayValue ?? normalizer.map { [$0] } ?? []).compactMap { $0["type"]?.stringValue }
    }

    /// Gemma's normalizer: Replace(" ", "▁") alone, no prefix (its Split on " " then finds no space left).
    static func escapesSpaces(_ json: JSONValue) -> Bool {
        let normalizer = json["normalizer"]
        return normalizer?["type"]?.stringValue == "Replace" && normalizer?["pattern"]?["String"]?.stringValue == " "
            && normalizer?["content"]?.stringValue == "\u{2581}"
    }

    /// Scores are not in tokenizer.json: a token made by merge number r scores −r, so the highest-scoring
    /// pair is the lowest-ranked merge, as transformers applies them. Added tokens marked special are control,
    /// the other added tokens user-defined (both are cut out of text, as tokenizers does).
    public static func load(tokenizerJSON json: JSONValue, path: String) throws(ModelError) -> SentencePieceBPE {
        guard let model = json["model"], let vocab = model["vocab"]?.objectValue else { throw .missingKey(path: path, key: "model.vocab") }
        var byID: [Int: String] = [:]
        for (token, id) in vocab { if let i = id.int64Value { byID[Int(i)] = token } }
        var control = Set<Int>(), userDefined = Set<Int>()
        for added in json["added_tokens"]?.arrayValue ?? [] {
            guard let id = added["id"]?.int64Value, let content = added["content"]?.stringValue else { continue }
            byID[Int(id)] = content
            if added["special"]?.boolValue == true { control.insert(Int(id)) } else { userDefined.insert(Int(id)) }
        }
        let count = (byID.keys.max() ?? -1) + 1
        let tokens = (0..<count).map { byID[$0] ?? "" }
        var scores = [Float](repeating: -Float(1 << 24), count: count)
        var index: [ExactString: Int] = [:]
        for (i, t) in tokens.enumerated() where index[ExactString(t)] == nil { index[ExactString(t)] = i }
        for (rank, m) in (model["merges"]?.arrayValue ?? []).enumerated() {
            let parts: [String]
            if let s = m.stringValue { parts = s.split(separator: " ", maxSplits: 1).map(String.init) } else {
                parts = (m.arrayValue ?? []).compactMap(\.stringValue)
            }
            guard parts.count == 2, let id = index[ExactString(parts[0] + parts[1])], scores[id] == -Float(1 << 24) else { continue }
            scores[id] = -Float(rank)
        }
        let types: [TokenType] = tokens.indices.map { i in
            if control.contains(i) { return .control }
            if userDefined.contains(i) { return .userDefined }
            return byteValue(tokens[i]) != nil ? .byte : .normal
        }
        let prefix: SpacePrefix
        if json["pre_tokenizer"]?["type"]?.stringValue == "Metaspace" {
            let scheme = json["pre_tokenizer"]?["prepend_scheme"]?.stringValue
            prefix = scheme == "never" ? .never : scheme == "first" ? .firstUnlessLeadingSpace : .always
        } else {
            prefix = normalizerTypes(json).contains("Prepend") ? .always : .never
        }
        return SentencePieceBPE(tokens: tokens, scores: scores, types: types, spacePrefix: prefix)
    }
}

extension SentencePieceBPE {
    /// From a SentencePiece tokenizer.model (BPE models; llama.cpp runs unigram vocabularies the same way).
    public static func load(model: SentencePieceModel) -> SentencePieceBPE {
        SentencePieceBPE(tokens: model.pieces.map(\.text), scores: model.pieces.map(\.score),
                         types: model.pieces.map { TokenType(rawValue: $0.type) ?? .normal },
                         spacePrefix: model.addDummyPrefix ? .always : .never)
    }
}
