import Distill
import Formats
import Foundation
import Model
import Testing
import TestSupport

/// LoRA against PEFT itself (fixtures/make_lora.py: PEFT 0.21.2 on transformers 5.24, torch 2.15, r 4, alpha 8,
/// all linear layers, qwen3 with rsLoRA) on the tiny model of every family: PEFT's adapter folder imported,
/// the adapted logits, one batch's loss and every lora_A/lora_B gradient, and the adapter after clipping and
/// one AdamW step. Tolerance: 1e-4 of each tensor's largest magnitude.
@Suite struct LoRAReferenceTests {
    static let root = Repository.fixtures("lora")
    static let models = ["llama3", "mistral", "qwen2", "qwen3", "gemma3", "phi3", "phi4", "phi3-longrope", "gpt2"]

    static func expected(_ name: String) throws -> JSONValue { try JSONFile.read(root + "/\(name)/expected.json") }
    static func ints(_ value: JSONValue?) -> [Int] { (value?.arrayValue ?? []).compactMap { $0.int64Value }.map { Int($0) } }

    static func load(_ name: String) throws -> (ParameterSet, LoRAAdapters) {
        let golden = try expected(name)
        let model = Repository.fixtures(try #require(golden["model"]?.stringValue))
        let params = try ParameterSet.load(huggingFaceDirectory: model)
        return (params, try PEFTLoRAAdapter.read(folder: root + "/\(name)/adapter", config: params.config))
    }

    /// max |got − want| / max |want|.
    static func relative(_ got: [Float], _ want: [Float]) -> Float {
        guard got.count == want.count, !want.isEmpty else { return .infinity }
        let scale = want.map(abs).max()!
        return (zip(got, want).map { abs($0 - $1) }.max() ?? 0) / max(scale, 1e-30)
    }

    /// A golden file's tensor for one of ckpt's matrices, B rows moved to ckpt's (GGUF) order.
    static func golden(_ file: SafetensorsFile, _ key: LoRAAdapters.Key, b: Bool, _ c: TransformerConfig) throws -> [Float] {
        let names = try #require(PEFTLoRAAdapter.tensorNames(key, config: c))
        let tensor = try #require(file.tensor(named: b ? names.b : names.a), "\(b ? names.b : names.a)")
        let values = try Quantization.dequantize(tensor, path: file.file.path)
        guard b, case .permuteHeads = TensorNames.fixup(key.slot, family: c.family) else { return values }
        return try #require(RowLayout.apply(TensorNames.fixup(key.slot, family: c.family), to: values, shape: tensor.shape, config: c, toGGUF: true))
    }

    static func matrices(_ adapters: LoRAAdapters, _ key: LoRAAdapters.Key, gradients: Bool) -> (a: [Float], b: [Float]) {
        let e = adapters.layout[key]!, r = adapters.settings.rank
        let a = gradients ? adapters.gradientA(key) : adapters.a(key), b = gradients ? adapters.gradientB(key) : adapters.b(key)
        return (Array(UnsafeBufferPointer(start: a, count: r * e.inDim)), Array(UnsafeBufferPointer(start: b, count: e.outDim * r)))
    }

    @Test(arguments: models)
    func importsPEFTAdapter(_ name: String) throws {
        let golden = try Self.expected(name)
        let (params, adapters) = try Self.load(name)
        let c = params.config
        #expect(adapters.settings.rank == 4 && adapters.settings.alpha == 8)
        #expect(adapters.settings.scale == Float(golden["scaling"]?.doubleValue ?? 0), "\(name): scale")
        #expect(adapters.settings.targets == LoRATargets.linearSlots(c), "\(name): every linear layer adapted")
        #expect(adapters.keys.count == c.layerCount * adapters.settings.targets.count)
    }

    @Test(arguments: models)
    func logitsMatchPEFT(_ name: String) throws {
        let golden = try Self.expected(name)
        let (params, adapters) = try Self.load(name)
        let got = try Transformer(params, lora: adapters).logits(Self.ints(golden["tokens"]))
        let want = try Quantization.dequantize(try #require(SafetensorsFile(path: Self.root + "/\(name)/logits.safetensors").tensor(named: "logits")), path: name)
        let plain = try Transformer(params).logits(Self.ints(golden["tokens"]))
        #expect(Self.relative(plain, want) > 1e-2, "\(name): the adapter changes the logits")
        #expect(Self.relative(got, want) <= 1e-4, "\(name): \(Self.relative(got, want))")
    }

    /// Loss, every adapter gradient (base frozen), the clipped norm and one AdamW step, as PEFT + torch.
    @Test(arguments: models)
    func trainingStepMatchesPEFT(_ name: String) throws {
        let golden = try Self.expected(name)
        let (params, adapters) = try Self.load(name)
        let c = params.config
        let sequences = try #require(golden["batch_ids"]?.arrayValue).map { Self.ints($0) }
        let isTarget = try #require(golden["targets"]?.arrayValue).map { Self.ints($0).map { $0 == 1 } }
        let frozen = GradientSet(params, trainable: .none)
        let pass = try TrainingPass(params: params, sequences: sequences.map { .init(tokens: $0) }, lora: adapters)
        let logits = pass.forward()
        let targets = pass.targets(isTarget: isTarget)
        let count = targets.filter { $0 >= 0 }.count
        let loss = CrossEntropy.lossAndGradient(logits, targets: targets, vocab: c.vocabSize, scale: 1 / Float(count)) / Double(count)
        pass.backward(gradients: frozen)
        let wantLoss = try #require(golden["loss"]?.doubleValue)
        #expect(abs(loss - wantLoss) <= 1e-5 * wantLoss, "\(name) loss \(loss) vs \(wantLoss)")
        #expect(frozen.count == 0, "the base gets no gradient")

        let grads = try SafetensorsFile(path: Self.root + "/\(name)/grads.safetensors")
        #expect(grads.tensors.count == 2 * adapters.keys.count)
        for key in adapters.keys {
            let got = Self.matrices(adapters, key, gradients: true)
            let a = Self.relative(got.a, try Self.golden(grads, key, b: false, c))
            let b = Self.relative(got.b, try Self.golden(grads, key, b: true, c))
            #expect(a <= 1e-4 && b <= 1e-4, "\(name) \(key.slot) layer \(key.layer!): dA \(a), dB \(b)")
        }

        let regions = ParameterRegion.regions(adapters)
        let (norm, coefficient) = GradientClipping.clip(regions, maxNorm: Float(try #require(golden["clip"]?.doubleValue)))
        let wantNorm = Float(try #require(golden["grad_norm"]?.doubleValue))
        #expect(abs(norm - wantNorm) <= 1e-4 * wantNorm, "\(name) norm \(norm) vs \(wantNorm)")
        let lr = try #require(golden["lr"]?.doubleValue)
        let optimizer = AdamW(regions: regions, options: .init(weightDecay: try #require(golden["weight_decay"]?.doubleValue)))
        optimizer.update(lr: lr)
        // Adam's first step moves each element by lr·g/(|g| + ε) (bias corrections cancel), whose slope in g is
        // lr·ε/(|g| + ε)²: where PEFT's gradient is within a few ε of zero, the 1e-4 gradient agreement asserted
        // above allows that much more. Elsewhere the bound is 1e-4 of the tensor.
        let step1 = try SafetensorsFile(path: Self.root + "/\(name)/step1.safetensors")
        for key in adapters.keys {
            let got = Self.matrices(adapters, key, gradients: false)
            for (isB, values) in [(false, got.a), (true, got.b)] {
                let want = try Self.golden(step1, key, b: isB, c)
                let g = try Self.golden(grads, key, b: isB, c).map { $0 * coefficient }
                let scale = want.map(abs).max()!, gradientError = 1e-4 * (g.map(abs).max()!)
                let worst = values.indices.map { i -> Float in
                    let slope = Float(lr) * 1e-8 / ((abs(g[i]) + 1e-8) * (abs(g[i]) + 1e-8))
                    return abs(values[i] - want[i]) / (1e-4 * scale + slope * gradientError)
                }.max()!
                #expect(worst <= 1, "\(name) \(key.slot) layer \(key.layer!) \(isB ? "B" : "A") after one step: \(worst) of the bound")
            }
        }
    }

    /// --lora-targets: short names, module names and all-linear per family; fused matrices whole or not at all.
    @Test func targetNames() throws {
        func config(_ name: String) throws -> TransformerConfig { try Self.load(name).0.config }
        let llama = try config("llama3"), phi = try config("phi3"), gpt2 = try config("gpt2")
        #expect(try LoRATargets.resolve(["q", "v"], config: llama) == [.attnQ, .attnV])
        #expect(try LoRATargets.resolve(["down_proj", "q_proj"], config: llama) == [.attnQ, .ffnDown])
        #expect(try LoRATargets.resolve(["all-linear"], config: phi) == [.attnQKV, .attnOutput, .ffnUp, .ffnDown])
        #expect(try LoRATargets.resolve(["q", "k", "v", "gate", "up"], config: phi) == [.attnQKV, .ffnUp])
        #expect(try LoRATargets.resolve(["c_proj"], config: gpt2) == [.attnOutput, .ffnDown])
        #expect(throws: ModelError.invalidLoRA(option: "--lora-targets", reason: "phi3 fuses k, q, v into one layer (qkv_proj): adapt all of them or none")) {
            try LoRATargets.resolve(["q", "v"], config: phi)
        }
        #expect(throws: ModelError.self) { try LoRATargets.resolve(["gate"], config: gpt2) }
        #expect(throws: ModelError.self) { try LoRATargets.resolve(["lm_head"], config: llama) }
    }
}
