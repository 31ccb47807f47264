import ArgumentParser
import Formats
import Foundation
import Model

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "How far OTHER (quantized, distilled) is from BASE on a text: llama-perplexity --kl-divergence's report.",
        discussion: """
            Both models see the same chunks (--ctx tokens, second half scored, as perplexity). Reports PPL of each, \
            their ratio and difference, KL(base||other) mean and percentiles, Δp = p_other − p_base of the next \
            token, RMS Δp and how often both models rank the same token first.
            """)

    @Argument(help: "The reference GGUF model.")
    var base: String
    @Argument(help: "The GGUF model to judge (same vocabulary).")
    var other: String
    @OptionGroup var options: EvaluationOptions

    func run() throws {
        let (file, ctx, chunks, json) = (options.file, options.ctx, options.chunks, options.json)
        let b = try ModelFile(path: base), o = try ModelFile(path: other)
        guard b.tokenizer.tokens == o.tokenizer.tokens, b.transformer.config.vocabSize == o.transformer.config.vocabSize else {
            throw ToolError(message: "compare: '\(other)' has another vocabulary than '\(base)' "
                                + "(\(o.tokenizer.tokens.count) vs \(b.tokenizer.tokens.count) tokens)", hint: nil)
        }
        let tokens = try b.tokenizeFile(file)
        let pieces = try Evaluation.chunks(tokens, context: ctx, model: b, limit: chunks, file: file)
        let V = b.transformer.config.vocabSize
        var stats = KLDivergenceStatistics()
        let start = Date()
        for (i, chunk) in pieces.enumerated() {
            let lb = try b.transformer.logits(chunk.input), lo = try o.transformer.logits(chunk.input)
            lb.withUnsafeBufferPointer { pb in
                lo.withUnsafeBufferPointer { po in
                    for pos in Perplexity.scoredPositions(context: ctx) {
                        let rows = (pos * V)..<((pos + 1) * V)
                        stats.add(base: UnsafeBufferPointer(rebasing: pb[rows]), other: UnsafeBufferPointer(rebasing: po[rows]),
                                  target: chunk.original[chunk.original.startIndex + pos + 1])
                    }
                }
            }
            Evaluation.progress(i + 1, of: pieces.count, tokens: 2 * ctx, since: start)
        }
        let s = stats.summary
        Stdout.write(json ? CompareReport.json(s, base: base, other: other, file: file, ctx: ctx) : CompareReport.text(s))
    }
}

/// The compare report as llama-perplexity words it, or as JSON (schema ckpt.compare/1).
enum CompareReport {
    static func text(_ s: KLDivergenceStatistics.Summary) -> String {
        func pad(_ label: String) -> String { label.padding(toLength: max(label.count, 28), withPad: " ", startingAt: 0) }
        func pm(_ label: String, _ e: KLDivergenceStatistics.Estimate) -> String {
            pad(label) + String(format: " %10.6f ± %10.6f\n", e.value, e.error)
        }
        func pct(_ label: String, _ e: KLDivergenceStatistics.Estimate) -> String {
            pad(label) + String(format: " %9.3f ± %6.3f %%\n", 100 * e.value, 100 * e.error)
        }
        var out = "====== Perplexity statistics (\(s.count) tokens) ======\n"
        out += pm("Mean PPL(Q)", s.perplexityOther) + pm("Mean PPL(base)", s.perplexityBase)
        out += pad("Cor(ln(PPL(Q)), ln(PPL(base)))") + String(format: " %9.2f%%\n", 100 * s.correlation)
        out += pm("Mean ln(PPL(Q)/PPL(base))", s.logRatio) + pm("Mean PPL(Q)/PPL(base)", s.ratio)
        out += pm("Mean PPL(Q)-PPL(base)", s.deltaPerplexity)
        out += "\n====== KL divergence statistics ======\n" + pm("Mean    KLD:", s.meanKLD)
        for (label, value) in s.kldQuantiles { out += pad("\(label) KLD:") + String(format: " %10.6f\n", value) }
        out += "\n====== Token probability statistics ======\n" + pct("Mean    Δp:", s.meanDeltaP)
        for (label, value) in s.deltaPQuantiles { out += pad("\(label) Δp:") + String(format: " %9.3f%%\n", 100 * value) }
        out += "\n" + pct("RMS Δp", s.rmsDeltaP) + pct("Same top p:", s.sameTop)
        return out
    }

    static func json(_ s: KLDivergenceStatistics.Summary, base: String, other: String, file: String, ctx: Int) -> String {
        func e(_ x: KLDivergenceStatistics.Estimate) -> JSONValue { .object([("value", .double(x.value)), ("error", .double(x.error))]) }
        func q(_ list: [(String, Double)]) -> JSONValue { .object(list.map { ($0.0, .double($0.1)) }) }
        return JSONWriter.pretty(.object([
            ("schema", .string("ckpt.compare/1")), ("base", .string(base)), ("other", .string(other)), ("file", .string(file)),
            ("ctx", .int(ctx)), ("tokens", .int(s.count)),
            ("ppl_other", e(s.perplexityOther)), ("ppl_base", e(s.perplexityBase)), ("correlation", .double(s.correlation)),
            ("ln_ppl_ratio", e(s.logRatio)), ("ppl_ratio", e(s.ratio)), ("delta_ppl", e(s.deltaPerplexity)),
            ("kld_mean", e(s.meanKLD)), ("kld", q(s.kldQuantiles)),
            ("delta_p_mean", e(s.meanDeltaP)), ("delta_p", q(s.deltaPQuantiles)),
            ("rms_delta_p", e(s.rmsDeltaP)), ("same_top", e(s.sameTop)),
        ])) + "\n"
    }
}
