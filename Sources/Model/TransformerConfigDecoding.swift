import Formats

extension TransformerConfig {
    /// From GGUF metadata (formats.md §4.3). The vocabulary size is `{arch}.vocab_size` or the token count;
    /// embeddings are tied when the file has no `output.weight` (llama.cpp's fallback).
    public init(gguf: GGUFFile) throws(ModelError) {
        let path = gguf.path
        guard let arch = gguf.architecture else { throw .missingKey(path: path, key: GGUFKeys.architecture) }
        guard let family = Family(rawValue: arch) else {
            throw .unsupportedArchitecture(path: path, found: arch, supported: Self.supportedGGUFArchitectures)
        }
        func int(_ key: GGUFKeys.ArchKey) throws(ModelError) -> Int? {
            guard let value = gguf[GGUFKeys.arch(arch, key)] else { return nil }
            guard let v = value.integerValue, v >= 0, v <= Int64(Int32.max) else {
                throw .invalidValue(path: path, key: GGUFKeys.arch(arch, key), reason: "must be a non-negative integer")
            }
            return Int(v)
        }
        func required(_ key: GGUFKeys.ArchKey) throws(ModelError) -> Int {
            guard let v = try int(key) else { throw .missingKey(path: path, key: GGUFKeys.arch(arch, key)) }
            return v
        }
        func float(_ key: GGUFKeys.ArchKey) -> Float? { gguf[GGUFKeys.arch(arch, key)]?.doubleValue.map { Float($0) } }
        let embedding = try required(.embeddingLength)
        let heads = try required(.headCount)
        guard heads > 0, embedding % heads == 0 || family == .llama else {
            throw .invalidValue(path: path, key: GGUFKeys.arch(arch, .headCount), reason: "must divide the embedding size")
        }
        let kvHeads = try int(.headCountKV) ?? heads
        let tokens = gguf[GGUFKeys.tokens]?.arrayValue?.count
        guard let vocab = try int(.vocabSize) ?? tokens else { throw .missingKey(path: path, key: GGUFKeys.tokens) }
        let hasOutput = gguf.tensorInfos.contains { $0.name == TensorNames.gguf(.output, layer: nil) }
        switch family {
        case .llama:
            let headDim = try int(.ropeDimensionCount) ?? embedding / heads
            self.init(family: .llama, vocabSize: vocab, contextLength: try required(.contextLength), embeddingSize: embedding,
                      layerCount: try required(.blockCount), feedForwardSize: try required(.feedForwardLength),
                      headCount: heads, kvHeadCount: kvHeads, headDim: headDim,
                      norm: .rmsNorm(epsilon: float(.rmsEpsilon) ?? 1e-5),
                      position: .rope(theta: float(.ropeFreqBase) ?? 10_000), mlp: .swiglu,
                      attentionBias: gguf.tensorInfos.contains { $0.name == "blk.0.attn_q.bias" },
                      mlpBias: gguf.tensorInfos.contains { $0.name == "blk.0.ffn_up.bias" },
                      tiedEmbeddings: !hasOutput)
        case .gpt2:
            self.init(family: .gpt2, vocabSize: vocab, contextLength: try required(.contextLength), embeddingSize: embedding,
                      layerCount: try required(.blockCount), feedForwardSize: try int(.feedForwardLength) ?? 4 * embedding,
                      headCount: heads, kvHeadCount: heads, headDim: embedding / heads,
                      norm: .layerNorm(epsilon: float(.layerNormEpsilon) ?? 1e-5), position: .learned, mlp: .gelu,
                      attentionBias: true, mlpBias: true, tiedEmbeddings: !hasOutput)
        }
        try validate(path: path)
    }

