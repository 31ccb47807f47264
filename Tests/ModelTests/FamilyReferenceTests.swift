import Foundation
import Formats
import Model
import Testing
import TestSupport

/// Every family of the registry against transformers itself (fixtures/make_families.py: tiny random Llama 3
/// with llama3 rope scaling, Mistral with explicit head_dim, Qwen2, Qwen3, Gemma 3 with its sliding window,
/// Phi-3, Phi-4-mini-shaped partial rotary, Phi-3 longrope, Qwen2 with yarn; torch 2.15, transformers 5.24, eager attention):
/// logits within 1e-4 of the logit scale, KV-cache decoding equal to the full forward, and one training
/// batch's loss and every parameter gradient within 1e-4 relative.
@Suite struct FamilyReferenceTests {
    static let root = Repository.fixtures("families")
    static let models = ["llama3", "mistral", "qwen2", "qwen3", "gemma3", "phi3", "phi4", "phi3-longrope", "qwen2-yarn"]

    static func expected(_ name: String) throws -> JSONValue { try JSONFile.read(root + "/\(name)/expected.json") }
    static func ints(_ value: JSONValue?) -> [Int] { (value?.arrayValue ?? []).compactMap { $0.int64Value }.map { Int($0) } }

    static func worst(_ got: [Float], _ want: [Float]) -> Float {
        guard got.count == want.count else { return .infinity }
        let scale = want.map(abs).max() ?? 1
        return (zip(got, want).map { abs($0 - $1) }.max() ?? .infinity) / scale
    }

    @Test(arguments: models)
    func logitsMatchTransformers(_ name: String) throws {
        let golden = try Self.expected(name)
        let transformer = Transformer(try ParameterSet.load(huggingFaceDirectory: Self.root + "/" + name))
        let got = try transformer.logits(Self.ints(golden["tokens"]))
        let want = Hex.floats(golden["logits"]?.stringValue ?? "")
        #expect(Self.worst(got, want) <= 1e-4, "\(name): max |Δ| / scale \(Self.worst(got, want))")
        if let long = golden["long_tokens"] {  // longrope past the original context: the long factors
            let got = try transformer.logits(Self.ints(long))
            let want = Hex.floats(golden["long_logits"]?.stringValue ?? "")
            #expect(Self.worst(got, want) <= 1e-4, "\(name) long: \(Self.worst(got, want))")
        }
    }

    /// Prefill then one token at a time through the KV cache gives the full forward's rows (sliding windows,
    /// q/k norms and partial rotary included).
    @Test(arguments: models)
    func cachedDecodingEqualsFullForward(_ name: String) throws {
        let tokens = Self.ints(try Self.expected(name)["tokens"])
        let transformer = Transformer(try ParameterSet.load(huggingFaceDirectory: Self.root + "/" + name))
        let V = transformer.config.vocabSize
        let full = try transformer.logits(tokens)
        let cache = KVCache(config: transformer.config, capacity: tokens.count)
        var rows = try transformer.forward(Array(tokens.prefix(5)), cache: cache)
        for t in 5..<tokens.count { rows += try transformer.forward([tokens[t]], cache: cache) }
        let diff = zip(rows, full).map { abs($0 - $1) }.max() ?? .infinity
        #expect(rows.count == tokens.count * V && diff <= 1e-4, "\(name): \(diff)")
    }

