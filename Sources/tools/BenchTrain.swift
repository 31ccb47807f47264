import ArgumentParser
import CBLAS
import Distill
import Formats
import Foundation
import Model

/// The training benchmark's Swift side (scripts/bench/train): a randomly initialized model from a
/// config.json, or a GGUF read as stored, random token batches, timed forward + backward (+ AdamW) steps of
/// every weight or (--lora-rank) of LoRA adapters on all linear layers with the weights frozen (QLoRA when
/// the GGUF is quantized). Prints one JSON line.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-train", abstract: "Time training steps on a random-init model (scripts/bench/train).",
        shouldDisplay: false)

    @Argument(help: "A Hugging Face config.json (gpt2 or llama; random weights), or a GGUF (its weights as stored; needs --lora-rank).")
    var config: String
    @Option(help: "Train LoRA adapters of this rank (alpha 2×rank, all linear layers) instead of the weights.")
    var loraRank: Int?
    @Option var batch = 4
    @Option var seq = 256
    @Option var steps = 3
    @Option(help: "Untimed steps first.")
    var warmup = 1
    @Flag(inversion: .prefixedNo, help: "Also run AdamW after each backward.")
    var adamw = false
    @Flag(help: "Gradient checkpointing.")
    var gradCheckpoint = false
    @Option(help: "Rows per tile of the head (default: the Trainer's 16 MB of logits per vocabulary slice); 0: the whole logits table at once.")
    var headChunk: Int?

    func run() throws {
        var rng = SplitMix64(seed: 1)
        let weights: ModelWeights, params: ParameterSet?
        if config.hasSuffix(".gguf") {
            guard loraRank != nil else { throw ValidationError("a GGUF is read frozen: give --lora-rank") }
            weights = try ModelWeights.load(gguf: GGUFFile(file: MappedFile(path: config)))
            params = nil
        } else {
            let p = ParameterSet(config: try TransformerConfig(huggingFace: JSONFile.read(config), path: config))
            for key in p.keys {
                let values = FreshStudent.initialValues(key.slot, shape: p.layout[key]!.shape, rng: &rng)
                p.pointer(key.slot, layer: key.layer).update(from: values, count: values.count)
            }
            weights = ModelWeights(p)
            params = p
        }
        let c = weights.config
        let lora = try loraRank.map { rank in
            try LoRAAdapters(config: c, settings: LoRASettings(rank: rank, alpha: Float(2 * rank), targets: LoRATargets.linearSlots(c)))
        }
        lora?.initializeAsPEFT(rng: &rng)
        let grads = lora != nil || params == nil ? GradientSet() : GradientSet(params!, trainable: .all)
        let regions = lora.map { ParameterRegion.regions($0) } ?? ParameterRegion.regions(params!, grads)
        let optimizer = AdamW(regions: regions, options: .init(weightDecay: 0.01))
        let workspace = TrainingWorkspace(checkpointing: gradCheckpoint)
        var forward = 0.0, backward = 0.0, update = 0.0
        for step in 0..<(warmup + steps) {
            let sequences = (0..<batch).map { _ in TrainingPass.Sequence(tokens: (0..<seq).map { _ in rng.below(c.vocabSize) }) }
            let t0 = Date()
            grads.zero()
            lora?.zeroGradients()
            let pass = try TrainingPass(weights: weights, params: params, sequences: sequences, workspace: workspace, lora: lora)
            // As the Trainer: the chunked head (logits of a few target rows at a time), whose backward is done here.
            let targets = pass.targets(isTarget: sequences.map { $0.tokens.map { _ in true } })
            let count = targets.filter { $0 >= 0 }.count
            if headChunk == 0 {
                _ = CrossEntropy.lossAndGradient(pass.forward(), targets: targets, vocab: c.vocabSize, scale: 1 / Float(count))
            } else {
                pass.forwardHidden()
                _ = pass.headCrossEntropy(targets: targets, scale: 1 / Float(count), gradients: grads, chunkRows: headChunk)
            }
            let t1 = Date()
            pass.backward(gradients: grads)
            let t2 = Date()
            if adamw { optimizer.update(lr: 1e-4) }
            let t3 = Date()
            if step >= warmup {
                forward += t1.timeIntervalSince(t0)
                backward += t2.timeIntervalSince(t1)
                update += t3.timeIntervalSince(t2)
            }
        }
        let tokens = Double(batch * seq * steps), total = forward + backward + update
        let core = String(cString: openblas_get_corename())
        Stdout.write(JSONWriter.compact(.object([
            ("tok_per_s", .double(tokens / total)), ("forward_s", .double(forward / Double(steps))),
            ("backward_s", .double(backward / Double(steps))), ("adamw_s", .double(update / Double(steps))),
            ("parameters", .int(ParameterSet.count(for: c))),
            ("trainable", .int(lora?.count ?? grads.count)), ("weight_bytes", .int(weights.byteCount)),
            ("openblas_core", .string(core)),
        ])) + "\n")
    }
}
