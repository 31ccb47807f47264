import Model

/// Finite differences for backward tests: a scalar loss L(inputs) = Σ w·forward(inputs), summed in Double,
/// is differentiated numerically (central differences) and compared with the analytic gradient that
/// backward gives for dout = w.
struct GradientCheck {
    var seed: UInt64
    init(seed: UInt64) { self.seed = seed }

    /// Uniform in [-scale, scale), from a fixed 64-bit LCG (tests never depend on a global RNG).
    mutating func values(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Float(seed >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }

    static func weightedSum(_ out: [Float], _ w: [Float]) -> Double {
        zip(out, w).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Worst |numeric − analytic| / (atol + rtol·|numeric|) over the checked indices of `inputs[which]`;
    /// ≤ 1 passes. `loss` recomputes the scalar from perturbed inputs.
    static func worst(_ inputs: [[Float]], which: Int, analytic: [Float], eps: Float = 1e-2,
                      atol: Double = 2e-3, rtol: Double = 1e-2, indices: [Int]? = nil,
                      loss: ([[Float]]) -> Double) -> (ratio: Double, index: Int, numeric: Double, analytic: Double) {
        var result = (ratio: 0.0, index: -1, numeric: 0.0, analytic: 0.0)
        for i in indices ?? Array(inputs[which].indices) {
            var plus = inputs, minus = inputs
            plus[which][i] += eps
            minus[which][i] -= eps
            let numeric = (loss(plus) - loss(minus)) / Double(2 * eps)
            let ratio = abs(numeric - Double(analytic[i])) / (atol + rtol * abs(numeric))
            if ratio > result.ratio { result = (ratio, i, numeric, Double(analytic[i])) }
        }
        return result
    }
}

/// Array wrappers so kernel tests read as math.
extension Array where Element == Float {
    func withPointer<R>(_ body: (UnsafePointer<Float>) -> R) -> R { withUnsafeBufferPointer { body($0.baseAddress!) } }
    mutating func withMutablePointer<R>(_ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
}
