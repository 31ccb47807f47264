import ArgumentParser
import Distill
import Formats
import Foundation
import Model

/// Options shared by `finetune` and `prompt-tune`.
struct TrainingArguments: ParsableArguments {
    @Argument(help: "The model: a GGUF file (any type; dequantized to f32) or a Hugging Face folder.")
    var model: String
    @Option(help: "Training data, JSONL in Dolly form (instruction, context, response) or (prompt, output). Default: the bundled set.")
    var data: String?
    @Option(help: "Dev data for the dev loss (default: the bundled dev split when --data is not given).")
    var devData: String?
    @Flag(help: PromptFormatting.help)
    var chatTemplate = false
    @Option(help: "Run folder: metrics.jsonl, loss.svg, checkpoints/, and the exported result.")
    var out: String
    @Option(help: "Optimizer steps in all.")
    var steps: Int?
    @Option(help: "Epochs over the training data (instead of --steps).")
    var epochs: Double?
    @Option(help: "Sequences per micro-batch.")
    var batchSize = 4
    @Option(help: "Micro-batches per optimizer step.")
    var gradAccum = 1
    @Option(help: "Peak learning rate.")
    var lr: Double?
    @Option(help: "Learning-rate schedule after warmup: constant, cosine or linear.")
    var schedule = "cosine"
    @Option(help: "Warmup steps.")
    var warmup = 0
    @Option(help: "AdamW weight decay (not on biases and norms).")
    var weightDecay = 0.01
    @Option(help: "Clip the global gradient norm to this (0: no clipping).")
    var clip: Float = 1.0
    @Option(help: "Seed of the data order and random initializations.")
    var seed: UInt64 = 10
    @Option(help: "Dev loss every N steps (0: at the end only).")
    var evalEvery = 0
    @Option(help: "Checkpoint every N steps (0: at the end only); each replaces the one before (RUN/checkpoints holds the newest).")
    var saveEvery = 0
    @Option(help: "Longest training sequence in tokens (prompt + response + EOS); longer ones lose their tail.")
    var maxLength = 512
    @Option(help: "Skip examples whose prompt has more tokens than this.")
    var maxPromptLength = 256
    @Option(help: "Continue the run saved in this folder (a run folder or one checkpoint) bit-exactly.")
    var resume: String?
    @Option(help: "Stop (with a checkpoint) after this step; --resume continues the same run.")
    var stopAfter: Int?
    @Flag(help: "Start over in an --out folder that already holds a run.")
    var force = false

    /// Options for the trainer; `defaultLR` is the command's own default.
    func trainingOptions(mode: TrainingOptions.Mode, defaultLR: Double, trainCount: Int) throws -> TrainingOptions {
        var o = TrainingOptions()
        o.mode = mode
        o.batchSize = batchSize
        o.accumulation = gradAccum
        o.learningRate = lr ?? defaultLR
        guard let shape = LearningRateSchedule.Shape(rawValue: schedule) else {
            throw ValidationError("--schedule must be constant, cosine or linear")
        }
        o.schedule = shape
        o.warmupSteps = warmup
        o.adam.weightDecay = weightDecay
        o.maxGradNorm = clip > 0 ? clip : .infinity
        o.seed = seed
        o.evalEvery = evalEvery
        o.saveEvery = saveEvery
        switch (steps, epochs) {
        case (let s?, nil): o.steps = s
        case (nil, let e?): o.steps = max(1, Int((e * Double(trainCount) / Double(batchSize * gradAccum)).rounded(.up)))
        case (nil, nil): o.steps = 100
        default: throw ValidationError("give --steps or --epochs, not both")
        }
        guard o.steps > 0, batchSize > 0, gradAccum > 0 else { throw ValidationError("--steps, --batch-size and --grad-accum must be positive") }
        return o
    }

    func prepareFolder() throws { try RunFolder.prepare(out, resume: resume, force: force) }

