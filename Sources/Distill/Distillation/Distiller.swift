import Foundation
import Model

/// One loop for every distillation method (DistillationOptions.Method): which sequences a step trains on
/// (the data, student samples, cached teacher samples), which divergence the student learns, and for
/// PromptKD the prompt step before it (promptkd.md §3). Teacher and student share one vocabulary; the
/// prompt lives in front of the teacher only. The teacher never trains and is read as stored (a quantized
/// GGUF stays quantized); so is the student when only its LoRA adapters train (QLoRA).
public final class Distiller: SteppedTraining {
    public let options: DistillationOptions
    /// The teacher that runs; nil when its logits come from shards (`offline`) instead.
    public let teacherModel: ModelWeights?
    public let student: ModelWeights
    /// The online teacher. Only recipes that run it reach this; init refuses the others without one.
    var teacher: ModelWeights { teacherModel! }
    /// Stored top-k teacher log-probabilities (`ckpt teacher-logits`) standing in for the teacher.
    public let offline: OfflineTeacher?
    /// The student's f32 weights behind `student` when they train; nil when it is frozen (LoRA).
    public let studentParams: ParameterSet?
    public let prompt: SoftPrompt?
    /// LoRA adapters trained on the frozen student instead of its weights (nil: every student weight trains).
    public let studentLoRA: LoRAAdapters?
    public let train: TokenizedDataset
    public let dev: [InstructionExample]
    let tokenizer: any Tokenizer
    let eos: Int
    let studentGradients: GradientSet, frozenTeacher: GradientSet
    public let studentOptimizer: AdamW
    public let promptOptimizer: AdamW?
    var studentSchedule: LearningRateSchedule, promptSchedule: LearningRateSchedule
    public internal(set) var order: DataOrder
    public internal(set) var rng: SplitMix64
    /// SeqKD: the teacher's sampled response (ending with EOS) per training example, made once.
    public internal(set) var teacherSamples: [Int: [Int]] = [:]
    /// DistiLLM's adaptive off-policy state.
    var replay = ReplayState()
    /// The text of the LM term (`--lm-data`), and where its next chunk starts.
    public let languageModeling: LanguageModelingData?
    var lmCursor = 0
    public internal(set) var lastCheckpoint: String?
    /// The sequences of the last step (StepProfiler replays them part by part).
    var lastBatch: Batch?
    let teacherWorkspace: TrainingWorkspace, studentWorkspace: TrainingWorkspace

    public var step: Int { studentOptimizer.step }
    public var totalSteps: Int { options.steps }
    public var evalEvery: Int { options.evalEvery }
    public var saveEvery: Int { options.saveEvery }
    public var modeName: String { options.method.rawValue }
    public var devMetricName: String { "dev_rougeL" }

    public convenience init(teacher: ParameterSet, student: ParameterSet, tokenizer: any Tokenizer, bos: Int?, eos: Int,
                            train: TokenizedDataset, dev: [InstructionExample], options: DistillationOptions,
                            studentLoRA: LoRAAdapters? = nil) throws(DistillError) {
        try self.init(teacher: ModelWeights(teacher), student: ModelWeights(student), studentParams: student, tokenizer: tokenizer,
                      bos: bos, eos: eos, train: train, dev: dev, options: options, studentLoRA: studentLoRA)
    }

