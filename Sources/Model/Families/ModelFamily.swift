import Formats

/// Everything ckpt knows about one model family, as data (DESIGN.md "Families: a registry, one block"):
/// which Hugging Face architectures and GGUF architecture it is, how its config.json and GGUF keys decode
/// into a TransformerConfig (whose fields are the block recipe), and its Hugging Face tensor names with the
/// layout fixups applied on the way to GGUF. One file per family under Families/ builds one of these;
/// ModelFamilies lists them. Nothing else names a family.
public struct ModelFamily: Sendable, Equatable, CustomStringConvertible {
    public static func == (a: ModelFamily, b: ModelFamily) -> Bool { a.ggufArchitecture == b.ggufArchitecture }

    /// GGUF `general.architecture`.
    public let ggufArchitecture: String
    /// HF `architectures[0]` values and `model_type` values that select this family.
    public let huggingFaceArchitectures: [String]
    public let modelTypes: [String]
    /// HF tensor name pattern per slot (`{N}` = layer).
    public let huggingFaceNames: [TensorNames.Slot: String]
    /// Layout change from HF to GGUF per slot (absent = none).
    public let fixups: [TensorNames.Slot: TensorNames.Fixup]
    /// A prefix some checkpoints put before every name (GPT-2's `transformer.`), accepted on import.
    public let optionalHuggingFacePrefix: String?
    /// The prefix written on export (nil: none).
    public let exportHuggingFacePrefix: String?
    let decodeHuggingFace: @Sendable (HFConfigReader) throws(ModelError) -> TransformerConfig
    let decodeGGUF: @Sendable (GGUFConfigReader) throws(ModelError) -> TransformerConfig
    /// The `<arch>.*` keys (and `general.file_type` at its place) convert_hf_to_gguf writes, in its order.
    public let ggufKeys: @Sendable (TransformerConfig, GGUFKeyContext) -> [(key: String, value: GGUFValue)]
    /// How convert_hf_to_gguf marks the added tokens of a SentencePiece vocabulary: `llama` (base.py:
    /// tokenizer_config.json's added_tokens_decoder, special → control, scores kept) or `phi3` (phi.py: those
    /// and tokenizer.json's added_tokens, score −1000, user-defined or control).
    public enum SentencePieceAddedTokens: Sendable { case llama, phi3 }
    public let sentencePieceAddedTokens: SentencePieceAddedTokens
    /// Whether llama.cpp types a model of (layers, heads, kv heads) LLM_TYPE_70B, which llama-quantize's
    /// mixes give more bits in attn_v.
    public let isLlamaCpp70B: @Sendable (Int, Int, Int) -> Bool
    /// Keys convert_hf_to_gguf adds while it generates tensors, which land right after `general.architecture`.
    public let keysWrittenWithTensors: Set<String>
    /// config.json of a Hugging Face export, keys sorted as transformers writes them.
    public let huggingFaceConfig: @Sendable (TransformerConfig, HFExportContext) throws(ModelError) -> [(String, JSONValue)]

    public init(ggufArchitecture: String, huggingFaceArchitectures: [String], modelTypes: [String],
                huggingFaceNames: [TensorNames.Slot: String], fixups: [TensorNames.Slot: TensorNames.Fixup] = [:],
                optionalHuggingFacePrefix: String? = nil, exportHuggingFacePrefix: String? = nil,
                huggingFace: @escaping @Sendable (HFConfigReader) throws(ModelError) -> TransformerConfig,
                gguf: @escaping @Sendable (GGUFConfigReader) throws(ModelError) -> TransformerConfig,
                ggufKeys: @escaping @Sendable (TransformerConfig, GGUFKeyContext) -> [(key: String, value: GGUFValue)],
                keysWrittenWithTensors: Set<String> = [], sentencePieceAddedTokens: SentencePieceAddedTokens = .llama,
                huggingFaceConfig: @escaping @Sendable (TransformerConfig, HFExportContext) throws(ModelError) -> [(String, JSONValue)],
                isLlamaCpp70B: @escaping @Sendable (Int, Int, Int) -> Bool = { _, _, _ in false }) {
        self.ggufArchitecture = ggufArchitecture
        self.huggingFaceArchitectures = huggingFaceArchitectures
        self.modelTypes = modelTypes
        self.huggingFaceNames = huggingFaceNames
        self.fixups = fixups
        self.optionalHuggingFacePrefix = optionalHuggingFacePrefix
        self.exportHuggingFacePrefix = exportHuggingFacePrefix
        self.decodeHuggingFace = huggingFace
        self.decodeGGUF = gguf
        self.ggufKeys = ggufKeys
        self.keysWrittenWithTensors = keysWrittenWithTensors
        self.sentencePieceAddedTokens = sentencePieceAddedTokens
        self.isLlamaCpp70B = isLlamaCpp70B
        self.huggingFaceConfig = huggingFaceConfig
    }

