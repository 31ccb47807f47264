import ArgumentParser
import CBLAS
import Distill
import Formats
import Foundation
import Model

/// The training benchmark's Swift side (scripts/bench/train): a randomly initialized model from a
/// config.json, random token batches, timed forward + backward (+ AdamW) steps. Prints one JSON line.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-train", abstract: "Time training steps on a random-init model (scripts/bench/train).",
        shouldDisplay: false)

    @Argument(help: "A Hugging Face config.json (gpt2 or llama).")
    var config: String
    @Option var batch = 4
    @Option var seq = 256
    @Option var steps = 3
    @Option(help: "Untimed steps first.")
    var warmup = 1
    @Flag(inversion: .prefixedNo, help: "Also run AdamW after each backward.")
    var adamw = false

    func run() throws {
        let c = try TransformerConfig(huggingFace: JSONFile.read(config), path: config)
        let params = ParameterSet(config: c)
        var rng = SplitMix64(seed: 1)
        for key in params.keys {
            let values = FreshStudent.initialValues(key.slot, shape: params.layout[key]!.shape, rng: &rng)
            params.pointer(key.slot, layer: key.layer).update(from: values, count: values.count)
        }
        let grads = GradientSet(params, trainable: .all)
        let optimizer = AdamW(regions: ParameterRegion.regions(params, grads), options: .init(weightDecay: 0.01))
        let workspace = TrainingWorkspace()
        var forward = 0.0, backward = 0.0, update = 0.0
        for step in 0..<(warmup + steps) {
            let sequences = (0..<batch).map { _ in TrainingPass.Sequence(tokens: (0..<seq).map { _ in rng.below(c.vocabSize) }) }
            let t0 = Date()
            grads.zero()
            let pass = try TrainingPass(params: params, sequences: sequences, workspace: workspace)
            let logits = pass.forward()
            let targets = pass.targets(isTarget: sequences.map { $0.tokens.map { _ in true } })
            let count = targets.filter { $0 >= 0 }.count
            _ = CrossEntropy.lossAndGradient(logits, targets: targets, vocab: c.vocabSize, scale: 1 / Float(count))
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
            ("parameters", .int(params.count)), ("openblas_core", .string(core)),
        ])) + "\n")
    }
}
