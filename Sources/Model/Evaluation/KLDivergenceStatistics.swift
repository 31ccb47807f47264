import Foundation

/// llama-perplexity --kl-divergence statistics of OTHER against BASE over the scored positions of the
/// perplexity chunks. Per token: KL(base‖other) = Σᵢ p_base,i (log p_base,i − log p_other,i), computed
/// exactly over the whole vocabulary (llama.cpp reads base log-probs back from 16-bit storage and skips
/// those below −16); Δp = p_other(next) − p_base(next); whether both argmaxes agree.
public struct KLDivergenceStatistics: Sendable {
    public private(set) var kld: [Double] = []
    public private(set) var deltaP: [Double] = []
    public private(set) var nllOther = 0.0, nllOther2 = 0.0, nllBase = 0.0, nllBase2 = 0.0, nllCross = 0.0
    public private(set) var sameTop = 0

    public init() {}

    public var count: Int { kld.count }

    /// Adds one scored position: the two logit rows and the token that follows.
    public mutating func add(base: UnsafeBufferPointer<Float>, other: UnsafeBufferPointer<Float>, target: Int) {
        let lb = Self.logSoftmax(base), lq = Self.logSoftmax(other)
        var k = 0.0
        for i in lb.indices { k += exp(lb[i]) * (lb[i] - lq[i]) }
        kld.append(k)
        let nb = -lb[target], nq = -lq[target]
        nllBase += nb; nllBase2 += nb * nb
        nllOther += nq; nllOther2 += nq * nq
        nllCross += nb * nq
        deltaP.append(exp(-nq) - exp(-nb))
        if Self.argmax(base) == Self.argmax(other) { sameTop += 1 }
    }

    static func logSoftmax(_ row: UnsafeBufferPointer<Float>) -> [Double] {
        let m = Double(row.max() ?? 0)
        var sum = 0.0
        for v in row { sum += exp(Double(v) - m) }
        let lse = m + log(sum)
        return row.map { Double($0) - lse }
    }

    /// First index of the largest value (llama.cpp's strict-greater scan).
    static func argmax(_ row: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in row.indices where row[i] > row[best] { best = i }
        return best
    }

    /// A mean and its standard error as llama.cpp computes them (0 error below 11 samples).
    public struct Estimate: Equatable, Sendable {
        public var value: Double, error: Double
    }

    static func mean(_ sum: Double, _ sum2: Double, _ n: Int) -> Estimate {
        guard n >= 1 else { return Estimate(value: 0, error: 0) }
        let f = sum / Double(n)
        let d = sum2 / Double(n) - f * f
        return Estimate(value: f, error: d > 0 && n > 10 ? (d / Double(n - 1)).squareRoot() : 0)
    }

    /// llama.cpp's percentile: linear interpolation between sorted[⌊f(n−1)⌋] and the next.
    public static func percentile(_ sorted: [Double], _ f: Double) -> Double {
        guard let first = sorted.first, let last = sorted.last else { return 0 }
        if f <= 0 { return first }
        if f >= 1 { return last }
        let p = f * Double(sorted.count - 1)
        let i = Int(p), frac = p - Double(i)
        return (1 - frac) * sorted[i] + frac * sorted[min(i + 1, sorted.count - 1)]
    }

    public static func median(_ sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let n = sorted.count
        return n % 2 == 0 ? 0.5 * (sorted[n / 2] + sorted[n / 2 - 1]) : sorted[n / 2]
    }

    /// The summary llama-perplexity prints, as numbers.
    public struct Summary: Sendable {
        public var count: Int
        public var perplexityOther, perplexityBase, logRatio, ratio, deltaPerplexity: Estimate
        public var correlation: Double
        public var meanKLD: Estimate
        /// (label, value) from maximum down to minimum.
        public var kldQuantiles: [(String, Double)]
        public var meanDeltaP: Estimate
        public var deltaPQuantiles: [(String, Double)]
        public var rmsDeltaP: Estimate
        public var sameTop: Estimate
    }

    public var summary: Summary {
        let n = count
        let lp = Self.mean(nllOther, nllOther2, n), lb = Self.mean(nllBase, nllBase2, n)
        let cov = n < 10 ? 0 : (nllCross / Double(n) - (nllOther / Double(n)) * (nllBase / Double(n))) / Double(n - 1)
        let ppl = exp(lp.value), pplBase = exp(lb.value)
        let r = lp.value - lb.value
        let rErr = (lp.error * lp.error + lb.error * lb.error - 2 * cov).squareRoot()
        let dErr = (pow(ppl * lp.error, 2) + pow(pplBase * lb.error, 2) - 2 * ppl * pplBase * cov).squareRoot()
        let kldSorted = kld.sorted(), dpSorted = deltaP.sorted()
        func quantiles(_ v: [Double], _ labels: [(String, Double)]) -> [(String, Double)] {
            [("Maximum", v.last ?? 0)] + labels.map { ($0.0, $0.1 == 0.5 ? Self.median(v) : Self.percentile(v, $0.1)) }
                + [("Minimum", v.first ?? 0)]
        }
        let kldLevels: [(String, Double)] = [("99.9%", 0.999), ("99.0%", 0.99), ("95.0%", 0.95), ("90.0%", 0.90),
                                             ("Median", 0.5), ("10.0%", 0.10), ("5.0%", 0.05), ("1.0%", 0.01), ("0.1%", 0.001)]
        let dpLevels: [(String, Double)] = [("99.9%", 0.999), ("99.0%", 0.99), ("95.0%", 0.95), ("90.0%", 0.90), ("75.0%", 0.75),
                                            ("Median", 0.5), ("25.0%", 0.25), ("10.0%", 0.10), ("5.0%", 0.05), ("1.0%", 0.01),
                                            ("0.1%", 0.001)]
        let p2 = deltaP.reduce(0) { $0 + $1 * $1 }, p4 = deltaP.reduce(0) { $0 + $1 * $1 * $1 * $1 }
        let ms = Self.mean(p2, p4, n)
        let rms = ms.value.squareRoot()
        let same = n > 0 ? Double(sameTop) / Double(n) : 0
        return Summary(
            count: n,
            perplexityOther: Estimate(value: ppl, error: ppl * lp.error),
            perplexityBase: Estimate(value: pplBase, error: pplBase * lb.error),
            logRatio: Estimate(value: r, error: rErr.isNaN ? 0 : rErr),
            ratio: Estimate(value: exp(r), error: exp(r) * (rErr.isNaN ? 0 : rErr)),
            deltaPerplexity: Estimate(value: ppl - pplBase, error: dErr.isNaN ? 0 : dErr),
            correlation: lp.error > 0 && lb.error > 0 ? cov / (lp.error * lb.error) : 0,
            meanKLD: Self.mean(kld.reduce(0, +), kld.reduce(0) { $0 + $1 * $1 }, n),
            kldQuantiles: quantiles(kldSorted, kldLevels),
            meanDeltaP: Self.mean(deltaP.reduce(0, +), p2, n),
            deltaPQuantiles: quantiles(dpSorted, dpLevels),
            rmsDeltaP: Estimate(value: rms, error: rms > 0 ? 0.5 / rms * ms.error : 0),
            sameTop: Estimate(value: same, error: n > 1 ? (same * (1 - same) / Double(n - 1)).squareRoot() : 0))
    }
}
