import ArgumentParser
import Convert
import Distill
import Foundation
import Model

struct ImatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imatrix",
        abstract: "Collect an importance matrix as llama-imatrix does, for quantize --imatrix.",
        discussion: """
            Per weight of the blocks (and output.weight with --process-output), the sum over every token of its \
            input's squared columns, and the token count — on a text cut into --ctx-token chunks like perplexity \
            (at least two chunks' worth of tokens). --data takes a UTF-8 text, or a JSONL file of instruction \
            data (the distillation data: prompt and response of each example, one after the other). Writes \
            llama.cpp's GGUF imatrix format (general.type imatrix), which llama-quantize reads too.
            """)

    @Argument(help: "A GGUF model.")
    var model: String
    @Option(help: "The calibration data: a text file, or a .jsonl of instruction examples.")
    var data: String
    @Option(name: .shortAndLong, help: "The imatrix GGUF to write.")
    var output: String
    @Option(help: "Tokens per chunk.")
    var ctx = 512
    @Option(help: "Use at most this many chunks.")
    var chunks: Int?
    @Flag(help: "Also collect output.weight (llama-imatrix --process-output).")
    var processOutput = false
    @Flag(help: "Replace the output if it exists.")
    var force = false

    func run() throws {
        if !force, FileManager.default.fileExists(atPath: output) {
            throw ToolError(message: "'\(output)' exists", hint: "pass --force to replace it")
        }
        let m = try ModelFile(path: model)
        let tokens: [Int]
        if data.hasSuffix(".jsonl") {
            let examples = try InstructionExample.load(path: data)
            let text = examples.map { $0.prompt + $0.response }.joined(separator: "\n\n")
            tokens = (m.bos.map { [$0] } ?? []) + m.tokenizer.encode(text, special: false)
        } else {
            tokens = try m.tokenizeFile(data)
        }
        let pieces = try Evaluation.chunks(tokens, context: ctx, model: m, limit: chunks, file: data)
        let collector = ImatrixCollector(transformer: m.transformer, context: ctx, includeOutput: processOutput)
        let start = Date()
        let matrix = try collector.collect(pieces.map(\.input), dataset: data) { done in
            Evaluation.progress(done, of: pieces.count, tokens: ctx, since: start)
        }
        try matrix.write(to: output, overwrite: force)
        Stderr.write("wrote \(output): \(matrix.entries.count) entries, \(pieces.count) chunks of \(ctx) tokens\n")
    }
}
