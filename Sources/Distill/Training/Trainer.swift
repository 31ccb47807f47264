import Foundation
import Model

/// Supervised training of a model or of a soft prompt on tokenized examples: the step (micro-batches,
/// masked-mean cross-entropy, clipping, AdamW), the dev loss, and the state a checkpoint saves.
/// Gradient accumulation averages the micro-batches' masked means (the HF Trainer convention).
public final class Trainer: SteppedTraining {
    public let options: TrainingOptions
    /// The weights every pass reads.
    public let weights: ModelWeights
    /// The trainable weights behind `weights` (full fine-tuning); nil for a frozen base in its stored type
    /// (prompt or LoRA training on a quantized GGUF: QLoRA).
    public let params: ParameterSet?
    /// The trained prompt in prompt mode; nil in full fine-tuning.
    public let prompt: SoftPrompt?
    /// The trained LoRA adapters (their settings become options.lora); the weights stay frozen.
    public let lora: LoRAAdapters?
    public let train: [TokenizedExample]
    public let dev: [TokenizedExample]
    public let gradients: GradientSet
    public let optimizer: AdamW
    public let schedule: LearningRateSchedule
    public internal(set) var order: DataOrder
    /// Draws of the run (none in plain SFT; kept so every trainer checkpoints the same state).
    public internal(set) var rng: SplitMix64
    /// Where the last checkpoint went (named when a run diverges).
    public internal(set) var lastCheckpoint: String?

    public var step: Int { optimizer.step }
    /// Activation memory shared by every pass of the run (one pass at a time).
    public let workspace: TrainingWorkspace

    public struct StepReport: Sendable {
        public var step: Int
        public var loss: Double
        public var gradNorm: Float
        public var learningRate: Double
        public var tokens: Int
        public var seconds: Double
        /// More per-step numbers for the log (other losses, time per phase).
        public var extra: [(String, Double)] = []
    }

    public convenience init(params: ParameterSet, prompt: SoftPrompt?, lora: LoRAAdapters? = nil, train: [TokenizedExample],
                            dev: [TokenizedExample], options: TrainingOptions, rng: SplitMix64) throws(DistillError) {
        try self.init(weights: ModelWeights(params), params: params, prompt: prompt, lora: lora, train: train, dev: dev,
                      options: options, rng: rng)
    }

    /// `params`: what `weights` views when the weights can train; nil trains only the prompt or the adapters.
    public init(weights: ModelWeights, params: ParameterSet?, prompt: SoftPrompt?, lora: LoRAAdapters? = nil, train: [TokenizedExample],
                dev: [TokenizedExample], options: TrainingOptions, rng: SplitMix64) throws(DistillError) {
        guard !train.isEmpty else { throw .emptyData(path: "training data", reason: "no example") }
        guard options.batchSize > 0, options.accumulation > 0, options.steps > 0 else {
            throw .invalidOption(name: "--batch-size/--grad-accum/--steps", reason: "must be positive")
        }
        if case .prompt = options.mode, prompt == nil {
            throw .invalidOption(name: "--prompt-len", reason: "prompt mode needs a prompt")
        }
        if let lora, lora.config != weights.config {
            throw .invalidOption(name: "--lora-rank", reason: "the adapters were made for another model")
        }
        var options = options
        options.lora = lora?.settings
        self.options = options
        workspace = TrainingWorkspace(checkpointing: options.gradientCheckpointing)
        self.weights = weights
        self.params = params
        self.prompt = prompt
        self.lora = lora
        self.train = train
        self.dev = dev
        self.rng = rng
        var regions: [ParameterRegion]
        switch options.mode {
        case .full where lora == nil:
            guard let params else {
                throw .invalidOption(name: "--lora-rank", reason: "a frozen base (as stored) trains only LoRA adapters or a prompt")
            }
            gradients = GradientSet(params, trainable: .all)
            regions = ParameterRegion.regions(params, gradients)
        case .full:
            gradients = GradientSet()
            regions = []
        case .prompt(_, _, let decay):
            gradients = GradientSet()
            regions = [prompt!.region(decay: decay)]
        }
        if let lora { regions += ParameterRegion.regions(lora) }
        optimizer = AdamW(regions: regions, options: options.adam)
        schedule = LearningRateSchedule(shape: options.schedule, base: options.learningRate,
                                        warmupSteps: options.warmupSteps, totalSteps: options.steps)
        order = DataOrder(count: train.count, seed: options.seed)
    }