    /// `studentParams`: what `student` views when its weights train; nil trains only `studentLoRA`.
    /// `teacher` nil: `offline` (checked against the run by the caller) gives the teacher's side; only
    /// methods that never run the teacher can use it (kd, seqkd, distillm, sft), on the shards' sequences.
    public init(teacher: ModelWeights?, student: ModelWeights, studentParams: ParameterSet?, tokenizer: any Tokenizer, bos: Int?, eos: Int,
                train: TokenizedDataset, dev: [InstructionExample], options: DistillationOptions,
                studentLoRA: LoRAAdapters? = nil, offline: OfflineTeacher? = nil,
                languageModeling: LanguageModelingData? = nil) throws(DistillError) {
        let teacherVocab = teacher?.config.vocabSize ?? offline?.manifest.vocabSize
        guard let teacherVocab else { throw .invalidOption(name: "--teacher", reason: "a teacher model or --teacher-logits is needed") }
        guard teacherVocab == student.config.vocabSize else {
            throw .invalidOption(name: "--student", reason: "vocabulary of \(student.config.vocabSize), the teacher has \(teacherVocab)")
        }
        if let offline {
            guard Self.offlineMethods.contains(options.method) else {
                throw .invalidOption(name: "--teacher-logits", reason: "\(options.method.rawValue) needs the teacher on the student's own samples; "
                    + "stored logits serve \(Self.offlineMethods.map(\.rawValue).joined(separator: ", "))")
            }
            guard offline.manifest.examples == train.examples.count else {
                throw .teacherLogits(path: offline.folder, reason: "holds \(offline.manifest.examples) examples, the data has \(train.examples.count)")
            }
        }
        guard options.steps > 0, options.batchSize > 0, options.accumulation > 0 else {
            throw .invalidOption(name: "--steps/--batch-size/--grad-accum", reason: "must be positive")
        }
        if let studentLoRA, studentLoRA.config != student.config {
            throw .invalidOption(name: "--lora-rank", reason: "the adapters were made for another student")
        }
        self.studentLoRA = studentLoRA
        var options = options
        options.lora = studentLoRA?.settings
        self.options = options
        teacherWorkspace = TrainingWorkspace(checkpointing: options.gradientCheckpointing)
        studentWorkspace = TrainingWorkspace(checkpointing: options.gradientCheckpointing)
        teacherModel = teacher
        self.offline = offline
        self.languageModeling = options.lmCoefficient > 0 ? languageModeling : nil
        self.student = student
        self.studentParams = studentParams
        self.train = train
        self.dev = dev
        self.tokenizer = tokenizer
        self.eos = eos
        rng = SplitMix64(seed: options.seed)
        let regions: [ParameterRegion]
        if let studentLoRA {
            studentGradients = GradientSet()
            regions = ParameterRegion.regions(studentLoRA)
        } else if let studentParams {
            studentGradients = GradientSet(studentParams, trainable: .all)
            regions = ParameterRegion.regions(studentParams, studentGradients)
        } else {
            throw .invalidOption(name: "--lora-rank", reason: "a frozen student (as stored) trains only LoRA adapters")
        }
        frozenTeacher = GradientSet()
        studentOptimizer = AdamW(regions: regions, options: options.adam)
        if options.method.recipe.teacher == .promptedTeacher {
            let p = try SoftPrompt.make(rows: options.promptRows, weights: teacher!, initialization: options.promptInit,
                                        tokenizer: tokenizer, bos: bos, rng: &rng)
            prompt = p
            promptOptimizer = AdamW(regions: [p.region(decay: true)], options: options.adam)
        } else {
            prompt = nil
            promptOptimizer = nil
        }
        studentSchedule = LearningRateSchedule(shape: options.schedule, base: options.learningRate,
                                               warmupSteps: options.warmupSteps, totalSteps: options.steps)
        promptSchedule = LearningRateSchedule(shape: options.schedule, base: options.promptLearningRate,
                                              warmupSteps: options.warmupSteps, totalSteps: options.steps)
        order = DataOrder(count: train.examples.count, seed: options.seed)
        if let offline, offline.manifest.responses == .sampled {
            for (i, entry) in offline.entries { teacherSamples[i] = Array(entry.tokens[entry.promptLength...]) }
        }
    }

    /// The methods stored teacher logits can train (their sequences do not depend on the student).
    public static let offlineMethods: [DistillationOptions.Method] = [.kd, .seqkd, .distillm, .sft]

    /// Where a step's sequences come from: the recipe's, or with stored logits the shards' own (the data's
    /// responses, or the teacher's sampled ones).
    var sequenceSource: DistillationOptions.Method.Recipe.Sequences {
        guard let offline else { return options.method.recipe.sequences }
        return offline.manifest.responses == .dataset ? .data : .cachedTeacherSamples
    }

    /// Sequences of one step and which tokens are targets (response + EOS).
    struct Batch {
        var sequences: [[Int]]
        var isTarget: [[Bool]]
        /// The training example of each sequence (empty for replayed ones).
        var examples: [Int] = []
        var targetCount: Int { isTarget.reduce(0) { $0 + $1.filter { $0 }.count } }
    }

