import Formats

/// Qwen3 (`qwen3`): the Llama layout without biases, an RMSNorm over each head of q and of k (weight
/// [head_dim]) before RoPE, RoPE on halves, explicit head_dim (128 with hidden 1024 in 0.6B).
extension ModelFamily {
    public static let qwen3 = ModelFamily(
        ggufArchitecture: "qwen3", huggingFaceArchitectures: ["Qwen3ForCausalLM"], modelTypes: ["qwen3"],
        huggingFaceNames: LlamaNames.standard.merging(LlamaNames.qkNorms) { $1 },
        huggingFace: { r throws(ModelError) in
            var c = try r.llamaShape(architecture: "qwen3", layout: .halves, tied: false, defaultTheta: 1_000_000)
            let bias = r.bool("attention_bias") ?? false
            c.qkvBias = bias
            c.outputBias = bias
            c.qkNorm = true
            return c
        },
        gguf: { r throws(ModelError) in try r.llamaShape(layout: .halves) },
        ggufKeys: { c, x in FamilyKeys.base(c, x) },
        huggingFaceConfig: { c, x throws(ModelError) in
            FamilyKeys.llamaShaped(c, x, architecture: "Qwen3ForCausalLM", modelType: "qwen3")
                + [("attention_bias", .bool(c.qkvBias))] + (try HFRopeExport.scaling(c, path: x.path))
        })
}
