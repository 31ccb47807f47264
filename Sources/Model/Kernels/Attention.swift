import Foundation

/// Causal multi-head attention with grouped KV heads. Shapes: q [T, H·d], k and v [T, KV·d], out [T, H·d];
/// query head h reads KV head h / (H / KV). Scores are scaled by 1/√d and soft-maxed over positions ≤ t.
public enum Attention {
    public static func forward(out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                               v: UnsafePointer<Float>, rows: Int, heads: Int, kvHeads: Int, headDim: Int) {
        let group = heads / kvHeads
        let scale = 1 / Float(headDim).squareRoot()
        let qStride = heads * headDim, kvStride = kvHeads * headDim
        var scores = [Float](repeating: 0, count: rows)
        for h in 0..<heads {
            let kvHead = h / group
            for t in 0..<rows {
                let qt = q + t * qStride + h * headDim
                var maxScore = -Float.infinity
                for s in 0...t {
                    let ks = k + s * kvStride + kvHead * headDim
                    var dot: Float = 0
                    for i in 0..<headDim { dot += qt[i] * ks[i] }
                    scores[s] = dot * scale
                    maxScore = max(maxScore, scores[s])
                }
                var sum: Double = 0
                for s in 0...t {
                    scores[s] = exp(scores[s] - maxScore)
                    sum += Double(scores[s])
                }
                let inv = Float(1 / sum)
                let ot = out + t * qStride + h * headDim
                for i in 0..<headDim { ot[i] = 0 }
                for s in 0...t {
                    let p = scores[s] * inv
                    let vs = v + s * kvStride + kvHead * headDim
                    for i in 0..<headDim { ot[i] += p * vs[i] }
                }
            }
        }
    }
}
