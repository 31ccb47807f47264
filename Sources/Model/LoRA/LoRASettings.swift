import Foundation

/// What a LoRA adapter is (PEFT's LoraConfig, the parts ckpt uses): W' = W + scale · B·A on each target
/// linear layer, A [rank, in] and B [out, rank], scale = alpha / rank (or alpha / √rank with rsLoRA), and
/// dropout on the adapter's input while training.
public struct LoRASettings: Sendable, Equatable {
    public var rank: Int
    public var alpha: Float
    public var dropout: Float
    /// Rank-stabilized scaling (Kalajdzievski 2023; PEFT `use_rslora`): alpha / √rank instead of alpha / rank.
    public var rsLoRA: Bool
    /// The adapted linear slots, in TensorNames' canonical order.
    public var targets: [TensorNames.Slot]

    public init(rank: Int, alpha: Float, dropout: Float = 0, rsLoRA: Bool = false, targets: [TensorNames.Slot]) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.rsLoRA = rsLoRA
        self.targets = TensorNames.Slot.allCases.filter(Set(targets).contains)
    }

    /// PEFT's `scaling`: a Python float, applied to the float32 product (so rounded to Float here).
    public var scale: Float {
        Float(rsLoRA ? Double(alpha) / Double(rank).squareRoot() : Double(alpha) / Double(rank))
    }

    /// Refuses what PEFT refuses (rank 0) and what cannot train (dropout outside [0, 1), non-finite alpha).
    public func validate() throws(ModelError) {
        guard rank > 0 else { throw .invalidLoRA(option: "--lora-rank", reason: "must be positive, is \(rank)") }
        guard alpha.isFinite, alpha != 0 else { throw .invalidLoRA(option: "--lora-alpha", reason: "must be finite and not 0, is \(alpha)") }
        guard dropout >= 0, dropout < 1 else { throw .invalidLoRA(option: "--lora-dropout", reason: "must be in [0, 1), is \(dropout)") }
        guard !targets.isEmpty else { throw .invalidLoRA(option: "--lora-targets", reason: "no target layer") }
    }
}
