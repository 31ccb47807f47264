import Formats

/// What a family's GGUF key list needs beyond the config.
public struct GGUFKeyContext: Sendable {
    /// `general.file_type` (0 all F32, 1 mostly F16, …).
    public var fileType: UInt32
    /// The HF config when converting from one (keys written only when the source had them, e.g. head_dim).
    public var source: HFConfigReader?
    public init(fileType: UInt32, source: HFConfigReader? = nil) {
        self.fileType = fileType
        self.source = source
    }
}

/// What a family's config.json needs beyond the config: the special token ids and the torch dtype name.
public struct HFExportContext: Sendable {
    public var bos, eos, pad: JSONValue
    public var torchDType: String
    public let path: String
    public init(bos: JSONValue, eos: JSONValue, pad: JSONValue, torchDType: String, path: String) {
        self.bos = bos
        self.eos = eos
        self.pad = pad
        self.torchDType = torchDType
        self.path = path
    }
}

/// Key builders the family files share.
enum FamilyKeys {
    /// GGUF keeps float32 values: the shortest decimal that reads back to that float (1e-05, not 9.99…e-06).
    static func json(_ x: Float) -> JSONValue { .double(Double(String(x)) ?? Double(x)) }

    static func u32(_ arch: String, _ key: GGUFKeys.ArchKey, _ v: Int) -> (key: String, value: GGUFValue) {
        (GGUFKeys.arch(arch, key), .uint32(UInt32(v)))
    }

    static func f32(_ arch: String, _ key: GGUFKeys.ArchKey, _ v: Float) -> (key: String, value: GGUFValue) {
        (GGUFKeys.arch(arch, key), .float32(v))
    }

    static func epsilon(_ c: TransformerConfig) -> Float {
        switch c.norm { case .rmsNorm(let e), .layerNorm(let e): return e }
    }

    static func globalRope(_ c: TransformerConfig) -> RotaryEmbedding? {
        if case .rope(let r) = c.position { return r }
        return nil
    }

    /// convert_hf_to_gguf's TextModel.set_gguf_parameters: block count, context, embedding, feed-forward,
    /// heads, kv heads, rope base, rms epsilon, key/value length (when the source states head_dim), file type.
    static func base(_ c: TransformerConfig, _ x: GGUFKeyContext) -> [(key: String, value: GGUFValue)] {
        let a = c.architecture
        var kv = [u32(a, .blockCount, c.layerCount), u32(a, .contextLength, c.contextLength),
                  u32(a, .embeddingLength, c.embeddingSize), u32(a, .feedForwardLength, c.feedForwardSize),
                  u32(a, .headCount, c.headCount), u32(a, .headCountKV, c.kvHeadCount)]
        if let rope = globalRope(c) {
            kv += ropeScaling(a, rope)
            kv.append(f32(a, .ropeFreqBase, rope.theta))
        }
        kv.append(f32(a, .rmsEpsilon, epsilon(c)))
        let explicitHeadDim = x.source.map { $0["head_dim"] != nil } ?? (c.headDim != c.embeddingSize / c.headCount)
        if explicitHeadDim {
            kv.append(u32(a, .keyLength, c.headDim))
            kv.append(u32(a, .valueLength, c.headDim))
        }
        kv.append((GGUFKeys.fileType, .uint32(x.fileType)))
        return kv
    }

    /// The rope scaling keys convert_hf_to_gguf writes in set_gguf_parameters (before the rope base): linear
    /// and yarn with their parameters; llama3's divisors and longrope's factors travel as tensors instead.
    static func ropeScaling(_ a: String, _ rope: RotaryEmbedding) -> [(key: String, value: GGUFValue)] {
        switch rope.scaling {
        case .linear(let factor):
            return [(GGUFKeys.arch(a, .ropeScalingType), .string("linear")), f32(a, .ropeScalingFactor, factor)]
        case .yarn(let y):
            var kv = [(GGUFKeys.arch(a, .ropeScalingType), GGUFValue.string("yarn")), f32(a, .ropeScalingFactor, y.factor),
                      u32(a, .ropeScalingOriginalContext, y.originalContext)]
            if let v = y.attentionFactor { kv.append(f32(a, .ropeScalingYarnAttnFactor, v)) }
            if let v = y.betaFast { kv.append(f32(a, .ropeScalingYarnBetaFast, v)) }
            if let v = y.betaSlow { kv.append(f32(a, .ropeScalingYarnBetaSlow, v)) }
            return kv
        case .none, .divisors, .longrope:
            return []
        }
    }

