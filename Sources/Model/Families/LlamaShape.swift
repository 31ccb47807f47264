/// The config keys most decoder families share with Llama (hidden_size, num_attention_heads, rope …; GGUF
/// `<arch>.embedding_length`, `attention.head_count` …), decoded once. Each family file starts from this
/// shape and sets its own recipe fields.
extension HFConfigReader {
    /// `layout`: the family's RoPE layout; `tied`: tie_word_embeddings' default in its transformers config.
    public func llamaShape(architecture: String, layout: RotaryEmbedding.Layout, tied: Bool,
                           defaultTheta: Double = 10_000, ropeKind: String? = nil) throws(ModelError) -> TransformerConfig {
        let embedding = try required("hidden_size")
        let heads = try required("num_attention_heads")
        guard heads > 0 else { throw .invalidValue(path: path, key: "num_attention_heads", reason: "must be positive") }
        let headDim = try int("head_dim") ?? embedding / heads
        let rotary = float("partial_rotary_factor").map { Int(Float(headDim) * $0) } ?? headDim
        let theta = ropeTheta(kind: ropeKind, default: defaultTheta)
        let rope = RotaryEmbedding(layout: layout, dimensions: rotary, theta: theta,
                                   scaling: try ropeScaling(kind: ropeKind, dimensions: rotary, theta: theta))
        return TransformerConfig(architecture: architecture, vocabSize: try required("vocab_size"),
                                 contextLength: try required("max_position_embeddings"), embeddingSize: embedding,
                                 layerCount: try required("num_hidden_layers"), feedForwardSize: try required("intermediate_size"),
                                 headCount: heads, kvHeadCount: try int("num_key_value_heads") ?? heads, headDim: headDim,
                                 norm: .rmsNorm(epsilon: float("rms_norm_eps") ?? 1e-6), position: .rope(rope), mlp: .swiglu,
                                 tiedEmbeddings: bool("tie_word_embeddings") ?? tied)
    }
}

extension GGUFConfigReader {
    /// Head size from `attention.key_length` (else embedding / heads), rotary dimensions from
    /// `rope.dimension_count` (else the head size), biases and fusions from the tensors present.
    public func llamaShape(layout: RotaryEmbedding.Layout) throws(ModelError) -> TransformerConfig {
        let embedding = try required(.embeddingLength)
        let heads = try required(.headCount)
        guard heads > 0 else { throw .invalidValue(path: path, key: key(.headCount), reason: "must be positive") }
        let headDim = try int(.keyLength) ?? embedding / heads
        let rotary = try int(.ropeDimensionCount) ?? headDim
        let rope = RotaryEmbedding(layout: layout, dimensions: rotary, theta: float(.ropeFreqBase) ?? 10_000,
                                   scaling: try ropeScaling(dimensions: rotary))
        var c = TransformerConfig(architecture: architecture, vocabSize: try vocabSize(),
                                  contextLength: try required(.contextLength), embeddingSize: embedding,
                                  layerCount: try required(.blockCount), feedForwardSize: try required(.feedForwardLength),
                                  headCount: heads, kvHeadCount: try int(.headCountKV) ?? heads, headDim: headDim,
                                  norm: .rmsNorm(epsilon: float(.rmsEpsilon) ?? 1e-5), position: .rope(rope), mlp: .swiglu,
                                  tiedEmbeddings: tiedEmbeddings)
        c.fusedQKV = hasTensor(TensorNames.gguf(.attnQKV, layer: 0))
        c.qkvBias = hasTensor(TensorNames.gguf(c.fusedQKV ? .attnQKVBias : .attnQBias, layer: 0))
        c.outputBias = hasTensor(TensorNames.gguf(.attnOutputBias, layer: 0))
        c.mlpBias = hasTensor(TensorNames.gguf(.ffnUpBias, layer: 0))
        // Phi-3 keeps gate and up as one `ffn_up` of 2·F rows.
        let up = gguf.tensorInfos.first { $0.name == TensorNames.gguf(.ffnUp, layer: 0) }
        c.fusedGateUp = up?.shape.first == 2 * c.feedForwardSize
        c.qkNorm = hasTensor(TensorNames.gguf(.attnQNorm, layer: 0))
        return c
    }
}

/// Hugging Face names of the Llama layout, which Qwen, Mistral, Gemma and Phi start from.
enum LlamaNames {
    static let standard: [TensorNames.Slot: String] = [
        .tokenEmbedding: "model.embed_tokens.weight", .outputNorm: "model.norm.weight", .output: "lm_head.weight",
        .attnNorm: "model.layers.{N}.input_layernorm.weight",
        .attnQ: "model.layers.{N}.self_attn.q_proj.weight", .attnQBias: "model.layers.{N}.self_attn.q_proj.bias",
        .attnK: "model.layers.{N}.self_attn.k_proj.weight", .attnKBias: "model.layers.{N}.self_attn.k_proj.bias",
        .attnV: "model.layers.{N}.self_attn.v_proj.weight", .attnVBias: "model.layers.{N}.self_attn.v_proj.bias",
        .attnOutput: "model.layers.{N}.self_attn.o_proj.weight", .attnOutputBias: "model.layers.{N}.self_attn.o_proj.bias",
        .ffnNorm: "model.layers.{N}.post_attention_layernorm.weight",
        .ffnGate: "model.layers.{N}.mlp.gate_proj.weight", .ffnGateBias: "model.layers.{N}.mlp.gate_proj.bias",
        .ffnUp: "model.layers.{N}.mlp.up_proj.weight", .ffnUpBias: "model.layers.{N}.mlp.up_proj.bias",
        .ffnDown: "model.layers.{N}.mlp.down_proj.weight", .ffnDownBias: "model.layers.{N}.mlp.down_proj.bias",
    ]

    static let qkNorms: [TensorNames.Slot: String] = [
        .attnQNorm: "model.layers.{N}.self_attn.q_norm.weight", .attnKNorm: "model.layers.{N}.self_attn.k_norm.weight",
    ]
}