    /// transformers' CausalLM loss on the right-padded batch = ckpt's masked token mean on the packed one;
    /// every gradient in GGUF layout (q/k rows permuted for llama; Gemma's norm offset does not change a gradient).
    @Test(arguments: models)
    func gradientsMatchPyTorch(_ name: String) throws {
        let golden = try Self.expected(name)
        let params = try ParameterSet.load(huggingFaceDirectory: Self.root + "/" + name)
        let c = params.config
        let sequences = try #require(golden["batch_ids"]?.arrayValue).map { Self.ints($0) }
        let isTarget = try #require(golden["targets"]?.arrayValue).map { Self.ints($0).map { $0 == 1 } }
        let grads = GradientSet(params, trainable: .all)
        let pass = try TrainingPass(params: params, sequences: sequences.map { .init(tokens: $0) })
        let logits = pass.forward()
        let targets = pass.targets(isTarget: isTarget)
        let count = targets.filter { $0 >= 0 }.count
        let loss = CrossEntropy.lossAndGradient(logits, targets: targets, vocab: c.vocabSize, scale: 1 / Float(count)) / Double(count)
        pass.backward(gradients: grads)
        let wantLoss = golden["loss"]?.doubleValue ?? .nan
        #expect(abs(loss - wantLoss) <= 1e-5 * wantLoss, "\(name) loss \(loss) vs \(wantLoss)")

        let file = try SafetensorsFile(path: Self.root + "/\(name)/grads.safetensors")
        var seen = Set<ParameterSet.Key>()
        for tensor in file.tensors {
            let (slot, layer) = try #require(TensorNames.parseHuggingFace(tensor.name, family: c.family), "\(tensor.name)")
            var fixup = TensorNames.fixup(slot, family: c.family)
            if fixup == .addOne { fixup = .none }
            let values = try Quantization.dequantize(tensor, path: name)
            let want = try #require(RowLayout.apply(fixup, to: values, shape: tensor.shape, config: c, toGGUF: true))
            let got = try #require(grads.pointer(slot, layer: layer), "\(tensor.name) has no gradient")
            var diff: Float = 0, scale: Float = 0
            for i in want.indices {
                diff = max(diff, abs(got[i] - want[i]))
                scale = max(scale, abs(want[i]))
            }
            #expect(diff <= 1e-4 * max(scale, 1e-6), "\(name) \(tensor.name): |Δ| \(diff), scale \(scale)")
            seen.insert(ParameterSet.Key(slot, layer))
        }
        #expect(seen == Set(grads.keys), "\(name): gradients compared for every trainable slot")
    }

    /// The registry decodes each folder to its recipe (spot checks of what each family is about).
    @Test func recipes() throws {
        func config(_ name: String) throws -> TransformerConfig {
            try TransformerConfig(huggingFace: JSONFile.read(Self.root + "/\(name)/config.json"), path: name)
        }
        let gemma = try config("gemma3")
        #expect(gemma.architecture == "gemma3" && gemma.mlp == .geglu && gemma.qkNorm && gemma.postNorms)
        #expect(gemma.slidingLayers == [true, true, false] && gemma.slidingWindow == 4 && gemma.localRope?.theta == 10_000)
        #expect(gemma.embeddingScale == Float(32).squareRoot() && gemma.scoreScale == 1 / Float(24).squareRoot())
        let phi4 = try config("phi4")
        #expect(phi4.fusedQKV && phi4.fusedGateUp && phi4.rope(layer: 0)?.dimensions == 12 && phi4.headDim == 16)
        let qwen2 = try config("qwen2")
        #expect(qwen2.qkvBias && !qwen2.outputBias && qwen2.rope(layer: 0)?.layout == .halves)
        let mistral = try config("mistral")
        #expect(mistral.architecture == "llama" && mistral.headDim == 16 && mistral.queryWidth == 64)
        guard case .divisors(let d) = try config("llama3").rope(layer: 0)?.scaling else {
            Issue.record("llama3 scaling not decoded")
            return
        }
        #expect(d.count == 4 && d[0] == 1 && d[2] == 8 && d[3] == 8 && d[1] > 1 && d[1] < 8)
        guard case .yarn(let yarn) = try config("qwen2-yarn").rope(layer: 0)?.scaling else {
            Issue.record("qwen2-yarn scaling not decoded")
            return
        }
        #expect(yarn == YarnScaling(factor: 4, originalContext: 1024))
    }

    /// The yarn frequencies and attention factor equal transformers' buffers (expected.json's rope record:
    /// inv_freq, attention_scaling) for the fixture, whose pairs are kept, ramped and divided.
    @Test func yarnFrequenciesMatchTransformers() throws {
        let rope = try #require(try Self.expected("qwen2-yarn")["rope"])
        let yarn = YarnScaling(factor: 4, originalContext: 1024)
        let range = yarn.correctionRange(dimensions: 16, theta: 10_000)
        #expect(range.low == 1 && range.high == 5)
        let divisors = yarn.divisors(dimensions: 16, theta: 10_000)
        let got = divisors.indices.map { Float(pow(10_000.0, -2 * Double($0) / 16) / Double(divisors[$0])) }
        let want = (rope["inv_freq"]?.arrayValue ?? []).compactMap { $0.doubleValue }.map { Float($0) }
        #expect(want.count == 8 && Self.worst(got, want) <= 1e-6, "\(got) vs \(want)")
        #expect(Double(yarn.resolvedAttentionFactor) == Double(Float(rope["attention_scaling"]?.doubleValue ?? 0)))
    }

