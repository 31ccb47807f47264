import Distill
import Formats
import Foundation
import Model
import Testing
import TestSupport

/// One and two training steps against PyTorch (fixtures/make_training.py: torch 2.15, transformers 5.24,
/// PEFT 0.21.2): the masked-mean cross-entropy, every parameter gradient, the clipped global norm and the
/// weights after each AdamW step, on tiny gpt2 / llama-gqa / llama-tied; and one PEFT prompt-tuning step
/// (prompt gradient and updated prompt). Tolerance: 1e-4 of each tensor's largest magnitude.
@Suite struct TorchTrainingStepTests {
    static let fixtures = Repository.fixtures()
    static let expected: JSONValue? = try? JSONFile.read(fixtures + "/training/expected.json")
    static let models = ["gpt2", "llama-gqa", "llama-tied"]

    struct Batch {
        var sequences: [[Int]]
        var isTarget: [[Bool]]
    }

    static func batch(_ json: JSONValue?) -> Batch {
        let sequences = json?["sequences"]?.arrayValue ?? []
        return Batch(sequences: sequences.map { ($0["ids"]?.arrayValue ?? []).map { Int($0.uint64Value ?? 0) } },
                     isTarget: sequences.map { ($0["targets"]?.arrayValue ?? []).map { $0.uint64Value == 1 } })
    }

    /// Numbers, or nested lists of numbers flattened row-major.
    static func floats(_ json: JSONValue?) -> [Float] {
        (json?.arrayValue ?? []).flatMap { $0.arrayValue != nil ? floats($0) : [Float($0.doubleValue ?? .nan)] }
    }

    /// max |got − want| / max |want|.
    static func relative(_ got: UnsafePointer<Float>, _ want: UnsafePointer<Float>, _ count: Int) -> Float {
        var diff: Float = 0, scale: Float = 0
        for i in 0..<count {
            diff = max(diff, abs(got[i] - want[i]))
            scale = max(scale, abs(want[i]))
        }
        return diff / max(scale, 1e-30)
    }

    /// Forward, masked-mean cross-entropy, backward; returns the loss.
    static func lossAndGradients(_ params: ParameterSet, _ batch: Batch, _ grads: GradientSet, promptRows: Int = 0,
                                 prompt: UnsafePointer<Float>? = nil, promptGradient: UnsafeMutablePointer<Float>? = nil) throws -> Double {
        let pass = try TrainingPass(params: params, sequences: batch.sequences.map { .init(tokens: $0, prompted: promptRows > 0) },
                                    promptRows: promptRows)
        let logits = pass.forward(prompt: prompt)
        let targets = pass.targets(isTarget: batch.isTarget)
        let count = targets.filter { $0 >= 0 }.count
        let total = CrossEntropy.lossAndGradient(logits, targets: targets, vocab: params.config.vocabSize, scale: 1 / Float(count))
        pass.backward(gradients: grads, promptGradient: promptGradient)
        return total / Double(count)
    }

    /// Weights after `steps` AdamW steps. One exception: the key bias of gpt2's fused projection has a
    /// gradient that is zero in exact arithmetic (a constant added to every score of a row cancels in the
    /// soft-max), so both sides feed rounding noise of ~1e-8 to Adam, which scales any noise to a step of
    /// about lr: that third of the tensor is held to |Δ| ≤ 2·lr·steps, the rest to 1e-4 relative.
    static func expectEqual(_ got: ParameterSet, _ want: ParameterSet, _ what: String, lr: Float, steps: Int) {
        let c = want.config
        for key in want.keys {
            let count = want.layout[key]!.shape.reduce(1, *)
            let g = got.pointer(key.slot, layer: key.layer), w = want.pointer(key.slot, layer: key.layer)
            var r = relative(g, w, count)
            if key.slot == .attnQKVBias {
                let keyBias = c.queryWidth..<(c.queryWidth + c.kvWidth)
                let noise = keyBias.map { abs(g[$0] - w[$0]) }.max() ?? 0
                #expect(noise <= 2 * lr * Float(steps), "\(what) key bias: |Δ| \(noise)")
                let tail = keyBias.upperBound
                r = max(relative(g, w, keyBias.lowerBound), relative(g + tail, w + tail, count - tail))
            }
            #expect(r <= 1e-4, "\(what) \(TensorNames.gguf(key.slot, layer: key.layer)): relative \(r)")
        }
    }

