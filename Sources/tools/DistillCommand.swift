import ArgumentParser
import Convert
import Distill
import Formats
import Foundation
import Model

struct DistillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Distill a teacher into a student: PromptKD or a baseline (kd, seqkd, rkl, gkd, distillm, sft).",
        discussion: """
            promptkd: every step the student samples answers; the teacher's soft prompt learns \
            KL(q‖student) + (1 − s/S)·KL(q‖teacher) through the frozen teacher, then the student learns \
            KL(student‖q) against the updated prompt. Both GGUFs must share one vocabulary (ckpt student init makes \
            such a student). No dropout. Writes RUN/metrics.jsonl (losses, time per phase), RUN/loss.svg, \
            RUN/checkpoints/ (--resume RUN continues bit-exactly), RUN/student.gguf (F32), RUN/best-student.gguf \
            (best dev ROUGE-L), RUN/student-TYPE.gguf with --export TYPE, RUN/hf with --hf, RUN/prompt-adapter (PEFT).
            """)

    @Option(help: "Teacher: a GGUF (any type; dequantized to f32) or a Hugging Face folder.") var teacher: String
    @Option(help: "Student: a GGUF or a Hugging Face folder with the teacher's vocabulary.") var student: String
    @Option(help: "Run folder.") var out: String
    @Option(help: "Training data (JSONL, Dolly or prompt/output). Default: the bundled train split.") var data: String?
    @Option(help: "Dev data for the dev ROUGE-L (default: the bundled dev split when --data is not given).") var devData: String?
    @Flag(help: PromptFormatting.help) var chatTemplate = false
    @Option(help: "promptkd, kd, seqkd, rkl, gkd, distillm or sft.") var method = "promptkd"
    @Option(help: "Optimizer steps.") var steps = 100
    @Option(help: "Sequences per step.") var batchSize = 4
    @Option(help: "Student learning rate.") var lr = 5e-5
    @Option(help: "Prompt learning rate (promptkd).") var promptLr = 5e-5
    @Option(help: "Warmup steps.") var warmup = 0
    @Option(help: "constant, cosine or linear after warmup.") var schedule = "constant"
    @Option(help: "AdamW weight decay (not on biases and norms).") var weightDecay = 0.01
    @Option(help: "Clip the global gradient norm to this (0: no clipping).") var clip: Float = 1.0
    @Option(help: "Seed of the data order, sampling and random initializations.") var seed: UInt64 = 10
    @Option(help: "PromptKD: soft-prompt vectors on the teacher.") var promptLen = 7
    @Option(help: "text:\"…\", vocab or random.") var promptInit = "text:Suppose you are a student."
    @Option(help: "Longest training sequence in tokens (prompt + response + EOS); longer ones lose their tail.") var maxLength = 512
    @Option(help: "Skip examples whose prompt has more tokens than this.") var maxPromptLength = 256
    @Option(help: "Longest sampled answer during training.") var maxNewTokens = 256
    @Option(help: "Dev ROUGE-L every N steps (0: at the end).") var evalEvery = 0
    @Option(help: "Dev examples for the dev ROUGE-L.") var devExamples = 40
    @Option(help: "Longest dev answer.") var devMaxNewTokens = 64
    @Option(help: "Checkpoint every N steps (0: at the end only); each replaces the one before (RUN/checkpoints holds the newest).") var saveEvery = 0
    @Option(help: "Continue the run saved in this folder (a run folder or one checkpoint) bit-exactly.") var resume: String?
    @Option(help: "Stop (with a checkpoint) after this step; --resume continues the same run.") var stopAfter: Int?
    @Flag(help: "Start over in an --out folder that already holds a run.") var force = false
    @Option(help: "Also write the student quantized to this llama-quantize type (e.g. Q4_K_M).") var export: String?
    @Flag(help: "Also write the student as a Hugging Face folder (RUN/hf).") var hf = false

    func options() throws -> DistillationOptions {
        var o = DistillationOptions()
        guard let m = DistillationOptions.Method(rawValue: method) else {
            throw ValidationError("--method must be one of \(DistillationOptions.Method.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let shape = LearningRateSchedule.Shape(rawValue: schedule) else { throw ValidationError("--schedule must be constant, cosine or linear") }
        o.method = m
        o.steps = steps
        o.batchSize = batchSize
        o.learningRate = lr
        o.promptLearningRate = promptLr
        o.warmupSteps = warmup
        o.schedule = shape
        o.adam.weightDecay = weightDecay
        o.maxGradNorm = clip > 0 ? clip : .infinity
        o.seed = seed
        o.promptRows = promptLen
        o.promptInit = try PromptTune.parseInit(promptInit)
        o.maxLength = maxLength
        o.maxNewTokens = maxNewTokens
        o.evalEvery = evalEvery
        o.devExamples = devExamples
        o.devMaxNewTokens = devMaxNewTokens
        o.saveEvery = saveEvery
        return o
    }

    func run() throws {
        let o = try options()
        if let export, LlamaFileType.named(export) == nil {
            throw ConvertError.unknownQuantType(name: export, menu: LlamaFileType.menu.map(\.name))
        }
        try RunFolder.prepare(out, resume: resume, force: force)
        let t = try TrainingModel(path: teacher, runFolder: out, convertedName: "teacher.gguf")
        let s = try TrainingModel(path: student, runFolder: out, convertedName: "student-base.gguf")
        try Vocabulary.requireSame(t.tokenizer, t.gguf.path, s.tokenizer, s.gguf.path)
        if s.params.count > t.params.count {
            Stderr.write("warning: the student (\(s.params.count) parameters) is bigger than the teacher (\(t.params.count))\n")
        }
        let maxLength = min(o.maxLength, s.params.config.contextLength, t.params.config.contextLength - o.promptRows)
        let trainPath = try data ?? BundledData.path("train")
        // The student's template formats prompts: the teacher shares its vocabulary (checked above).
        func format(_ items: [InstructionExample]) throws -> [InstructionExample] {
            chatTemplate ? try PromptFormatting.apply(items, gguf: s.gguf, bosAdded: t.bos != nil) : items
        }
        let train = try TokenizedDataset(try format(InstructionExample.load(path: trainPath)), path: trainPath, tokenizer: s.tokenizer,
                                         eos: s.eos, maxPromptLength: maxPromptLength, maxLength: maxLength)
        let dev = try format((devData ?? (data == nil ? BundledData.path("dev") : nil)).map { try InstructionExample.load(path: $0) } ?? [])
        Stderr.write("data: \(train.examples.count) training examples from \(trainPath)"
            + (train.skippedLongPrompts > 0 ? ", \(train.skippedLongPrompts) skipped (prompt over \(maxPromptLength) tokens)" : "")
            + "; \(dev.count) dev examples\n")
        var opts = o
        opts.maxLength = maxLength
        let distiller = try Distiller(teacher: t.params, student: s.params, tokenizer: s.tokenizer, bos: t.bos, eos: s.eos,
                                      train: train, dev: dev, options: opts)
        if let resume {
            try distiller.restore(from: resume)
            Stderr.write("resumed from \(distiller.lastCheckpoint ?? resume) at step \(distiller.step)\n")
        }
        Stderr.write("distill: \(o.method.rawValue), teacher \(t.params.count) parameters, student \(s.params.count), \(o.steps) steps\n")
        var best = -Double.infinity
        let bestPath = out + "/best-student.gguf"
        var exportError: Error?
        let summary = try TrainingRun.run(distiller, folder: out, stopAfter: stopAfter) { event in
            RunFolder.print(event)
            if case let .dev(_, _, value) = event, value > best {
                best = value
                do { try GGUFExport.write(s.params, source: s.gguf, to: bestPath, overwrite: true) } catch { exportError = error }
            }
        }
        if let exportError { throw exportError }
        let studentPath = out + "/student.gguf"
        try GGUFExport.write(s.params, source: s.gguf, to: studentPath, overwrite: true)
        var extra: [(String, JSONValue)] = [("method", .string(o.method.rawValue)), ("student", .string(studentPath))]
        if best > -Double.infinity { extra += [("best_student", .string(bestPath)), ("best_dev_rougeL", .double(best))] }
        if let export, let type = LlamaFileType.named(export) {
            let path = out + "/student-\(type.name).gguf"
            try GGUFQuantizer.run(input: studentPath, output: path, options: QuantizeOptions(fileType: type), overwrite: true) { _ in }
            extra.append(("quantized", .string(path)))
        }
        if hf {
            try GGUFToHuggingFace.convert(input: studentPath, output: out + "/hf", overwrite: true)
            extra.append(("hf", .string(out + "/hf")))
        }
        if let prompt = distiller.prompt {
            try PEFTPromptAdapter.write(prompt, to: out + "/prompt-adapter", .init(baseModel: teacher, initialization: o.promptInit,
                                                                                  config: t.params.config), overwrite: true)
            extra.append(("prompt_adapter", .string(out + "/prompt-adapter")))
        }
        let report = summary.report(extra: extra)
        try AtomicFile.write(Array((JSONWriter.pretty(report) + "\n").utf8), to: out + "/report.json")
        Stdout.write(JSONWriter.pretty(report) + "\n")
    }
}