    public var description: String { ggufArchitecture }
}

/// The registry: every family ckpt supports, looked up by HF architecture / model_type or GGUF architecture.
public enum ModelFamilies {
    public static let all: [ModelFamily] = [.llama, .gpt2, .qwen2, .qwen3, .gemma3, .phi3]

    public static func gguf(_ architecture: String) -> ModelFamily? {
        all.first { $0.ggufArchitecture == architecture }
    }

    /// By `architectures[0]`, else by `model_type`.
    public static func huggingFace(architecture: String?, modelType: String?) -> ModelFamily? {
        if let architecture, let f = all.first(where: { $0.huggingFaceArchitectures.contains(architecture) }) { return f }
        if let modelType, let f = all.first(where: { $0.modelTypes.contains(modelType) }) { return f }
        return nil
    }
}

extension TransformerConfig {
    /// This config's family (the registry holds every architecture a config can be decoded from).
    public var family: ModelFamily {
        guard let family = ModelFamilies.gguf(architecture) else {
            preconditionFailure("no family registered for architecture '\(architecture)'")
        }
        return family
    }

    /// From GGUF metadata (formats.md §4.3), through the family named by `general.architecture`.
    public init(gguf: GGUFFile) throws(ModelError) {
        guard let arch = gguf.architecture else { throw .missingKey(path: gguf.path, key: GGUFKeys.architecture) }
        guard let family = ModelFamilies.gguf(arch) else {
            throw .unsupportedArchitecture(path: gguf.path, found: arch, supported: Self.supportedGGUFArchitectures)
        }
        self = try family.decodeGGUF(GGUFConfigReader(gguf: gguf, architecture: arch))
        try validate(path: gguf.path)
    }

    /// From a Hugging Face config.json, through the family its `architectures` or `model_type` names.
    public init(huggingFace config: JSONValue, path: String) throws(ModelError) {
        let architecture = config["architectures"]?.arrayValue?.first?.stringValue
        let modelType = config["model_type"]?.stringValue
        guard let family = ModelFamilies.huggingFace(architecture: architecture, modelType: modelType) else {
            throw .unsupportedArchitecture(path: path, found: architecture ?? modelType ?? "(none)",
                                           supported: Self.supportedHuggingFaceArchitectures)
        }
        self = try family.decodeHuggingFace(HFConfigReader(json: config, path: path))
        try validate(path: path)
    }

    /// Dimensions that every kernel relies on.
    func validate(path: String) throws(ModelError) {
        for (key, value) in [("vocab size", vocabSize), ("embedding size", embeddingSize), ("layer count", layerCount),
                             ("feed-forward size", feedForwardSize), ("head count", headCount), ("head size", headDim),
                             ("context length", contextLength)] where value <= 0 {
            throw .invalidValue(path: path, key: key, reason: "must be positive, is \(value)")
        }
        guard kvHeadCount > 0, headCount % kvHeadCount == 0 else {
            throw .invalidValue(path: path, key: "kv head count", reason: "\(kvHeadCount) must divide the head count \(headCount)")
        }
        for rope in [rope(layer: 0), localRope].compactMap({ $0 }) {
            guard rope.dimensions > 0, rope.dimensions % 2 == 0, rope.dimensions <= headDim else {
                throw .invalidValue(path: path, key: "rotary dimensions",
                                    reason: "\(rope.dimensions) must be even and at most the head size \(headDim)")
            }
            let pairs = rope.dimensions / 2
            switch rope.scaling {
            case .divisors(let d) where d.count != pairs:
                throw .invalidValue(path: path, key: "rope frequency factors", reason: "\(d.count) values for \(pairs) rotary pairs")
            case .longrope(let short, let long, _, _) where short.count != pairs || long.count != pairs:
                throw .invalidValue(path: path, key: "longrope factors",
                                    reason: "\(short.count) short and \(long.count) long values for \(pairs) rotary pairs")
            default: break
            }
        }
        if slidingWindow > 0, slidingLayers.count != layerCount {
            throw .invalidValue(path: path, key: "sliding window layers", reason: "\(slidingLayers.count) entries for \(layerCount) layers")
        }
    }
}
