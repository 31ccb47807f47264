import Foundation

/// Next-token choice from logits: greedy at temperature 0, else temperature, top-k, top-p, with a
/// repetition penalty (HF's: logits of seen tokens divided if positive, multiplied if negative) and
/// `no_repeat_ngram_size` (a token that would repeat an n-gram already in the history is banned).
/// Deterministic for a seed (SplitMix64).
public struct Sampler {
    public struct Options: Sendable {
        public var temperature: Float = 0
        public var topK = 0
        public var topP: Float = 1
        public var repetitionPenalty: Float = 1
        public var noRepeatNgramSize = 0
        public var seed: UInt64 = 0
        public init() {}
    }

    public var options: Options
    var state: UInt64

    public init(_ options: Options) {
        self.options = options
        state = options.seed
    }

    /// Uniform in [0, 1) from SplitMix64.
    mutating func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }

    public mutating func next(_ logits: ArraySlice<Float>, history: [Int]) -> Int {
        var l = Array(logits)
        if options.repetitionPenalty != 1 {
            for id in Set(history) where l.indices.contains(id) {
                l[id] = l[id] > 0 ? l[id] / options.repetitionPenalty : l[id] * options.repetitionPenalty
            }
        }
        let n = options.noRepeatNgramSize
        if n > 0 && history.count >= n - 1 {
            let prefix = Array(history.suffix(n - 1))
            if history.count >= n {
                for i in 0...(history.count - n) where Array(history[i..<(i + n - 1)]) == prefix {
                    l[history[i + n - 1]] = -.infinity
                }
            }
        }
        if options.temperature <= 0 {
            var best = 0
            for i in l.indices where l[i] > l[best] { best = i }
            return best
        }
        if options.topK <= 0 && options.topP >= 1 {
            // Plain sampling (PromptKD's T = 1, top-k 0, top-p 1): one pass in vocabulary order, no sort.
            let t = options.temperature
            let maxLogit = l.max() ?? 0
            var total: Double = 0
            for i in l.indices { total += Double(exp((l[i] - maxLogit) / t)) }
            var r = uniform() * total
            var last = 0
            for i in l.indices where l[i] > -.infinity {
                r -= Double(exp((l[i] - maxLogit) / t))
                last = i
                if r < 0 { return i }
            }
            return last
        }
        var candidates = l.indices.map { ($0, l[$0] / options.temperature) }.filter { $0.1 > -.infinity }
        candidates.sort { $0.1 > $1.1 }
        if options.topK > 0 { candidates = Array(candidates.prefix(options.topK)) }
        let maxLogit = candidates.first?.1 ?? 0
        var probs = candidates.map { Double(exp($0.1 - maxLogit)) }
        let total = probs.reduce(0, +)
        probs = probs.map { $0 / total }
        if options.topP < 1 {
            var cumulative = 0.0, keep = 0
            for p in probs {
                keep += 1
                cumulative += p
                if cumulative >= Double(options.topP) { break }
            }
            probs = Array(probs.prefix(keep))
            let t = probs.reduce(0, +)
            probs = probs.map { $0 / t }
        }
        var r = uniform()
        for (i, p) in probs.enumerated() {
            r -= p
            if r < 0 { return candidates[i].0 }
        }
        return candidates[probs.count - 1].0
    }
}
