/// llama-quantize's broad tensor categories (llama-quant.cpp `tensor_get_category`): exact names for the
/// output and token embeddings, substrings for the rest, checked in this order. These are llama.cpp's
/// matching rules on GGUF names, reproduced as data so the mixes select the same tensors.
enum TensorCategory: Equatable {
    case output, tokenEmbedding, attentionQKV, attentionKVB, attentionV, attentionK, attentionQ
    case attentionOutput, ffnUp, ffnGate, ffnDown, other

    static let substringRules: [(String, TensorCategory)] = [
        ("attn_qkv.weight", .attentionQKV), ("attn_kv_b.weight", .attentionKVB), ("attn_v.weight", .attentionV),
        ("attn_k.weight", .attentionK), ("attn_q.weight", .attentionQ), ("attn_output.weight", .attentionOutput),
        ("ffn_up", .ffnUp), ("ffn_gate", .ffnGate), ("ffn_down", .ffnDown),
    ]

    init(name: String) {
        if name == "output.weight" { self = .output; return }
        if name == "token_embd.weight" || name == "per_layer_token_embd.weight" { self = .tokenEmbedding; return }
        self = Self.substringRules.first { name.contains($0.0) }?.1 ?? .other
    }

    /// attn_v-like tensors get the extra bits of the K mixes.
    var isAttentionV: Bool { self == .attentionV || self == .attentionQKV || self == .attentionKVB }

    /// `tensor_allows_quantization` for the architectures ckpt handles (llama, gpt2): 2-D or more, a name
    /// ending in "weight", no norms, not the position or token-type embeddings, output only when allowed.
    static func allowsQuantization(name: String, dims: Int, quantizeOutput: Bool, onlyCopy: Bool) -> Bool {
        if onlyCopy || dims < 2 { return false }
        guard name.hasSuffix("weight"), !name.contains("_norm.weight") else { return false }
        if !quantizeOutput && name == "output.weight" { return false }
        return name != "position_embd.weight" && name != "token_types.weight" && !name.contains("ffn_gate_inp.weight")
    }

    /// llama.cpp's tensor order (`weight_name_comparer`): by the layer number of "blk.N." (others first,
    /// as layer -1), then bytewise by name.
    static func precedes(_ a: String, _ b: String) -> Bool {
        let la = layer(a), lb = layer(b)
        if la != lb { return la < lb }
        return Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
    }

    /// sscanf("blk.%d.") semantics: the digits after "blk." (with an optional sign), -1 when absent.
    static func layer(_ name: String) -> Int {
        guard name.hasPrefix("blk.") else { return -1 }
        let rest = name.dropFirst(4)
        var digits = rest.prefix { $0.isASCII && ($0.isNumber) }
        var sign = 1
        if digits.isEmpty, rest.first == "-" || rest.first == "+" {
            sign = rest.first == "-" ? -1 : 1
            digits = rest.dropFirst().prefix { $0.isASCII && $0.isNumber }
        }
        guard let value = Int(digits) else { return -1 }
        return sign * value
    }
}