    /// From a Hugging Face config.json (formats.md §9.1, §9.2): LlamaForCausalLM and GPT2LMHeadModel, with
    /// their aliases, `rope_theta` at top level or inside `rope_parameters` / `rope_scaling`.
    public init(huggingFace config: JSONValue, path: String) throws(ModelError) {
        let architecture = config["architectures"]?.arrayValue?.first?.stringValue ?? config["model_type"]?.stringValue ?? "(none)"
        func int(_ keys: String...) throws(ModelError) -> Int? {
            for key in keys {
                guard let value = config[key], value != .null else { continue }
                guard let v = value.int64Value, v >= 0, v <= Int64(Int32.max) else {
                    throw .invalidValue(path: path, key: key, reason: "must be a non-negative integer")
                }
                return Int(v)
            }
            return nil
        }
        func required(_ keys: String...) throws(ModelError) -> Int {
            for key in keys { if let v = try int(key) { return v } }
            throw .missingKey(path: path, key: keys[0])
        }
        func float(_ key: String) -> Float? { config[key]?.doubleValue.map { Float($0) } }
        switch architecture {
        case "LlamaForCausalLM", "llama":
            let embedding = try required("hidden_size")
            let heads = try required("num_attention_heads")
            guard heads > 0 else { throw .invalidValue(path: path, key: "num_attention_heads", reason: "must be positive") }
            let theta = config["rope_parameters"]?["rope_theta"]?.doubleValue ?? config["rope_scaling"]?["rope_theta"]?.doubleValue
                ?? config["rope_theta"]?.doubleValue ?? 10_000
            self.init(family: .llama, vocabSize: try required("vocab_size"),
                      contextLength: try required("max_position_embeddings"), embeddingSize: embedding,
                      layerCount: try required("num_hidden_layers"), feedForwardSize: try required("intermediate_size"),
                      headCount: heads, kvHeadCount: try int("num_key_value_heads") ?? heads,
                      headDim: try int("head_dim") ?? embedding / heads,
                      norm: .rmsNorm(epsilon: float("rms_norm_eps") ?? 1e-6), position: .rope(theta: Float(theta)),
                      mlp: .swiglu, attentionBias: config["attention_bias"]?.boolValue ?? false,
                      mlpBias: config["mlp_bias"]?.boolValue ?? false,
                      tiedEmbeddings: config["tie_word_embeddings"]?.boolValue ?? false)
        case "GPT2LMHeadModel", "gpt2":
            let embedding = try required("n_embd", "hidden_size")
            let heads = try required("n_head", "num_attention_heads")
            guard heads > 0, embedding % heads == 0 else {
                throw .invalidValue(path: path, key: "n_head", reason: "must divide n_embd")
            }
            self.init(family: .gpt2, vocabSize: try required("vocab_size"),
                      contextLength: try required("n_positions", "max_position_embeddings", "n_ctx"), embeddingSize: embedding,
                      layerCount: try required("n_layer", "num_hidden_layers"),
                      feedForwardSize: try int("n_inner") ?? 4 * embedding,
                      headCount: heads, kvHeadCount: heads, headDim: embedding / heads,
                      norm: .layerNorm(epsilon: float("layer_norm_epsilon") ?? 1e-5), position: .learned, mlp: .gelu,
                      attentionBias: true, mlpBias: true, tiedEmbeddings: config["tie_word_embeddings"]?.boolValue ?? true)
        default:
            throw .unsupportedArchitecture(path: path, found: architecture, supported: Self.supportedHuggingFaceArchitectures)
        }
        try validate(path: path)
    }

    /// Dimensions that every kernel relies on.
    func validate(path: String) throws(ModelError) {
        for (key, value) in [("vocab size", vocabSize), ("embedding size", embeddingSize), ("layer count", layerCount),
                             ("feed-forward size", feedForwardSize), ("head count", headCount), ("head size", headDim)] where value <= 0 {
            throw .invalidValue(path: path, key: key, reason: "must be positive, is \(value)")
        }
        guard kvHeadCount > 0, headCount % kvHeadCount == 0 else {
            throw .invalidValue(path: path, key: "kv head count", reason: "\(kvHeadCount) must divide the head count \(headCount)")
        }
        if case .rope = position, headDim % 2 != 0 {
            throw .invalidValue(path: path, key: "head size", reason: "must be even for rotary embeddings, is \(headDim)")
        }
    }
}
