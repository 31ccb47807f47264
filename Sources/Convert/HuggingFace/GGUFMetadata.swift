import Formats
import Model

/// The metadata convert_hf_to_gguf.py writes, in its order and with the types llama.cpp checks
/// (formats.md §4): general.*, the architecture keys, then the tokenizer (tokenizer.json vocabulary and
/// merges, special ids from tokenizer_config.json, chat template).
enum GGUFMetadata {
    typealias KV = (key: String, value: GGUFValue)

    static func build(_ hf: HuggingFaceDirectory, plan: GGUFConversionPlan, preTokenizer: String? = nil) throws(ConvertError) -> [KV] {
        let c = hf.config, arch = c.architecture
        let parameters = plan.entries.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let family = c.family
        let keys = family.ggufKeys(c, GGUFKeyContext(fileType: plan.fileType,
                                                     source: HFConfigReader(json: hf.configJSON, path: hf.path + "/config.json")))
        let early = keys.filter { family.keysWrittenWithTensors.contains($0.key) }
        var kv: [KV] = [(GGUFKeys.architecture, .string(arch))] + early + [
            (GGUFKeys.type, .string("model")), (GGUFKeys.name, .string(modelName(hf.path))),
            (GGUFKeys.sizeLabel, .string(sizeLabel(parameters))),
        ]
        kv += keys.filter { !family.keysWrittenWithTensors.contains($0.key) }
        kv.append((GGUFKeys.quantizationVersion, .uint32(2)))
        kv += try TokenizerMetadata.build(hf, vocabSize: c.vocabSize, preTokenizer: preTokenizer)
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