    /// Train and dev sets tokenized for this model; sequences fit its context after `promptRows`.
    func datasets(_ model: TrainingModel, promptRows: Int) throws -> (train: TokenizedDataset, dev: TokenizedDataset?) {
        let maxLength = min(self.maxLength, model.params.config.contextLength - promptRows)
        let trainPath = try data ?? BundledData.path("train")
        let devPath = try devData ?? (data == nil ? BundledData.path("dev") : nil)
        func load(_ path: String) throws -> [InstructionExample] {
            let items = try InstructionExample.load(path: path)
            return chatTemplate ? try PromptFormatting.apply(items, gguf: model.gguf, bosAdded: model.bos != nil) : items
        }
        let train = try TokenizedDataset(try load(trainPath), path: trainPath, tokenizer: model.tokenizer, eos: model.eos,
                                         maxPromptLength: maxPromptLength, maxLength: maxLength)
        let dev = try devPath.map {
            try TokenizedDataset(try load($0), path: $0, tokenizer: model.tokenizer, eos: model.eos, maxPromptLength: maxPromptLength,
                                 maxLength: maxLength)
        }
        Stderr.write("data: \(train.examples.count) training examples from \(trainPath)"
            + (train.skippedLongPrompts > 0 ? ", \(train.skippedLongPrompts) skipped (prompt over \(maxPromptLength) tokens)" : "")
            + (train.truncated > 0 ? ", \(train.truncated) cut to \(maxLength) tokens" : "")
            + (dev.map { "; \($0.examples.count) dev examples" } ?? "") + "\n")
        return (train, dev)
    }

    /// Runs the loop with progress on stderr, then writes report.json; returns the summary.
    func run(_ trainer: Trainer) throws -> TrainingRun.Summary {
        if let resume {
            try trainer.restore(from: resume)
            Stderr.write("resumed from \(trainer.lastCheckpoint ?? resume) at step \(trainer.step)\n")
        }
        let summary = try TrainingRun.run(trainer, folder: out, stopAfter: stopAfter) { RunFolder.print($0) }
        let mb = { (bytes: Int) in String(format: "%.0f MB", Double(bytes) / 1e6) }
        let moments = 2 * 4 * trainer.optimizer.regions.reduce(0) { $0 + $1.count }
        Stderr.write("memory: weights \(mb(4 * trainer.params.count)), weight gradients \(mb(4 * trainer.gradients.count)), "
            + "AdamW moments \(mb(moments)), activations \(mb(trainer.workspace.byteCount)) (largest batch)\n")
        return summary
    }
}

extension TrainingRun.Summary {
    /// The final report (stdout and report.json).
    func report(extra: [(String, JSONValue)]) -> JSONValue {
        var fields: [(String, JSONValue)] = [("steps", .int(steps))]
        if let firstLoss { fields.append(("first_loss", .double(firstLoss))) }
        if let lastLoss { fields.append(("last_loss", .double(lastLoss))) }
        if let devMetric { fields.append((devMetricName, .double(devMetric))) }
        fields.append(("seconds", .double(seconds)))
        if let checkpoint { fields.append(("checkpoint", .string(checkpoint))) }
        fields += [("metrics", .string(metrics)), ("plot", .string(plot))] + extra
        return .object(fields)
    }
}

/// The run folder every training command writes, and its progress lines.
enum RunFolder {
    /// Creates the folder; an existing run is refused unless resuming or --force.
    static func prepare(_ out: String, resume: String?, force: Bool) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: out + "/metrics.jsonl") && resume == nil && !force {
            throw ToolError(message: "'\(out)' already holds a run", hint: "pass --resume \(out) to continue it, or --force to start over")
        }
        if force && resume == nil {
            for name in ["metrics.jsonl", "checkpoints", "loss.svg", "report.json"] { try? fm.removeItem(atPath: out + "/" + name) }
        }
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
    }

    static func print(_ event: TrainingRun.Event) {
        switch event {
        case let .step(r, total, eta):
            Stderr.write(String(format: "step %d/%d  loss %.4f  lr %.3g  grad-norm %.3g  %.0f tok/s  ETA %.0f s\n",
                                r.step, total, r.loss, r.learningRate, r.gradNorm, Double(r.tokens) / r.seconds, eta))
        case let .dev(step, name, value):
            Stderr.write(String(format: "step %d  %@ %.4f\n", step, name.replacingOccurrences(of: "_", with: " "), value))
        case let .checkpoint(step, folder):
            Stderr.write("step \(step)  checkpoint \(folder)\n")
        }
    }
}
