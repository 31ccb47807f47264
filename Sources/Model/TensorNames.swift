import Formats

/// The GGUF name of every model slot (gguf-py's constants), with the name matching used on tensor names:
/// nothing else compares tensor names. Each family's Hugging Face names and their layout fixups live in its
/// file under Families/ (ModelFamily.huggingFaceNames), and are read through the functions below.
/// `{N}` stands for the layer number.
public enum TensorNames {
    public enum Slot: String, CaseIterable, Sendable {
        case tokenEmbedding, positionEmbedding, outputNorm, outputNormBias, output
        case attnNorm, attnNormBias, attnQ, attnQBias, attnK, attnKBias, attnV, attnVBias
        case attnQKV, attnQKVBias, attnQNorm, attnKNorm, attnOutput, attnOutputBias, postAttnNorm
        case ffnNorm, ffnNormBias, ffnGate, ffnGateBias, ffnUp, ffnUpBias, ffnDown, ffnDownBias, postFfnNorm
    }

    /// How an HF tensor becomes the GGUF one (and back, inverted).
    public enum Fixup: Equatable, Sendable {
        case none
        /// llama q/k rows: HF's rotate-half halves become interleaved pairs, per head. `kv` uses the KV head count.
        case permuteHeads(kv: Bool)
        /// GPT-2 Conv1D stores [in, out]; GGUF (and Linear) want [out, in].
        case transpose
        /// Gemma's RMSNorm computes x·(1 + w) and stores w; GGUF (and ckpt) store 1 + w.
        case addOne
    }

    /// GGUF names in convert_hf_to_gguf's order within a layer.
    static let ggufNames: [Slot: String] = [
        .tokenEmbedding: "token_embd.weight", .positionEmbedding: "position_embd.weight",
        .outputNorm: "output_norm.weight", .outputNormBias: "output_norm.bias", .output: "output.weight",
        .attnNorm: "blk.{N}.attn_norm.weight", .attnNormBias: "blk.{N}.attn_norm.bias",
        .attnQ: "blk.{N}.attn_q.weight", .attnQBias: "blk.{N}.attn_q.bias",
        .attnK: "blk.{N}.attn_k.weight", .attnKBias: "blk.{N}.attn_k.bias",
        .attnV: "blk.{N}.attn_v.weight", .attnVBias: "blk.{N}.attn_v.bias",
        .attnQKV: "blk.{N}.attn_qkv.weight", .attnQKVBias: "blk.{N}.attn_qkv.bias",
        .attnQNorm: "blk.{N}.attn_q_norm.weight", .attnKNorm: "blk.{N}.attn_k_norm.weight",
        .attnOutput: "blk.{N}.attn_output.weight", .attnOutputBias: "blk.{N}.attn_output.bias",
        .postAttnNorm: "blk.{N}.post_attention_norm.weight",
        .ffnNorm: "blk.{N}.ffn_norm.weight", .ffnNormBias: "blk.{N}.ffn_norm.bias",
        .ffnGate: "blk.{N}.ffn_gate.weight", .ffnGateBias: "blk.{N}.ffn_gate.bias",
        .ffnUp: "blk.{N}.ffn_up.weight", .ffnUpBias: "blk.{N}.ffn_up.bias",
        .ffnDown: "blk.{N}.ffn_down.weight", .ffnDownBias: "blk.{N}.ffn_down.bias",
        .postFfnNorm: "blk.{N}.post_ffw_norm.weight",
    ]

    /// Global GGUF tensors that are not weights of a slot but rotary data of the config (Llama 3's per-pair
    /// frequency divisors, Phi-3's longrope factors): read into RotaryEmbedding.Scaling, written from it.
    public enum RopeTensor: String, CaseIterable, Sendable {
        case frequencies = "rope_freqs.weight"
        case longFactors = "rope_factors_long.weight"
        case shortFactors = "rope_factors_short.weight"
    }

    /// HF tensors that are buffers, not weights: dropped on import (formats.md §5.1, §5.2).
    static let ignorableHuggingFaceSuffixes = [".rotary_emb.inv_freq", ".attn.bias", ".attn.masked_bias"]

    static func fill(_ pattern: String, _ layer: Int?) -> String {
        guard let layer, let (head, tail) = splitAtLayer(pattern) else { return pattern }
        return head + String(layer) + tail
    }

    /// The parts of `pattern` before and after its `{N}`, nil without one. UTF-8 offsets rather than
    /// String searching: a conversion matches every tensor name against every row (GPT-2 small: ~3,000
    /// matches, which took 6 ms through _StringProcessing's search).
    static func splitAtLayer(_ pattern: String) -> (head: Substring, tail: Substring)? {
        let utf8 = pattern.utf8
        var i = utf8.startIndex
        while i != utf8.endIndex {
            if utf8[i] == UInt8(ascii: "{"), utf8[i...].starts(with: "{N}".utf8) {
                return (pattern[..<i], pattern[utf8.index(i, offsetBy: 3)...])
            }
            i = utf8.index(after: i)
        }
        return nil
    }

