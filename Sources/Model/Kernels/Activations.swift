import CKernels
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
/// The arithmetic is ck_activations.c's (vectorized e^x); this splits the range across threads.
public enum SwiGLU {
    public static func forward(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        let p = SendablePointer((out, gate, up))
        Elementwise.forChunks(count) { r in
            let (out, gate, up) = p.pointer
            ck_swiglu_forward(out + r.lowerBound, gate + r.lowerBound, up + r.lowerBound, Int64(r.count))
        }
    }

    /// With σ = sigmoid(g): dup += dout·g·σ;  dgate += dout·up·σ·(1 + g·(1 − σ)).
    public static func backward(dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        let p = SendablePointer((dgate, dup, dout, gate, up))
        Elementwise.forChunks(count) { r in
            let (dgate, dup, dout, gate, up) = p.pointer
            let i = r.lowerBound
            ck_swiglu_backward(dgate + i, dup + i, dout + i, gate + i, up + i, Int64(r.count))
        }
    }
}

/// GELU, tanh approximation (GPT-2's "gelu_new"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), with tanh
/// as 1 − 2/(e^{2u} + 1) (±1 at the extremes; glibc's tanhf via expm1f was 2–3× slower) and e^x vectorized
/// in ck_activations.c. Inference runs it in place; training keeps the input. Shapes [n].
public enum GELU {
    public static func forward(_ x: UnsafeMutablePointer<Float>, count: Int) {
        forward(out: x, inp: x, count: count)
    }

    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        let p = SendablePointer((out, inp))
        Elementwise.forChunks(count) { r in
            let (out, inp) = p.pointer
            ck_gelu_forward(out + r.lowerBound, inp + r.lowerBound, Int64(r.count))
        }
    }

    /// dinp += dout · (0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·c·(1 + 3·0.044715·x²)), u = c·(x + 0.044715·x³).
    public static func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        let p = SendablePointer((dinp, dout, inp))
        Elementwise.forChunks(count) { r in
            let (dinp, dout, inp) = p.pointer
            ck_gelu_backward(dinp + r.lowerBound, dout + r.lowerBound, inp + r.lowerBound, Int64(r.count))
        }
    }
}

/// GeGLU (Gemma MLP): out = gelu_tanh(gate) · up, GELU as above. Shapes: gate, up, out and gradients [n].
public enum GeGLU {
    /// Elements per scratch chunk of the backward pass.
    static let scratch = 4096

    public static func forward(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        let p = SendablePointer((out, gate, up))
        Elementwise.forChunks(count) { r in
            let (out, gate, up) = p.pointer
            let i = r.lowerBound
            ck_gelu_forward(out + i, gate + i, Int64(r.count))
            for j in r { out[j] *= up[j] }
        }
    }

    /// dup += dout·gelu(gate);  dgate += dout·up·gelu′(gate) (GELU.backward on dout·up).
    public static func backward(dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        let p = SendablePointer((dgate, dup, dout, gate, up))
        Elementwise.forChunks(count) { r in
            let (dgate, dup, dout, gate, up) = p.pointer
            let g = UnsafeMutablePointer<Float>.allocate(capacity: scratch)
            defer { g.deallocate() }
            var i = r.lowerBound
            while i < r.upperBound {
                let n = min(scratch, r.upperBound - i)
                ck_gelu_forward(g, gate + i, Int64(n))
                for j in 0..<n { dup[i + j] += dout[i + j] * g[j] }
                for j in 0..<n { g[j] = dout[i + j] * up[i + j] }
                ck_gelu_backward(dgate + i, g, gate + i, Int64(n))
                i += n
            }
        }
    }
}