    /// One optimizer step: `accumulation` micro-batches, each sampled, scored and back-propagated in turn,
    /// their gradients summed (each micro-loss divided by the count, as DeepSpeed's GAS does), then one
    /// clipped AdamW update. PromptKD's prompt updates on the last micro-batch, before its student pass, so
    /// the earlier micro-batches learn against the prompt as it was (the reference code's order).
    public func trainStep() throws(DistillError) -> Trainer.StepReport {
        let start = Date()
        var timer = PhaseTimer()
        let lr = studentSchedule.rate(step: step + 1)
        let recipe = options.method.recipe, K = options.accumulation
        if let studentParams { options.fault.inject(.weights, step: step + 1) { $0.corrupt(studentParams) } }
        studentGradients.zero()
        studentLoRA?.zeroGradients()
        prompt?.gradient.update(repeating: 0)
        var losses = [Double](repeating: 0, count: recipe.terms.count)
        var prompt = PromptStepTotals()
        var tokens = 0, targets = 0, lmLoss = 0.0
        for micro in 0..<K {
            let batch = try sequences(for: order.next(options.batchSize), timer: &timer)
            lastBatch = batch
            let part = try microStep(batch, last: micro == K - 1, timer: &timer, prompt: &prompt)
            for i in losses.indices { losses[i] += part[i] / Double(K) }
            if languageModeling != nil { lmLoss += try languageModelingStep(timer: &timer) / Double(K) }
            tokens += batch.sequences.reduce(0) { $0 + $1.count }
            targets += batch.targetCount
        }
        timer.start()
        options.fault.inject(.gradients, step: step + 1) { $0.corrupt(studentOptimizer.regions) }
        let (norm, _) = GradientClipping.clip(studentOptimizer.regions, maxNorm: options.maxGradNorm)
        guard norm.isFinite else { throw .diverged(step: step + 1, quantity: "the student gradient norm", value: norm, lastCheckpoint: lastCheckpoint) }
        studentOptimizer.update(lr: lr)
        timer.stop("time_student")
        var extra: [(String, Double)] = []
        if self.prompt != nil {
            extra += [("loss_prompt_student", prompt.student / Double(K)), ("loss_prompt_teacher", prompt.teacher / Double(K)),
                      ("teacher_weight", prompt.weight), ("prompt_grad_norm", Double(prompt.norm))]
        }
        if losses.count > 1 { extra += zip(recipe.terms, losses).map { ($0.metricName, $1) } }
        if languageModeling != nil { extra.append(("loss_lm", lmLoss)) }
        extra += timer.phases
        extra.append(("response_tokens", Double(targets) / Double(options.batchSize * K)))
        let loss = zip(recipe.terms, losses).reduce(0) { $0 + $1.0.weight * $1.1 } + options.lmCoefficient * lmLoss
        return Trainer.StepReport(step: step, loss: loss, gradNorm: norm, learningRate: lr, tokens: tokens,
                                  seconds: Date().timeIntervalSince(start), extra: extra)
    }

    /// PromptKD's prompt-step metrics summed over a step's micro-batches.
    struct PromptStepTotals {
        var student = 0.0, teacher = 0.0, weight = 0.0
        var norm: Float = 0
    }

