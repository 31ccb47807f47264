import Model

/// How a training run goes. Defaults follow the PromptKD/MiniLLM scripts (lr 5e-5, weight decay 0.01,
/// clip 1.0, batch 4) where they apply; the commands may pick other defaults per mode.
public struct TrainingOptions: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// Every weight is trained (SFT).
        case full
        /// Only a soft prompt of `rows` vectors is trained; the model is frozen. `decay`: weight decay on it.
        case prompt(rows: Int, initialization: SoftPrompt.Initialization, decay: Bool)
    }

    public var mode: Mode = .full
    /// LoRA adapters trained instead of the weights (with `.full`) or beside the prompt (with `.prompt`);
    /// set by the Trainer from the adapters it is given.
    public var lora: LoRASettings?
    /// Optimizer steps in all (a resumed run may raise it).
    public var steps = 100
    /// Sequences per micro-batch, and micro-batches per optimizer step.
    public var batchSize = 4
    public var accumulation = 1
    public var learningRate = 5e-5
    public var schedule: LearningRateSchedule.Shape = .cosine
    public var warmupSteps = 0
    public var adam = AdamW.Options(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01)
    public var maxGradNorm: Float = 1.0
    public var seed: UInt64 = 10
    /// Dev loss every N steps (0: only at the end), checkpoint every N steps (0: only at the end).
    public var evalEvery = 0
    public var saveEvery = 0
    /// A NaN/Inf put into one step on purpose (tests; CKPT_INJECT_FAULT).
    public var fault: FaultInjection?
    /// Recompute each block in backward instead of keeping its activations (memory only: results are the same bits).
    public var gradientCheckpointing = false

    public init() {}

    public var modeName: String {
        if case .prompt = mode { return lora == nil ? "prompt" : "prompt+lora" }
        return lora == nil ? "full" : "lora"
    }

    /// The options a resumed run must share with the checkpoint for it to continue bit-exactly, as
    /// (name, value) pairs; `steps` is not among them.
    public var resumeFingerprint: [(String, String)] {
        var rows = "0"
        if case .prompt(let p, _, let decay) = mode { rows = "\(p)\(decay ? "" : " (no decay)")" }
        return [("mode", modeName), ("--prompt-len", rows), ("--batch-size", "\(batchSize)"),
                ("--grad-accum", "\(accumulation)"), ("--lr", "\(learningRate)"), ("--schedule", schedule.rawValue),
                ("--warmup", "\(warmupSteps)"), ("--weight-decay", "\(adam.weightDecay)"), ("--clip", "\(maxGradNorm)"),
                ("--seed", "\(seed)"), ("--lora", lora?.fingerprint ?? "none")]
    }
}
