import Distill
import Foundation
import Model
import Testing
import TestSupport

/// The training loop's guarantees on the tiny llama and gpt2 fixtures: resuming from a checkpoint is
/// bit-identical to never stopping (weights or prompt, moments, data order, losses), a NaN stops the run
/// before the update, and prompt tuning allocates no weight gradient.
@Suite struct TrainerTests {
    static let hf = TorchTrainingStepTests.fixtures + "/hf"

    /// Synthetic examples (random tokens, prompt of 3–6): enough to cycle through epochs in 10 steps.
    static func examples(count: Int, seed: UInt64) -> [TokenizedExample] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let length = 8 + rng.below(10), prompt = 3 + rng.below(4)
            return TokenizedExample(tokens: (0..<length).map { _ in 3 + rng.below(317) }, promptLength: prompt)
        }
    }

    static func options(_ mode: TrainingOptions.Mode) -> TrainingOptions {
        var o = TrainingOptions()
        o.mode = mode
        o.steps = 10
        o.batchSize = 3
        o.accumulation = 2
        o.learningRate = 1e-2
        o.warmupSteps = 2
        o.seed = 7
        return o
    }

    static func trainer(_ model: String, _ mode: TrainingOptions.Mode) throws -> Trainer {
        let params = try ParameterSet.load(huggingFaceDirectory: hf + "/\(model)/safetensors")
        var rng = SplitMix64(seed: 7)
        var prompt: SoftPrompt?
        if case .prompt(let rows, _, _) = mode {
            prompt = SoftPrompt(rows: rows, dim: params.config.embeddingSize)
            for i in 0..<prompt!.values.count { prompt!.values[i] = 0.1 * rng.normal() }
        }
        return try Trainer(params: params, prompt: prompt, train: examples(count: 13, seed: 1), dev: examples(count: 4, seed: 2),
                           options: options(mode), rng: rng)
    }

    /// Everything the trainer would save: weights or prompt, both moments.
    static func snapshot(_ t: Trainer) -> [Float] {
        t.optimizer.regions.flatMap { Array(UnsafeBufferPointer(start: $0.values, count: $0.count)) }
            + Array(t.optimizer.firstMoment) + Array(t.optimizer.secondMoment)
    }

    @Test(arguments: ["llama-gqa", "gpt2"], [TrainingOptions.Mode.full, .prompt(rows: 3, initialization: .random, decay: true)])
    func resumeIsBitIdentical(_ model: String, mode: TrainingOptions.Mode) throws {
        let straight = try Self.trainer(model, mode)
        let straightLosses = try (0..<10).map { _ in try straight.trainStep().loss }

        let run = Scratch.path("resume")
        defer { try? FileManager.default.removeItem(atPath: run) }
        let first = try Self.trainer(model, mode)
        var losses = try (0..<5).map { _ in try first.trainStep().loss }
        try first.saveCheckpoint(run: run)
        _ = try first.trainStep()  // work after the checkpoint is lost, as with kill -9

        let resumed = try Self.trainer(model, mode)
        try resumed.restore(from: run)
        #expect(resumed.step == 5)
        losses += try (0..<5).map { _ in try resumed.trainStep().loss }
        #expect(losses == straightLosses)
        #expect(Self.snapshot(resumed) == Self.snapshot(straight))
        #expect(resumed.order == straight.order)
        #expect(try resumed.devLoss() == straight.devLoss())
    }

    @Test func checkpointFromOtherOptionsIsRefused() throws {
        let run = Scratch.path("resume")
        defer { try? FileManager.default.removeItem(atPath: run) }
        let t = try Self.trainer("llama-gqa", .full)
        _ = try t.trainStep()
        try t.saveCheckpoint(run: run)
        let prompt = try Self.trainer("llama-gqa", .prompt(rows: 3, initialization: .random, decay: true))
        #expect(throws: DistillError.self) { try prompt.restore(from: run) }
        do { try prompt.restore(from: run) } catch {
            #expect(error.description.contains("saved with mode full, this run has prompt"))
        }
    }

    @Test func nanStopsBeforeTheUpdate() throws {
        let t = try Self.trainer("llama-gqa", .full)
        _ = try t.trainStep()
        t.params!.pointer(.outputNorm)[0] = .nan
        let before = Self.snapshot(t)
        do {
            _ = try t.trainStep()
            Issue.record("a NaN weight trained on")
        } catch {
            #expect(error.description == "training diverged at step 2: the training loss is nan; no checkpoint was written yet")
        }
        let after = Self.snapshot(t)
        #expect(zip(before, after).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(t.step == 1)
    }

    @Test func promptTuningAllocatesNoWeightGradient() throws {
        let t = try Self.trainer("llama-gqa", .prompt(rows: 3, initialization: .random, decay: true))
        #expect(t.gradients.count == 0)
        #expect(t.optimizer.regions.map(\.name) == ["prompt_embeddings"])
        let full = try Self.trainer("llama-gqa", .full)
        #expect(full.gradients.count == full.params!.count)
    }
}
