import Foundation
import Model

/// AdamW with decoupled weight decay and bias correction, step for step the arithmetic of
/// torch.optim.AdamW (foreach=False): scalars in Double, tensor math in Float:
///   p ← p·(1 − lr·wd);  m ← m + (1−β1)·(g − m);  v ← v·β2 + (1−β2)·g·g;
///   p ← p − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + ε).
/// Moments are one allocation laid out region after region, so they save and restore as named tensors.
public final class AdamW: @unchecked Sendable {
    public struct Options: Sendable, Equatable {
        public var beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double
        public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0.01) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
        }
    }

    public let options: Options
    public let regions: [ParameterRegion]
    /// First and second moments, [Σ region counts] each.
    public let firstMoment: UnsafeMutableBufferPointer<Float>
    public let secondMoment: UnsafeMutableBufferPointer<Float>
    /// Offsets of each region in the moment buffers.
    public let offsets: [Int]
    /// Steps taken (t of the bias correction).
    public var step = 0

    public init(regions: [ParameterRegion], options: Options) {
        self.options = options
        self.regions = regions
        offsets = regions.indices.map { i in regions[..<i].reduce(0) { $0 + $1.count } }
        let total = regions.reduce(0) { $0 + $1.count }
        firstMoment = .allocate(capacity: max(1, total))
        firstMoment.initialize(repeating: 0)
        secondMoment = .allocate(capacity: max(1, total))
        secondMoment.initialize(repeating: 0)
    }

    deinit {
        firstMoment.deallocate()
        secondMoment.deallocate()
    }

    /// One update of every region with learning rate `lr` (the schedule's value for this step).
    public func update(lr: Double) {
        step += 1
        let o = options
        let c1 = 1 - Foundation.pow(o.beta1, Double(step)), c2 = 1 - Foundation.pow(o.beta2, Double(step))
        let stepSize = Float(-(lr / c1)), c2Root = Float(c2.squareRoot())
        let oneMinusBeta1 = Float(1 - o.beta1), beta2 = Float(o.beta2), oneMinusBeta2 = Float(1 - o.beta2)
        let eps = Float(o.epsilon)
        for (r, region) in regions.enumerated() {
            // Each thread touches its own range of elements.
            let shared = SendablePointer((region: region, m: firstMoment.baseAddress! + offsets[r],
                                          v: secondMoment.baseAddress! + offsets[r]))
            // Decoupled decay first (p·(1 − lr·wd)), then the Adam step, in one pass over the elements. 1 keeps
            // p as it is (x·1 = x exactly), so regions without decay share the loop.
            let keep: Float = region.decay && o.weightDecay != 0 ? Float(1 - lr * o.weightDecay) : 1
            // Element-wise, so any split across threads gives the same bits.
            Parallel.forChunks(region.count, minChunk: 1 << 16) { range in
                let p = shared.pointer.region.values, g = shared.pointer.region.gradient, m = shared.pointer.m, v = shared.pointer.v
                for i in range {
                    let gi = g[i]
                    let mi = m[i] + oneMinusBeta1 * (gi - m[i])
                    let vi = v[i] * beta2 + oneMinusBeta2 * gi * gi
                    m[i] = mi
                    v[i] = vi
                    let denominator = vi.squareRoot() / c2Root + eps
                    p[i] = p[i] * keep + stepSize * mi / denominator
                }
            }
        }
    }
}
