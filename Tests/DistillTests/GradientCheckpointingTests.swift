import Distill
import Formats
import Foundation
import Model
import Testing
import TestSupport

/// Gradient checkpointing (`--grad-checkpoint`) recomputes each block in backward from its kept input; on every
/// family's tiny model (fixtures/lora) the loss, every weight gradient, every LoRA gradient (dropout on: its
/// masks must be drawn again the same) and a soft prompt's gradient are the same bits as without it, while the
/// activations take less memory.
@Suite struct GradientCheckpointingTests {
    struct Result: Equatable {
        var logits: [Float], weights: [Float], adapters: [Float], prompt: [Float]
    }

    static func run(_ name: String, checkpointing: Bool) throws -> (Result, Int) {
        let golden = try LoRAReferenceTests.expected(name)
        let (params, adapters) = try LoRAReferenceTests.load(name)
        let c = params.config, P = 2
        let sequences = try #require(golden["batch_ids"]?.arrayValue).map { LoRAReferenceTests.ints($0) }
        let workspace = TrainingWorkspace(checkpointing: checkpointing)
        let grads = GradientSet(params, trainable: .all)
        let prompt = (0..<(P * c.embeddingSize)).map { Float(($0 * 37) % 19 - 9) * 0.01 }
        var promptGradient = [Float](repeating: 0, count: prompt.count)
        let pass = try TrainingPass(params: params, sequences: sequences.map { .init(tokens: $0, prompted: true) }, promptRows: P,
                                    workspace: workspace, lora: adapters, loraDropoutSeed: 99)
        let logits = prompt.withUnsafeBufferPointer { pass.forward(prompt: $0.baseAddress!) }
        let V = c.vocabSize, kept = Array(UnsafeBufferPointer(start: logits, count: pass.rowCount * V))
        let targets = (0..<pass.rowCount).map { $0 % 3 == 0 ? -1 : ($0 * 7) % V }
        _ = CrossEntropy.lossAndGradient(logits, targets: targets, vocab: V, scale: 0.1)
        promptGradient.withUnsafeMutableBufferPointer { pass.backward(gradients: grads, promptGradient: $0.baseAddress!) }
        let result = Result(logits: kept, weights: Array(grads.storage), adapters: Array(adapters.gradients), prompt: promptGradient)
        withExtendedLifetime((params, adapters)) {}
        return (result, workspace.byteCount)
    }

    @Test(arguments: LoRAReferenceTests.models)
    func sameBitsLessMemory(_ name: String) throws {
        let (plain, plainBytes) = try Self.run(name, checkpointing: false)
        let (checkpointed, checkpointedBytes) = try Self.run(name, checkpointing: true)
        #expect(plain.weights.contains { $0 != 0 } && plain.adapters.contains { $0 != 0 } && plain.prompt.contains { $0 != 0 })
        #expect(checkpointed == plain, "\(name)")
        #expect(checkpointedBytes < plainBytes, "\(name): \(checkpointedBytes) vs \(plainBytes) bytes")
    }
}
