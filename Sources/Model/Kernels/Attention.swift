import Foundation

/// Causal multi-head attention with grouped KV heads. Shapes: q [T, H·d] for positions start..<start+T;
/// k and v [start+T, KV·d] (cached rows first); out [T, H·d]. Query head h reads KV head h / (H / KV);
/// scores are scaled by 1/√d and soft-maxed over positions ≤ start + t.
public enum Attention {
    public static func forward(out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                               v: UnsafePointer<Float>, rows: Int, start: Int = 0, heads: Int, kvHeads: Int, headDim: Int) {
        let group = heads / kvHeads
        let scale = 1 / Float(headDim).squareRoot()
        let qStride = heads * headDim, kvStride = kvHeads * headDim
        var scores = [Float](repeating: 0, count: start + rows)
        for h in 0..<heads {
            let kvHead = h / group
            for t in 0..<rows {
                let qt = q + t * qStride + h * headDim
                let last = start + t
                var maxScore = -Float.infinity
                for s in 0...last {
                    let ks = k + s * kvStride + kvHead * headDim
                    var dot: Float = 0
                    for i in 0..<headDim { dot += qt[i] * ks[i] }
                    scores[s] = dot * scale
                    maxScore = max(maxScore, scores[s])
                }
                var sum: Double = 0
                for s in 0...last {
                    scores[s] = exp(scores[s] - maxScore)
                    sum += Double(scores[s])
                }
                let inv = Float(1 / sum)
                let ot = out + t * qStride + h * headDim
                for i in 0..<headDim { ot[i] = 0 }
                for s in 0...last {
                    let p = scores[s] * inv
                    let vs = v + s * kvStride + kvHead * headDim
                    for i in 0..<headDim { ot[i] += p * vs[i] }
                }
            }
        }
    }
}
