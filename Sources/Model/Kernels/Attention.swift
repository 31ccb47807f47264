import CBLAS
import Foundation

/// Causal multi-head attention with grouped KV heads. Shapes: q [T, H·d] for positions start..<start+T;
/// k and v [start+T, KV·d] (cached rows first); out [T, H·d]. Query head h reads KV head h / (H / KV);
/// scores are scaled by 1/√d and soft-maxed over positions ≤ start + t. Per head, two BLAS products:
/// scores [T, S] = q_h · k_hᵀ, then out_h = softmax(scores) · v_h (strided views, no copies).
public enum Attention {
    public static func forward(out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                               v: UnsafePointer<Float>, rows: Int, start: Int = 0, heads: Int, kvHeads: Int, headDim: Int) {
        let group = heads / kvHeads, positions = start + rows
        let scale = 1 / Float(headDim).squareRoot()
        let qStride = heads * headDim, kvStride = kvHeads * headDim
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: rows * positions)
        defer { scores.deallocate() }
        for h in 0..<heads {
            let kv = h / group
            if rows == 1 {  // decoding: two matrix-vector products (sgemm with one row is slow in OpenBLAS)
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(positions), Int32(headDim), scale, k + kv * headDim,
                            Int32(kvStride), q + h * headDim, 1, 0, scores, 1)
                softmaxCausal(scores, visible: positions, total: positions)
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(positions), Int32(headDim), 1, v + kv * headDim,
                            Int32(kvStride), scores, 1, 0, out + h * headDim, 1)
                continue
            }
            // scores[t, s] = scale · q[t, h] · k[s, kv]
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(positions), Int32(headDim),
                        scale, q + h * headDim, Int32(qStride), k + kv * headDim, Int32(kvStride),
                        0, scores, Int32(positions))
            for t in 0..<rows {
                softmaxCausal(scores + t * positions, visible: start + t + 1, total: positions)
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(headDim), Int32(positions),
                        1, scores, Int32(positions), v + kv * headDim, Int32(kvStride),
                        0, out + h * headDim, Int32(qStride))
        }
    }

    /// Soft-max over the first `visible` entries of a row (max subtracted, sum in Double); the rest
    /// (future positions) become 0.
    static func softmaxCausal(_ row: UnsafeMutablePointer<Float>, visible: Int, total: Int) {
        var maxScore = -Float.infinity
        for s in 0..<visible { maxScore = max(maxScore, row[s]) }
        var sum: Double = 0
        for s in 0..<visible {
            row[s] = exp(row[s] - maxScore)
            sum += Double(row[s])
        }
        let inv = Float(1 / sum)
        for s in 0..<visible { row[s] *= inv }
        for s in visible..<total { row[s] = 0 }
    }
}
