import Foundation
import Model

/// MiniLLM's policy-gradient advantage (promptkd.md §8, minillm/{reward,losses}.py), for the `.advantage`
/// loss term: per sampled token the reward r_t = log q(y_t) − log p(y_t) (teacher and student log-softmax),
/// divided by the reward scaling 0.5 and clipped to ±100; the return G_t = r_t + γ·G_{t+1} (γ 0.95) over the
/// response, divided by the tokens left (length normalisation); then whitened over the micro-batch.
extension Distiller {
    static let rewardScaling = 0.5, rewardClip = 100.0, discount = 0.95

    /// Advantages [sequence][token t] for the target predicted at t (0 elsewhere). `studentRow` and
    /// `teacherRow` give the logits [V] at token t.
    static func advantages(_ batch: Batch, vocab V: Int, studentRow: (Int, Int) -> UnsafePointer<Float>,
                           teacherRow: (Int, Int) -> UnsafePointer<Float>) -> [[Double]] {
        var work: [(s: Int, t: Int, student: UnsafePointer<Float>, teacher: UnsafePointer<Float>, token: Int)] = []
        for (s, sequence) in batch.sequences.enumerated() {
            for t in 0..<(sequence.count - 1) where batch.isTarget[s][t + 1] {
                work.append((s, t, studentRow(s, t), teacherRow(s, t), sequence[t + 1]))
            }
        }
        let rewards = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, work.count))
        defer { rewards.deallocate() }
        let shared = SendablePointer((work: work, rewards: rewards))
        Parallel.forChunks(work.count, minChunk: 4) { range in
            for i in range {
                let w = shared.pointer.work[i]
                let r = (logSoftmax(w.teacher, V, at: w.token) - logSoftmax(w.student, V, at: w.token)) / rewardScaling
                shared.pointer.rewards[i] = min(max(r, -rewardClip), rewardClip)
            }
        }
        var advantages = batch.sequences.map { [Double](repeating: 0, count: $0.count) }
        var all: [Double] = []
        // Positions of one sequence are consecutive in `work`; walk each sequence's backwards.
        var end = work.count
        while end > 0 {
            let s = work[end - 1].s
            var start = end
            while start > 0, work[start - 1].s == s { start -= 1 }
            var g = 0.0
            for i in stride(from: end - 1, through: start, by: -1) {
                g = rewards[i] + discount * g
                advantages[s][work[i].t] = g / Double(end - i)
            }
            end = start
        }
        for w in work { all.append(advantages[w.s][w.t]) }
        guard all.count > 1 else { return advantages }
        let mean = all.reduce(0, +) / Double(all.count)
        let variance = all.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(all.count)
        let scale = 1 / (variance + 1e-8).squareRoot()
        for w in work { advantages[w.s][w.t] = (advantages[w.s][w.t] - mean) * scale }
        return advantages
    }

    /// log softmax(z)[i] over [V], in Double.
    static func logSoftmax(_ z: UnsafePointer<Float>, _ V: Int, at i: Int) -> Double {
        let (m, sum) = Divergence.exponentSum(z, V)
        return Double(z[i]) - m - log(sum)
    }
}