    /// The llama-shaped config.json members (sorted later by the caller's writer order).
    static func llamaShaped(_ c: TransformerConfig, _ x: HFExportContext, architecture: String, modelType: String,
                            activation: String = "silu") -> [(String, JSONValue)] {
        var config: [(String, JSONValue)] = [
            ("architectures", .array([.string(architecture)])), ("bos_token_id", x.bos), ("eos_token_id", x.eos),
            ("head_dim", .int(c.headDim)), ("hidden_act", .string(activation)), ("hidden_size", .int(c.embeddingSize)),
            ("intermediate_size", .int(c.feedForwardSize)), ("max_position_embeddings", .int(c.contextLength)),
            ("model_type", .string(modelType)), ("num_attention_heads", .int(c.headCount)),
            ("num_hidden_layers", .int(c.layerCount)), ("num_key_value_heads", .int(c.kvHeadCount)),
            ("pad_token_id", x.pad), ("rms_norm_eps", json(epsilon(c))),
            ("tie_word_embeddings", .bool(c.tiedEmbeddings)), ("torch_dtype", .string(x.torchDType)),
            ("vocab_size", .int(c.vocabSize)),
        ]
        if let rope = globalRope(c) { config.append(("rope_theta", json(rope.theta))) }
        return config
    }
}

/// The rope scaling of a config as config.json's `rope_scaling`.
enum HFRopeExport {
    static func scaling(_ c: TransformerConfig, path: String) throws(ModelError) -> [(String, JSONValue)] {
        guard let rope = FamilyKeys.globalRope(c) else { return [] }
        switch rope.scaling {
        case .none:
            return []
        case .linear(let factor):
            return [("rope_scaling", .object([("factor", FamilyKeys.json(factor)), ("rope_type", .string("linear"))]))]
        case .longrope(let short, let long, _, let factor):
            // The original context is config.json's top-level original_max_position_embeddings (Phi3.swift).
            return [("rope_scaling", .object([("attention_factor", FamilyKeys.json(factor)),
                                              ("long_factor", .array(long.map(FamilyKeys.json))),
                                              ("rope_type", .string("longrope")),
                                              ("short_factor", .array(short.map(FamilyKeys.json)))]))]
        case .yarn(let y):
            var p: [(String, JSONValue)] = [("factor", FamilyKeys.json(y.factor)),
                                            ("original_max_position_embeddings", .int(y.originalContext)),
                                            ("rope_type", .string("yarn"))]
            if let v = y.attentionFactor { p.append(("attention_factor", FamilyKeys.json(v))) }
            if let v = y.betaFast { p.append(("beta_fast", FamilyKeys.json(v))) }
            if let v = y.betaSlow { p.append(("beta_slow", FamilyKeys.json(v))) }
            return [("rope_scaling", .object(p.sorted { $0.0 < $1.0 }))]
        case .divisors(let divisors):
            // GGUF keeps only the per-pair divisors (rope_freqs): the llama3 parameters they came from are
            // recovered (RopeScalingMath.llama3Parameters) and must give the same divisors again.
            guard let p = RopeScalingMath.llama3Parameters(divisors: divisors, dimensions: rope.dimensions, theta: rope.theta),
                  RopeScalingMath.llama3Divisors(dimensions: rope.dimensions, theta: rope.theta, factor: p.factor,
                                                 lowFrequencyFactor: p.low, highFrequencyFactor: p.high,
                                                 originalContext: Double(p.originalContext)) == divisors else {
                throw .invalidValue(path: path, key: "rope_freqs.weight",
                                    reason: "the frequency divisors are not those of a llama3 rope scaling, config.json cannot express them")
            }
            return [("rope_scaling", .object([
                ("factor", .double(p.factor)), ("high_freq_factor", .double(p.high)), ("low_freq_factor", .double(p.low)),
                ("original_max_position_embeddings", .int(p.originalContext)), ("rope_type", .string("llama3")),
            ]))]
        }
    }
}
