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

    var enabled: Bool { teacher != nil }

    func validate() throws {
        if teacher == nil, data != nil { throw ValidationError("--data is for teacher-aware quantization: give --teacher too") }
        guard steps > 0, tuneBatchSize > 0, tuneLr > 0, tuneNormsLr >= 0 else {
            throw ValidationError("--steps, --tune-batch-size and --tune-lr must be positive")
        }
    }

    /// Tunes the plain quantization at `plain` and writes the result to `output`.
    func tune(plain: String, output: String, overwrite: Bool) throws {
        let model = try ModelFile(path: plain)
        let teacherFile = try ModelFile(path: teacher!)
        try Vocabulary.requireSame(model.tokenizer, plain, teacherFile.tokenizer, teacher!)
        guard let eos = model.gguf[GGUFKeys.eosTokenID]?.integerValue.map({ Int($0) }), eos >= 0, eos < model.transformer.config.vocabSize else {
            throw ToolError(message: "quantize --teacher: the model has no usable tokenizer.ggml.eos_token_id", hint: nil)
        }
        let dataPath = try data ?? BundledData.path("train")
        let set = try TokenizedDataset(path: dataPath, tokenizer: model.tokenizer, eos: eos, maxPromptLength: 256,
                                       maxLength: min(512, model.transformer.config.contextLength))
        var options = QuantScaleTuner.Options()
        options.learningRate = tuneLr
        options.normLearningRate = tuneNormsLr
        options.batchSize = tuneBatchSize
        options.seed = tuneSeed
        let tuner = try QuantScaleTuner(quantized: model.gguf, teacher: teacherFile.transformer.weights, options: options)
        Stderr.write("tune: \(tuner.tunedTensorCount) quantized tensors, \(tuner.fieldCount) block scales; \(set.examples.count) sequences "
            + "from \(dataPath); KL(teacher ‖ model) by AdamW on the relative scales, lr \(tuneLr)"
            + (tuneNormsLr > 0 ? ", norms lr \(tuneNormsLr)" : "") + "\n")
        var order = DataOrder(count: set.examples.count, seed: tuneSeed)
        let start = Date()
        var first: Double?, recent: [Double] = []
        for step in 1...steps {
            let kl = try tuner.step(order.next(tuneBatchSize).map { set.examples[$0].tokens })
            first = first ?? kl
            recent = Array((recent + [kl]).suffix(10))
            let moved = tuner.movement
            Stderr.write(String(format: "tune: step %d/%d  KL %.4f (last 10: %.4f)  |Δd/d| mean %.2e max %.2e  %.1f s\n", step, steps, kl,
                                recent.reduce(0, +) / Double(recent.count), moved.mean, moved.max, Date().timeIntervalSince(start)))
        }
        try tuner.write(to: output, overwrite: overwrite)
        Stderr.write(String(format: "tune: KL %.4f at the first step, %.4f over the last 10; wrote %@\n", first ?? 0,
                            recent.reduce(0, +) / Double(max(1, recent.count)), output))
    }
}
