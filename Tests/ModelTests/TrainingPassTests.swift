import Foundation
import Model
import Testing

/// The training forward/backward on the tiny transformers fixtures (gpt2, llama with GQA, llama with tied
/// embeddings): its logits equal the inference forward's, and its gradients — of every slot in full
/// fine-tuning, of the prompt alone with every weight frozen — equal central finite differences of the loss.
@Suite struct TrainingPassTests {
    static let root = TransformersReferenceTests.root
    static let models = TransformersReferenceTests.models
    static let batch: [[Int]] = [[5, 17, 42, 99, 7, 250, 31, 8, 64, 12], [3, 300, 77, 21, 9, 140]]
    static let isTarget: [[Bool]] = [[false, false, false, true, true, true, true, true, true, true],
                                     [false, false, true, true, true, true]]

    static func load(_ name: String) throws -> ParameterSet {
        try ParameterSet.load(huggingFaceDirectory: root + "/\(name)/safetensors")
    }

    /// Masked token mean of the batch's cross-entropy at the current parameters (forward only).
    static func loss(_ pass: TrainingPass, prompt: [Float]? = nil) -> Double {
        let logits = prompt.map { p in p.withPointer { pass.forward(prompt: $0) } } ?? pass.forward()
        let targets = pass.targets(isTarget: isTarget), V = pass.config.vocabSize
        let count = targets.filter { $0 >= 0 }.count
        return targets.enumerated().filter { $0.1 >= 0 }
            .reduce(0) { $0 + CrossEntropy.loss(logits + $1.0 * V, target: $1.1, vocab: V) } / Double(count)
    }

    /// Forward, cross-entropy gradient, backward: the analytic gradients.
    static func gradients(_ pass: TrainingPass, _ grads: GradientSet, prompt: [Float]? = nil,
                          promptGradient: UnsafeMutablePointer<Float>? = nil) -> Double {
        let logits = prompt.map { p in p.withPointer { pass.forward(prompt: $0) } } ?? pass.forward()
        let targets = pass.targets(isTarget: isTarget)
        let count = targets.filter { $0 >= 0 }.count
        let total = CrossEntropy.lossAndGradient(logits, targets: targets, vocab: pass.config.vocabSize,
                                                 scale: 1 / Float(count))
        pass.backward(gradients: grads, promptGradient: promptGradient)
        return total / Double(count)
    }

    @Test(arguments: models)
    func forwardEqualsInference(_ name: String) throws {
        let params = try Self.load(name)
        let pass = try TrainingPass(params: params, sequences: Self.batch.map { .init(tokens: $0) })
        let logits = pass.forward(), V = params.config.vocabSize
        let want = try Transformer(params).logits(batch: Self.batch)
        for (s, sequence) in Self.batch.enumerated() {
            let got = Array(UnsafeBufferPointer(start: logits + pass.row(sequence: s, token: 0) * V, count: sequence.count * V))
            let worst = zip(got, want[s]).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-5, "\(name) sequence \(s): max |Δ| \(worst)")
        }
    }

    /// A soft prompt through the inference path (Segment.prefix, KV cache) equals the training forward.
    @Test(arguments: models)
    func promptedForwardEqualsInference(_ name: String) throws {
        let params = try Self.load(name)
        let E = params.config.embeddingSize, V = params.config.vocabSize, P = 3
        var picker = GradientCheck(seed: 13)
        let prompt = picker.values(P * E, scale: 0.05)
        let pass = try TrainingPass(params: params, sequences: Self.batch.map { .init(tokens: $0, prompted: true) }, promptRows: P)
        let logits = prompt.withPointer { pass.forward(prompt: $0) }
        let transformer = Transformer(params)
        let want = try transformer.forward(batch: Self.batch.map {
            .init(tokens: $0, cache: KVCache(config: params.config, capacity: P + $0.count), prefix: prompt)
        })
        for (s, sequence) in Self.batch.enumerated() {
            let got = Array(UnsafeBufferPointer(start: logits + pass.firstRow[s] * V, count: (P + sequence.count) * V))
            let worst = zip(got, want[s]).map { abs($0 - $1) }.max() ?? .infinity
            #expect(want[s].count == got.count && worst <= 1e-5, "\(name) sequence \(s): max |Δ| \(worst)")
        }
    }

    @Test(arguments: models)
    func fullGradientsMatchFiniteDifferences(_ name: String) throws {
        let params = try Self.load(name)
        let pass = try TrainingPass(params: params, sequences: Self.batch.map { .init(tokens: $0) })
        let grads = GradientSet(params, trainable: .all)
        _ = Self.gradients(pass, grads)
        var picker = GradientCheck(seed: 11)
        for key in params.keys {
            let size = params.layout[key]!.shape.reduce(1, *)
            let base = params.pointer(key.slot, layer: key.layer), grad = grads.pointer(key.slot, layer: key.layer)!
            // The largest-gradient entry (a strong signal) and two others chosen at random.
            var indices = [(0..<size).max { abs(grad[$0]) < abs(grad[$1]) }!]
            indices += picker.values(2).map { Int((($0 + 1) / 2) * Float(size - 1)) }
            for i in indices {
                let saved = base[i], eps: Float = 1e-3
                base[i] = saved + eps
                let plus = Self.loss(pass)
                base[i] = saved - eps
                let minus = Self.loss(pass)
                base[i] = saved
                let numeric = (plus - minus) / Double(2 * eps)
                #expect(abs(numeric - Double(grad[i])) <= 2e-4 + 2e-2 * abs(numeric),
                        "\(name) \(key.slot) layer \(String(describing: key.layer)) [\(i)]: numeric \(numeric) analytic \(grad[i])")
            }
        }
    }

    @Test(arguments: models)
    func promptGradientMatchesFiniteDifferences(_ name: String) throws {
        let params = try Self.load(name)
        let E = params.config.embeddingSize, P = 3
        var picker = GradientCheck(seed: 12)
        let prompt = picker.values(P * E, scale: 0.05)
        let pass = try TrainingPass(params: params, sequences: Self.batch.map { .init(tokens: $0, prompted: true) }, promptRows: P)
        let frozen = GradientSet(params, trainable: .none)
        #expect(frozen.count == 0)
        var grad = [Float](repeating: 0, count: P * E)
        _ = grad.withMutablePointer { Self.gradients(pass, frozen, prompt: prompt, promptGradient: $0) }
        for i in stride(from: 0, to: P * E, by: 7) {
            var plus = prompt, minus = prompt
            plus[i] += 1e-3
            minus[i] -= 1e-3
            let numeric = (Self.loss(pass, prompt: plus) - Self.loss(pass, prompt: minus)) / 2e-3
            #expect(abs(numeric - Double(grad[i])) <= 2e-4 + 2e-2 * abs(numeric), "\(name) prompt[\(i)]: numeric \(numeric) analytic \(grad[i])")
        }
    }
}