    public var totalSteps: Int { options.steps }
    public var evalEvery: Int { options.evalEvery }
    public var saveEvery: Int { options.saveEvery }
    public var modeName: String { options.modeName }
    public var devMetricName: String { "dev_loss" }
    public func devMetric() throws(DistillError) -> Double? { try devLoss() }

    /// One optimizer step. A NaN or infinite loss or gradient norm stops before the update.
    public func trainStep() throws(DistillError) -> StepReport {
        let start = Date()
        gradients.zero()
        prompt?.gradient.update(repeating: 0)
        lora?.zeroGradients()
        let lr = schedule.rate(step: step + 1)
        var lossSum: Double = 0, tokens = 0
        if let params { options.fault.inject(.weights, step: step + 1) { $0.corrupt(params) } }
        for _ in 0..<options.accumulation {
            let batch = order.next(options.batchSize).map { train[$0] }
            // LoRA dropout masks: one seed per micro-batch from the run's RNG (checkpointed, so resume is exact).
            let dropoutSeed = (lora?.settings.dropout ?? 0) > 0 ? rng.next() : nil
            let (pass, targets, count) = try prepare(batch, loraDropoutSeed: dropoutSeed)
            pass.forwardHidden(prompt: prompt.map { UnsafePointer($0.values.baseAddress!) })
            options.fault.inject(.activations, step: step + 1) { $0.corrupt(logits: pass.hidden, rows: pass.rowCount, vocab: weights.config.embeddingSize) }
            // The chunked head: logits only for target rows, never all at once.
            let total = pass.headCrossEntropy(targets: targets, scale: 1 / Float(count * options.accumulation), gradients: gradients)
            pass.backward(gradients: gradients, promptGradient: prompt?.gradient.baseAddress)
            lossSum += total / Double(count)
            tokens += batch.reduce(0) { $0 + $1.tokens.count }
        }
        options.fault.inject(.gradients, step: step + 1) { $0.corrupt(optimizer.regions) }
        let loss = lossSum / Double(options.accumulation)
        guard loss.isFinite else {
            throw .diverged(step: step + 1, quantity: "the training loss", value: Float(loss), lastCheckpoint: lastCheckpoint)
        }
        let (norm, _) = GradientClipping.clip(optimizer.regions, maxNorm: options.maxGradNorm)
        guard norm.isFinite else {
            throw .diverged(step: step + 1, quantity: "the gradient norm", value: norm, lastCheckpoint: lastCheckpoint)
        }
        optimizer.update(lr: lr)
        return StepReport(step: step, loss: loss, gradNorm: norm, learningRate: lr, tokens: tokens,
                          seconds: Date().timeIntervalSince(start))
    }

    /// Mean cross-entropy over every target token of the dev set (forward only), or nil without dev data.
    public func devLoss() throws(DistillError) -> Double? {
        guard !dev.isEmpty else { return nil }
        var total: Double = 0, count = 0
        for first in stride(from: 0, to: dev.count, by: options.batchSize) {
            let batch = Array(dev[first..<min(dev.count, first + options.batchSize)])
            let (pass, targets, n) = try prepare(batch)
            pass.forwardHidden(prompt: prompt.map { UnsafePointer($0.values.baseAddress!) })
            total += pass.headCrossEntropy(targets: targets, scale: 1, backward: false)
            count += n
        }
        return total / Double(count)
    }

    private func prepare(_ batch: [TokenizedExample], loraDropoutSeed: UInt64? = nil) throws(DistillError) -> (TrainingPass, [Int], Int) {
        let pass: TrainingPass
        do {
            pass = try TrainingPass(weights: weights, params: params, sequences: batch.map { .init(tokens: $0.tokens, prompted: prompt != nil) },
                                    promptRows: prompt?.rows ?? 0, workspace: workspace, lora: lora, loraDropoutSeed: loraDropoutSeed)
        } catch { throw .model(error) }
        let targets = pass.targets(isTarget: batch.map(\.isTarget))
        return (pass, targets, targets.filter { $0 >= 0 }.count)
    }
}
