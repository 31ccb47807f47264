import Distill
import Foundation
import Formats
import Model
import Testing

/// QLoRA: LoRA adapters trained on a base that stays in its quantized GGUF form. The reference is the same
/// training on the f32 parameter set dequantized from that file (whose LoRA gradients LoRAReferenceTests ties
/// to PEFT): the frozen stored base must give the same logits and adapter gradients, bit for bit, while
/// holding the quantized blocks only. The model is the tiny llama widened to rows of 256 so that every K-quant applies.
@Suite(.serialized) struct QLoRATests {
    let cli = CommandLineTests()

    /// The tiny llama's vocabulary and template with hidden 256, FFN 512, 4 heads of 64, 2 KV heads, random weights.
    static let widePath: String = {
        let path = TinyModel.temporaryPath("wide.gguf")
        try? TinyModel.write(to: path) { metadata, tensors in
            let dims: [String: UInt32] = ["llama.embedding_length": 256, "llama.feed_forward_length": 512,
                                          "llama.attention.head_count": 4, "llama.attention.head_count_kv": 2]
            metadata = metadata.map { entry in dims[entry.key].map { (entry.key, .uint32($0)) } ?? entry }
            let vocab = tensors.first { $0.name == "token_embd.weight" }!.shape[0]
            var state: UInt64 = 0x5EED
            func next() -> Float {  // SplitMix64 → uniform in ±0.1
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return (Float((z ^ (z >> 31)) >> 40) / Float(1 << 24) - 0.5) * 0.2
            }
            tensors = tensors.map { t in
                let shape: [Int] = switch t.name.split(separator: ".").dropFirst(t.name.hasPrefix("blk.") ? 2 : 0).first.map(String.init) ?? "" {
                case "token_embd", "output": [vocab, 256]
                case "attn_q", "attn_output": [256, 256]
                case "attn_k", "attn_v": [128, 256]
                case "ffn_gate", "ffn_up": [512, 256]
                case "ffn_down": [256, 512]
                default: [256]  // norms
                }
                let values = shape.count == 1 ? [Float](repeating: 1, count: 256) : (0..<shape.reduce(1, *)).map { _ in next() }
                return RawTensor(name: t.name, dtype: .f32, shape: shape, data: ByteView(owned: values.withUnsafeBytes { Array($0) }))
            }
        }
        return path
    }()

    func quantized(_ type: String) throws -> String {
        let out = TinyModel.temporaryPath("wide-\(type).gguf")
        let r = try cli.run(["quantize", Self.widePath, out, type])
        #expect(r.code == 0, "\(r.stderr)")
        return out
    }

    /// max |got − want| / max |want|.
    static func relative(_ got: UnsafeBufferPointer<Float>, _ want: UnsafeBufferPointer<Float>) -> Float {
        let scale = want.map(abs).max() ?? 0
        return zip(got, want).map { abs($0 - $1) }.max()! / max(scale, 1e-30)
    }

    /// One forward and backward with random adapters on every linear layer: logits and adapter gradients.
    static func step(weights: ModelWeights, params: ParameterSet?) throws -> (logits: [Float], gradients: [Float]) {
        let c = weights.config
        let adapters = try LoRAAdapters(config: c, settings: LoRASettings(rank: 4, alpha: 8, targets: LoRATargets.linearSlots(c)))
        for i in adapters.values.indices { adapters.values[i] = Float((i * 7919) % 201 - 100) * 1e-3 }
        let sequences = [Array(stride(from: 3, to: 63, by: 5)), Array(stride(from: 40, to: 100, by: 4))]
        let pass = try TrainingPass(weights: weights, params: params, sequences: sequences.map { .init(tokens: $0) }, lora: adapters)
        let logits = pass.forward()
        let rows = pass.rowCount, V = c.vocabSize
        let got = Array(UnsafeBufferPointer(start: logits, count: rows * V))
        let targets = (0..<rows).map { ($0 * 13) % V }
        _ = CrossEntropy.lossAndGradient(logits, targets: targets, vocab: V, scale: 1 / Float(rows))
        pass.backward(gradients: GradientSet())
        return (got, Array(adapters.gradients))
    }

