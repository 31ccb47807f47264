import Model

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
        for r in regions { sum += squaredSum(r.gradient, count: r.count) }
        return Float(sum.squareRoot())
    }

    /// Σ g² in Double over fixed blocks of 2^16 elements (four running sums each), the blocks added in order:
    /// the same bits whatever the number of threads that computed the blocks.
    static func squaredSum(_ g: UnsafeMutablePointer<Float>, count n: Int) -> Double {
        let block = 1 << 16, blocks = (n + block - 1) / block
        guard blocks > 0 else { return 0 }
        let partial = UnsafeMutableBufferPointer<Double>.allocate(capacity: blocks)
        defer { partial.deallocate() }
        let shared = SendablePointer((g: g, partial: partial.baseAddress!))  // each thread writes its own blocks
        Parallel.forChunks(blocks, minChunk: 4) { range in
            for b in range {
                let start = b * block, end = min(n, start + block), g = shared.pointer.g
                var s = (0.0, 0.0, 0.0, 0.0)
                var i = start
                while i + 4 <= end {
                    s.0 += Double(g[i]) * Double(g[i])
                    s.1 += Double(g[i + 1]) * Double(g[i + 1])
                    s.2 += Double(g[i + 2]) * Double(g[i + 2])
                    s.3 += Double(g[i + 3]) * Double(g[i + 3])
                    i += 4
                }
                while i < end { s.0 += Double(g[i]) * Double(g[i]); i += 1 }
                shared.pointer.partial[b] = (s.0 + s.1) + (s.2 + s.3)
            }
        }
        return partial.reduce(0, +)
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
