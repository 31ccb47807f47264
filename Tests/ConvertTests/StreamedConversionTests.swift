import Convert
import Foundation
import Formats
import Model
import Testing

/// HF → GGUF on a GPT-2 large enough that every streaming path takes several pieces: the embedding is read
/// and narrowed in many 64 KB chunks over several staging pieces and both threads, and Conv1D weights are
/// transposed in bands of source rows over both threads, the last band short and not a multiple of the
/// kernel's 8 rows (n_embd 516). Each f16 tensor must equal the element-wise codec
/// (`Half.fromFloat`, checked against numpy in FloatNarrowingTests) of the source, transposed where GPT-2
/// stores [in, out]; f32 tensors are copied bit for bit. (The small fixtures fit in one piece.)
@Suite struct StreamedConversionTests {
    @Test func largeTensorsMatchTheElementwiseCodec() throws {
        let (embd, inner, vocab, positions) = (516, 2048, 2048, 64)
        let folder = HuggingFaceConversionTests.temporary("streamed")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fixture = HuggingFaceConversionTests.fixtures + "/hf/gpt2/safetensors"
        for name in ["tokenizer.json", "tokenizer_config.json", "generation_config.json"] {
            try FileManager.default.copyItem(atPath: fixture + "/" + name, toPath: folder + "/" + name)
        }
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture + "/config.json"))) as! [String: Any]
        config.merge(["n_embd": embd, "n_inner": inner, "n_layer": 1, "n_head": 4, "n_positions": positions, "vocab_size": vocab]) { $1 }
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: folder + "/config.json"))

        let shapes: [(String, [Int])] = [
            ("wte.weight", [vocab, embd]), ("wpe.weight", [positions, embd]), ("ln_f.weight", [embd]), ("ln_f.bias", [embd]),
            ("h.0.ln_1.weight", [embd]), ("h.0.ln_1.bias", [embd]), ("h.0.attn.c_attn.weight", [embd, 3 * embd]),
            ("h.0.attn.c_attn.bias", [3 * embd]), ("h.0.attn.c_proj.weight", [embd, embd]), ("h.0.attn.c_proj.bias", [embd]),
            ("h.0.ln_2.weight", [embd]), ("h.0.ln_2.bias", [embd]), ("h.0.mlp.c_fc.weight", [embd, inner]),
            ("h.0.mlp.c_fc.bias", [inner]), ("h.0.mlp.c_proj.weight", [inner, embd]), ("h.0.mlp.c_proj.bias", [embd]),
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var values: [String: [Float]] = [:]
        let tensors = shapes.map { name, shape in
            let v = (0..<shape.reduce(1, *)).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(Int64(bitPattern: state >> 11) % 1_000_000) * 1e-7
            }
            values[name] = v
            return RawTensor(name: name, dtype: .f32, shape: shape, data: ByteView(owned: v.withUnsafeBytes { Array($0) }))
        }
        try SafetensorsWriter.write(tensors, to: folder + "/model.safetensors")

        let output = folder + "/out.gguf"
        _ = try HuggingFaceToGGUF.convert(input: folder, output: output, outtype: .f16, overwrite: false)
        let gguf = try GGUFFile(file: MappedFile(path: output))
        for (name, shape) in shapes {
            guard let (slot, layer) = TensorNames.parseHuggingFace(name, family: .gpt2),
                  let tensor = gguf.tensor(named: TensorNames.gguf(slot, layer: layer)) else {
                Issue.record("no GGUF tensor for \(name)")
                continue
            }
            var source = values[name]!
            if name.hasSuffix("c_attn.weight") || name.hasSuffix("c_proj.weight") || name.hasSuffix("c_fc.weight") {
                let (rows, cols) = (shape[0], shape[1])
                source = (0..<(rows * cols)).map { i in source[(i % rows) * cols + i / rows] }
            }
            var want: [UInt8] = []
            for v in source {
                if tensor.dtype == .f16 {
                    withUnsafeBytes(of: Half.fromFloat(v).littleEndian) { want += $0 }
                } else {
                    withUnsafeBytes(of: v.bitPattern.littleEndian) { want += $0 }
                }
            }
            let got = tensor.data.withUnsafeBytes { Array($0) }
            let firstDifference = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(got.count == want.count && firstDifference == nil,
                    "\(name) as \(tensor.dtype.name): \(got.count) bytes for \(want.count), first difference at \(String(describing: firstDifference))")
            #expect(tensor.dtype == (shape.count == 2 && name != "wpe.weight" ? .f16 : .f32), "\(name)")
        }
    }
}
