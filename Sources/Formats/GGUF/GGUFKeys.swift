/// GGUF metadata key names used by ckpt (formats.md §4). Architecture keys are prefixed by
/// `general.architecture` ("llama", "gpt2"): `GGUFKeys.arch("llama", .blockCount)`.
public enum GGUFKeys {
    public static let magic: [UInt8] = Array("GGUF".utf8)
    public static let defaultAlignment = 32
    /// GGUF_MAX_STRING_LENGTH and GGUF_MAX_ARRAY_ELEMENTS in ggml's gguf.cpp.
    public static let maxStringLength: UInt64 = 1 << 30
    public static let maxArrayCount: UInt64 = 1 << 30
    /// GGML_MAX_NAME is 64 including the NUL.
    public static let maxTensorNameLength = 63
    /// GGML_MAX_DIMS.
    public static let maxDims = 4

    public static let architecture = "general.architecture"
    public static let alignment = "general.alignment"
    public static let name = "general.name"
    public static let type = "general.type"
    public static let sizeLabel = "general.size_label"
    public static let fileType = "general.file_type"
    public static let quantizationVersion = "general.quantization_version"
    /// LoRA adapter files (convert_lora_to_gguf.py): general.type "adapter", adapter.type "lora", and the
    /// alpha llama.cpp scales B·A by (alpha / rank; 0 means 1).
    public static let adapterType = "adapter.type"
    public static let adapterLoRAAlpha = "adapter.lora.alpha"

    public static let tokenizerModel = "tokenizer.ggml.model"
    public static let tokenizerPre = "tokenizer.ggml.pre"
    public static let tokens = "tokenizer.ggml.tokens"
    public static let tokenTypes = "tokenizer.ggml.token_type"
    public static let scores = "tokenizer.ggml.scores"
    public static let merges = "tokenizer.ggml.merges"
    public static let addSpacePrefix = "tokenizer.ggml.add_space_prefix"
    /// The default chat template, and the names of the others (`tokenizer.chat_template.<name>` each).
    public static let chatTemplate = "tokenizer.chat_template"
    public static let chatTemplateNames = "tokenizer.chat_templates"
    public static func chatTemplate(named name: String) -> String { "\(chatTemplate).\(name)" }
    /// `tokenizer.ggml.<name>_token_id`; name: bos, eos, unknown, padding, seperator (sic), cls, mask, eot, eom.
    public static func tokenID(_ name: String) -> String { "tokenizer.ggml.\(name)_token_id" }
    /// `tokenizer.ggml.add_<name>_token`; name: bos, eos, sep.
    public static func addToken(_ name: String) -> String { "tokenizer.ggml.add_\(name)_token" }
    public static let addBOS = addToken("bos")
    public static let addEOS = addToken("eos")
    public static let bosTokenID = tokenID("bos")
    public static let eosTokenID = tokenID("eos")
    public static let eotTokenID = tokenID("eot")
    /// Special token id keys, with the short names summaries use.
    public static let specialTokenIDs: [(short: String, key: String)] = [
        ("bos", tokenID("bos")), ("eos", tokenID("eos")), ("unk", tokenID("unknown")), ("pad", tokenID("padding")),
        ("sep", tokenID("seperator")), ("cls", tokenID("cls")), ("mask", tokenID("mask")), ("eot", tokenID("eot")),
        ("eom", tokenID("eom")),
    ]

    public enum ArchKey: String, Sendable {
        case vocabSize = "vocab_size"
        case contextLength = "context_length"
        case embeddingLength = "embedding_length"
        case blockCount = "block_count"
        case feedForwardLength = "feed_forward_length"
        case headCount = "attention.head_count"
        case headCountKV = "attention.head_count_kv"
        case rmsEpsilon = "attention.layer_norm_rms_epsilon"
        case layerNormEpsilon = "attention.layer_norm_epsilon"
        case ropeFreqBase = "rope.freq_base"
        case ropeDimensionCount = "rope.dimension_count"
        case keyLength = "attention.key_length"
        case valueLength = "attention.value_length"
        case slidingWindow = "attention.sliding_window"
        case slidingWindowPattern = "attention.sliding_window_pattern"
        case ropeFreqBaseSWA = "rope.freq_base_swa"
        case ropeScalingType = "rope.scaling.type"
        case ropeScalingFactor = "rope.scaling.factor"
        case ropeScalingAttnFactor = "rope.scaling.attn_factor"
        case ropeScalingOriginalContext = "rope.scaling.original_context_length"
        case ropeScalingYarnExtFactor = "rope.scaling.yarn_ext_factor"
        case ropeScalingYarnAttnFactor = "rope.scaling.yarn_attn_factor"
        case ropeScalingYarnBetaFast = "rope.scaling.yarn_beta_fast"
        case ropeScalingYarnBetaSlow = "rope.scaling.yarn_beta_slow"
        case ropeScalingYarnLogMultiplier = "rope.scaling.yarn_log_multiplier"
    }

    public static func arch(_ architecture: String, _ key: ArchKey) -> String { "\(architecture).\(key.rawValue)" }
}