    public static func isPerLayer(_ slot: Slot) -> Bool { splitAtLayer(ggufNames[slot]!) != nil }

    public static func gguf(_ slot: Slot, layer: Int?) -> String { fill(ggufNames[slot]!, layer) }

    /// The HF name of a slot in `family`, nil when the family has no such tensor.
    public static func huggingFace(_ slot: Slot, layer: Int?, family: ModelFamily) -> String? {
        family.huggingFaceNames[slot].map { fill($0, layer) }
    }

    public static func fixup(_ slot: Slot, family: ModelFamily) -> Fixup { family.fixups[slot] ?? .none }

    /// The slot and layer of a GGUF name.
    public static func parseGGUF(_ name: String) -> (slot: Slot, layer: Int?)? {
        for slot in Slot.allCases { if let m = match(name, ggufNames[slot]!) { return (slot, m.layer) } }
        return nil
    }

    /// The slot and layer of an HF name (without the family's optional prefix, e.g. GPT-2's `transformer.`).
    public static func parseHuggingFace(_ name: String, family: ModelFamily) -> (slot: Slot, layer: Int?)? {
        var bare = Substring(name)
        if let prefix = family.optionalHuggingFacePrefix, bare.hasPrefix(prefix) { bare = bare.dropFirst(prefix.count) }
        let text = String(bare)
        for slot in Slot.allCases {
            guard let pattern = family.huggingFaceNames[slot] else { continue }
            if let m = match(text, pattern) { return (slot, m.layer) }
        }
        return nil
    }

    /// The rotary tensors a config's GGUF carries, as convert_hf_to_gguf generates them (before every weight):
    /// Llama 3's divisors, Phi-3's long then short factors; f32 [rotary dimensions / 2].
    public static func ropeTensors(_ c: TransformerConfig) -> [(tensor: RopeTensor, values: [Float])] {
        guard case .rope(let rope) = c.position else { return [] }
        switch rope.scaling {
        case .divisors(let d): return [(.frequencies, d)]
        case .longrope(let short, let long, _, _): return [(.longFactors, long), (.shortFactors, short)]
        case .none, .linear, .yarn: return []
        }
    }

    /// A global GGUF tensor that holds rotary data of the config (RopeTensor), not a weight.
    public static func isRopeData(_ name: String) -> Bool { RopeTensor(rawValue: name) != nil }

    public static func isIgnorableHuggingFace(_ name: String) -> Bool {
        ignorableHuggingFaceSuffixes.contains { name.hasSuffix($0) }
    }

    /// A name matched against a pattern: `layer` is nil for global tensors.
    struct Match { var layer: Int? }

    /// Matches `name` against a pattern with at most one `{N}`.
    static func match(_ name: String, _ pattern: String) -> Match? {
        guard let (head, tail) = splitAtLayer(pattern) else { return name == pattern ? Match(layer: nil) : nil }
        let bytes = name.utf8, h = head.utf8.count, t = tail.utf8.count
        guard bytes.count > h + t, bytes.starts(with: head.utf8), bytes.suffix(t).elementsEqual(tail.utf8) else { return nil }
        var n = 0
        for byte in bytes.dropFirst(h).dropLast(t) {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = n.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            n = sum
        }
        return Match(layer: n)
    }

    /// Every slot the model has, in GGUF file order of convert_hf_to_gguf (globals first, then layers).
    public static func expected(_ c: TransformerConfig) -> [(slot: Slot, layer: Int?)] {
        let layerNorm: Bool
        if case .layerNorm = c.norm { layerNorm = true } else { layerNorm = false }
        let separate = !c.fusedQKV, gate = c.mlp.isGated && !c.fusedGateUp
        func present(_ slot: Slot) -> Bool {
            switch slot {
            case .positionEmbedding: return c.position == .learned
            case .output: return !c.tiedEmbeddings
            case .outputNormBias, .attnNormBias, .ffnNormBias: return layerNorm
            case .attnQ, .attnK, .attnV: return separate
            case .attnQBias, .attnKBias, .attnVBias: return separate && c.qkvBias
            case .attnQKV: return c.fusedQKV
            case .attnQKVBias: return c.fusedQKV && c.qkvBias
            case .attnQNorm, .attnKNorm: return c.qkNorm
            case .attnOutputBias: return c.outputBias
            case .postAttnNorm, .postFfnNorm: return c.postNorms
            case .ffnGate: return gate
            case .ffnGateBias: return gate && c.mlpBias
            case .ffnUpBias, .ffnDownBias: return c.mlpBias
            default: return true
            }
        }
        var out: [(Slot, Int?)] = Slot.allCases.filter { !isPerLayer($0) && present($0) }.map { ($0, nil) }
        for layer in 0..<c.layerCount {
            out += Slot.allCases.filter { isPerLayer($0) && present($0) }.map { ($0, layer) }
        }
        return out
    }
}
