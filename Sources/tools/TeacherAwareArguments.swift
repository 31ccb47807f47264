import ArgumentParser
import Distill
import Formats
import Foundation
import Model

/// `ckpt quantize ... --teacher T`: teacher-aware quantization (QuantScaleTuner) after the ordinary one.
struct TeacherAwareArguments: ParsableArguments {
    @Option(help: "Teacher-aware quantization: after quantizing, tune the block scales (d, dmin) so that KL(teacher ‖ quantized) falls on --data; the codes stay, the file stays an ordinary GGUF of TYPE. The teacher may be INPUT itself (self-distillation, as mlx-lm's DWQ) or the model INPUT was distilled from (same vocabulary).")
    var teacher: String?
    @Option(help: "Calibration data for --teacher: JSONL (the training data's forms). Default: the bundled train split.")
    var data: String?
    @Option(help: "Tuning steps (--teacher).") var steps = 100
    @Option(help: "Sequences per tuning step.") var tuneBatchSize = 4
    @Option(help: "Learning rate of the relative scale change (AdamW on u in d = d₀·(1 + u)).") var tuneLr = 1e-3
    @Option(help: "Also tune the F32 norm weights with this learning rate (0: keep them).") var tuneNormsLr = 0.0
    @Option(help: "Seed of the data order.") var tuneSeed: UInt64 = 10
    @Option(help: "Every N steps (and before the first), the KL on held-out data (--tune-dev); the fields with the lowest are written instead of the last step's (0: off).")
    var tuneEvalEvery = 0
    @Option(help: "Held-out data of --tune-eval-every: JSONL, never tuned on. Default: the bundled dev split.") var tuneDev: String?

    var enabled: Bool { teacher != nil }

    func validate() throws {
        if teacher == nil, data != nil { throw ValidationError("--data is for teacher-aware quantization: give --teacher too") }
        guard steps > 0, tuneBatchSize > 0, tuneLr > 0, tuneNormsLr >= 0 else {
            throw ValidationError("--steps, --tune-batch-size and --tune-lr must be positive")
        }
        guard tuneEvalEvery >= 0 else { throw ValidationError("--tune-eval-every must be 0 (off) or more") }
        if tuneDev != nil, tuneEvalEvery == 0 { throw ValidationError("--tune-dev is for --tune-eval-every N: give it too") }
    }

    /// Tunes the plain quantization at `plain` and writes the result to `output`.
    func tune(plain: String, output: String, overwrite: Bool) throws {
        let model = try ModelFile(path: plain)
        let eos = try model.gguf.endOfSequence(vocabSize: model.transformer.config.vocabSize, command: "quantize --teacher")
        /// A JSONL file's examples as token sequences, prompt ≤ 256 and whole ≤ 512 tokens.
        func sequences(_ path: String) throws -> [[Int]] {
            try TokenizedDataset(path: path, tokenizer: model.tokenizer, eos: eos, maxPromptLength: 256,
                                 maxLength: min(512, model.transformer.config.contextLength)).examples.map(\.tokens)
        }
        let dataPath = try data ?? BundledData.path("train")
        var dev: [[Int]] = []
        if tuneEvalEvery > 0 {
            let devPath = try tuneDev ?? BundledData.path("dev")
            dev = try sequences(devPath)
            guard !dev.isEmpty else { throw ToolError(message: "--tune-dev '\(devPath)' holds no example", hint: nil) }
        }
        try Self.tune(plain: model, teacher: teacher!, sequences: try sequences(dataPath), dataName: dataPath, output: output,
                      overwrite: overwrite, steps: steps, batchSize: tuneBatchSize, learningRate: tuneLr, normLearningRate: tuneNormsLr, seed: tuneSeed,
                      evalEvery: tuneEvalEvery, dev: dev)
    }

    /// The tuning loop with progress on stderr (quantize --teacher, and --export TYPE --tune-quant after training).
    static func tune(plain model: ModelFile, teacher: String, sequences: [[Int]], dataName: String, output: String, overwrite: Bool,
                     steps: Int, batchSize: Int, learningRate: Double, normLearningRate: Double = 0, seed: UInt64 = 10,
                     evalEvery: Int = 0, dev: [[Int]] = []) throws {
        let teacherFile = try ModelFile(path: teacher)
        try Vocabulary.requireSame(model.tokenizer, model.gguf.path, teacherFile.tokenizer, teacher)
        var options = QuantScaleTuner.Options()
        options.learningRate = learningRate
        options.normLearningRate = normLearningRate
        let tuner = try QuantScaleTuner(quantized: model.gguf, teacher: teacherFile.transformer.weights, options: options)
        Stderr.write("tune: \(tuner.tunedTensorCount) quantized tensors, \(tuner.fieldCount) block scales; \(sequences.count) sequences "
            + "from \(dataName); KL(teacher ‖ model) by AdamW on the relative scales, lr \(learningRate)"
            + (normLearningRate > 0 ? ", norms lr \(normLearningRate)" : "") + "\n")
        var order = DataOrder(count: sequences.count, seed: seed)
        let start = Date()
        var first: Double?, recent: [Double] = []
        var best: (step: Int, kl: Double)?
        /// Held-out KL now; the fields remembered when it is the lowest yet.
        func evaluate(_ step: Int) throws {
            let kl = try tuner.meanKL(dev, batchSize: batchSize)
            if best == nil || kl < best!.kl {
                best = (step, kl)
                tuner.remember()
            }
            Stderr.write(String(format: "tune: step %d  held-out KL %.4f (best %.4f at step %d)\n", step, kl, best!.kl, best!.step))
        }
        if evalEvery > 0 { try evaluate(0) }
        for step in 1...steps {
            let kl = try tuner.step(order.next(batchSize).map { sequences[$0] })
            first = first ?? kl
            recent = Array((recent + [kl]).suffix(10))
            let moved = tuner.movement
            Stderr.write(String(format: "tune: step %d/%d  KL %.4f (last 10: %.4f)  |Δd/d| mean %.2e max %.2e  %.1f s\n", step, steps, kl,
                                recent.reduce(0, +) / Double(recent.count), moved.mean, moved.max, Date().timeIntervalSince(start)))
            if evalEvery > 0, step % evalEvery == 0 || step == steps { try evaluate(step) }
        }
        if let best {  // set only with evalEvery > 0
            tuner.restoreRemembered()
            Stderr.write(String(format: "tune: writing the fields of step %d (held-out KL %.4f)\n", best.step, best.kl))
        }
        try tuner.write(to: output, overwrite: overwrite)
        Stderr.write(String(format: "tune: KL %.4f at the first step, %.4f over the last 10; wrote %@\n", first ?? 0,
                            recent.reduce(0, +) / Double(max(1, recent.count)), output))
    }
}