    /// One micro-batch: the teacher side (PromptKD's prompt step first), then the student's loss and backward,
    /// its gradients added to the step's. Returns each loss term's masked token mean over the micro-batch.
    func microStep(_ batch: Batch, last: Bool, timer: inout PhaseTimer, prompt totals: inout PromptStepTotals) throws(DistillError) -> [Double] {
        var teacherLogits: LogitsTable!
        var promptPass: TrainingPass?
        var studentPass: TrainingPass?
        let recipe = options.method.recipe
        switch recipe.teacher {
        case .none:
            break
        case .promptedTeacher:
            // The student's own forward first: its logits are p_S of the prompt loss (the student does not
            // change before its update), and its activations serve the student's backward after the prompt step.
            timer.start()
            let forward = try makePass(student, batch.sequences, prompted: false, workspace: studentWorkspace, training: true)
            forward.forward()
            timer.stop("time_student")
            studentPass = forward
            let pass = try promptStep(batch, studentPass: forward, update: last, timer: &timer, totals: &totals)
            timer.start()
            pass.forward(prompt: UnsafePointer(prompt!.values.baseAddress!))  // q' with the prompt as it now is
            timer.stop("time_teacher")
            promptPass = pass
        case .teacher where offline == nil:
            timer.start()
            teacherLogits = try logits(teacher, batch.sequences)
            timer.stop("time_teacher")
        case .teacher:
            break  // rebuilt from the shards against the student's logits, after its forward
        }
        let V = student.config.vocabSize
        var offlineRows: OfflineTeacherRows?
        if let offline, recipe.teacher == .teacher {
            timer.start()
            let forward = try makePass(student, batch.sequences, prompted: false, workspace: studentWorkspace, training: true)
            forward.forward()
            timer.stop("time_student")
            timer.start()
            offlineRows = offline.rows(sequences: batch.sequences, examples: batch.examples, isTarget: batch.isTarget, vocab: V) { s, t in
                UnsafePointer(forward.logits + forward.row(sequence: s, token: t) * V)
            }
            timer.stop("time_teacher")
            studentPass = forward
        }
        // The teacher's row at token t of sequence s, from whichever teacher the recipe names.
        let teacherRow: (Int, Int) -> UnsafePointer<Float> = { s, t in
            if let pass = promptPass { return UnsafePointer(pass.logits + pass.row(sequence: s, token: t) * V) }
            if let offlineRows { return UnsafePointer(offlineRows.row(s, t)) }
            return teacherLogits.row(s, t)
        }
        var advantages: [[Double]] = []  // MiniLLM's, made once the student's logits exist
        let studentTargets: (Int, Int) throws(DistillError) -> [(Divergence, Divergence.Target, Double)] = { s, t in
            recipe.terms.map { term in
                switch term.against {
                case .nextToken: (term.divergence, .token(batch.sequences[s][t + 1]), term.weight)
                case .teacher: (term.divergence, .logits(teacherRow(s, t)), term.weight)
                case .advantage: (term.divergence, .token(batch.sequences[s][t + 1]), term.weight * advantages[s][t])
                }
            }
        }
        timer.start()
        defer { timer.stop("time_student") }
        let pass: TrainingPass
        if let studentPass {
            pass = studentPass
        } else {
            pass = try makePass(student, batch.sequences, prompted: false, workspace: studentWorkspace, training: true)
            pass.forward()
        }
        options.fault.inject(.activations, step: step + 1) { $0.corrupt(logits: pass.logits, rows: pass.rowCount, vocab: V) }
        if recipe.terms.contains(where: { $0.against == .advantage }) {
            advantages = Self.advantages(batch, vocab: V, studentRow: { s, t in UnsafePointer(pass.logits + pass.row(sequence: s, token: t) * V) },
                                         teacherRow: teacherRow)
        }
        let losses = try Self.applyLoss(pass, batch, vocab: V, share: options.accumulation, terms: studentTargets)
        // Every term of the loss, not only the first (a NaN teacher term leaves the cross-entropy finite).
        if let bad = losses.indices.first(where: { !losses[$0].isFinite }) {
            throw .diverged(step: step + 1, quantity: losses.count > 1 ? "the student loss (term \(bad + 1) of \(losses.count))" : "the student loss",
                            value: Float(losses[bad]), lastCheckpoint: lastCheckpoint)
        }
        pass.backward(gradients: studentGradients)
        return losses
    }

