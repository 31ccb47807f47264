import Formats

/// Llama 1–3.x and Mistral (stored by llama.cpp as `llama`): RMSNorm, SwiGLU, RoPE on adjacent pairs — so
/// HF q/k rows are permuted per head on the way to GGUF —, optional biases (`attention_bias`, `mlp_bias`),
/// rope scaling `llama3` (per-pair divisors, GGUF `rope_freqs.weight`) or `linear`, explicit `head_dim`
/// (Mistral Nemo: 128 with hidden 5120 and 32 heads).
extension ModelFamily {
    public static let llama = ModelFamily(
        ggufArchitecture: "llama", huggingFaceArchitectures: ["LlamaForCausalLM", "MistralForCausalLM"],
        modelTypes: ["llama", "mistral"], huggingFaceNames: LlamaNames.standard,
        fixups: [.attnQ: .permuteHeads(kv: false), .attnQBias: .permuteHeads(kv: false),
                 .attnK: .permuteHeads(kv: true), .attnKBias: .permuteHeads(kv: true)],
        huggingFace: { r throws(ModelError) in
            var c = try r.llamaShape(architecture: "llama", layout: .adjacentPairs, tied: false)
            let bias = r.bool("attention_bias") ?? false
            c.qkvBias = bias
            c.outputBias = bias
            c.mlpBias = r.bool("mlp_bias") ?? false
            return c
        },
        gguf: { r throws(ModelError) in try r.llamaShape(layout: .adjacentPairs) },
        ggufKeys: { c, x in
            var kv = FamilyKeys.base(c, x)
            kv.append(FamilyKeys.u32("llama", .vocabSize, c.vocabSize))
            if let rope = FamilyKeys.globalRope(c) {
                kv.append(FamilyKeys.u32("llama", .ropeDimensionCount, rope.dimensions))
            }
            return kv
        },
        huggingFaceConfig: { c, x throws(ModelError) in
            var config = FamilyKeys.llamaShaped(c, x, architecture: "LlamaForCausalLM", modelType: "llama")
            config += [("attention_bias", .bool(c.qkvBias)), ("mlp_bias", .bool(c.mlpBias))]
            config += try HFRopeExport.scaling(c, path: x.path)
            return config
        },
        // 80 layers with MHA are 65B.
        isLlamaCpp70B: { layers, heads, kvHeads in layers == 80 && heads != kvHeads })
}
