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
            return c
        },
        gguf: { r throws(ModelError) in try r.llamaShape(layout: .halves) },
        ggufKeys: { c, x in
            var kv = FamilyKeys.base(c, x)
            if let rope = FamilyKeys.globalRope(c) {
                kv.append(FamilyKeys.u32("phi3", .ropeDimensionCount, rope.dimensions))
                if case .longrope(_, _, let original, let factor) = rope.scaling {
                    kv.append(FamilyKeys.u32("phi3", .ropeScalingOriginalContext, original))
                    kv.append(FamilyKeys.f32("phi3", .ropeScalingAttnFactor, factor))
                }
            }
            return kv
        },
        huggingFaceConfig: { c, x throws(ModelError) in
            var config = FamilyKeys.llamaShaped(c, x, architecture: "Phi3ForCausalLM", modelType: "phi3")
            if let rope = FamilyKeys.globalRope(c), rope.dimensions != c.headDim {
                config.append(("partial_rotary_factor", FamilyKeys.json(Float(rope.dimensions) / Float(c.headDim))))
            }
            return config + (try HFRopeExport.scaling(c, path: x.path))
        })
}
