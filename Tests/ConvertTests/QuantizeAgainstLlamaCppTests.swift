import Convert
import Foundation
import Formats
import Testing
import TestSupport

/// `ckpt quantize` against llama.cpp's own quantizer (fixtures/make_quantize_model.py ran
/// llama_model_quantize on the same synthetic llama model): for every type of the menu, the output file
/// is byte-identical, so every tensor's type choice (mixes, output rule, fallbacks), every byte and the
/// metadata agree.
@Suite(.serialized) struct QuantizeAgainstLlamaCppTests {
    static let layers = 8, hidden = 256, heads = 4, kvHeads = 1, ffn = 320, vocab = 64

    static let golden: JSONValue? = try? Repository.json("quants/quantize_model.json")

    /// The generator of make_quantize_model.py: exact in float32.
    static func lcg(seed: UInt32, rows: Int, cols: Int) -> [Float] {
        var s = seed
        var out = [Float](repeating: 0, count: rows * cols)
        for i in 0..<(rows * cols) {
            s = s &* 1_664_525 &+ 1_013_904_223
            let scale = Float(1 << ((i / cols) % 3))
            out[i] = Float(Int32(s >> 8) - 8_388_608) * 0x1p-26 * scale
        }
        return out
    }

    static func f32(_ name: String, _ values: [Float], _ shape: [Int]) -> RawTensor {
        RawTensor(name: name, dtype: .f32, shape: shape,
                  data: ByteView(owned: values.withUnsafeBytes { Array($0) }))
    }

