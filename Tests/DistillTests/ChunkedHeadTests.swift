import Distill
import Formats
import Foundation
import Model
import Testing
import TestSupport

/// The chunked head (`TrainingPass.headCrossEntropy`, what the Trainer uses) against the whole-table path
/// (forward's logits, CrossEntropy over all rows, backward from them) on every family's tiny model, with every
/// weight trainable and a soft prompt: the same loss, weight and prompt gradients, in 1 chunk and in chunks of
/// 5 rows, over the whole vocabulary at once and in slices of 7 and 13 rows (an online log-sum-exp; rows without
/// a target, a third of them, get no logits). Not bit-identical: sgemm over fewer rows
/// may round differently (loss within 2e-8 relative here). With the head frozen (LoRA, prompt tuning) the chunks
/// take the one-pass path, dh accumulated with the online soft-max.
@Suite struct ChunkedHeadTests {
    static func run(_ name: String, chunked: Int?, sliced: Int? = nil, frozenHead: Bool = false) throws
        -> (loss: Double, weights: [Float], prompt: [Float]) {
        let golden = try LoRAReferenceTests.expected(name)
        let (params, _) = try LoRAReferenceTests.load(name)
        let c = params.config, P = 2
        let sequences = try #require(golden["batch_ids"]?.arrayValue).map { LoRAReferenceTests.ints($0) }
        let head = ParameterSet.Key(c.headSlot, nil)
        let grads = GradientSet(params, trainable: frozenHead ? .slots(Set(params.keys.filter { $0 != head })) : .all)
        let prompt = (0..<(P * c.embeddingSize)).map { Float(($0 * 37) % 19 - 9) * 0.01 }
        var promptGradient = [Float](repeating: 0, count: prompt.count)
        let pass = try TrainingPass(params: params, sequences: sequences.map { .init(tokens: $0, prompted: true) }, promptRows: P)
        let targets = (0..<pass.rowCount).map { $0 % 3 == 0 ? -1 : ($0 * 7) % c.vocabSize }
        let loss: Double
        if let chunked {
            prompt.withUnsafeBufferPointer { pass.forwardHidden(prompt: $0.baseAddress!) }
            loss = pass.headCrossEntropy(targets: targets, scale: 0.1, gradients: grads, chunkRows: chunked, sliceRows: sliced)
        } else {
            let logits = prompt.withUnsafeBufferPointer { pass.forward(prompt: $0.baseAddress!) }
            loss = CrossEntropy.lossAndGradient(logits, targets: targets, vocab: c.vocabSize, scale: 0.1)
        }
        promptGradient.withUnsafeMutableBufferPointer { pass.backward(gradients: grads, promptGradient: $0.baseAddress!) }
        withExtendedLifetime(params) {}
        return (loss, Array(grads.storage), promptGradient)
    }

    static func relative(_ got: [Float], _ want: [Float]) -> Float {
        zip(got, want).map { abs($0 - $1) }.max()! / max(want.map(abs).max()!, 1e-30)
    }

    @Test(arguments: LoRAReferenceTests.models, [false, true])
    func sameAsWholeLogits(_ name: String, frozenHead: Bool) throws {
        let whole = try Self.run(name, chunked: nil, frozenHead: frozenHead)
        for (chunk, slice) in [(1000, nil), (5, nil), (5, 7), (1000, 13)] as [(Int, Int?)] {
            let part = try Self.run(name, chunked: chunk, sliced: slice, frozenHead: frozenHead)
            #expect(abs(part.loss - whole.loss) <= 1e-7 * whole.loss, "\(name) chunk \(chunk) slice \(String(describing: slice)): loss \(part.loss) vs \(whole.loss)")
            // Slices: the normalizer sums exps taken at each slice's running max, the probabilities at the final
            // one, so the two disagree by ~1e-7 (gemma3's tiny model, the largest logits here, 1.4e-6 at worst).
            // The one-pass frozen head subtracts W[target] from Σ softmax·W, which cancels where the target is
            // likely: 1.1e-6 on gemma3 without slices.
            let bound: Float = slice == nil && !frozenHead ? 1e-6 : 2e-6
            #expect(Self.relative(part.weights, whole.weights) <= bound, "\(name) chunk \(chunk) slice \(String(describing: slice)): weights \(Self.relative(part.weights, whole.weights))")
            #expect(Self.relative(part.prompt, whole.prompt) <= bound, "\(name) chunk \(chunk) slice \(String(describing: slice)): prompt \(Self.relative(part.prompt, whole.prompt))")
        }
    }
}
