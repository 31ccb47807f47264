import ArgumentParser
import Distill
import Foundation
import Model

/// LoRA options of every training command (finetune, prompt-tune, distill's student), declared once.
/// Without --lora-rank or --lora-from nothing changes: the command trains what it trained before.
struct LoRAArguments: ParsableArguments {
    @Option(help: "Train LoRA adapters of this rank instead of the weights (the base stays frozen).")
    var loraRank: Int?
    @Option(help: "LoRA alpha: the adapter's product is scaled by alpha / rank (alpha / √rank with --rslora).")
    var loraAlpha: Float = 16
    @Option(help: "Dropout on the adapters' input while training (PEFT's lora_dropout).")
    var loraDropout: Float = 0
    @Option(help: "Layers to adapt: q,k,v,o,gate,up,down, the model's module names (q_proj, qkv_proj…) or all-linear.")
    var loraTargets = "all-linear"
    @Flag(help: "Rank-stabilized LoRA: scale alpha / √rank instead of alpha / rank.")
    var rslora = false
    @Option(help: "Start from this LoRA adapter (a PEFT folder or a GGUF adapter file; its rank, alpha and targets) instead of a fresh one.")
    var loraFrom: String?

    var enabled: Bool { loraRank != nil || loraFrom != nil }

    /// The draws of a fresh adapter's A when the command's own RNG must stay as it was without LoRA
    /// (prompt-tune's prompt, distill's run): a stream of its own, derived from --seed.
    static func initializationRNG(seed: UInt64) -> SplitMix64 { SplitMix64(seed: seed ^ 0x4C6F_5241) }

    /// The adapters to train, or nil without LoRA: read from --lora-from, or new (PEFT's initialization,
    /// drawn from `rng`). A bad rank or target is a one-line error.
    func adapters(for config: TransformerConfig, rng: inout SplitMix64) throws -> LoRAAdapters? {
        if let loraFrom {
            guard loraRank == nil else { throw ValidationError("give --lora-rank or --lora-from, not both") }
            return try LoRAAdapterFiles.read(loraFrom, config: config, dropout: loraDropout)
        }
        guard let loraRank else { return nil }
        let settings = LoRASettings(rank: loraRank, alpha: loraAlpha, dropout: loraDropout, rsLoRA: rslora,
                                    targets: try LoRATargets.resolve(loraTargets.split(separator: ",").map(String.init), config: config))
        let adapters = try LoRAAdapters(config: config, settings: settings)
        adapters.initializeAsPEFT(rng: &rng)
        return adapters
    }

    /// One stderr line: what is trained and what it costs.
    static func describe(_ a: LoRAAdapters, modelParameters: Int) -> String {
        let s = a.settings, names = s.targets.compactMap { LoRATargets.moduleName($0, a.config) }
        return String(format: "lora: rank %d, alpha %g (scale %g), dropout %g, %@ in %d layers: %d trainable values (%.2f%% of the model)",
                      s.rank, s.alpha, s.scale, s.dropout, names.joined(separator: ","), a.config.layerCount, a.count,
                      100 * Double(a.count) / Double(max(1, modelParameters)))
    }
}
