import Foundation

/// Element-wise kernels over [n] buffers. Large calls (prefill, training) are split across threads in
/// contiguous chunks; every element is computed the same way whatever the split.
enum Elementwise {
    /// Below this many elements one thread does it (decoding one token).
    static let minChunk = 1 << 15

    static func forChunks(_ count: Int, _ body: @Sendable (Range<Int>) -> Void) {
        Parallel.forChunks(count, minChunk: minChunk, body)
    }
}

/// SwiGLU (llama MLP): out = silu(gate) · up. Shapes: gate, up, out and their gradients [n].
public enum SwiGLU {
    public static func forward(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        let p = SendablePointer((out, gate, up))
        Elementwise.forChunks(count) { range in
            let (out, gate, up) = p.pointer
            for i in range {
                let g = gate[i]
                out[i] = g / (1 + exp(-g)) * up[i]
            }
        }
    }

    /// With σ = sigmoid(g): dup += dout·g·σ;  dgate += dout·up·σ·(1 + g·(1 − σ)).
    public static func backward(dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        let p = SendablePointer((dgate, dup, dout, gate, up))
        Elementwise.forChunks(count) { range in
            let (dgate, dup, dout, gate, up) = p.pointer
            for i in range {
                let g = gate[i], sigma = 1 / (1 + exp(-g))
                dup[i] += dout[i] * g * sigma
                dgate[i] += dout[i] * up[i] * sigma * (1 + g * (1 - sigma))
            }
        }
    }
}

/// GELU, tanh approximation (GPT-2's "gelu_new"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
/// Inference runs it in place; training keeps the input. Shapes [n].
public enum GELU {
    static let c = Float((2 / Double.pi).squareRoot())

    /// tanh through one expf: 1 − 2/(e^{2u} + 1) (±1 at the extremes, absolute error ~1e-7 near 0, where
    /// GELU multiplies it by a small x anyway). glibc's tanhf goes through expm1f, 2–3× slower.
    @inline(__always) static func tanhFast(_ u: Float) -> Float { 1 - 2 / (exp(2 * u) + 1) }

    public static func forward(_ x: UnsafeMutablePointer<Float>, count: Int) {
        forward(out: x, inp: x, count: count)
    }

    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        let p = SendablePointer((out, inp))
        Elementwise.forChunks(count) { range in
            let (out, inp) = p.pointer
            for i in range {
                let v = inp[i]
                out[i] = 0.5 * v * (1 + tanhFast(c * (v + 0.044715 * v * v * v)))
            }
        }
    }

    /// dinp += dout · (0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·c·(1 + 3·0.044715·x²)), u = c·(x + 0.044715·x³).
    public static func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        let p = SendablePointer((dinp, dout, inp))
        Elementwise.forChunks(count) { range in
            let (dinp, dout, inp) = p.pointer
            for i in range {
                let x = inp[i]
                let t = tanhFast(c * (x + 0.044715 * x * x * x))
                let local = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
                dinp[i] += dout[i] * local
            }
        }
    }
}