    /// Qwen2.5's published long-context form (transformers 4.x `rope_scaling` with `type`), and a config whose
    /// original context is only implied by the top-level max_position_embeddings with an explicit factor.
    @Test func yarnConfigFormsAreRead() throws {
        func scaling(_ rope: String, extra: String = "") throws -> RotaryEmbedding.Scaling? {
            let text = #"{"architectures": ["Qwen2ForCausalLM"], "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4, "max_position_embeddings": 32768, "vocab_size": 10, "rope_theta": 1000000.0, "#
                + extra + #""rope_scaling": "# + rope + "}"
            return try TransformerConfig(huggingFace: JSONParser.parse(Array(text.utf8)), path: "c.json").rope(layer: 0)?.scaling
        }
        #expect(try scaling(#"{"factor": 4.0, "original_max_position_embeddings": 32768, "type": "yarn"}"#)
                == .yarn(YarnScaling(factor: 4, originalContext: 32768)))
        #expect(try scaling(#"{"factor": 2.0, "rope_type": "yarn", "beta_fast": 16, "attention_factor": 1.5}"#)
                == .yarn(YarnScaling(factor: 2, originalContext: 32768, betaFast: 16, attentionFactor: 1.5)))
        #expect(try scaling(#"{"rope_type": "yarn", "original_max_position_embeddings": 8192}"#)
                == .yarn(YarnScaling(factor: 4, originalContext: 8192)))
        #expect(throws: ModelError.invalidValue(path: "c.json", key: "rope_scaling.mscale", reason: "yarn with mscale is not supported")) {
            try scaling(#"{"rope_type": "yarn", "factor": 40, "mscale": 1.0, "mscale_all_dim": 1.0}"#)
        }
    }

    /// GGUF keeps Llama 3's rope scaling as divisors only; config.json needs the parameters back. Llama 3.1's
    /// (head 128, θ 500 000, factor 8, 1, 4, 8192) and 3.2's (factor 32) come back exactly.
    @Test(arguments: [(8.0, 128), (32.0, 64)])
    func llama3ParametersAreRecoveredFromDivisors(_ factor: Double, _ dims: Int) throws {
        let d = RopeScalingMath.llama3Divisors(dimensions: dims, theta: 500_000, factor: factor, lowFrequencyFactor: 1,
                                               highFrequencyFactor: 4, originalContext: 8192)
        #expect(d.filter { $0 > 1 && $0 < Float(factor) }.count >= 2)
        let p = try #require(RopeScalingMath.llama3Parameters(divisors: d, dimensions: dims, theta: 500_000))
        #expect(p.factor == factor && p.low == 1 && p.high == 4 && p.originalContext == 8192)
        // Not llama3-shaped: a divisor below 1, or none above it.
        #expect(RopeScalingMath.llama3Parameters(divisors: [0.5, 1, 1, 1], dimensions: 8, theta: 10_000) == nil)
        #expect(RopeScalingMath.llama3Parameters(divisors: [1, 1, 1, 1], dimensions: 8, theta: 10_000) == nil)
    }

    @Test func unsupportedRopeScalingIsNamed() throws {
        let json = try JSONParser.parse(Array(#"{"architectures": ["Qwen2ForCausalLM"], "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4, "max_position_embeddings": 64, "vocab_size": 10, "rope_scaling": {"rope_type": "dynamic", "factor": 2.0}}"#.utf8))
        #expect(throws: ModelError.invalidValue(path: "c.json", key: "rope_scaling.rope_type",
                                                reason: "rope scaling 'dynamic' is not supported (supported: default, linear, llama3, longrope, yarn)")) {
            try TransformerConfig(huggingFace: json, path: "c.json")
        }
    }
}
