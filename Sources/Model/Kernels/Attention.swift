import CBLAS
import CKernels
import Foundation

/// Causal multi-head attention with grouped KV heads. Shapes: q [T, H·d] for positions start..<start+T;
/// k and v [start+T, KV·d] (cached rows first); out [T, H·d]. Query head h reads KV head h / (H / KV);
/// scores are scaled by `scale` (nil: 1/√d) and soft-maxed over positions ≤ start + t, and with a sliding
/// `window` > 0 only over the last `window` of them (start + t − window < s). Per head, two BLAS products:
/// scores [T, S] = q_h · k_hᵀ, then out_h = softmax(scores) · v_h (strided views, no copies).
public enum Attention {
    public static func forward(out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                               v: UnsafePointer<Float>, rows: Int, start: Int = 0, heads: Int, kvHeads: Int, headDim: Int,
                               scale: Float? = nil, window: Int = 0) {
        let shape = Shape(rows: rows, start: start, heads: heads, kvHeads: kvHeads, headDim: headDim,
                          scale: scale ?? 1 / Float(headDim).squareRoot(), window: window)
        let buffers = SendablePointer((out: out, q: q, k: k, v: v))
        // Heads split across threads (OpenBLAS held to one thread inside), unless decoding over a short context.
        let threads = rows > 1 || heads * shape.positions >= 512 ? Parallel.threads : 1
        let run = {
            Parallel.forChunks(heads, minChunk: max(1, heads / threads)) { range in
                let scores = UnsafeMutablePointer<Float>.allocate(capacity: rows * shape.positions)
                defer { scores.deallocate() }
                let p = buffers.pointer
                for h in range { head(h, shape, out: p.out, q: p.q, k: p.k, v: p.v, scores: scores) }
            }
        }
        if threads > 1 { Parallel.withBLASThreads(1, run) } else { run() }
    }

    struct Shape: Sendable {
        let rows, start, heads, kvHeads, headDim: Int
        let scale: Float
        /// 0: every earlier position is visible.
        let window: Int
        var positions: Int { start + rows }
        /// The first position row t sees.
        func firstVisible(_ t: Int) -> Int { window > 0 ? max(0, start + t + 1 - window) : 0 }
    }

    /// One query head: scores [rows, positions] (scratch), then out_h.
    static func head(_ h: Int, _ s: Shape, out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
                     k: UnsafePointer<Float>, v: UnsafePointer<Float>, scores: UnsafeMutablePointer<Float>) {
        let kv = h / (s.heads / s.kvHeads), positions = s.positions
        let scale = s.scale
        let qStride = s.heads * s.headDim, kvStride = s.kvHeads * s.headDim, d = s.headDim
        if s.rows == 1 {  // decoding: sgemm and sgemv are slow for one row (ck_attention.c says why)
            let first = s.firstVisible(0)
            ck_attend_row(q + h * d, k + first * kvStride + kv * d, v + first * kvStride + kv * d, kvStride,
                          Int32(positions - first), Int32(d), scale, scores, out + h * d)
            return
        }
        // scores[t, s] = scale · q[t, h] · k[s, kv]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(s.rows), Int32(positions), Int32(d),
                    scale, q + h * d, Int32(qStride), k + kv * d, Int32(kvStride), 0, scores, Int32(positions))
        for t in 0..<s.rows {
            softmaxCausal(scores + t * positions, first: s.firstVisible(t), visible: s.start + t + 1, total: positions)
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(s.rows), Int32(d), Int32(positions),
                    1, scores, Int32(positions), v + kv * d, Int32(kvStride), 0, out + h * d, Int32(qStride))
    }

    /// Soft-max over entries first..<visible of a row (max subtracted, ck_exp_shifted); the rest (future
    /// positions, and those before a sliding window) become 0.
    static func softmaxCausal(_ row: UnsafeMutablePointer<Float>, first: Int = 0, visible: Int, total: Int) {
        var maxScore = -Float.infinity
        for s in first..<visible { maxScore = max(maxScore, row[s]) }
        let inv = Float(1 / ck_exp_shifted(row + first, Int64(visible - first), maxScore))
        for s in first..<visible { row[s] *= inv }
        for s in 0..<first { row[s] = 0 }
        for s in visible..<total { row[s] = 0 }
    }
}
