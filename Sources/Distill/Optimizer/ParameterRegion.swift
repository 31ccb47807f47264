/// One trainable tensor as the optimizer sees it: its values, its gradient (same count) and whether weight
/// decay applies. Regions are named so optimizer moments can be saved and restored by name.
public struct ParameterRegion: @unchecked Sendable {
    public var name: String
    public var values: UnsafeMutablePointer<Float>
    public var gradient: UnsafeMutablePointer<Float>
    public var count: Int
    /// Decayed: matrices and embeddings (and the soft prompt when asked). Not decayed: biases and norm
    /// weights (one-dimensional slots), as the PromptKD and MiniLLM trainers group them.
    public var decay: Bool

    public init(name: String, values: UnsafeMutablePointer<Float>, gradient: UnsafeMutablePointer<Float>, count: Int, decay: Bool) {
        self.name = name
        self.values = values
        self.gradient = gradient
        self.count = count
        self.decay = decay
    }
}

/// Global gradient-norm clipping as torch.nn.utils.clip_grad_norm_ does it: the 2-norm of all gradients
/// together, coef = min(1, maxNorm / (norm + 1e-6)), every gradient multiplied by coef.
public enum GradientClipping {
    /// The global norm before clipping (squares summed in Double).
    public static func norm(_ regions: [ParameterRegion]) -> Float {
        var sum: Double = 0
        for r in regions {
            for i in 0..<r.count { sum += Double(r.gradient[i]) * Double(r.gradient[i]) }
        }
        return Float(sum.squareRoot())
    }

    /// Clips in place; returns the norm before clipping and the coefficient applied.
    @discardableResult
    public static func clip(_ regions: [ParameterRegion], maxNorm: Float) -> (norm: Float, coefficient: Float) {
        let total = norm(regions)
        let coefficient = min(1, maxNorm / (total + 1e-6))
        if coefficient < 1 {
            for r in regions { for i in 0..<r.count { r.gradient[i] *= coefficient } }
        }
        return (total, coefficient)
    }
}
