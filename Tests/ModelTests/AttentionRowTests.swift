import CKernels
import Foundation
import Testing

/// ck_attend_row (one decoding query row of one head) against soft-max attention computed in Double, for the
/// AVX2 head sizes and an odd one (the portable loop), with rows `stride` apart as in the KV cache.
@Suite struct AttentionRowTests {
    @Test(arguments: [(64, 1), (64, 300), (128, 17), (24, 5), (12, 40)])
    func matchesSoftmaxAttentionInDouble(_ d: Int, _ positions: Int) {
        var rng = SplitMix(seed: UInt64(d * 1000 + positions))
        let stride = 3 * d + 5
        let q = (0..<d).map { _ in Float.random(in: -2...2, using: &rng) }
        let k = (0..<(positions * stride)).map { _ in Float.random(in: -2...2, using: &rng) }
        let v = (0..<(positions * stride)).map { _ in Float.random(in: -2...2, using: &rng) }
        let scale = 1 / Float(d).squareRoot()
        var scores = [Float](repeating: 0, count: positions), out = [Float](repeating: .nan, count: d)
        ck_attend_row(q, k, v, stride, Int32(positions), Int32(d), scale, &scores, &out)

        let logits = (0..<positions).map { s in Double(scale) * (0..<d).reduce(0.0) { $0 + Double(q[$1]) * Double(k[s * stride + $1]) } }
        let top = logits.max()!
        let weights = logits.map { exp($0 - top) }, total = weights.reduce(0, +)
        for i in 0..<d {
            let want = (0..<positions).reduce(0.0) { $0 + weights[$1] / total * Double(v[$1 * stride + i]) }
            #expect(abs(Double(out[i]) - want) <= 1e-5, "d \(d) positions \(positions) lane \(i): \(out[i]) vs \(want)")
        }
    }
}

/// A fixed-seed generator (SplitMix64): the same inputs on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
