import Formats

/// The only table of tensor names (DESIGN.md): each model slot with its GGUF name and its Hugging Face name
/// per family, and the layout fixups from HF to GGUF declared as data (formats.md §5.1, §5.2). `{N}` stands
/// for the layer number. Name matching on tensor names happens here and nowhere else.
public enum TensorNames {
    public enum Slot: String, CaseIterable, Sendable {
        case tokenEmbedding, positionEmbedding, outputNorm, outputNormBias, output
        case attnNorm, attnNormBias, attnQ, attnQBias, attnK, attnKBias, attnV, attnVBias
        case attnQKV, attnQKVBias, attnOutput, attnOutputBias
        case ffnNorm, ffnNormBias, ffnGate, ffnGateBias, ffnUp, ffnUpBias, ffnDown, ffnDownBias
    }

    /// How an HF tensor becomes the GGUF one (and back, inverted).
    public enum Fixup: Equatable, Sendable {
        case none
        /// llama q/k rows: HF's rotate-half halves become interleaved pairs, per head. `kv` uses the KV head count.
        case permuteHeads(kv: Bool)
        /// GPT-2 Conv1D stores [in, out]; GGUF (and Linear) want [out, in].
        case transpose
    }

    struct Row {
        var slot: Slot
        var gguf: String
        var llama: String?
        var gpt2: String?
        var llamaFixup: Fixup = .none
        var gpt2Fixup: Fixup = .none
    }

    static let rows: [Row] = [
        Row(slot: .tokenEmbedding, gguf: "token_embd.weight", llama: "model.embed_tokens.weight", gpt2: "wte.weight"),
        Row(slot: .positionEmbedding, gguf: "position_embd.weight", llama: nil, gpt2: "wpe.weight"),
        Row(slot: .outputNorm, gguf: "output_norm.weight", llama: "model.norm.weight", gpt2: "ln_f.weight"),
        Row(slot: .outputNormBias, gguf: "output_norm.bias", llama: nil, gpt2: "ln_f.bias"),
        Row(slot: .output, gguf: "output.weight", llama: "lm_head.weight", gpt2: "lm_head.weight"),
        Row(slot: .attnNorm, gguf: "blk.{N}.attn_norm.weight", llama: "model.layers.{N}.input_layernorm.weight", gpt2: "h.{N}.ln_1.weight"),
        Row(slot: .attnNormBias, gguf: "blk.{N}.attn_norm.bias", llama: nil, gpt2: "h.{N}.ln_1.bias"),
        Row(slot: .attnQ, gguf: "blk.{N}.attn_q.weight", llama: "model.layers.{N}.self_attn.q_proj.weight", gpt2: nil,
            llamaFixup: .permuteHeads(kv: false)),
        Row(slot: .attnQBias, gguf: "blk.{N}.attn_q.bias", llama: "model.layers.{N}.self_attn.q_proj.bias", gpt2: nil,
            llamaFixup: .permuteHeads(kv: false)),
        Row(slot: .attnK, gguf: "blk.{N}.attn_k.weight", llama: "model.layers.{N}.self_attn.k_proj.weight", gpt2: nil,
            llamaFixup: .permuteHeads(kv: true)),
        Row(slot: .attnKBias, gguf: "blk.{N}.attn_k.bias", llama: "model.layers.{N}.self_attn.k_proj.bias", gpt2: nil,
            llamaFixup: .permuteHeads(kv: true)),
        Row(slot: .attnV, gguf: "blk.{N}.attn_v.weight", llama: "model.layers.{N}.self_attn.v_proj.weight", gpt2: nil),
        Row(slot: .attnVBias, gguf: "blk.{N}.attn_v.bias", llama: "model.layers.{N}.self_attn.v_proj.bias", gpt2: nil),
        Row(slot: .attnQKV, gguf: "blk.{N}.attn_qkv.weight", llama: nil, gpt2: "h.{N}.attn.c_attn.weight", gpt2Fixup: .transpose),
        Row(slot: .attnQKVBias, gguf: "blk.{N}.attn_qkv.bias", llama: nil, gpt2: "h.{N}.attn.c_attn.bias"),
        Row(slot: .attnOutput, gguf: "blk.{N}.attn_output.weight", llama: "model.layers.{N}.self_attn.o_proj.weight",
            gpt2: "h.{N}.attn.c_proj.weight", gpt2Fixup: .transpose),
        Row(slot: .attnOutputBias, gguf: "blk.{N}.attn_output.bias", llama: "model.layers.{N}.self_attn.o_proj.bias",
            gpt2: "h.{N}.attn.c_proj.bias"),
        Row(slot: .ffnNorm, gguf: "blk.{N}.ffn_norm.weight", llama: "model.layers.{N}.post_attention_layernorm.weight",
            gpt2: "h.{N}.ln_2.weight"),
        Row(slot: .ffnNormBias, gguf: "blk.{N}.ffn_norm.bias", llama: nil, gpt2: "h.{N}.ln_2.bias"),
        Row(slot: .ffnGate, gguf: "blk.{N}.ffn_gate.weight", llama: "model.layers.{N}.mlp.gate_proj.weight", gpt2: nil),
        Row(slot: .ffnGateBias, gguf: "blk.{N}.ffn_gate.bias", llama: "model.layers.{N}.mlp.gate_proj.bias", gpt2: nil),
        Row(slot: .ffnUp, gguf: "blk.{N}.ffn_up.weight", llama: "model.layers.{N}.mlp.up_proj.weight",
            gpt2: "h.{N}.mlp.c_fc.weight", gpt2Fixup: .transpose),
        Row(slot: .ffnUpBias, gguf: "blk.{N}.ffn_up.bias", llama: "model.layers.{N}.mlp.up_proj.bias", gpt2: "h.{N}.mlp.c_fc.bias"),
        Row(slot: .ffnDown, gguf: "blk.{N}.ffn_down.weight", llama: "model.layers.{N}.mlp.down_proj.weight",
            gpt2: "h.{N}.mlp.c_proj.weight", gpt2Fixup: .transpose),
        Row(slot: .ffnDownBias, gguf: "blk.{N}.ffn_down.bias", llama: "model.layers.{N}.mlp.down_proj.bias",
            gpt2: "h.{N}.mlp.c_proj.bias"),
    ]

