import Foundation
import Formats
import Model
import Testing
import TestSupport

/// Perplexity and compare statistics against numpy computing llama-perplexity's formulas on transformers'
/// logits (fixtures/make_evaluation.py): tiny llama-gqa as the model and base, tiny gpt2 as the other.
/// Our logits agree with transformers' to 1e-4 of their scale, so the statistics agree to 1e-3 relative.
@Suite struct EvaluationTests {
    static let fixtures = Repository.fixtures()
    static let expected = try? JSONFile.read(fixtures + "/evaluation/expected.json")

    static func close(_ a: Double, _ b: Double?, _ what: String) {
        guard let b else { Issue.record("\(what): no golden"); return }
        #expect(abs(a - b) <= 1e-3 * max(abs(b), 1e-3), "\(what): \(a) vs \(b)")
    }

    static func model(_ name: String) throws -> Transformer {
        Transformer(try ParameterSet.load(huggingFaceDirectory: fixtures + "/hf/\(name)/safetensors"))
    }

    static var setup: (tokens: [Int], ctx: Int) {
        let e = expected
        return ((e?["tokens"]?.arrayValue ?? []).compactMap { $0.uint64Value }.map { Int($0) }, Int(e?["ctx"]?.uint64Value ?? 0))
    }

    @Test func perplexityMatchesReference() throws {
        let golden = try #require(Self.expected?["perplexity"])
        let (tokens, ctx) = Self.setup
        let model = try Self.model("llama-gqa")
        let chunks = Perplexity.chunks(tokens, context: ctx, bos: nil)
        #expect(chunks.count == tokens.count / ctx)
        var totals = Perplexity.Totals()
        for (i, chunk) in chunks.enumerated() {
            Perplexity.score(logits: try model.logits(chunk), original: tokens[(i * ctx)..<((i + 1) * ctx)],
                             vocab: model.config.vocabSize, into: &totals)
            Self.close(totals.perplexity, golden["running"]?.arrayValue?[i].doubleValue, "running PPL \(i)")
        }
        #expect(totals.count == Int(golden["scored"]?.uint64Value ?? 0))
        Self.close(totals.uncertainty ?? .nan, golden["uncertainty"]?.doubleValue, "uncertainty")
    }

    @Test func compareMatchesReference() throws {
        let golden = try #require(Self.expected?["compare"])
        let (tokens, ctx) = Self.setup
        let base = try Self.model("llama-gqa"), other = try Self.model("gpt2")
        let V = base.config.vocabSize
        var stats = KLDivergenceStatistics()
        for chunk in Perplexity.chunks(tokens, context: ctx, bos: nil) {
            let lb = try base.logits(chunk), lo = try other.logits(chunk)
            lb.withUnsafeBufferPointer { pb in
                lo.withUnsafeBufferPointer { po in
                    for pos in Perplexity.scoredPositions(context: ctx) {
                        let rows = (pos * V)..<((pos + 1) * V)
                        stats.add(base: UnsafeBufferPointer(rebasing: pb[rows]), other: UnsafeBufferPointer(rebasing: po[rows]),
                                  target: chunk[pos + 1])
                    }
                }
            }
        }
        let s = stats.summary
        #expect(s.count == Int(golden["count"]?.uint64Value ?? 0))
        func pair(_ e: KLDivergenceStatistics.Estimate, _ key: String) {
            Self.close(e.value, golden[key]?.arrayValue?[0].doubleValue, key)
            Self.close(e.error, golden[key]?.arrayValue?[1].doubleValue, key + " error")
        }
        pair(s.perplexityOther, "ppl_other")
        pair(s.perplexityBase, "ppl_base")
        pair(s.logRatio, "ln_ratio")
        pair(s.ratio, "ratio")
        pair(s.deltaPerplexity, "delta_ppl")
        pair(s.meanKLD, "kld_mean")
        pair(s.meanDeltaP, "delta_p_mean")
        pair(s.rmsDeltaP, "rms_delta_p")
        pair(s.sameTop, "same_top")
        Self.close(s.correlation, golden["correlation"]?.doubleValue, "correlation")
        for (i, q) in s.kldQuantiles.enumerated() { Self.close(q.1, golden["kld_quantiles"]?.arrayValue?[i].doubleValue, "KLD \(q.0)") }
        for (i, q) in s.deltaPQuantiles.enumerated() { Self.close(q.1, golden["delta_p_quantiles"]?.arrayValue?[i].doubleValue, "Δp \(q.0)") }
    }

    @Test func percentileAndMedianFollowLlamaCpp() {
        let v: [Double] = [1, 2, 4, 8]
        #expect(KLDivergenceStatistics.percentile(v, 0.5) == 3)       // p = 1.5 → halfway between 2 and 4
        #expect(abs(KLDivergenceStatistics.percentile(v, 0.9) - 6.8) < 1e-12)  // p = 2.7 → 4 + 0.7·4
        #expect(KLDivergenceStatistics.percentile(v, 0) == 1 && KLDivergenceStatistics.percentile(v, 1) == 8)
        #expect(KLDivergenceStatistics.median(v) == 3 && KLDivergenceStatistics.median([5, 1, 9].sorted()) == 5)
    }
}
