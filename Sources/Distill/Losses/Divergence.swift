import Foundation

/// The divergence family of promptkd.md §4 and §8 (DistiLLM's losses.py) at one position, over the whole
/// vocabulary. `p` = softmax of the trained side's logits z, `q` = softmax of the fixed side's logits:
/// the student against the teacher in KD, the prompted teacher against the student in PromptKD's prompt
/// loss. Every kind gives the loss and ∂loss/∂z = h − p·Σh with h = p ⊙ ∂loss/∂p, written per kind in
/// a form that stays finite when p or q underflows (forward KL: h = −q). Sums in Double; 0·log 0 = 0.
public enum Divergence: Equatable, Sendable {
    /// KL(q‖p) = Σ q (log q − log p) (the true KL; DistiLLM logs the cross-entropy form, same gradient p − q).
    case forwardKL
    /// KL(p‖q) = Σ p (log p − log q). PromptKD's student and prompt losses.
    case reverseKL
    /// β·KL(p‖m) + (1−β)·KL(q‖m), m = β·p + (1−β)·q (β is the trained side's weight; GKD uses 0.9).
    case jensenShannon(beta: Double)
    /// Skew KL: KL(q ‖ α·q + (1−α)·p) (DistiLLM, α = 0.1).
    case skewKL(alpha: Double)
    /// Skew reverse KL: KL(p ‖ α·p + (1−α)·q).
    case skewReverseKL(alpha: Double)
    /// ½ Σ |p − q|.
    case totalVariation
    /// −Σ q log p: forward KL without the fixed side's entropy (KD's soft cross-entropy).
    case softCrossEntropy

    /// Hard-target cross-entropy −log p(y) against a data token (SFT's loss, half of KD's).
    case crossEntropy

    /// What the trained side is compared with: the fixed model's logits [V], or a data token.
    public enum Target {
        case logits(UnsafePointer<Float>)
        case token(Int)
    }

    /// h = p·∂loss/∂p at one vocabulary entry (added to `h`) and the entry's loss contribution.
    @inline(__always)
    func term(p: Double, q: Double, lp: Double, lq: Double, h: inout Double) -> Double {
        switch self {
        case .forwardKL, .softCrossEntropy:
            h -= q
            guard q > 0 else { return 0 }
            return self == .forwardKL ? q * (lq - lp) : -q * lp
        case .reverseKL:
            guard p > 0 else { return 0 }
            h += p * (lp - lq + 1)
            return p * (lp - lq)
        case .jensenShannon(let beta):
            let m = beta * p + (1 - beta) * q
            guard m > 0 else { return 0 }
            let lm = log(m)
            if p > 0 { h += beta * p * (lp - lm) }
            return (p > 0 ? beta * p * (lp - lm) : 0) + (q > 0 ? (1 - beta) * q * (lq - lm) : 0)
        case .skewKL(let alpha):
            let m = alpha * q + (1 - alpha) * p
            guard m > 0 else { return 0 }
            h -= (1 - alpha) * q * p / m
            return q > 0 ? q * (lq - log(m)) : 0
        case .skewReverseKL(let alpha):
            let m = alpha * p + (1 - alpha) * q
            guard m > 0, p > 0 else { return 0 }
            h += p * (lp + 1 - log(m) - alpha * p / m)
            return p * (lp - log(m))
        case .totalVariation:
            h += p * (p > q ? 0.5 : (p < q ? -0.5 : 0))
            return 0.5 * abs(p - q)
        case .crossEntropy:
            return 0  // handled per token in `position`
        }
    }

    /// A weighted sum of terms at one position, Σ weight·D(p, target), with p = softmax(trained).
    /// Returns each term's loss (unweighted) and writes scale·∂(Σ weight·D)/∂z into `gradient` [V] (which
    /// may alias `trained`: it is read first). Streaming: one position at a time, nothing of size V kept.
    public static func position(trained: UnsafePointer<Float>, terms: [(Divergence, Target, Double)], vocab V: Int,
                                gradient: UnsafeMutablePointer<Float>, scale: Float) -> [Double] {
        let (logP, P) = softmax(trained, V)
        let fixed: [([Double], [Double])?] = terms.map { term in
            if case .logits(let z) = term.1 { return softmax(z, V) }
            return nil
        }
        var losses = [Double](repeating: 0, count: terms.count)
        var h = [Double](repeating: 0, count: V)
        for (t, (kind, target, weight)) in terms.enumerated() {
            if case .token(let y) = target {
                precondition(kind == .crossEntropy && y >= 0 && y < V, "divergence: a token target goes with crossEntropy")
                losses[t] = -logP[y]
                h[y] -= weight
                continue
            }
            precondition(kind != .crossEntropy, "divergence: crossEntropy needs a token target")
            let (logQ, Q) = fixed[t]!
            var loss: Double = 0
            for v in 0..<V {
                var hv: Double = 0
                loss += kind.term(p: P[v], q: Q[v], lp: logP[v], lq: logQ[v], h: &hv)
                h[v] += weight * hv
            }
            losses[t] = loss
        }
        let total = h.reduce(0, +)
        for v in 0..<V { gradient[v] = Float(h[v] - P[v] * total) * scale }
        return losses
    }

    /// The largest z and Σ exp(z − max) over a row [V], in Double: log softmax(z)_i = z_i − max − log sum.
    static func exponentSum(_ z: UnsafePointer<Float>, _ V: Int) -> (max: Double, sum: Double) {
        var maxZ = -Double.infinity
        for v in 0..<V { maxZ = max(maxZ, Double(z[v])) }
        var sum = 0.0
        for v in 0..<V { sum += exp(Double(z[v]) - maxZ) }
        return (maxZ, sum)
    }

    /// log softmax and softmax in Double (max subtracted), one exp per entry: p = e/Σe, log p = z − max − log Σe.
    static func softmax(_ z: UnsafePointer<Float>, _ V: Int) -> (log: [Double], probabilities: [Double]) {
        var maxZ = -Double.infinity
        for v in 0..<V { maxZ = max(maxZ, Double(z[v])) }
        var e = [Double](repeating: 0, count: V)
        var sum: Double = 0
        for v in 0..<V {
            e[v] = exp(Double(z[v]) - maxZ)
            sum += e[v]
        }
        let logSum = log(sum) + maxZ, inverse = 1 / sum
        let logs = (0..<V).map { Double(z[$0]) - logSum }
        for v in 0..<V { e[v] *= inverse }
        return (logs, e)
    }
}
