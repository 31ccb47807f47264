import ArgumentParser
import Convert
import Distill
import Formats
import Foundation
import Model

struct DistillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Distill a teacher into a student: PromptKD or a baseline (kd, seqkd, rkl, gkd, imitkd, minillm, distillm, sft).",
        discussion: """
            promptkd: every step the student samples answers; the teacher's soft prompt learns \
            KL(q‖student) + (1 − s/S)·KL(q‖teacher) through the frozen teacher, then the student learns \
            KL(student‖q) against the updated prompt. Both GGUFs must share one vocabulary (ckpt student init makes \
            such a student). No dropout. Writes RUN/metrics.jsonl (losses, time per phase), RUN/loss.svg, \
            RUN/checkpoints/ (--resume RUN continues bit-exactly), RUN/student.gguf (F32), RUN/best-student.gguf \
            (best dev ROUGE-L), RUN/student-TYPE.gguf with --export TYPE, RUN/hf with --hf, RUN/prompt-adapter (PEFT). \
            With --lora-rank the student's weights stay frozen and LoRA adapters learn instead: RUN/adapter \
            (PEFT LoRA) and RUN/best-adapter replace RUN/student.gguf and RUN/best-student.gguf, which are written \
            merged only for --export or --hf.
            """)

    @Option(help: "Teacher: a GGUF (any type; read as stored) or a Hugging Face folder. With --teacher-logits optional (checked against the shards when given).") var teacher: String?
    @Option(help: "A folder from `ckpt teacher-logits` (or scripts/teacher_logits_hf.py): the teacher's stored top-k log-probabilities replace running it (kd, seqkd, distillm, sft; the sequences are the shards').")
    var teacherLogits: String?
    @Option(help: "Student: a GGUF or a Hugging Face folder with the teacher's vocabulary.") var student: String
    @OptionGroup var loraOptions: LoRAArguments
    @Option(help: "One of: \(DistillationOptions.Method.allCases.map(\.rawValue).joined(separator: ", ")).") var method = "promptkd"
    @OptionGroup var runFolder: RunArguments
    @OptionGroup var optimizer: OptimizerArguments
    @Option(help: "Prompt learning rate (promptkd).") var promptLr = 5e-5
    @Option(help: "PromptKD: soft-prompt vectors on the teacher.") var promptLen = 7
    @Option(help: "PromptKD: text:\"…\" (embedding rows of the text's tokens), vocab or random.") var promptInit = "text:Suppose you are a student."
    @Option(help: "Longest sampled answer during training.") var maxNewTokens = 256
    @Option(help: "Dev examples for the dev ROUGE-L.") var devExamples = 40
    @Option(help: "Longest dev answer.") var devMaxNewTokens = 64
    @Option(help: "Plain text for the pre-training (LM) term of DistiLLM, ImitKD and MiniLLM: the student also learns next-token cross-entropy on --batch-size chunks of it per micro-batch (any method may use it).")
    var lmData: String?
    @Option(help: "Weight of the LM term (with --lm-data).") var lmCoef = 1.0
    @Option(help: "Tokens per LM chunk (with --lm-data).") var lmLength = 256
    @Flag(help: "The result (RUN/student.gguf or RUN/adapter, and --export/--hf) is the student with the best dev ROUGE-L, as the PromptKD protocol selects, instead of the last; the last stays in RUN/checkpoints.")
    var loadBest = false
    @OptionGroup var exports: ExportArguments

    /// --lm-data tokenized (no special tokens parsed, no BOS).
    func languageModelingText(_ tokenizer: any Tokenizer) throws -> LanguageModelingData? {
        guard let path = lmData else { return nil }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ToolError(message: "--lm-data: cannot read '\(path)' as UTF-8 text", hint: nil)
        }
        return try LanguageModelingData(tokens: tokenizer.encode(text, special: false), path: path)
    }

    /// `trainCount` resolves --epochs.
    func options(trainCount: Int) throws -> DistillationOptions {
        var o = DistillationOptions()
        guard let m = DistillationOptions.Method(rawValue: method) else {
            throw ValidationError("--method must be one of \(DistillationOptions.Method.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let r = try optimizer.resolved(defaultLR: o.learningRate, defaultSchedule: o.schedule, trainCount: trainCount)
        o.method = m
        o.steps = r.steps
        o.batchSize = optimizer.batchSize
        o.accumulation = optimizer.gradAccum
        o.learningRate = r.learningRate
        o.promptLearningRate = promptLr
        o.warmupSteps = optimizer.warmup
        o.schedule = r.schedule
        o.adam.weightDecay = optimizer.weightDecay
        o.maxGradNorm = r.maxGradNorm
        o.fault = r.fault
        o.seed = optimizer.seed
        o.gradientCheckpointing = optimizer.gradCheckpoint
        o.promptRows = promptLen
        o.promptInit = try PromptTune.parseInit(promptInit)
        o.maxLength = runFolder.maxLength
        o.maxNewTokens = maxNewTokens
        o.evalEvery = runFolder.evalEvery
        o.devExamples = devExamples
        o.devMaxNewTokens = devMaxNewTokens
        o.saveEvery = runFolder.saveEvery
        if lmData != nil {
            guard lmCoef > 0, lmLength > 0 else { throw ValidationError("--lm-coef and --lm-length must be positive") }
            o.lmCoefficient = lmCoef
            o.lmLength = lmLength
        }
        return o
    }

    func run() throws {
        _ = try options(trainCount: 1)  // option errors before any file is read
        try exports.checkType()
        let out = runFolder.out
        try runFolder.prepareFolder()
        // The teacher never trains: read as stored (a quantized teacher stays quantized). So is a LoRA student (QLoRA).
        guard teacher != nil || teacherLogits != nil else { throw ValidationError("give --teacher, --teacher-logits or both") }
        // The teacher never trains: read as stored (a quantized teacher stays quantized). So is a LoRA student (QLoRA).
        let t = try teacher.map { try TrainingModel(path: $0, runFolder: out, convertedName: "teacher.gguf", frozen: true) }
        let s = try TrainingModel(path: student, runFolder: out, convertedName: "student-base.gguf", frozen: loraOptions.enabled)
        var loraRNG = LoRAArguments.initializationRNG(seed: optimizer.seed)
        let lora = try loraOptions.adapters(for: s.config, rng: &loraRNG)
        if let t {
            try Vocabulary.requireSame(t.tokenizer, t.gguf.path, s.tokenizer, s.gguf.path)
            if s.parameterCount > t.parameterCount {
                Stderr.write("warning: the student (\(s.parameterCount) parameters) is bigger than the teacher (\(t.parameterCount))\n")
            }
        }
        // PromptKD's soft prompt takes room in the teacher's context; the other methods' teacher sees the sequence alone.
        let promptRoom = DistillationOptions.Method(rawValue: method)?.recipe.teacher == .promptedTeacher ? promptLen : 0
        let maxLength = min(runFolder.maxLength, s.config.contextLength, t.map { $0.config.contextLength - promptRoom } ?? Int.max)
        // The student's template formats prompts: the teacher shares its vocabulary (checked above).
        let bos = t?.bos ?? s.bos
        let train = try runFolder.trainingSet(template: s.gguf, bosAdded: bos != nil, tokenizer: s.tokenizer, eos: s.eos,
                                              maxLength: maxLength)
        let dev = try runFolder.devPath.map { try runFolder.examples($0, template: s.gguf, bosAdded: bos != nil) } ?? []
        try runFolder.reportData(train, maxLength: maxLength, devCount: dev.count)
        if loadBest || runFolder.evalEvery > 0, dev.isEmpty || devExamples <= 0 {
            throw ToolError(message: "\(loadBest ? "--load-best" : "--eval-every \(runFolder.evalEvery)"): no dev evaluation runs (give --dev-data, or keep the bundled dev split, and --dev-examples > 0)", hint: nil)
        }
        try exports.checkHeldOut(devCount: dev.count)
        let offline = try teacherLogits.map { folder in
            let o = try OfflineTeacher(folder: folder)
            try o.check(tokenizerTokens: s.tokenizer.tokens, vocabSize: s.config.vocabSize, dataPath: try runFolder.trainPath, train: train,
                        maxLength: maxLength, maxPromptLength: runFolder.maxPromptLength, chatTemplate: runFolder.chatTemplate,
                        teacherSHA256: try teacher.map { try TeacherLogitHashes.teacher(path: $0) })
            Stderr.write("teacher logits: \(o.manifest.examples) examples, top \(o.manifest.topK), \(o.manifest.responses.rawValue) responses, from \(folder) (\(o.manifest.producer))\n")
            return o
        }
        var o = try options(trainCount: train.examples.count)
        o.maxLength = maxLength
        let distiller = try Distiller(teacher: offline == nil ? t?.weights : nil, student: s.weights, studentParams: s.frozen ? nil : s.params,
                                      tokenizer: s.tokenizer, bos: bos, eos: s.eos, train: train, dev: dev, options: o, studentLoRA: lora,
                                      offline: offline, languageModeling: try languageModelingText(s.tokenizer))
        if let lora { Stderr.write(LoRAArguments.describe(lora, modelParameters: s.parameterCount) + "\n") }
        if let resume = runFolder.resume {
            try distiller.restore(from: resume)
            Stderr.write("resumed from \(distiller.lastCheckpoint ?? resume) at step \(distiller.step)\n")
        }
        let mb = { (m: TrainingModel) in String(format: "%.0f MB", Double(m.weightBytes) / 1e6) }
        let teacherText = t.map { "teacher \($0.parameterCount) parameters (\(mb($0)) as read)" } ?? "teacher from stored logits"
        Stderr.write("distill: \(o.method.rawValue), \(teacherText), student \(s.parameterCount) "
            + "(\(mb(s))\(s.frozen ? " as stored, frozen" : "")), \(o.steps) steps\n")
        // A resumed run keeps the best dev value its log already holds (the best file on disk is that one's).
        var best = runFolder.resume == nil ? -Double.infinity : RunFolder.bestLogged("dev_rougeL", in: out, upToStep: distiller.step)
        let bestPath = out + (lora == nil ? "/best-student.gguf" : "/best-adapter")
        var exportError: Error?
        let summary = try TrainingRun.run(distiller, folder: out, stopAfter: runFolder.stopAfter) { event in
            RunFolder.print(event)
            if case let .dev(_, _, value) = event, value > best {
                best = value
                do {
                    if let lora {
                        try LoRAAdapterFiles.write(lora, peftFolder: bestPath, gguf: out + "/best-" + GGUFLoRAAdapter.fileName, baseModel: student)
                    } else {
                        try GGUFExport.write(s.params, source: s.gguf, to: bestPath, overwrite: true)
                    }
                } catch { exportError = error }
            }
        }
        if let exportError { throw exportError }
        if loadBest {
            guard best > -Double.infinity else { throw ToolError(message: "--load-best: no dev evaluation ran", hint: nil) }
            // Same layout as what trained (written from it), so the values copy across whole.
            if let lora {
                let bestAdapter = try LoRAAdapterFiles.read(bestPath, config: s.config)
                guard bestAdapter.keys == lora.keys, bestAdapter.count == lora.count else {
                    throw ToolError(message: "--load-best: '\(bestPath)' does not match the adapters of this run", hint: nil)
                }
                _ = lora.values.update(fromContentsOf: bestAdapter.values)
            } else {
                let bestStudent = try ParameterSet.load(gguf: GGUFFile(file: MappedFile(path: bestPath)))
                guard bestStudent.count == s.params.count else {
                    throw ToolError(message: "--load-best: '\(bestPath)' does not match the student of this run", hint: nil)
                }
                _ = s.params.storage.update(fromContentsOf: bestStudent.storage)
            }
            Stderr.write("load-best: the result is the student of the best dev ROUGE-L (\(String(format: "%.2f", best)))\n")
        }
        let studentPath = out + "/student.gguf"
        var extra: [(String, JSONValue)] = [("method", .string(o.method.rawValue))]
        // With LoRA the student's weights are written (merged) only when an export asks for them.
        let writeStudent = lora == nil || exports.requested
        if let lora {
            let gguf = try LoRAAdapterFiles.write(lora, peftFolder: out + "/adapter", gguf: out + "/" + GGUFLoRAAdapter.fileName, baseModel: student)
            extra += [("adapter", .string(out + "/adapter")), ("lora_adapter_gguf", .string(gguf))]
            if writeStudent { lora.merge(into: s.params) }
        }
        if writeStudent {
            try GGUFExport.write(s.params, source: s.gguf, to: studentPath, overwrite: true)
            extra.append(("student", .string(studentPath)))
        }
        if best > -Double.infinity { extra += [(lora == nil ? "best_student" : "best_adapter", .string(bestPath)), ("best_dev_rougeL", .double(best))] }
        if writeStudent {
            // The dev examples tokenized as the training data, for --tune-quant-eval-every.
            let heldOut = exports.tuneQuantEvalEvery > 0 && !dev.isEmpty
                ? try TokenizedDataset(dev, path: try runFolder.devPath ?? "dev", tokenizer: s.tokenizer, eos: s.eos,
                                       maxPromptLength: runFolder.maxPromptLength, maxLength: maxLength).examples.map(\.tokens)
                : []
            extra += try exports.write(from: studentPath, stem: "student", folder: out, calibration: train.examples.map(\.tokens),
                                       heldOut: heldOut, teacher: t?.gguf.path)
        }
        if let prompt = distiller.prompt {
            try PEFTPromptAdapter.write(prompt, to: out + "/prompt-adapter", .init(baseModel: teacher ?? "", initialization: o.promptInit,
                                                                                  config: distiller.teacherModel!.config), overwrite: true)
            extra.append(("prompt_adapter", .string(out + "/prompt-adapter")))
        }
        try RunFolder.writeReport(summary.report(extra: extra), to: out)
    }
}
