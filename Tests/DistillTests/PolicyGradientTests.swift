import Foundation
import Testing
@testable import Distill

/// MiniLLM's advantage (promptkd.md §8): reward log q(y) − log p(y) over the reward scaling 0.5, clipped to
/// ±100; discounted return (γ 0.95) divided by the tokens left; whitened over the batch. Checked on a
/// two-token vocabulary where every log-probability is known in closed form.
@Suite struct PolicyGradientTests {
    /// log softmax([x, 0])[0] and [1].
    func logp(_ x: Double, _ token: Int) -> Double { token == 0 ? x - log(exp(x) + 1) : -log(exp(x) + 1) }

    @Test func advantagesFollowMiniLLM() {
        // Sequence 0: prompt of 2 tokens, then 3 targets; sequence 1: prompt of 1, then 2 targets.
        let sequences = [[1, 0, 0, 1, 0], [0, 1, 1]]
        let isTarget = [[false, false, true, true, true], [false, true, true]]
        let batch = Distiller.Batch(sequences: sequences, isTarget: isTarget)
        // Student and teacher logits rows [x, 0] with x depending on (s, t).
        let xs: (Int, Int) -> Float = { s, t in Float(s) * 0.7 - Float(t) * 0.3 }
        let xt: (Int, Int) -> Float = { s, t in 1.5 - Float(s) * 0.4 + Float(t) * 0.2 }
        var storage: [UnsafeMutablePointer<Float>] = []
        defer { storage.forEach { $0.deallocate() } }
        func row(_ x: Float) -> UnsafePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: 2)
            p[0] = x
            p[1] = 0
            storage.append(p)
            return UnsafePointer(p)
        }
        let a = Distiller.advantages(batch, vocab: 2, studentRow: { s, t in row(xs(s, t)) }, teacherRow: { s, t in row(xt(s, t)) })
        // The same by the definition.
        var raw: [(Int, Int, Double)] = []
        for (s, seq) in sequences.enumerated() {
            let positions = (0..<(seq.count - 1)).filter { isTarget[s][$0 + 1] }
            var g = 0.0
            for (k, t) in positions.enumerated().reversed() {
                let y = seq[t + 1]
                let r = min(max((logp(Double(xt(s, t)), y) - logp(Double(xs(s, t)), y)) / 0.5, -100), 100)
                g = r + 0.95 * g
                raw.append((s, t, g / Double(positions.count - k)))
            }
        }
        let values = raw.map(\.2), mean = values.reduce(0, +) / Double(values.count)
        let std = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count) + 1e-8).squareRoot()
        for (s, t, v) in raw { #expect(abs(a[s][t] - (v - mean) / std) < 1e-9, "(\(s), \(t))") }
        // Non-target positions carry no advantage; the whitened values have mean 0 and variance 1.
        #expect(a[0][0] == 0 && a[0][4] == 0 && a[1][2] == 0)
        let whitened = raw.map { a[$0.0][$0.1] }
        #expect(abs(whitened.reduce(0, +)) < 1e-9 && abs(whitened.reduce(0) { $0 + $1 * $1 } / Double(whitened.count) - 1) < 1e-6)
    }
}