    /// PromptKD's prompt update: q = prompted teacher, loss KL(q‖p_S) + (1 − s/S)·KL(q‖p_T) on the targets,
    /// back through the frozen teacher to the prompt rows only; the gradient adds up over the step's
    /// micro-batches and the prompt moves on the last (`update`). Returns the prompted pass for the student step.
    /// `studentPass`: the student's forward over the same sequences (its logits are p_S, read only).
    func promptStep(_ batch: Batch, studentPass: TrainingPass, update: Bool, timer: inout PhaseTimer,
                    totals: inout PromptStepTotals) throws(DistillError) -> TrainingPass {
        let prompt = prompt!, V = teacher.config.vocabSize
        timer.start()
        let pass = try makePass(teacher, batch.sequences, prompted: true, workspace: teacherWorkspace)
        pass.forward(prompt: UnsafePointer(prompt.values.baseAddress!))
        timer.stop("time_prompt")
        let w = 1 - Double(step + 1) / Double(options.steps)
        // p_T one sequence at a time: it is the only logits table held besides the prompted teacher's (which
        // become their gradient in place) and the student's.
        var losses = [0.0, 0.0]
        for s in batch.sequences.indices {
            timer.start()
            let pT = try logits(teacher, [batch.sequences[s]])
            timer.stop("time_teacher")
            timer.start()
            let part = try Self.applyLoss(pass, batch, vocab: V, only: s, share: options.accumulation) { _, t in
                [(.reverseKL, .logits(studentPass.logits + studentPass.row(sequence: s, token: t) * V), 1),
                 (.reverseKL, .logits(pT.row(0, t)), w)]
            }
            for (i, v) in part.enumerated() where i < losses.count { losses[i] += v }
            timer.stop("time_prompt")
        }
        timer.start()
        defer { timer.stop("time_prompt") }
        pass.backward(gradients: frozenTeacher, promptGradient: prompt.gradient.baseAddress)
        let total = losses[0] + w * losses[1]
        guard losses.allSatisfy(\.isFinite), total.isFinite else { throw .diverged(step: step + 1, quantity: "the prompt loss", value: Float(total), lastCheckpoint: lastCheckpoint) }
        totals.student += losses[0]
        totals.teacher += losses[1]
        totals.weight = w
        guard update else { return pass }
        let (norm, _) = GradientClipping.clip(promptOptimizer!.regions, maxNorm: options.maxGradNorm)
        guard norm.isFinite else { throw .diverged(step: step + 1, quantity: "the prompt gradient norm", value: norm, lastCheckpoint: lastCheckpoint) }
        promptOptimizer!.update(lr: promptSchedule.rate(step: step + 1))
        totals.norm = norm
        return pass
    }

    /// Writes scale·∂/∂z of Σ weight·D into every target row of the pass's logits (zero elsewhere) and
    /// returns each term's masked token mean. `terms(s, t)`: the terms at token t of sequence s (predicting t+1).
    /// `only`: one sequence (the others' rows untouched); the mean is still over the whole batch's targets.
    /// `share`: the micro-batches of the step, which divide the gradient (not the returned means).
    /// Positions are independent, so they are split across threads; the sums are added in position order.
    static func applyLoss(_ pass: TrainingPass, _ batch: Batch, vocab V: Int, only: Int? = nil, share: Int = 1,
                          terms: (Int, Int) throws(DistillError) -> [(Divergence, Divergence.Target, Double)]) throws(DistillError) -> [Double] {
        let count = batch.targetCount
        var work: [(row: UnsafeMutablePointer<Float>, terms: [(Divergence, Divergence.Target, Double)])] = []
        // Prompt rows and every row that predicts nothing get a zero gradient.
        for s in only.map({ [$0] }) ?? Array(batch.sequences.indices) {
            let firstRow = pass.firstRow[s]
            let tokenRow = pass.row(sequence: s, token: 0)
            (pass.logits + firstRow * V).update(repeating: 0, count: (tokenRow - firstRow) * V)
            for t in 0..<batch.sequences[s].count {
                let row = pass.logits + pass.row(sequence: s, token: t) * V
                guard t + 1 < batch.sequences[s].count, batch.isTarget[s][t + 1] else {
                    row.update(repeating: 0, count: V)
                    continue
                }
                work.append((row, try terms(s, t)))
            }
        }
        let slots = UnsafeMutablePointer<[Double]>.allocate(capacity: max(1, work.count))
        slots.initialize(repeating: [], count: work.count)
        defer {
            slots.deinitialize(count: work.count)
            slots.deallocate()
        }
        // Each thread writes only its own positions' rows and slots.
        let shared = SendablePointer((work: work, losses: slots))
        let scale = 1 / Float(count * share)
        Parallel.forChunks(work.count, minChunk: 1) { range in
            for i in range {
                let (row, terms) = shared.pointer.work[i]
                shared.pointer.losses[i] = Divergence.position(trained: row, terms: terms, vocab: V, gradient: row, scale: scale)
            }
        }
        var sums: [Double] = []
        for position in UnsafeBufferPointer(start: slots, count: work.count) {
            if sums.isEmpty { sums = position } else { for i in sums.indices { sums[i] += position[i] } }
        }
        return sums.map { $0 / Double(max(1, count)) }
    }

