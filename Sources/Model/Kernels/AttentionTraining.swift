import CBLAS
import Foundation

/// Attention for training: one whole sequence (positions 0..<T, no cache) whose soft-max probabilities are
/// kept for the backward pass. Shapes: q, dq, out, dout [T, H·d]; k, v, dk, dv [T, KV·d]; probs [H, T, T]
/// (row t is zero beyond column t). Query head h reads KV head h / (H / KV), as in `Attention.forward`.
extension Attention {
    public static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                               q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                               rows: Int, heads: Int, kvHeads: Int, headDim: Int, scale: Float? = nil, window: Int = 0) {
        let shape = Shape(rows: rows, start: 0, heads: heads, kvHeads: kvHeads, headDim: headDim,
                          scale: scale ?? 1 / Float(headDim).squareRoot(), window: window)
        let buffers = SendablePointer((out: out, probs: probs, q: q, k: k, v: v))
        Parallel.withBLASThreads(1) {
            Parallel.forChunks(heads, minChunk: 1) { range in
                let p = buffers.pointer
                for h in range {
                    head(h, shape, out: p.out, q: p.q, k: p.k, v: p.v, scores: p.probs + h * rows * rows)
                }
            }
        }
    }

    /// Accumulates dq, dk, dv. Per query head h (kv its KV head, P its probabilities, the forward's scale;
    /// entries outside a sliding window have P = 0 and so no gradient):
    /// dP = dout_h·v_kvᵀ;  dv_kv += Pᵀ·dout_h;  dS = P ∘ (dP − rowsum(P ∘ dP))·scale;
    /// dq_h += dS·k_kv;  dk_kv += dSᵀ·q_h. Work is split by KV head, so no two threads write one dk/dv column.
    public static func backward(dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                                dv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, probs: UnsafePointer<Float>,
                                q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                rows T: Int, heads: Int, kvHeads: Int, headDim d: Int, scale: Float? = nil) {
        let buffers = SendablePointer((dq: dq, dk: dk, dv: dv, dout: dout, probs: probs, q: q, k: k, v: v))
        let group = heads / kvHeads, qStride = Int32(heads * d), kvStride = Int32(kvHeads * d)
        let scale = scale ?? 1 / Float(d).squareRoot()
        let n = Int32(T), dim = Int32(d)
        Parallel.withBLASThreads(1) {
            Parallel.forChunks(kvHeads, minChunk: 1) { range in
                let b = buffers.pointer
                let dP = UnsafeMutablePointer<Float>.allocate(capacity: T * T)
                defer { dP.deallocate() }
                for kv in range {
                    for h in (kv * group)..<((kv + 1) * group) {
                        let P = b.probs + h * T * T
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, dim, 1, b.dout + h * d, qStride,
                                    b.v + kv * d, kvStride, 0, dP, n)
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, dim, n, 1, P, n, b.dout + h * d, qStride,
                                    1, b.dv + kv * d, kvStride)
                        for t in 0..<T {
                            let p = P + t * T, g = dP + t * T
                            var dot: Double = 0
                            for s in 0...t { dot += Double(p[s] * g[s]) }
                            let mean = Float(dot)
                            for s in 0...t { g[s] = p[s] * (g[s] - mean) * scale }
                            for s in (t + 1)..<T { g[s] = 0 }
                        }
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, dim, n, 1, dP, n, b.k + kv * d, kvStride,
                                    1, b.dq + h * d, qStride)
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, dim, n, 1, dP, n, b.q + h * d, qStride,
                                    1, b.dk + kv * d, kvStride)
                    }
                }
            }
        }
    }
}
