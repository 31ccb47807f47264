import Foundation

/// llama-perplexity's convention (tools/perplexity, `perplexity()`): the tokens are cut into whole chunks
/// of `context` (the tail is dropped); each chunk is evaluated alone (fresh cache), its first token replaced
/// by BOS when the vocabulary adds one; only the second half is scored: the logits at positions
/// context/2 … context-2 predict the next token. PPL = exp(mean NLL); its error is PPL · sd(NLL)/√(n−1).
public enum Perplexity {
    /// Running totals: Σ nll, Σ nll², count.
    public struct Totals: Equatable, Sendable {
        public var nll = 0.0, nll2 = 0.0, count = 0
        public init() {}
        public var perplexity: Double { exp(nll / Double(max(count, 1))) }
        /// llama-perplexity's "+/-" figure (nil where it prints "Unexpected negative standard deviation").
        public var uncertainty: Double? {
            guard count > 1 else { return nil }
            let mean = nll / Double(count)
            let variance = nll2 / Double(count) - mean * mean
            guard variance > 0 else { return nil }
            return (variance / Double(count - 1)).squareRoot() * perplexity
        }
    }

    /// The chunks of `tokens` that llama-perplexity evaluates, BOS in front when `bos` is given.
    public static func chunks(_ tokens: [Int], context: Int, bos: Int?, limit: Int? = nil) -> [[Int]] {
        let n = min(tokens.count / context, limit ?? Int.max)
        return (0..<n).map { i in
            var chunk = Array(tokens[(i * context)..<((i + 1) * context)])
            if let bos { chunk[0] = bos }
            return chunk
        }
    }

    /// Tokens llama-perplexity needs for one run: two contexts' worth.
    public static func minimumTokens(context: Int) -> Int { 2 * context }

    /// Scored positions of a chunk: context/2 … context-2 (each predicts the token after it).
    public static func scoredPositions(context: Int) -> Range<Int> { (context / 2)..<(context - 1) }

    /// −log softmax(logits)[target] for one row, in Double (llama.cpp sums the exponentials in double).
    public static func negativeLogLikelihood(_ row: UnsafeBufferPointer<Float>, target: Int) -> Double {
        let maxLogit = row.max() ?? 0
        var sum = 0.0
        for value in row { sum += Double(exp(value - maxLogit)) }
        return -(Double(row[target] - maxLogit) - log(sum))
    }

    /// Adds chunk `chunk` scored from its logits [context, vocab] (the original tokens, not the BOS).
    public static func score(logits: [Float], original chunk: ArraySlice<Int>, vocab: Int, into totals: inout Totals) {
        let context = chunk.count
        logits.withUnsafeBufferPointer { all in
            for pos in scoredPositions(context: context) {
                let row = UnsafeBufferPointer(rebasing: all[(pos * vocab)..<((pos + 1) * vocab)])
                let v = negativeLogLikelihood(row, target: chunk[chunk.startIndex + pos + 1])
                totals.nll += v
                totals.nll2 += v * v
                totals.count += 1
            }
        }
    }
}