    /// A training pass of the teacher or the student (with its LoRA adapters; `training`: the step's own
    /// pass, which draws LoRA dropout masks from the run's RNG).
    func makePass(_ model: ModelWeights, _ sequences: [[Int]], prompted: Bool, workspace: TrainingWorkspace,
                  training: Bool = false) throws(DistillError) -> TrainingPass {
        let isStudent = model === student, lora = isStudent ? studentLoRA : nil
        let seed = training && (lora?.settings.dropout ?? 0) > 0 ? rng.next() : nil
        do {
            return try TrainingPass(weights: model, params: isStudent ? studentParams : nil, sequences: sequences.map { .init(tokens: $0, prompted: prompted) },
                                    promptRows: prompted ? options.promptRows : 0, workspace: workspace, lora: lora, loraDropoutSeed: seed)
        } catch { throw .model(error) }
    }

    /// The inference model of the teacher or the student (with its LoRA adapters, unmerged).
    func inference(_ model: ModelWeights) -> Transformer {
        Transformer(weights: model, lora: model === student ? studentLoRA : nil)
    }

    /// Logits of a frozen forward (inference path, no activations kept).
    func logits(_ model: ModelWeights, _ sequences: [[Int]]) throws(DistillError) -> LogitsTable {
        do { return LogitsTable(try inference(model).logits(batch: sequences), vocab: model.config.vocabSize) } catch { throw .model(error) }
    }

    public func devMetric() throws(DistillError) -> Double? {
        guard !dev.isEmpty, options.devExamples > 0 else { return nil }  // --dev-examples 0: no dev evaluation
        // DistiLLM's replay threshold moves on the evaluations during training; the starting model's is only logged.
        if options.method.recipe.sequences == .adaptiveReplay, step > 0 { updateThreshold(devLoss: try devLoss()) }
        var o = InstructionEvaluation.Options()
        o.seeds = [options.seed]
        o.noRepeatNgramSize = 0  // the dev evaluation of the reference code samples without the n-gram block
        o.maxNewTokens = options.devMaxNewTokens
        o.batchSize = options.batchSize
        return try InstructionEvaluation.run(inference(student), tokenizer: tokenizer, stop: [eos],
                                             examples: Array(dev.prefix(options.devExamples)), options: o).rougeL.mean
    }
}

/// Wall time per phase of a step, for the metrics log.
struct PhaseTimer {
    private(set) var phases: [(String, Double)] = []
    private var started = Date()
    mutating func start() { started = Date() }
    mutating func stop(_ name: String) {
        let t = Date().timeIntervalSince(started)
        if let i = phases.firstIndex(where: { $0.0 == name }) { phases[i].1 += t } else { phases.append((name, t)) }
    }
}

/// The logits of a batch in one owned buffer, row by (sequence, token): the fixed side of a loss.
final class LogitsTable {
    let storage: UnsafeMutableBufferPointer<Float>
    let firstRow: [Int], vocab: Int

    init(_ perSequence: [[Float]], vocab: Int) {
        self.vocab = vocab
        let rows = perSequence.map { $0.count / vocab }
        firstRow = rows.indices.map { rows[..<$0].reduce(0, +) }
        storage = .allocate(capacity: max(1, rows.reduce(0, +) * vocab))
        for (s, logits) in perSequence.enumerated() {
            guard !logits.isEmpty else { continue }
            logits.withUnsafeBufferPointer { (storage.baseAddress! + firstRow[s] * vocab).update(from: $0.baseAddress!, count: $0.count) }
        }
    }

    deinit { storage.deallocate() }

    func row(_ s: Int, _ t: Int) -> UnsafePointer<Float> { UnsafePointer(storage.baseAddress! + (firstRow[s] + t) * vocab) }
}
