import ArgumentParser
import Formats
import Foundation
import Model

struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Perplexity of a GGUF model on a text file, as llama-perplexity computes it.",
        discussion: """
            The text is cut into chunks of --ctx tokens, each evaluated alone; the second half of each chunk is \
            scored. Prints the running PPL after each chunk ([1]12.3456,[2]...) and the final estimate with its error.
            """)

    @Argument(help: "A GGUF model.")
    var model: String
    @OptionGroup var options: EvaluationOptions

    func run() throws {
        let (file, ctx, chunks, json) = (options.file, options.ctx, options.chunks, options.json)
        let m = try ModelFile(path: model)
        let tokens = try m.tokenizeFile(file)
        let pieces = try Evaluation.chunks(tokens, context: ctx, model: m, limit: chunks, file: file)
        var totals = Perplexity.Totals()
        let start = Date()
        for (i, chunk) in pieces.enumerated() {
            let logits = try m.transformer.logits(chunk.input)
            Perplexity.score(logits: logits, original: chunk.original, vocab: m.transformer.config.vocabSize, into: &totals)
            if !json { Stdout.write(String(format: "[%d]%.4f,", i + 1, totals.perplexity)) }
            Evaluation.progress(i + 1, of: pieces.count, tokens: ctx, since: start)
        }
        if json {
            Stdout.write(JSONWriter.pretty(.object([
                ("schema", .string("ckpt.perplexity/1")), ("model", .string(model)), ("file", .string(file)),
                ("ctx", .int(ctx)), ("chunks", .int(pieces.count)), ("scored_tokens", .int(totals.count)),
                ("perplexity", .double(totals.perplexity)), ("uncertainty", totals.uncertainty.map { .double($0) } ?? .null),
            ])) + "\n")
        } else if let error = totals.uncertainty {
            Stdout.write(String(format: "\nFinal estimate: PPL = %.4f +/- %.5f\n", totals.perplexity, error))
        } else {
            Stdout.write(String(format: "\nFinal estimate: PPL = %.4f (too few tokens for an error estimate)\n", totals.perplexity))
        }
    }
}

/// The text, chunking and output options perplexity and compare share.
struct EvaluationOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The text to score (UTF-8).")
    var file: String
    @Option(help: "Tokens per chunk.")
    var ctx = 512
    @Option(help: "Score at most this many chunks.")
    var chunks: Int?
    @Flag(help: "Print the result as JSON.")
    var json = false
}

/// What perplexity and compare share: chunking with the checks, progress lines.
enum Evaluation {
    struct Chunk {
        var input: [Int]
        var original: ArraySlice<Int>
    }

    static func chunks(_ tokens: [Int], context: Int, model: ModelFile, limit: Int?, file: String) throws -> [Chunk] {
        guard context >= 4 else { throw ToolError(message: "--ctx must be at least 4", hint: nil) }
        guard context <= model.transformer.config.contextLength else {
            throw ToolError(message: "--ctx \(context) exceeds the model's context of \(model.transformer.config.contextLength)", hint: nil)
        }
        guard tokens.count >= Perplexity.minimumTokens(context: context) else {
            throw ToolError(message: "'\(file)' has \(tokens.count) tokens; a context of \(context) needs at least \(2 * context)",
                            hint: "use a longer text or a smaller --ctx")
        }
        let inputs = Perplexity.chunks(tokens, context: context, bos: model.bos, limit: limit)
        return inputs.enumerated().map { i, input in Chunk(input: input, original: tokens[(i * context)..<((i + 1) * context)]) }
    }

    static func progress(_ done: Int, of total: Int, tokens: Int, since start: Date) {
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(done * tokens) / max(elapsed, 1e-9)
        let eta = Double(total - done) * elapsed / Double(done)
        Stderr.write(String(format: "chunk %d/%d, %.0f tok/s, ETA %.0f s\n", done, total, rate, eta))
    }
}
