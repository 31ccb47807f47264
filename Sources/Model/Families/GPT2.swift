import Formats

/// GPT-2 (`gpt2`): LayerNorm, learned positions, fused qkv, GELU (tanh), biases everywhere, Conv1D weights
/// stored [in, out] in HF (transposed on the way to GGUF), names with or without `transformer.`.
extension ModelFamily {
    public static let gpt2 = ModelFamily(
        ggufArchitecture: "gpt2", huggingFaceArchitectures: ["GPT2LMHeadModel"], modelTypes: ["gpt2"],
        huggingFaceNames: [
            .tokenEmbedding: "wte.weight", .positionEmbedding: "wpe.weight", .outputNorm: "ln_f.weight",
            .outputNormBias: "ln_f.bias", .output: "lm_head.weight",
            .attnNorm: "h.{N}.ln_1.weight", .attnNormBias: "h.{N}.ln_1.bias",
            .attnQKV: "h.{N}.attn.c_attn.weight", .attnQKVBias: "h.{N}.attn.c_attn.bias",
            .attnOutput: "h.{N}.attn.c_proj.weight", .attnOutputBias: "h.{N}.attn.c_proj.bias",
            .ffnNorm: "h.{N}.ln_2.weight", .ffnNormBias: "h.{N}.ln_2.bias",
            .ffnUp: "h.{N}.mlp.c_fc.weight", .ffnUpBias: "h.{N}.mlp.c_fc.bias",
            .ffnDown: "h.{N}.mlp.c_proj.weight", .ffnDownBias: "h.{N}.mlp.c_proj.bias",
        ],
        fixups: [.attnQKV: .transpose, .attnOutput: .transpose, .ffnUp: .transpose, .ffnDown: .transpose],
        optionalHuggingFacePrefix: "transformer.", exportHuggingFacePrefix: "transformer.",
        huggingFace: { r throws(ModelError) in
            let embedding = try r.required("n_embd", "hidden_size")
            let heads = try r.required("n_head", "num_attention_heads")
            guard heads > 0, embedding % heads == 0 else {
                throw .invalidValue(path: r.path, key: "n_head", reason: "must divide n_embd")
            }
            var c = TransformerConfig(architecture: "gpt2", vocabSize: try r.required("vocab_size"),
                                      contextLength: try r.required("n_positions", "max_position_embeddings", "n_ctx"),
                                      embeddingSize: embedding, layerCount: try r.required("n_layer", "num_hidden_layers"),
                                      feedForwardSize: try r.int("n_inner") ?? 4 * embedding,
                                      headCount: heads, kvHeadCount: heads, headDim: embedding / heads,
                                      norm: .layerNorm(epsilon: r.float("layer_norm_epsilon") ?? 1e-5), position: .learned,
                                      mlp: .gelu, tiedEmbeddings: r.bool("tie_word_embeddings") ?? true)
            GPT2Recipe.apply(&c)
            return c
        },
        gguf: { r throws(ModelError) in
            let embedding = try r.required(.embeddingLength)
            let heads = try r.required(.headCount)
            guard heads > 0, embedding % heads == 0 else {
                throw .invalidValue(path: r.path, key: r.key(.headCount), reason: "must divide the embedding size")
            }
            var c = TransformerConfig(architecture: "gpt2", vocabSize: try r.vocabSize(),
                                      contextLength: try r.required(.contextLength), embeddingSize: embedding,
                                      layerCount: try r.required(.blockCount),
                                      feedForwardSize: try r.int(.feedForwardLength) ?? 4 * embedding,
                                      headCount: heads, kvHeadCount: heads, headDim: embedding / heads,
                                      norm: .layerNorm(epsilon: r.float(.layerNormEpsilon) ?? 1e-5), position: .learned,
                                      mlp: .gelu, tiedEmbeddings: r.tiedEmbeddings)
            GPT2Recipe.apply(&c)
            return c
        },
        ggufKeys: { c, x in
            [FamilyKeys.u32("gpt2", .blockCount, c.layerCount), FamilyKeys.u32("gpt2", .contextLength, c.contextLength),
             FamilyKeys.u32("gpt2", .embeddingLength, c.embeddingSize), FamilyKeys.u32("gpt2", .feedForwardLength, c.feedForwardSize),
             FamilyKeys.u32("gpt2", .headCount, c.headCount), FamilyKeys.f32("gpt2", .layerNormEpsilon, FamilyKeys.epsilon(c)),
             (GGUFKeys.fileType, .uint32(x.fileType))]
        },
        huggingFaceConfig: { c, x throws(ModelError) in
            [("activation_function", .string("gelu_new")), ("architectures", .array([.string("GPT2LMHeadModel")])),
             ("bos_token_id", x.bos), ("eos_token_id", x.eos), ("layer_norm_epsilon", FamilyKeys.json(FamilyKeys.epsilon(c))),
             ("model_type", .string("gpt2")), ("n_ctx", .int(c.contextLength)), ("n_embd", .int(c.embeddingSize)),
             ("n_head", .int(c.headCount)), ("n_inner", .int(c.feedForwardSize)), ("n_layer", .int(c.layerCount)),
             ("n_positions", .int(c.contextLength)), ("pad_token_id", x.pad), ("tie_word_embeddings", .bool(true)),
             ("torch_dtype", .string(x.torchDType)), ("vocab_size", .int(c.vocabSize))]
        })
}

enum GPT2Recipe {
    static func apply(_ c: inout TransformerConfig) {
        c.fusedQKV = true
        c.qkvBias = true
        c.outputBias = true
        c.mlpBias = true
    }
}
