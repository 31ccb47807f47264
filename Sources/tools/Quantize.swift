import ArgumentParser
import Convert
import Formats
import Foundation

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a GGUF like llama-quantize: same type mixes, fallbacks and bytes.",
        discussion: """
        TYPE is one of \(LlamaFileType.menu.map(\.name).joined(separator: ", ")) (case-insensitive).
        Progress goes to stderr, one line per tensor, in llama-quantize's format.
        """)

    @Argument(help: "Input GGUF (F32, F16 or BF16; quantized input needs --allow-requantize).")
    var input: String
    @Argument(help: "Output GGUF.")
    var output: String
    @Argument(help: "Target type, e.g. Q4_K_M, Q8_0, Q6_K.")
    var type: String
    @Argument(help: "Threads (default: all cores).")
    var nthreads: Int?

    @Flag(help: "Every quantizable tensor gets TYPE's default type: no mix, no output/embedding rule.")
    var pure = false
    @Flag(help: "Allow quantizing tensors that are already quantized.")
    var allowRequantize = false
    @Flag(help: "Copy output.weight unquantized.")
    var leaveOutputTensor = false
    @Option(help: "ggml type for output.weight (and tied token embeddings).")
    var outputTensorType: String?
    @Option(help: "ggml type for token_embd.weight.")
    var tokenEmbeddingType: String?
    @Option(help: "PATTERN=TYPE: tensors whose name matches the regular expression get TYPE (repeatable; first match wins).")
    var tensorType: [String] = []
    @Option(help: "An importance matrix (ckpt imatrix or llama-imatrix; GGUF or legacy .dat): its column weights guide the Q4_0, Q4_1, Q5_0, Q5_1, Q4_K and Q6_K quantizers as in llama-quantize.")
    var imatrix: String?
    @Option(help: "Use the imatrix only for tensors whose name contains this (repeatable).")
    var includeWeights: [String] = []
    @Option(help: "Do not use the imatrix for tensors whose name contains this (repeatable).")
    var excludeWeights: [String] = []
    @Flag(help: "Print the plan and sizes; write nothing.")
    var dryRun = false
    @Flag(help: "Overwrite OUTPUT if it exists.")
    var force = false
    @OptionGroup var teacherAware: TeacherAwareArguments

    func run() throws {
        guard let fileType = LlamaFileType.named(type) else {
            throw ConvertError.unknownQuantType(name: type, menu: LlamaFileType.menu.map(\.name))
        }
        var options = QuantizeOptions(fileType: fileType)
        options.pure = pure
        options.allowRequantize = allowRequantize
        options.quantizeOutputTensor = !leaveOutputTensor
        options.threads = max(1, nthreads ?? ProcessInfo.processInfo.activeProcessorCount)
        func ggml(_ name: String?) throws -> DType? {
            guard let name else { return nil }
            guard let t = DType(ggmlName: name) else { throw ConvertError.unknownTensorType(name: name) }
            return t
        }
        options.outputTensorType = try ggml(outputTensorType)
        options.tokenEmbeddingType = try ggml(tokenEmbeddingType)
        options.tensorTypes = try tensorType.map { try TensorTypeOverride(argument: $0) }
        if !includeWeights.isEmpty && !excludeWeights.isEmpty {
            throw ValidationError("give --include-weights or --exclude-weights, not both (as llama-quantize)")
        }
        if let imatrix {
            let matrix = try ImportanceMatrix.read(path: imatrix).filtered(include: includeWeights, exclude: excludeWeights)
            // An imatrix left with no entry is no imatrix at all, as in llama-quantize.
            options.imatrix = matrix.entries.isEmpty ? nil : (matrix, imatrix)
        } else if !includeWeights.isEmpty || !excludeWeights.isEmpty {
            throw ValidationError("--include-weights and --exclude-weights need --imatrix")
        }

        Stderr.write("main: quantizing '\(input)' to '\(output)' as \(fileType.name) using \(options.threads) threads\n")
        let start = Date()
        // Teacher-aware: the ordinary quantization goes to a temporary file first, tuned into OUTPUT.
        if teacherAware.enabled, !force, FileManager.default.fileExists(atPath: output) {
            throw ToolError(message: "'\(output)' exists", hint: "pass --force to overwrite it")
        }
        let plain = teacherAware.enabled && !dryRun ? output + ".plain-\(ProcessInfo.processInfo.processIdentifier)" : output
        defer { if plain != output { try? FileManager.default.removeItem(atPath: plain) } }
        let summary = try GGUFQuantizer.run(input: input, output: plain, options: options, overwrite: force || plain != output,
                                            dryRun: dryRun) { event in Stderr.write(QuantizeReport.line(event, dryRun: dryRun)) }
        if plain != output { try teacherAware.tune(plain: plain, output: output, overwrite: force) }
        let mib = { (bytes: Int) in Double(bytes) / 1_048_576 }
        let bpw = { (bytes: Int) in summary.elementCount == 0 ? 0 : Double(bytes) * 8 / Double(summary.elementCount) }
        Stderr.write(String(format: "quantize: model size  = %8.2f MiB (%.2f BPW)\n", mib(summary.inputBytes), bpw(summary.inputBytes)))
        Stderr.write(String(format: "quantize: quant size  = %8.2f MiB (%.2f BPW)\n", mib(summary.outputBytes), bpw(summary.outputBytes)))
        if summary.fallbacks > 0 {
            Stderr.write("quantize: WARNING: \(summary.fallbacks) of \(summary.tensorCount) tensor(s) required fallback quantization\n")
        }
        Stderr.write(String(format: "quantize: total time = %8.2f ms\n", Date().timeIntervalSince(start) * 1000))
    }
}

/// llama-quantize's progress lines, byte for byte where the fields are the same.
enum QuantizeReport {
    static func line(_ event: GGUFQuantizer.Event, dryRun: Bool) -> String {
        switch event {
        case let .fallback(tensor, columns, wanted, used):
            return "warning: \(left(tensor, 36)) - ncols \(right(String(columns), 6)) not divisible by "
                + "\(right(String(wanted.blockSize), 3)) (required for type \(right(wanted.ggmlName, 7))) "
                + "-> falling back to \(right(used.ggmlName, 7))\n"
        case let .tensor(index, count, name, ne, from, to, inBytes, outBytes):
            let dims = (0..<4).map { right(String($0 < ne.count ? ne[$0] : 1), 6) }.joined(separator: ", ")
            var line = "[\(right(String(index), 4))/\(right(String(count), 4))] \(left(name, 36)) - [\(dims)], "
                + "type = \(right(from.ggmlName, 6)), "
            let mib = { (b: Int) in Double(b) / 1_048_576 }
            if let to {
                line += dryRun ? String(format: "size = %8.2f MiB -> %8.2f MiB", mib(inBytes), mib(outBytes)) + " (\(to.ggmlName))"
                    : "converting to \(to.ggmlName) .. " + String(format: "size = %8.2f MiB -> %8.2f MiB", mib(inBytes), mib(outBytes))
            } else {
                line += String(format: "size = %8.3f MiB", mib(inBytes))
            }
            return line + "\n"
        }
    }

    /// printf's %-Ns and %Ns.
    static func left(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
    static func right(_ s: String, _ width: Int) -> String { s.count >= width ? s : String(repeating: " ", count: width - s.count) + s }
}