    /// HF tensors that are buffers, not weights: dropped on import (formats.md §5.1, §5.2).
    static let ignorableHuggingFaceSuffixes = [".rotary_emb.inv_freq", ".attn.bias", ".attn.masked_bias"]
    /// GPT-2 checkpoints name their tensors with or without this prefix.
    static let gpt2Prefix = "transformer."

    static func row(_ slot: Slot) -> Row { rows.first { $0.slot == slot }! }

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

    public static func isPerLayer(_ slot: Slot) -> Bool { splitAtLayer(row(slot).gguf) != nil }

    public static func gguf(_ slot: Slot, layer: Int?) -> String { fill(row(slot).gguf, layer) }

    /// The HF name of a slot in `family`, nil when the family has no such tensor.
    public static func huggingFace(_ slot: Slot, layer: Int?, family: TransformerConfig.Family) -> String? {
        let r = row(slot)
        return (family == .llama ? r.llama : r.gpt2).map { fill($0, layer) }
    }

    public static func fixup(_ slot: Slot, family: TransformerConfig.Family) -> Fixup {
        family == .llama ? row(slot).llamaFixup : row(slot).gpt2Fixup
    }

    /// The slot and layer of a GGUF name.
    public static func parseGGUF(_ name: String) -> (slot: Slot, layer: Int?)? {
        for r in rows { if let m = match(name, r.gguf) { return (r.slot, m.layer) } }
        return nil
    }

    /// The slot and layer of an HF name (GPT-2 with or without `transformer.`).
    public static func parseHuggingFace(_ name: String, family: TransformerConfig.Family) -> (slot: Slot, layer: Int?)? {
        let bare = family == .gpt2 && name.hasPrefix(gpt2Prefix) ? String(name.dropFirst(gpt2Prefix.count)) : name
        for r in rows {
            guard let pattern = family == .llama ? r.llama : r.gpt2 else { continue }
            if let m = match(bare, pattern) { return (r.slot, m.layer) }
        }
        return nil
    }

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
    public static func expected(_ config: TransformerConfig) -> [(slot: Slot, layer: Int?)] {
        func present(_ slot: Slot) -> Bool {
            switch slot {
            case .positionEmbedding: return config.position == .learned
            case .output: return !config.tiedEmbeddings
            case .outputNormBias, .attnNormBias, .ffnNormBias:
                if case .layerNorm = config.norm { return true } else { return false }
            case .attnQ, .attnK, .attnV: return config.family == .llama
            case .attnQBias, .attnKBias, .attnVBias: return config.family == .llama && config.attentionBias
            case .attnQKV: return config.family == .gpt2
            case .attnQKVBias: return config.family == .gpt2 && config.attentionBias
            case .attnOutputBias: return config.attentionBias
            case .ffnGate: return config.mlp == .swiglu
            case .ffnGateBias: return config.mlp == .swiglu && config.mlpBias
            case .ffnUpBias, .ffnDownBias: return config.mlpBias
            default: return true
            }
        }
        var out: [(Slot, Int?)] = Slot.allCases.filter { !isPerLayer($0) && present($0) }.map { ($0, nil) }
        for layer in 0..<config.layerCount {
            out += Slot.allCases.filter { isPerLayer($0) && present($0) }.map { ($0, layer) }
        }
        return out
    }
}
