import Distill
import Foundation
import Testing

/// The divergence family at one position: each kind's loss against its textbook formula over explicit
/// softmaxes, and its logits gradient against central finite differences; a weighted sum of terms equals
/// the sum of its parts; gradients stay finite when the trained side puts ~0 mass where the target has some.
@Suite struct DivergenceTests {
    static let kinds: [Divergence] = [.forwardKL, .reverseKL, .jensenShannon(beta: 0.9), .jensenShannon(beta: 0.5),
                                      .skewKL(alpha: 0.1), .skewReverseKL(alpha: 0.1), .totalVariation, .softCrossEntropy]

    static func softmax(_ z: [Float]) -> [Double] {
        let m = Double(z.max()!), e = z.map { exp(Double($0) - m) }, s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    static func kl(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + ($1.0 > 0 ? $1.0 * log($1.0 / $1.1) : 0) } }

    /// The definition of each kind, written directly (p trained, q fixed).
    static func reference(_ kind: Divergence, _ p: [Double], _ q: [Double]) -> Double {
        switch kind {
        case .forwardKL: return kl(q, p)
        case .reverseKL: return kl(p, q)
        case .jensenShannon(let b):
            let m = zip(p, q).map { b * $0 + (1 - b) * $1 }
            return b * kl(p, m) + (1 - b) * kl(q, m)
        case .skewKL(let a): return kl(q, zip(p, q).map { a * $1 + (1 - a) * $0 })
        case .skewReverseKL(let a): return kl(p, zip(p, q).map { a * $0 + (1 - a) * $1 })
        case .totalVariation: return 0.5 * zip(p, q).reduce(0) { $0 + abs($1.0 - $1.1) }
        case .softCrossEntropy: return -zip(p, q).reduce(0) { $0 + $1.1 * log($1.0) }
        case .crossEntropy: return .nan
        }
    }

    static func evaluate(_ terms: [(Divergence, Int?, Double)], _ z: [Float], _ fixed: [Float], gradient: inout [Float]) -> [Double] {
        fixed.withUnsafeBufferPointer { f in
            z.withUnsafeBufferPointer { zp in
                gradient.withUnsafeMutableBufferPointer { g in
                    Divergence.position(trained: zp.baseAddress!, terms: terms.map { kind, token, weight in
                        (kind, token.map { Divergence.Target.token($0) } ?? .logits(f.baseAddress!), weight)
                    }, vocab: z.count, gradient: g.baseAddress!, scale: 1)
                }
            }
        }
    }

    @Test(arguments: kinds)
    func lossAndGradient(_ kind: Divergence) {
        var rng = SplitMix64(seed: 5)
        let V = 11
        let z = (0..<V).map { _ in 2 * rng.normal() }, fixed = (0..<V).map { _ in 2 * rng.normal() }
        var gradient = [Float](repeating: 0, count: V)
        let loss = Self.evaluate([(kind, nil, 1)], z, fixed, gradient: &gradient)[0]
        let want = Self.reference(kind, Self.softmax(z), Self.softmax(fixed))
        #expect(abs(loss - want) <= 1e-6 * max(1, abs(want)), "\(kind): \(loss) vs \(want)")
        var scratch = [Float](repeating: 0, count: V)
        for v in 0..<V {
            var plus = z, minus = z
            plus[v] += 1e-2
            minus[v] -= 1e-2
            let numeric = (Self.evaluate([(kind, nil, 1)], plus, fixed, gradient: &scratch)[0]
                - Self.evaluate([(kind, nil, 1)], minus, fixed, gradient: &scratch)[0]) / 2e-2
            #expect(abs(numeric - Double(gradient[v])) <= 1e-4 + 1e-3 * abs(numeric), "\(kind) [\(v)]: \(numeric) vs \(gradient[v])")
        }
    }

    @Test func crossEntropyAndWeightedSums() {
        var rng = SplitMix64(seed: 6)
        let V = 9
        let z = (0..<V).map { _ in 2 * rng.normal() }, fixed = (0..<V).map { _ in 2 * rng.normal() }
        var ce = [Float](repeating: 0, count: V), fkl = ce, both = ce
        let lossCE = Self.evaluate([(.crossEntropy, 4, 1)], z, fixed, gradient: &ce)[0]
        #expect(abs(lossCE + log(Self.softmax(z)[4])) < 1e-9)
        let p = Self.softmax(z)
        #expect(ce.indices.allSatisfy { abs(Double(ce[$0]) - (p[$0] - ($0 == 4 ? 1 : 0))) < 1e-6 })
        _ = Self.evaluate([(.forwardKL, nil, 1)], z, fixed, gradient: &fkl)
        let losses = Self.evaluate([(.crossEntropy, 4, 0.5), (.forwardKL, nil, 0.5)], z, fixed, gradient: &both)
        #expect(abs(losses[0] - lossCE) < 1e-12)
        #expect(both.indices.allSatisfy { abs(both[$0] - 0.5 * (ce[$0] + fkl[$0])) < 1e-6 })
    }

    @Test(arguments: kinds)
    func finiteWhenTheTrainedSideUnderflows(_ kind: Divergence) {
        // p puts e^-1000 (0 in Double) on entry 0, which q favours: every gradient stays finite, forward KL's is p − q.
        var z = [Float](repeating: 0, count: 5), fixed = [Float](repeating: 0, count: 5)
        z[0] = -1000
        fixed[0] = 5
        var gradient = [Float](repeating: 0, count: 5)
        let loss = Self.evaluate([(kind, nil, 1)], z, fixed, gradient: &gradient)[0]
        #expect(loss.isFinite && gradient.allSatisfy(\.isFinite), "\(kind): \(loss) \(gradient)")
        if kind == .forwardKL {
            let p = Self.softmax(z), q = Self.softmax(fixed)
            #expect(gradient.indices.allSatisfy { abs(Double(gradient[$0]) - (p[$0] - q[$0])) < 1e-6 })
        }
    }
}
