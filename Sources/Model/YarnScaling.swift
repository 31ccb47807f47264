import Foundation

/// YaRN rope scaling (Qwen2.5 / Qwen3 long context, `rope_type: "yarn"`), as transformers'
/// `_compute_yarn_parameters` and ggml's `rope_yarn` compute it. Each rotary pair i (of d/2) blends its
/// original frequency f_i (extrapolation) with f_i / factor (interpolation):
///   f'_i = f_i · ((1 − e_i) / factor + e_i),  e_i = 1 − clamp((i − low) / (high − low), 0, 1)
/// where low = floor(c(βfast)), high = ceil(c(βslow)), clamped to [0, d − 1], with the correction dimension
///   c(β) = d · ln(C / (2π β)) / (2 ln θ)  at the original context C.
/// High-frequency pairs (i ≤ low) keep their frequency, low-frequency pairs (i ≥ high) are divided by the
/// factor. cos and sin are multiplied by the attention factor: the config's, else 0.1·ln(factor) + 1.
public struct YarnScaling: Equatable, Sendable {
    public var factor: Float
    /// The context the model was pretrained with (original_max_position_embeddings).
    public var originalContext: Int
    /// As the source stated them; nil = the defaults (32, 1, the factor's mscale). Kept optional so
    /// conversion writes only what the source had, as convert_hf_to_gguf does.
    public var betaFast: Float?
    public var betaSlow: Float?
    public var attentionFactor: Float?

    public init(factor: Float, originalContext: Int, betaFast: Float? = nil, betaSlow: Float? = nil,
                attentionFactor: Float? = nil) {
        self.factor = factor
        self.originalContext = originalContext
        self.betaFast = betaFast
        self.betaSlow = betaSlow
        self.attentionFactor = attentionFactor
    }

    /// The cos/sin multiplier: the stated one, else transformers' get_mscale(factor) = 0.1·ln(s) + 1 (1 for s ≤ 1),
    /// which is also the net factor llama.cpp applies (llama-context.cpp divides its yarn_attn_factor by what
    /// ggml's rope_yarn multiplies back).
    public var resolvedAttentionFactor: Float {
        if let attentionFactor { return attentionFactor }
        return factor <= 1 ? 1 : Float(0.1 * log(Double(factor)) + 1)
    }

    /// (low, high) pair indices of the ramp for `dimensions` rotary dims and base `theta`.
    public func correctionRange(dimensions: Int, theta: Float) -> (low: Double, high: Double) {
        func dim(_ rotations: Double) -> Double {
            Double(dimensions) * log(Double(originalContext) / (rotations * 2 * Double.pi)) / (2 * log(Double(theta)))
        }
        let low = max(floor(dim(Double(betaFast ?? 32))), 0)
        let high = min(ceil(dim(Double(betaSlow ?? 1))), Double(dimensions - 1))
        return (low, high)
    }

    /// Per-pair frequency divisors [dimensions/2]: f'_i = f_i / divisor_i.
    public func divisors(dimensions: Int, theta: Float) -> [Float] {
        var (low, high) = correctionRange(dimensions: dimensions, theta: theta)
        if low == high { high += 0.001 }  // transformers' guard against a zero-width ramp
        return (0..<(dimensions / 2)).map { i in
            let ramp = min(max((Double(i) - low) / (high - low), 0), 1)
            let extrapolation = 1 - ramp
            return Float(1 / ((1 - extrapolation) / Double(factor) + extrapolation))
        }
    }
}
