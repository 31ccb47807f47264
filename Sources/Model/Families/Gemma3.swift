import Formats

/// Gemma 3 text (`gemma3`): embeddings × √hidden; RMSNorm x·(1 + w) with w stored (GGUF and ckpt store
/// 1 + w); norms before and after attention and MLP; q/k RMSNorm per head; GeGLU (gelu-tanh); scores ×
/// query_pre_attn_scalar^-½; sliding-window layers (5 of every 6, window 512 in the real models) with their
/// own rope base (10 000) and global layers with rope 1e6 and optional linear scaling; tied output.
extension ModelFamily {
    public static let gemma3 = ModelFamily(
        ggufArchitecture: "gemma3", huggingFaceArchitectures: ["Gemma3ForCausalLM"], modelTypes: ["gemma3_text"],
        huggingFaceNames: LlamaNames.standard.merging(LlamaNames.qkNorms) { $1 }.merging([
            .postAttnNorm: "model.layers.{N}.post_attention_layernorm.weight",
            .ffnNorm: "model.layers.{N}.pre_feedforward_layernorm.weight",
            .postFfnNorm: "model.layers.{N}.post_feedforward_layernorm.weight",
        ]) { $1 },
        fixups: [.attnNorm: .addOne, .postAttnNorm: .addOne, .ffnNorm: .addOne, .postFfnNorm: .addOne,
                 .outputNorm: .addOne, .attnQNorm: .addOne, .attnKNorm: .addOne],
        huggingFace: { r throws(ModelError) in
            var c = try r.llamaShape(architecture: "gemma3", layout: .halves, tied: true, defaultTheta: 1_000_000,
                                     ropeKind: "full_attention")
            Gemma3Recipe.apply(&c)
            c.attentionScale = 1 / (r.float("query_pre_attn_scalar") ?? Float(c.headDim)).squareRoot()
            c.slidingWindow = try r.int("sliding_window") ?? 0
            if let types = r["layer_types"]?.arrayValue {
                c.slidingLayers = types.map { $0.stringValue == "sliding_attention" }
            } else {
                let pattern = try r.int("sliding_window_pattern") ?? 6
                c.slidingLayers = (0..<c.layerCount).map { pattern > 0 && ($0 + 1) % pattern != 0 }
            }
            let localTheta = r["rope_local_base_freq"]?.doubleValue.map { Float($0) }
                ?? r.ropeTheta(kind: "sliding_attention", default: 10_000)
            if case .rope(let global) = c.position {
                c.localRope = RotaryEmbedding(layout: .halves, dimensions: global.dimensions, theta: localTheta)
            }
            return c
        },
        gguf: { r throws(ModelError) in
            var c = try r.llamaShape(layout: .halves)
            Gemma3Recipe.apply(&c)
            c.norm = .rmsNorm(epsilon: r.float(.rmsEpsilon) ?? 1e-6)
            // llama.cpp: 1/√head_dim (the query_pre_attn_scalar of every released size but 27B), the
            // sliding pattern fixed at 5 local : 1 global, local rope base 10 000 unless stored.
            c.slidingWindow = try r.int(.slidingWindow) ?? 0
            c.slidingLayers = try r.slidingPattern(layers: c.layerCount, default: 6)
            if case .rope(let global) = c.position {
                c.localRope = RotaryEmbedding(layout: .halves, dimensions: global.dimensions,
                                              theta: r.float(.ropeFreqBaseSWA) ?? 10_000)
            }
            return c
        },
        ggufKeys: { c, x in
            // conversion/gemma.py: the base keys (the rope scaling before the rope base), the local rope
            // base after the rope base, and the sliding window after the file type.
            var kv = FamilyKeys.base(c, x)
            let base = kv.firstIndex { $0.key == GGUFKeys.arch("gemma3", .ropeFreqBase) } ?? kv.count
            if let local = c.localRope { kv.insert(FamilyKeys.f32("gemma3", .ropeFreqBaseSWA, local.theta), at: base + 1) }
            if c.slidingWindow > 0 { kv.append(FamilyKeys.u32("gemma3", .slidingWindow, c.slidingWindow)) }
            return kv
        },
        huggingFaceConfig: { c, x throws(ModelError) in
            var config = FamilyKeys.llamaShaped(c, x, architecture: "Gemma3ForCausalLM", modelType: "gemma3_text",
                                                activation: "gelu_pytorch_tanh")
            config.append(("hidden_activation", .string("gelu_pytorch_tanh")))
            // An integer in transformers' Gemma3TextConfig (head_dim, or the configured scalar).
            config.append(("query_pre_attn_scalar", .int(Int((1 / (c.scoreScale * c.scoreScale)).rounded()))))
            if c.slidingWindow > 0 {
                config.append(("sliding_window", .int(c.slidingWindow)))
                config.append(("layer_types", .array(c.slidingLayers.map { .string($0 ? "sliding_attention" : "full_attention") })))
            }
            if let local = c.localRope { config.append(("rope_local_base_freq", FamilyKeys.json(local.theta))) }
            return config + (try HFRopeExport.scaling(c, path: x.path))
        })
}

/// The Gemma 3 recipe fields both decoders set.
enum Gemma3Recipe {
    static func apply(_ c: inout TransformerConfig) {
        c.mlp = .geglu
        c.qkNorm = true
        c.postNorms = true
        c.embeddingScale = Float(c.embeddingSize).squareRoot()
    }
}