    @Test(arguments: models)
    func twoAdamWStepsMatchPyTorch(_ name: String) throws {
        let model = try #require(Self.expected?["models"]?[name], "no golden for \(name)")
        let hyper = try #require(model["hyper"]?["full"])
        let params = try ParameterSet.load(huggingFaceDirectory: Self.fixtures + "/hf/\(name)/safetensors")
        let grads = GradientSet(params, trainable: .all)
        let betas = Self.floats(hyper["betas"]).map(Double.init)
        let optimizer = AdamW(regions: ParameterRegion.regions(params, grads),
                              options: .init(beta1: betas[0], beta2: betas[1], epsilon: hyper["eps"]?.doubleValue ?? 0,
                                             weightDecay: hyper["weight_decay"]?["decay"]?.doubleValue ?? 0))
        let maxNorm = Float(model["C"]?.doubleValue ?? 0), lr = hyper["lr"]?.doubleValue ?? 0
        let batches = model["batches"]?.arrayValue ?? []
        for step in 1...2 {
            grads.zero()
            let loss = try Self.lossAndGradients(params, Self.batch(batches[step - 1]), grads)
            let wantLoss = model["loss\(step)"]?.doubleValue ?? .nan
            #expect(abs(loss - wantLoss) <= 1e-5 * wantLoss, "\(name) step \(step) loss \(loss) vs \(wantLoss)")
            if step == 1 {
                let want = try ParameterSet.load(huggingFaceDirectory: Self.fixtures + "/training/\(name)/grads1")
                for key in want.keys {
                    let r = Self.relative(grads.pointer(key.slot, layer: key.layer)!, want.pointer(key.slot, layer: key.layer),
                                          want.layout[key]!.shape.reduce(1, *))
                    #expect(r <= 1e-4, "\(name) gradient \(TensorNames.gguf(key.slot, layer: key.layer)): relative \(r)")
                }
            }
            let (norm, _) = GradientClipping.clip(optimizer.regions, maxNorm: maxNorm)
            let wantNorm = Float(model["norm\(step)"]?.doubleValue ?? .nan)
            #expect(abs(norm - wantNorm) <= 1e-5 * wantNorm, "\(name) step \(step) norm \(norm) vs \(wantNorm)")
            optimizer.update(lr: lr)
            let want = try ParameterSet.load(huggingFaceDirectory: Self.fixtures + "/training/\(name)/step\(step)")
            Self.expectEqual(params, want, "\(name) step \(step)", lr: Float(lr), steps: step)
        }
    }

    @Test(arguments: models)
    func promptTuningStepMatchesPEFT(_ name: String) throws {
        let model = try #require(Self.expected?["models"]?[name])
        let tuning = try #require(model["prompt_tuning"])
        let hyper = try #require(model["hyper"]?["prompt_tuning"])
        let params = try ParameterSet.load(huggingFaceDirectory: Self.fixtures + "/hf/\(name)/safetensors")
        let E = params.config.embeddingSize
        let ids = (tuning["init_token_ids"]?.arrayValue ?? []).map { Int($0.uint64Value ?? 0) }
        let P = ids.count
        // TEXT init: embedding rows of the init ids.
        var prompt = ids.flatMap { id in Array(UnsafeBufferPointer(start: params.pointer(.tokenEmbedding) + id * E, count: E)) }
        #expect(prompt == Self.floats(tuning["init_prompt"]))
        var gradient = [Float](repeating: 0, count: P * E)
        let frozen = GradientSet(params, trainable: .none)
        let batch = Self.batch(model["batches"]?.arrayValue?.first)
        let loss = try prompt.withUnsafeBufferPointer { p in
            try gradient.withUnsafeMutableBufferPointer { g in
                try Self.lossAndGradients(params, batch, frozen, promptRows: P, prompt: p.baseAddress!, promptGradient: g.baseAddress!)
            }
        }
        let wantLoss = tuning["loss"]?.doubleValue ?? .nan
        #expect(abs(loss - wantLoss) <= 1e-5 * wantLoss, "\(name) prompted loss \(loss) vs \(wantLoss)")
        let wantGradient = Self.floats(tuning["prompt_grad"])
        #expect(Self.relative(gradient, wantGradient, P * E) <= 1e-4, "\(name) prompt gradient")
        let betas = Self.floats(hyper["betas"]).map(Double.init)
        try prompt.withUnsafeMutableBufferPointer { p in
            try gradient.withUnsafeMutableBufferPointer { g in
                let region = ParameterRegion(name: "prompt_embeddings", values: p.baseAddress!, gradient: g.baseAddress!, count: P * E, decay: true)
                let optimizer = AdamW(regions: [region], options: .init(beta1: betas[0], beta2: betas[1], epsilon: hyper["eps"]?.doubleValue ?? 0,
                                                                       weightDecay: try #require(hyper["weight_decay"]?.doubleValue)))
                optimizer.update(lr: hyper["lr"]?.doubleValue ?? 0)
            }
        }
        #expect(Self.relative(prompt, Self.floats(tuning["updated_prompt"]), P * E) <= 1e-4, "\(name) updated prompt")
    }

    @Test func schedulesMatchTransformers() throws {
        let schedules = try #require(Self.expected?["schedules"])
        let base = schedules["base_lr"]?.doubleValue ?? 0
        let warmup = Int(schedules["num_warmup_steps"]?.uint64Value ?? 0), total = Int(schedules["num_training_steps"]?.uint64Value ?? 0)
        for (shape, key) in [(LearningRateSchedule.Shape.constant, "constant_with_warmup"), (.cosine, "cosine_with_warmup"),
                             (.linear, "linear_with_warmup")] {
            let want = (schedules["lrs"]?[key]?.arrayValue ?? []).map { $0.doubleValue ?? .nan }
            #expect(want.count == total)
            let schedule = LearningRateSchedule(shape: shape, base: base, warmupSteps: warmup, totalSteps: total)
            for (k, lr) in want.enumerated() {
                #expect(abs(schedule.rate(step: k + 1) - lr) <= 1e-15, "\(key) step \(k + 1): \(schedule.rate(step: k + 1)) vs \(lr)")
            }
        }
    }
}
