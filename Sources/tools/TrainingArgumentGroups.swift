import ArgumentParser
import Convert
import Distill
import Formats
import Foundation
import Model

/// The run folder, data and bookkeeping options of every training command (finetune, prompt-tune, distill),
/// declared once.
struct RunArguments: ParsableArguments {
    @Option(help: "Run folder: metrics.jsonl, loss.svg, checkpoints/, report.json and the exported result.")
    var out: String
    @Option(help: "Training data, JSONL in Dolly form (instruction, context, response) or (prompt, output). Default: the bundled train split.")
    var data: String?
    @Option(help: "Dev data for the dev metric (default: the bundled dev split when --data is not given).")
    var devData: String?
    @Flag(help: PromptFormatting.help)
    var chatTemplate = false
    @Option(help: "Longest training sequence in tokens (prompt + response + EOS); longer ones lose their tail.")
    var maxLength = 512
    @Option(help: "Skip examples whose prompt has more tokens than this.")
    var maxPromptLength = 256
    @Option(help: "Dev metric every N steps (0: at the end only).")
    var evalEvery = 0
    @Option(help: "Checkpoint every N steps (0: at the end only); each replaces the one before (RUN/checkpoints holds the newest).")
    var saveEvery = 0
    @Option(help: "Continue the run saved in this folder (a run folder or one checkpoint) bit-exactly.")
    var resume: String?
    @Option(help: "Stop (with a checkpoint) after this step; --resume continues the same run.")
    var stopAfter: Int?
    @Flag(help: "Start over in an --out folder that already holds a run.")
    var force = false

    func prepareFolder() throws { try RunFolder.prepare(out, resume: resume, force: force) }

    var trainPath: String { get throws { try data ?? BundledData.path("train") } }
    var devPath: String? { get throws { try devData ?? (data == nil ? BundledData.path("dev") : nil) } }

    /// Examples of a JSONL file, rendered with the model's chat template under --chat-template.
    func examples(_ path: String, template gguf: GGUFFile, bosAdded: Bool) throws -> [InstructionExample] {
        let items = try InstructionExample.load(path: path)
        return chatTemplate ? try PromptFormatting.apply(items, gguf: gguf, bosAdded: bosAdded) : items
    }

    /// The training set tokenized.
    func trainingSet(template gguf: GGUFFile, bosAdded: Bool, tokenizer: any Tokenizer, eos: Int,
                     maxLength: Int) throws -> TokenizedDataset {
        let path = try trainPath
        return try TokenizedDataset(try examples(path, template: gguf, bosAdded: bosAdded), path: path, tokenizer: tokenizer,
                                    eos: eos, maxPromptLength: maxPromptLength, maxLength: maxLength)
    }

    /// The data's one-line summary on stderr.
    func reportData(_ train: TokenizedDataset, maxLength: Int, devCount: Int?) throws {
        Stderr.write("data: \(train.examples.count) training examples from \(try trainPath)"
            + (train.skippedLongPrompts > 0 ? ", \(train.skippedLongPrompts) skipped (prompt over \(maxPromptLength) tokens)" : "")
            + (train.truncated > 0 ? ", \(train.truncated) cut to \(maxLength) tokens" : "")
            + (devCount.map { "; \($0) dev examples" } ?? "") + "\n")
    }
}

