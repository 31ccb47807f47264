import ArgumentParser
import Distill
import Formats
import Foundation
import Model

/// The arguments of `finetune` and `prompt-tune`: the model and the shared run and optimizer groups.
struct TrainingArguments: ParsableArguments {
    @Argument(help: "The model: a GGUF file (any type; dequantized to f32 when its weights train, read as stored when only LoRA adapters or a prompt train) or a Hugging Face folder.")
    var model: String
    @OptionGroup var runFolder: RunArguments
    @OptionGroup var optimizer: OptimizerArguments
    var out: String { runFolder.out }

    /// Options for the trainer; `defaultLR` is the command's own default.
    func trainingOptions(mode: TrainingOptions.Mode, defaultLR: Double, trainCount: Int) throws -> TrainingOptions {
        let r = try optimizer.resolved(defaultLR: defaultLR, defaultSchedule: .cosine, trainCount: trainCount)
        var o = TrainingOptions()
        o.mode = mode
        o.steps = r.steps
        o.batchSize = optimizer.batchSize
        o.accumulation = optimizer.gradAccum
        o.learningRate = r.learningRate
        o.schedule = r.schedule
        o.warmupSteps = optimizer.warmup
        o.adam.weightDecay = optimizer.weightDecay
        o.maxGradNorm = r.maxGradNorm
        o.fault = r.fault
        o.seed = optimizer.seed
        o.gradientCheckpointing = optimizer.gradCheckpoint
        o.evalEvery = runFolder.evalEvery
        o.saveEvery = runFolder.saveEvery
        return o
    }

    func prepareFolder() throws { try runFolder.prepareFolder() }

    /// Train and dev sets tokenized for this model; sequences fit its context after `promptRows`.
    func datasets(_ model: TrainingModel, promptRows: Int) throws -> (train: TokenizedDataset, dev: TokenizedDataset?) {
        let maxLength = min(runFolder.maxLength, model.config.contextLength - promptRows)
        let train = try runFolder.trainingSet(template: model.gguf, bosAdded: model.bos != nil, tokenizer: model.tokenizer,
                                              eos: model.eos, maxLength: maxLength)
        let dev = try runFolder.devPath.map {
            try TokenizedDataset(try runFolder.examples($0, template: model.gguf, bosAdded: model.bos != nil), path: $0,
                                 tokenizer: model.tokenizer, eos: model.eos, maxPromptLength: runFolder.maxPromptLength,
                                 maxLength: maxLength)
        }
        try runFolder.reportData(train, maxLength: maxLength, devCount: dev?.examples.count)
        return (train, dev)
    }

    /// Runs the loop with progress on stderr; returns the summary.
    func train(_ trainer: Trainer) throws -> TrainingRun.Summary {
        if let resume = runFolder.resume {
            try trainer.restore(from: resume)
            Stderr.write("resumed from \(trainer.lastCheckpoint ?? resume) at step \(trainer.step)\n")
        }
        let summary = try TrainingRun.run(trainer, folder: out, stopAfter: runFolder.stopAfter) { RunFolder.print($0) }
        let mb = { (bytes: Int) in String(format: "%.0f MB", Double(bytes) / 1e6) }
        let moments = 2 * 4 * trainer.optimizer.regions.reduce(0) { $0 + $1.count }
        let stored = trainer.params == nil ? " (frozen, as stored)" : ""
        Stderr.write("memory: weights \(mb(trainer.weights.byteCount))\(stored), weight gradients \(mb(4 * trainer.gradients.count)), "
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

    /// The highest value of `key` in the run's metrics log up to `step` (-∞ when none): a resumed run's best so far.
    static func bestLogged(_ key: String, in out: String, upToStep step: Int) -> Double {
        TrainingRun.readLog(out + "/metrics.jsonl").reduce(-Double.infinity) { best, line in
            guard let s = line["step"]?.uint64Value, Int(s) <= step, let v = line[key]?.doubleValue else { return best }
            return max(best, v)
        }
    }

    /// report.json in the run folder (atomically) and the same on stdout.
    static func writeReport(_ report: JSONValue, to out: String) throws {
        let text = JSONWriter.pretty(report) + "\n"
        try AtomicFile.write(Array(text.utf8), to: out + "/report.json")
        Stdout.write(text)
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
