import Foundation
import Formats
import Model
import Testing
import TestSupport

/// The HF import path (names, q/k permutation, Conv1D transpose, safetensors, config.json) gives exactly
/// the parameters of the GGUF path: the tiny models of TransformerLogitsTests are written back in HF layout
/// (inverse fixups) and loaded again; the logits must be bit-identical.
@Suite struct HuggingFaceLoadingTests {
    static func hfFolder(from gguf: GGUFFile, config: TransformerConfig, configJSON: String, prefix: String) throws -> String {
        let folder = Scratch.path("hf")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var tensors: [RawTensor] = []
        for info in gguf.tensorInfos {
            let (slot, layer) = try #require(TensorNames.parseGGUF(info.name))
            let name = try #require(TensorNames.huggingFace(slot, layer: layer, family: config.family))
            let t = gguf.tensor(info)
            var bytes = t.data.array
            var shape = t.shape
            switch TensorNames.fixup(slot, family: config.family) {
            case .none: break
            case .transpose:
                bytes = try #require(bytes.withUnsafeBytes { RowLayout.transpose($0, rows: shape[0], cols: shape[1], elementSize: 4) })
                shape.reverse()
            case .addOne:
                bytes = try #require(bytes.withUnsafeBytes {
                    RowLayout.apply(.addOne, $0, shape: shape, elementSize: 4, config: config, toGGUF: false)
                })
            case .permuteHeads(let kv):
                bytes = try #require(bytes.withUnsafeBytes {
                    RowLayout.permuteHeads($0, rows: shape[0], heads: kv ? config.kvHeadCount : config.headCount, inverse: true)
                })
            }
            tensors.append(RawTensor(name: prefix + name, dtype: .f32, shape: shape, data: ByteView(owned: bytes)))
        }
        // Known buffers are skipped on import.
        if config.family == .gpt2 {
            tensors.append(RawTensor(name: prefix + "h.0.attn.bias", dtype: .f32, shape: [1], data: ByteView(owned: [0, 0, 0, 0])))
        }
        try SafetensorsSharding.write(tensors, folder: folder, maxShardSize: 40_000)
        try Data(configJSON.utf8).write(to: URL(fileURLWithPath: folder + "/config.json"))
        return folder
    }

    @Test(arguments: [("llama-gqa", ""), ("gpt2", "transformer."), ("gpt2", "")])
    func sameLogitsAsGGUF(_ name: String, _ prefix: String) throws {
        let model = try #require(TransformerLogitsTests.golden?["models"]?[name])
        let spec = try #require(model["spec"]?.arrayValue).compactMap { $0.uint64Value }.map { Int($0) }
        let path = Scratch.path("hfsrc.gguf")
        let isGPT2 = name.hasPrefix("gpt2")
        if isGPT2 {
            try TransformerLogitsTests.writeGPT2(spec, to: path)
        } else {
            try TransformerLogitsTests.writeModel(spec, theta: 10_000, tied: false, to: path)
        }
        let gguf = try GGUFFile(path: path)
        let fromGGUF = try ParameterSet.load(gguf: gguf)
        let c = fromGGUF.config
        let configJSON = isGPT2
            ? #"{"architectures": ["GPT2LMHeadModel"], "n_embd": \#(c.embeddingSize), "n_head": \#(c.headCount), "n_layer": \#(c.layerCount), "n_positions": 64, "n_inner": \#(c.feedForwardSize), "vocab_size": \#(c.vocabSize), "layer_norm_epsilon": 1e-05}"#
            : #"{"architectures": ["LlamaForCausalLM"], "hidden_size": \#(c.embeddingSize), "intermediate_size": \#(c.feedForwardSize), "num_hidden_layers": \#(c.layerCount), "num_attention_heads": \#(c.headCount), "num_key_value_heads": \#(c.kvHeadCount), "max_position_embeddings": 64, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "vocab_size": \#(c.vocabSize)}"#
        let folder = try Self.hfFolder(from: gguf, config: c, configJSON: configJSON, prefix: prefix)
        #expect(FileManager.default.fileExists(atPath: folder + "/model.safetensors.index.json"), "sharded on purpose")
        let fromHF = try ParameterSet.load(huggingFaceDirectory: folder)
        #expect(fromHF.config == c)
        #expect(Array(fromHF.storage) == Array(fromGGUF.storage))
        let tokens = [1, 5, 9, 2, 33, 17]
        #expect(try Transformer(fromHF).logits(tokens) == Transformer(fromGGUF).logits(tokens))
    }

    @Test func strictLoadingNamesWhatIsWrong() throws {
        let model = try #require(TransformerLogitsTests.golden?["models"]?["llama-tied"])
        let spec = try #require(model["spec"]?.arrayValue).compactMap { $0.uint64Value }.map { Int($0) }
        let path = Scratch.path("strict.gguf")
        try TransformerLogitsTests.writeModel(spec, theta: 100_000, tied: true, to: path)
        let gguf = try GGUFFile(path: path)
        let c = try TransformerConfig(gguf: gguf)
        let tensors = gguf.tensorInfos.map(gguf.tensor)
        func hf(_ t: [RawTensor]) -> [RawTensor] {
            t.compactMap { raw in
                guard let (slot, layer) = TensorNames.parseGGUF(raw.name),
                      let n = TensorNames.huggingFace(slot, layer: layer, family: .llama) else { return nil }
                return RawTensor(name: n, dtype: raw.dtype, shape: raw.shape, data: raw.data)
            }
        }
        // A missing tensor, an extra one, a wrong shape.
        let missing = hf(tensors).filter { $0.name != "model.layers.1.mlp.up_proj.weight" }
        #expect(throws: ModelError.missingTensors(path: "m", tensors: ["blk.1.ffn_up.weight"], total: 1)) {
            try ParameterSet.load(huggingFace: missing, config: c, path: "m")
        }
        let extra = hf(tensors) + [RawTensor(name: "model.layers.0.mystery.weight", dtype: .f32, shape: [1], data: ByteView(owned: [0, 0, 0, 0]))]
        #expect(throws: ModelError.unknownTensor(path: "m", tensor: "model.layers.0.mystery.weight")) {
            try ParameterSet.load(huggingFace: extra, config: c, path: "m")
        }
        var wrong = hf(tensors)
        let i = try #require(wrong.firstIndex { $0.name == "model.norm.weight" })
        wrong[i] = RawTensor(name: "model.norm.weight", dtype: .f32, shape: [4], data: ByteView(owned: [UInt8](repeating: 0, count: 16)))
        #expect(throws: ModelError.wrongShape(path: "m", tensor: "model.norm.weight", expected: [c.embeddingSize], found: [4])) {
            try ParameterSet.load(huggingFace: wrong, config: c, path: "m")
        }
        // The same weight twice (shards that overlap): refused, naming both, instead of the last one winning.
        let norm = try #require(hf(tensors).first { $0.name == "model.norm.weight" })
        #expect(throws: ModelError.duplicateTensor(path: "m", slot: "output_norm.weight", first: "model.norm.weight",
                                                   second: "model.norm.weight")) {
            try ParameterSet.load(huggingFace: hf(tensors) + [norm], config: c, path: "m")
        }
    }
}
