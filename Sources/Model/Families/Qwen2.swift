import Formats

/// Qwen2 / Qwen2.5 (`qwen2`): the Llama layout with biases on q, k, v (not o), RoPE on halves (NEOX, rows
/// not permuted), theta 1e6; 0.5B–3B tie their embeddings.
extension ModelFamily {
    public static let qwen2 = ModelFamily(
        ggufArchitecture: "qwen2", huggingFaceArchitectures: ["Qwen2ForCausalLM"], modelTypes: ["qwen2"],
        huggingFaceNames: LlamaNames.standard,
        huggingFace: { r throws(ModelError) in
            var c = try r.llamaShape(architecture: "qwen2", layout: .halves, tied: false, defaultTheta: 1_000_000)
            c.qkvBias = true
            return c
        },
        gguf: { r throws(ModelError) in try r.llamaShape(layout: .halves) },
        ggufKeys: { c, x in FamilyKeys.base(c, x) },
        huggingFaceConfig: { c, x throws(ModelError) in
            FamilyKeys.llamaShaped(c, x, architecture: "Qwen2ForCausalLM", modelType: "qwen2")
                + (try HFRopeExport.scaling(c, path: x.path))
        },
        isLlamaCpp70B: { layers, _, _ in layers == 80 })
}