    /// Writes the model with ckpt's GGUFWriter; the test first checks it is gguf-py's file to the byte.
    static func writeModel(to path: String) throws {
        var tensors: [RawTensor] = []
        var seed: UInt32 = 1
        func add(_ name: String, _ rows: Int, _ cols: Int) {
            tensors.append(f32(name, lcg(seed: seed, rows: rows, cols: cols), [rows, cols]))
            seed += 1
        }
        let ones = [Float](repeating: 1, count: hidden)
        add("token_embd.weight", vocab, hidden)
        tensors.append(f32("output_norm.weight", ones, [hidden]))
        add("output.weight", vocab, hidden)
        for i in 0..<layers {
            tensors.append(f32("blk.\(i).attn_norm.weight", ones, [hidden]))
            add("blk.\(i).attn_q.weight", 64, hidden)
            add("blk.\(i).attn_k.weight", 16, hidden)
            add("blk.\(i).attn_v.weight", 16, hidden)
            add("blk.\(i).attn_output.weight", 64, hidden)
            tensors.append(f32("blk.\(i).ffn_norm.weight", ones, [hidden]))
            add("blk.\(i).ffn_gate.weight", 32, hidden)
            add("blk.\(i).ffn_up.weight", 32, hidden)
            add("blk.\(i).ffn_down.weight", 32, ffn)
        }
        let metadata: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .string("llama")),
            ("general.name", .string("ckpt quantize fixture")),
            ("llama.context_length", .uint32(128)),
            ("llama.embedding_length", .uint32(UInt32(hidden))),
            ("llama.block_count", .uint32(UInt32(layers))),
            ("llama.feed_forward_length", .uint32(UInt32(ffn))),
            ("llama.attention.head_count", .uint32(UInt32(heads))),
            ("llama.attention.head_count_kv", .uint32(UInt32(kvHeads))),
            ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)),
            ("llama.rope.dimension_count", .uint32(UInt32(hidden / heads))),
            ("general.file_type", .uint32(0)),
        ]
        try GGUFWriter(metadata: metadata, tensors: tensors).write(to: path, overwrite: true)
    }

    static let modelPath: String = {
        let path = Scratch.path("quantize-model.gguf")
        try? writeModel(to: path)
        return path
    }()

    static func sha256(_ path: String) throws -> String {
        SHA256Digest.hex([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test func inputIsGGUFPysFile() throws {
        #expect(try Self.sha256(Self.modelPath) == Self.golden?["input_sha256"]?.stringValue)
    }

    static let types: [String] = LlamaFileType.menu.map(\.name)

    @Test(arguments: types)
    func sameFileAsLlamaQuantize(_ type: String) throws {
        let want = try #require(Self.golden?["types"]?[type], "no golden for \(type)")
        var options = QuantizeOptions(fileType: try #require(LlamaFileType.named(type)))
        options.threads = 2
        let out = Scratch.path("q-\(type).gguf")
        defer { try? FileManager.default.removeItem(atPath: out) }
        if want["refused"] != nil {
            // llama.cpp refuses this type without an importance matrix; so does ckpt, before writing anything.
            do {
                try GGUFQuantizer.run(input: Self.modelPath, output: out, options: options) { _ in }
                Issue.record("\(type): quantized without an imatrix")
            } catch {
                #expect(error.kind == "imatrixRequired" && !FileManager.default.fileExists(atPath: out), "\(type): \(error)")
            }
            return
        }
        try GGUFQuantizer.run(input: Self.modelPath, output: out, options: options) { _ in }
        try Self.expectSame(out, as: want, type)
    }

    /// `out` against a golden entry: every tensor's name, type and bytes in order (the first difference named),
    /// then the whole file's sha256.
    static func expectSame(_ out: String, as want: JSONValue, _ key: String) throws {
        let got = try GGUFFile(path: out)
        let tensors = try #require(want["tensors"]?.arrayValue)
        #expect(got.tensorInfos.count == tensors.count)
        for (info, row) in zip(got.tensorInfos, tensors) {
            let fields = row.arrayValue ?? []
            #expect(info.name == fields.first?.stringValue)
            #expect(info.dtype.name == fields.dropFirst().first?.stringValue, "\(key): \(info.name)")
            #expect(SHA256Digest.hex(got.tensor(info).data.array) == fields.last?.stringValue, "\(key): \(info.name) bytes")
        }
        #expect(try sha256(out) == want["sha256"]?.stringValue, "\(key): whole file")
    }
}

/// llama-quantize's flags (--pure, --leave-output-tensor, --output-tensor-type, --token-embedding-type,
/// --tensor-type) against llama.cpp with the same parameters: byte-identical files.
@Suite struct QuantizeFlagsAgainstLlamaCppTests {
    static let variants: [String] = (QuantizeAgainstLlamaCppTests.golden?["variants"]?.objectValue ?? []).map(\.0)

    @Test func variantsAreLoaded() { #expect(Self.variants.count == 6) }

    @Test(arguments: variants)
    func sameFileAsLlamaQuantize(_ key: String) throws {
        let variant = try #require(QuantizeAgainstLlamaCppTests.golden?["variants"]?[key])
        let flags = try #require(variant["flags"])
        var options = QuantizeOptions(fileType: try #require(LlamaFileType.named(variant["type"]?.stringValue ?? "")))
        options.pure = flags["pure"]?.boolValue ?? false
        options.quantizeOutputTensor = !(flags["leave_output"]?.boolValue ?? false)
        options.outputTensorType = flags["output_type"]?.stringValue.flatMap { DType(ggmlName: $0) }
        options.tokenEmbeddingType = flags["embedding_type"]?.stringValue.flatMap { DType(ggmlName: $0) }
        options.tensorTypes = try (flags["tensor_types"]?.arrayValue ?? []).map { pair in
            let p = pair.arrayValue ?? []
            return try TensorTypeOverride(argument: "\(p[0].stringValue ?? "")=\(p[1].stringValue ?? "")")
        }
        let out = Scratch.path("v-\(key).gguf")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try GGUFQuantizer.run(input: QuantizeAgainstLlamaCppTests.modelPath, output: out, options: options) { _ in }
        #expect(try QuantizeAgainstLlamaCppTests.sha256(out) == variant["sha256"]?.stringValue, "\(key)")
    }
}
