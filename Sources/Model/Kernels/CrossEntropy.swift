import CKernels
import Dispatch
import Foundation

/// Soft-max cross-entropy over the vocabulary, fused as llm.c does: the logits buffer becomes the logits
/// gradient, so training never holds a second [N, V] buffer. Shapes: logits [rows, V]; targets [rows] with
/// −1 for rows that are not predictions (prompt rows, the last row, padding). Sums in Double.
public enum CrossEntropy {
    /// −log softmax(row)[target] of one row, without changing it.
    public static func loss(_ row: UnsafePointer<Float>, target: Int, vocab: Int) -> Double {
        var maxLogit = -Float.infinity
        for i in 0..<vocab { maxLogit = max(maxLogit, row[i]) }
        var sum: Double = 0
        for i in 0..<vocab { sum += Double(exp(row[i] - maxLogit)) }
        return log(sum) + Double(maxLogit) - Double(row[target])
    }

    /// Returns Σ over target rows of −log p[target] and overwrites every row with its gradient times `scale`:
    /// scale·(softmax(row) − onehot(target)), zero for rows without a target. With scale = 1 / (number of
    /// targets) this is the gradient of the masked token mean. This starts a backward pass: it overwrites.
    public static func lossAndGradient(_ logits: UnsafeMutablePointer<Float>, targets: [Int], vocab: Int,
                                       scale: Float) -> Double {
        // Rows split across threads; each chunk's sum is kept apart and the sums added in chunk order, so
        // the total is the same on every run with the same thread count.
        let chunks = max(1, min(Parallel.threads, targets.count))
        let sums = UnsafeMutableBufferPointer<Double>.allocate(capacity: chunks)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0)
        let p = SendablePointer((logits, sums))
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let (logits, sums) = p.pointer
            let range = (targets.count * c / chunks)..<(targets.count * (c + 1) / chunks)
            for r in range { sums[c] += rowGradient(logits + r * vocab, target: targets[r], vocab: vocab, scale: scale) }
        }
        return sums.reduce(0, +)
    }

    /// One row: its loss (0 without a target), the row overwritten by its scaled gradient.
    static func rowGradient(_ row: UnsafeMutablePointer<Float>, target: Int, vocab: Int, scale: Float) -> Double {
        guard target >= 0 else {
            row.update(repeating: 0, count: vocab)
            return 0
        }
        let targetLogit = row[target]
        var maxLogit = -Float.infinity
        for i in 0..<vocab { maxLogit = max(maxLogit, row[i]) }
        let sum = ck_exp_shifted(row, Int64(vocab), maxLogit)
        let targetProbability = Double(row[target]) / sum
        let inv = Float(1 / sum)
        for i in 0..<vocab { row[i] = row[i] * inv * scale }
        row[target] = Float(targetProbability - 1) * scale
        return log(sum) + Double(maxLogit) - Double(targetLogit)
    }
}
