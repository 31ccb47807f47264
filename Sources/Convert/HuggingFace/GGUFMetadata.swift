import Formats
import Model

/// The metadata convert_hf_to_gguf.py writes, in its order and with the types llama.cpp checks
/// (formats.md §4): general.*, the architecture keys, then the tokenizer (tokenizer.json vocabulary and
/// merges, special ids from tokenizer_config.json, chat template).
enum GGUFMetadata {
    typealias KV = (key: String, value: GGUFValue)

    static func build(_ hf: HuggingFaceDirectory, plan: GGUFConversionPlan) throws(ConvertError) -> [KV] {
        let c = hf.config, arch = c.family.rawValue
        let parameters = plan.entries.reduce(0) { $0 + $1.shape.reduce(1, *) }
        var kv: [KV] = [
            ("general.architecture", .string(arch)), ("general.type", .string("model")),
            ("general.name", .string(modelName(hf.path))), ("general.size_label", .string(sizeLabel(parameters))),
            ("\(arch).block_count", .uint32(UInt32(c.layerCount))), ("\(arch).context_length", .uint32(UInt32(c.contextLength))),
            ("\(arch).embedding_length", .uint32(UInt32(c.embeddingSize))),
            ("\(arch).feed_forward_length", .uint32(UInt32(c.feedForwardSize))),
            ("\(arch).attention.head_count", .uint32(UInt32(c.headCount))),
        ]
        switch (c.family, c.norm, c.position) {
        case (.llama, .rmsNorm(let eps), .rope(let theta)):
            kv.append(("llama.attention.head_count_kv", .uint32(UInt32(c.kvHeadCount))))
            kv.append(("llama.rope.freq_base", .float32(theta)))
            kv.append(("llama.attention.layer_norm_rms_epsilon", .float32(eps)))
            if hf.configJSON["head_dim"]?.uint64Value != nil {
                kv.append(("llama.attention.key_length", .uint32(UInt32(c.headDim))))
                kv.append(("llama.attention.value_length", .uint32(UInt32(c.headDim))))
            }
            kv.append(("general.file_type", .uint32(plan.fileType)))
            kv.append(("llama.vocab_size", .uint32(UInt32(c.vocabSize))))
            kv.append(("llama.rope.dimension_count", .uint32(UInt32(c.headDim))))
        case (.gpt2, .layerNorm(let eps), _):
            kv.append(("gpt2.attention.layer_norm_epsilon", .float32(eps)))
            kv.append(("general.file_type", .uint32(plan.fileType)))
        default:
            throw .unsupportedInput(path: hf.path, reason: "the config's norm and position do not match its \(arch) family")
        }
        kv.append(("general.quantization_version", .uint32(2)))
        kv += try TokenizerMetadata.build(hf, vocabSize: c.vocabSize)
        return kv
    }

    /// gguf-py names a model after its folder: "safetensors" → "Safetensors", "SmolLM2-135M-Instruct" →
    /// "SmolLM2 135M Instruct".
    static func modelName(_ path: String) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        return base.split(whereSeparator: { $0 == "-" || $0 == "_" })
            .map { word in word.first.map { String($0).uppercased() + word.dropFirst() } ?? "" }
            .joined(separator: " ")
    }

    /// gguf-py's model_weight_count_rounded_notation: "29K", "135M", "1.2B" (at least two significant digits).
    static func sizeLabel(_ count: Int) -> String {
        let n = Double(count)
        let (scaled, suffix): (Double, String) = n > 1e12 ? (n * 1e-12, "T") : n > 1e9 ? (n * 1e-9, "B") : n > 1e6 ? (n * 1e-6, "M") : (n * 1e-3, "K")
        let digits = String(Int(scaled.rounded())).drop { $0 == "0" }.count
        let fix = max(2 - digits, 0)
        return formatFixed(scaled, fix) + suffix
    }

    static func formatFixed(_ value: Double, _ decimals: Int) -> String {
        var p = 1.0
        for _ in 0..<decimals { p *= 10 }
        let r = (value * p).rounded(.toNearestOrEven) / p
        if decimals == 0 { return String(Int(r)) }
        let whole = Int(r), frac = Int(((r - Double(whole)) * p).rounded())
        let f = String(frac)
        return "\(whole)." + String(repeating: "0", count: max(0, decimals - f.count)) + f
    }
}
