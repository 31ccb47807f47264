import Foundation

/// RMSNorm (llama) and LayerNorm (gpt2) over the last dimension. Shapes: inp, out [rows, dim]; weight,
/// bias [dim]. Sums accumulate in Double as ggml does (`ggml_float`).
public enum RMSNorm {
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               rows: Int, dim: Int, epsilon: Float) {
        for r in 0..<rows {
            let x = inp + r * dim, y = out + r * dim
            var sum: Double = 0
            for i in 0..<dim { sum += Double(x[i] * x[i]) }
            let scale = 1 / (Float(sum / Double(dim)) + epsilon).squareRoot()
            for i in 0..<dim { y[i] = x[i] * scale * weight[i] }
        }
    }
}

public enum LayerNorm {
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>, rows: Int, dim: Int, epsilon: Float) {
        for r in 0..<rows {
            let x = inp + r * dim, y = out + r * dim
            var sum: Double = 0
            for i in 0..<dim { sum += Double(x[i]) }
            let mean = Float(sum / Double(dim))
            var variance: Double = 0
            for i in 0..<dim { let d = x[i] - mean; variance += Double(d * d) }
            let scale = 1 / (Float(variance / Double(dim)) + epsilon).squareRoot()
            for i in 0..<dim { y[i] = (x[i] - mean) * scale * weight[i] + bias[i] }
        }
    }
}
