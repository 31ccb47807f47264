import Model

/// A distillation run (`ckpt distill`): the method and its knobs. Defaults are the PromptKD scripts'
/// (promptkd.md §5): prompt of 7 from "Suppose you are a student.", lr 5e-5 for student and prompt,
/// AdamW (0.9, 0.999, 1e-8) with weight decay 0.01 (on the prompt too), clip 1.0, constant schedule after
/// warmup, sampling at T 1 / top-k 0 / top-p 1, max length 512, prompts up to 256 tokens.
public struct DistillationOptions: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        /// Student samples; the prompted teacher's prompt learns KL(q‖p_S) + (1 − s/S)·KL(q‖p_T), then the
        /// student learns KL(p_S‖q) against the updated prompt.
        case promptkd
        /// 0.5·CE + 0.5·KL(teacher‖student) on the data.
        case kd
        /// The same on teacher-sampled responses, generated once per example and cached.
        case seqkd
        /// KL(student‖teacher) on student samples, no prompt: PromptKD without its prompt.
        case rkl
        /// JSD(0.9): half of the steps on a batch from the replay buffer of student samples (fresh ones pushed
        /// first), the data otherwise.
        case gkd
        /// Forward KL on batches from the replay buffer of student samples (fresh ones pushed every step).
        case imitkd
        /// MiniLLM's policy gradient: on student samples, −A_t·log p(y_t) with the advantage of the teacher's
        /// log-ratio reward (γ 0.95, length-normalised, whitened), plus the single-step reverse KL. One update
        /// per rollout (PPO's clipped ratio is then 1) and no teacher-mixed sampling.
        case minillm
        /// Skew KL(α 0.1) with DistiLLM's adaptive off-policy schedule (student samples in a replay buffer).
        case distillm
        /// CE on the data, no teacher.
        case sft
    }

    public var method: Method = .promptkd
    public var steps = 100
    /// Sequences per micro-batch, and micro-batches per optimizer step (--grad-accum).
    public var batchSize = 4
    public var accumulation = 1
    public var learningRate = 5e-5
    public var promptLearningRate = 5e-5
    public var warmupSteps = 0
    public var schedule: LearningRateSchedule.Shape = .constant
    public var adam = AdamW.Options(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01)
    public var maxGradNorm: Float = 1.0
    public var seed: UInt64 = 10
    public var promptRows = 7
    public var promptInit: SoftPrompt.Initialization = .text("Suppose you are a student.")
    public var maxLength = 512
    public var maxNewTokens = 256
    /// Dev ROUGE-L every N steps (0: at the end), on the first `devExamples` dev examples with answers of
    /// at most `devMaxNewTokens`; checkpoints every N steps (0: at the end).
    public var evalEvery = 0
    public var devExamples = 40
    public var devMaxNewTokens = 64
    public var saveEvery = 0
    /// A NaN/Inf put into one step on purpose (tests; CKPT_INJECT_FAULT).
    public var fault: FaultInjection?
    /// Recompute each block in backward instead of keeping its activations (memory only: results are the same bits).
    public var gradientCheckpointing = false

    /// The LM term's weight (0: off) and its chunk length in tokens (LanguageModelingData).
    public var lmCoefficient = 0.0
    public var lmLength = 256

    public init() {}

    /// LoRA adapters trained on the student instead of its weights; set by the Distiller from the adapters
    /// it is given.
    public var lora: LoRASettings?

    /// Options a resumed run must share with its checkpoint (everything but --steps).
    public var resumeFingerprint: [(String, String)] {
        [("--method", method.rawValue), ("--batch-size", "\(batchSize)"), ("--grad-accum", "\(accumulation)"), ("--lr", "\(learningRate)"),
         ("--prompt-lr", "\(promptLearningRate)"), ("--warmup", "\(warmupSteps)"), ("--schedule", schedule.rawValue),
         ("--weight-decay", "\(adam.weightDecay)"), ("--clip", "\(maxGradNorm)"), ("--seed", "\(seed)"),
         ("--prompt-len", "\(promptRows)"), ("--max-length", "\(maxLength)"), ("--max-new-tokens", "\(maxNewTokens)"),
         ("--lora", lora?.fingerprint ?? "none"), ("--lm-coef", "\(lmCoefficient)"), ("--lm-length", "\(lmLength)")]
    }
}