    @Test(arguments: ["Q4_K_M", "Q4_0", "Q8_0"])
    func frozenQuantizedBaseTrainsLikeItsDequantizedCopy(_ type: String) throws {
        let file = try GGUFFile(file: MappedFile(path: try quantized(type)))
        let stored = try ModelWeights.load(gguf: file), dequantized = try ParameterSet.load(gguf: file)
        let storedType = stored.matrix(.attnQ, layer: 0).dtype
        #expect(storedType.isQuantized, "\(type): attn_q stays \(storedType)")
        #expect(stored.byteCount * 3 < dequantized.count * 4, "\(type): \(stored.byteCount) bytes stored vs \(dequantized.count * 4) as f32")
        let qlora = try Self.step(weights: stored, params: nil)
        let reference = try Self.step(weights: ModelWeights(dequantized), params: dequantized)
        let logits = qlora.logits.withUnsafeBufferPointer { a in reference.logits.withUnsafeBufferPointer { Self.relative(a, $0) } }
        let grads = qlora.gradients.withUnsafeBufferPointer { a in reference.gradients.withUnsafeBufferPointer { Self.relative(a, $0) } }
        // Bit-identical: every matrix of this model fits one widened slice, so each product is the same sgemm
        // on the same f32 values (ggml's dequantization) as over the dequantized copy.
        #expect(logits == 0, "\(type): logits \(logits)")
        #expect(grads == 0, "\(type): adapter gradients \(grads)")
        #expect(reference.gradients.contains { $0 != 0 })
    }

    /// The command: finetune --lora-rank on a Q4_K_M file trains with the base as stored, says so, writes
    /// both adapter forms, and the adapters reproduce on resume.
    @Test func finetuneOnQuantizedBase() throws {
        let model = try quantized("Q4_K_M"), data = try TrainingCommandTests.dataFile()
        let run = TinyModel.temporaryPath("qlora-run")
        let r = try cli.run(["finetune", model, "--data", data, "--out", run, "--steps", "3", "--batch-size", "2",
                             "--lr", "1e-2", "--lora-rank", "4"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stderr.contains("(frozen, as stored)"), "\(r.stderr)")
        let config = try ModelWeights.load(gguf: GGUFFile(file: MappedFile(path: model))).config
        let peft = try PEFTLoRAAdapter.read(folder: run + "/adapter", config: config)
        let gguf = try GGUFLoRAAdapter.read(path: run + "/" + GGUFLoRAAdapter.fileName, config: config)
        #expect(Array(peft.values) == Array(gguf.values))
        #expect(peft.values.contains { $0 != 0 } && peft.keys.count == 7 * 2)
    }

    /// distill --lora-rank with a Q4_K_M student (QLoRA) and a Q8_0 teacher, both read as stored: PromptKD
    /// (prompt through the quantized teacher, student sampling, the student's adapters) runs, stops and
    /// resumes to the same losses and the same adapter bytes.
    @Test func distillIntoQuantizedStudent() throws {
        let student = try quantized("Q4_K_M"), teacher = try quantized("Q8_0"), data = try TrainingCommandTests.dataFile()
        let args = ["distill", "--teacher", teacher, "--student", student, "--data", data, "--batch-size", "2",
                    "--max-new-tokens", "6", "--prompt-len", "3", "--prompt-init", "text:the pieces", "--lr", "1e-3",
                    "--seed", "5", "--method", "promptkd", "--lora-rank", "2", "--steps", "3"]
        let straight = TinyModel.temporaryPath("qlora-distill"), stopped = TinyModel.temporaryPath("qlora-distill-stopped")
        let a = try cli.run(args + ["--out", straight])
        #expect(a.code == 0, "\(a.stderr)")
        #expect(a.stderr.contains("as stored, frozen"), "\(a.stderr)")
        #expect(try cli.run(args + ["--out", stopped, "--stop-after", "1"]).code == 0)
        #expect(try cli.run(args + ["--out", stopped, "--resume", stopped]).code == 0)
        let d = DistillCommandTests()
        #expect(try d.losses(straight).count == 3 && d.losses(straight) == d.losses(stopped))
        for file in ["adapter/adapter_model.safetensors", GGUFLoRAAdapter.fileName] {
            let x = FileManager.default.contents(atPath: straight + "/" + file)
            #expect(x != nil && x == FileManager.default.contents(atPath: stopped + "/" + file), "\(file)")
        }
    }
}
