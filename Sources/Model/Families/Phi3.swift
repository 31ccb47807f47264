import Formats

/// Phi-3 / 3.5 / 4-mini (`phi3`): one fused qkv projection (`attn_qkv`) and one fused gate-up projection of
/// 2·F rows, gate first (kept fused as `ffn_up`), RoPE on halves, partial rotary (Phi-4-mini 0.75), longrope
/// (short/long factors, GGUF `rope_factors_short/long.weight`).
extension ModelFamily {
    public static let phi3 = ModelFamily(
        ggufArchitecture: "phi3", huggingFaceArchitectures: ["Phi3ForCausalLM"], modelTypes: ["phi3"],
        huggingFaceNames: [
            .tokenEmbedding: "model.embed_tokens.weight", .outputNorm: "model.norm.weight", .output: "lm_head.weight",
            .attnNorm: "model.layers.{N}.input_layernorm.weight",
            .attnQKV: "model.layers.{N}.self_attn.qkv_proj.weight", .attnQKVBias: "model.layers.{N}.self_attn.qkv_proj.bias",
            .attnOutput: "model.layers.{N}.self_attn.o_proj.weight",
            .ffnNorm: "model.layers.{N}.post_attention_layernorm.weight",
            .ffnUp: "model.layers.{N}.mlp.gate_up_proj.weight", .ffnDown: "model.layers.{N}.mlp.down_proj.weight",
        ],
        huggingFace: { r throws(ModelError) in
            var c = try r.llamaShape(architecture: "phi3", layout: .halves, tied: false)
            c.fusedQKV = true
            c.fusedGateUp = true
            c.originalContextLength = try r.int("original_max_position_embeddings")
                ?? r.ropeParameters()?["original_max_position_embeddings"]?.int64Value.map { Int($0) }
            return c
        },
        gguf: { r throws(ModelError) in
            var c = try r.llamaShape(layout: .halves)
            c.originalContextLength = try r.int(.ropeScalingOriginalContext)
            return c
        },
        ggufKeys: { c, x in
            // conversion/phi.py's own order; the sliding window written always (0: none), the attention
            // factor only with longrope factors (keysWrittenWithTensors: it is added with those tensors).
            let a = "phi3", rope = FamilyKeys.globalRope(c)
            var kv = [FamilyKeys.u32(a, .contextLength, c.contextLength),
                      FamilyKeys.u32(a, .ropeScalingOriginalContext, c.originalContextLength ?? c.contextLength),
                      FamilyKeys.u32(a, .embeddingLength, c.embeddingSize), FamilyKeys.u32(a, .feedForwardLength, c.feedForwardSize),
                      FamilyKeys.u32(a, .blockCount, c.layerCount), FamilyKeys.u32(a, .headCount, c.headCount),
                      FamilyKeys.u32(a, .headCountKV, c.kvHeadCount), FamilyKeys.f32(a, .rmsEpsilon, FamilyKeys.epsilon(c)),
                      FamilyKeys.u32(a, .ropeDimensionCount, rope?.dimensions ?? c.headDim),
                      FamilyKeys.f32(a, .ropeFreqBase, rope?.theta ?? 10_000), (GGUFKeys.fileType, .uint32(x.fileType)),
                      // The source's window as written (Phi-3-mini: 2047), which llama.cpp reads as "no SWA".
                      FamilyKeys.u32(a, .slidingWindow, (try? x.source?.int("sliding_window")) ?? 0)]
            if case .longrope(_, _, _, let factor) = rope?.scaling {
                kv.append(FamilyKeys.f32(a, .ropeScalingAttnFactor, factor))
            }
            return kv
        },
        keysWrittenWithTensors: ["phi3.rope.scaling.attn_factor"], sentencePieceAddedTokens: .phi3,
        huggingFaceConfig: { c, x throws(ModelError) in
            var config = FamilyKeys.llamaShaped(c, x, architecture: "Phi3ForCausalLM", modelType: "phi3")
            if let original = c.originalContextLength { config.append(("original_max_position_embeddings", .int(original))) }
            if let rope = FamilyKeys.globalRope(c), rope.dimensions != c.headDim {
                config.append(("partial_rotary_factor", FamilyKeys.json(Float(rope.dimensions) / Float(c.headDim))))
            }
            return config + (try HFRopeExport.scaling(c, path: x.path))
        })
}