/// The optimizer and schedule options of every training command, declared once; where a command's default
/// differs (learning rate, schedule) it passes its own to `resolved`.
struct OptimizerArguments: ParsableArguments {
    @Option(help: "Optimizer steps in all (default: 100).")
    var steps: Int?
    @Option(help: "Epochs over the training data (instead of --steps).")
    var epochs: Double?
    @Option(help: "Sequences per micro-batch (a step is --batch-size × --grad-accum sequences).")
    var batchSize = 4
    @Option(help: "Micro-batches per optimizer step, their gradients summed (each micro-loss divided by the count).")
    var gradAccum = 1
    @Option(help: "Peak learning rate (default: finetune and distill 5e-5, prompt-tune 1e-3; distill: the student's).")
    var lr: Double?
    @Option(help: "Learning-rate schedule after warmup: constant, cosine or linear (default: cosine; distill: constant, as PromptKD).")
    var schedule: String?
    @Option(help: "Warmup steps.")
    var warmup = 0
    @Option(help: "AdamW weight decay (not on biases and norms).")
    var weightDecay = 0.01
    @Option(help: "Clip the global gradient norm to this (0: no clipping).")
    var clip: Float = 1.0
    @Option(help: "Seed of the data order, sampling and random initializations.")
    var seed: UInt64 = 10
    @Flag(help: "Gradient checkpointing: keep only each block's input and recompute the block in backward (less memory, about a third more time; same results).")
    var gradCheckpoint = false

    struct Resolved {
        var steps: Int, learningRate: Double, schedule: LearningRateSchedule.Shape, maxGradNorm: Float
        /// The test switch CKPT_INJECT_FAULT (FaultInjection), when set.
        var fault: FaultInjection?
    }

    /// Steps (from --steps or --epochs over `trainCount` examples), rate and schedule with the command's defaults.
    func resolved(defaultLR: Double, defaultSchedule: LearningRateSchedule.Shape, trainCount: Int) throws -> Resolved {
        let accumulation = gradAccum
        var shape = defaultSchedule
        if let schedule {
            guard let named = LearningRateSchedule.Shape(rawValue: schedule) else {
                throw ValidationError("--schedule must be constant, cosine or linear")
            }
            shape = named
        }
        let count: Int
        switch (steps, epochs) {
        case (let s?, nil): count = s
        case (nil, let e?): count = max(1, Int((e * Double(trainCount) / Double(batchSize * accumulation)).rounded(.up)))
        case (nil, nil): count = 100
        default: throw ValidationError("give --steps or --epochs, not both")
        }
        guard count > 0, batchSize > 0, accumulation > 0 else {
            throw ValidationError("--steps, --batch-size and --grad-accum must be positive")
        }
        var fault: FaultInjection?
        if let text = ProcessInfo.processInfo.environment["CKPT_INJECT_FAULT"] {
            guard let parsed = FaultInjection(text) else {
                throw ToolError(message: "CKPT_INJECT_FAULT='\(text)' is not SITE:STEP[:inf]", hint: "SITE: weights, activations or gradients")
            }
            fault = parsed
        }
        return Resolved(steps: count, learningRate: lr ?? defaultLR, schedule: shape, maxGradNorm: clip > 0 ? clip : .infinity,
                        fault: fault)
    }
}

/// What finetune and distill write besides the F32 GGUF: a quantized copy and a Hugging Face folder.
struct ExportArguments: ParsableArguments {
    @Option(help: "Also write the result quantized to this llama-quantize type (e.g. Q4_K_M) beside the F32 GGUF.")
    var export: String?
    @Flag(help: "Also write the result as a Hugging Face folder (RUN/hf: config, safetensors, tokenizer).")
    var hf = false
    @Flag(help: "With --export: collect an importance matrix on the training data with the trained model (RUN/imatrix.gguf, as ckpt imatrix) and quantize with it.")
    var exportImatrix = false
    @Flag(help: "With --export: teacher-aware quantization (as quantize --teacher): tune the export's block scales on the training data toward the teacher (distill) or the trained F32 model (finetune).")
    var tuneQuant = false
    @Option(help: "Steps of --tune-quant.") var tuneQuantSteps = 100
    @Option(help: "Learning rate of --tune-quant.") var tuneQuantLr = 1e-3
    @Option(help: "--tune-quant: the KL on the dev examples before the first step and every N steps, the best fields written (0: the last step's).")
    var tuneQuantEvalEvery = 0

    /// Whether any extra output was asked for.
    var requested: Bool { export != nil || hf }

    /// Refuses an unknown --export type before any training time is spent (called first by the commands, so
    /// the error takes ckpt's one-line form).
    func checkType() throws {
        if let export, LlamaFileType.named(export) == nil {
            throw ConvertError.unknownQuantType(name: export, menu: LlamaFileType.menu.map(\.name))
        }
        if tuneQuantEvalEvery < 0 { throw ToolError(message: "--tune-quant-eval-every must be 0 or more", hint: nil) }
        if tuneQuantEvalEvery > 0, !tuneQuant { throw ToolError(message: "--tune-quant-eval-every is for --tune-quant", hint: nil) }
        if exportImatrix || tuneQuant {
            guard export != nil else { throw ToolError(message: "\(tuneQuant ? "--tune-quant" : "--export-imatrix") needs --export TYPE", hint: nil) }
        }
    }

    /// Refuses --tune-quant-eval-every for a run without dev examples, before any training time is spent.
    func checkHeldOut(devCount: Int) throws {
        if tuneQuantEvalEvery > 0, devCount == 0 {
            throw ToolError(message: "--tune-quant-eval-every: no dev examples to measure on (give --dev-data, or keep the bundled dev split)", hint: nil)
        }
    }

    /// Writes the extra outputs of the F32 GGUF at `gguf` into `folder`; report fields for them. `calibration`:
    /// the training data's token sequences, for --export-imatrix and --tune-quant; `teacher`: what --tune-quant
    /// matches (nil: the F32 model itself); `heldOut`: the dev examples of --tune-quant-eval-every.
    func write(from gguf: String, stem: String, folder: String, calibration: [[Int]] = [], heldOut: [[Int]] = [],
               teacher: String? = nil) throws -> [(String, JSONValue)] {
        var extra: [(String, JSONValue)] = []
        if let export, let type = LlamaFileType.named(export) {
            let path = folder + "/\(stem)-\(type.name).gguf"
            var options = QuantizeOptions(fileType: type)
            if exportImatrix {
                let imatrix = folder + "/imatrix.gguf"
                let matrix = try Self.collectImatrix(model: gguf, sequences: calibration)
                try matrix.write(to: imatrix, overwrite: true)
                options.imatrix = (matrix, imatrix)
                extra.append(("imatrix", .string(imatrix)))
            }
            try GGUFQuantizer.run(input: gguf, output: path, options: options, overwrite: true) { _ in }
            if tuneQuant {
                try TeacherAwareArguments.tune(plain: try ModelFile(path: path), teacher: teacher ?? gguf, sequences: calibration,
                                               dataName: "the training data", output: path, overwrite: true, steps: tuneQuantSteps,
                                               batchSize: 4, learningRate: tuneQuantLr, evalEvery: heldOut.isEmpty ? 0 : tuneQuantEvalEvery,
                                               dev: heldOut)
                extra.append(("tuned_quantization", .bool(true)))
            }
            extra.append(("quantized", .string(path)))
        }
        if hf {
            try GGUFToHuggingFace.convert(input: gguf, output: folder + "/hf", overwrite: true)
            extra.append(("hf", .string(folder + "/hf")))
        }
        return extra
    }

    /// The importance matrix of the trained model on its training data: the sequences one after the other,
    /// cut into chunks of up to 512 tokens as ckpt imatrix cuts a text (BOS first when the model adds one).
    static func collectImatrix(model: String, sequences: [[Int]]) throws -> ImportanceMatrix {
        let m = try ModelFile(path: model)
        let tokens = sequences.flatMap { $0 }
        let context = min(512, m.transformer.config.contextLength, tokens.count)
        guard context >= 16 else {
            throw ToolError(message: "--export-imatrix: the training data has \(tokens.count) tokens, too few for an importance matrix", hint: nil)
        }
        let chunks = Perplexity.chunks(tokens, context: context, bos: m.bos)
        Stderr.write("imatrix: \(chunks.count) chunks of \(context) tokens of the training data\n")
        return try ImatrixCollector(transformer: m.transformer, context: context).collect(chunks, dataset: "training data")
    }
}
