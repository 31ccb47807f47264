import Distill
import Formats
import Foundation
import Model
import Testing
import TestSupport

/// The GGUF LoRA adapter against llama.cpp's own convert_lora_to_gguf.py (fixtures/make_lora_gguf.py: the
/// converter run on each family's PEFT adapter, fixtures/lora/<name>/adapter.gguf): ckpt writes the same
/// tensors (names in the same order, types, shapes, bytes) and keys, and reads the converter's file back
/// to the adapter PEFT's folder holds. GPT-2 aside: see `gpt2ConverterTransposesTheAdapter`.
@Suite struct GGUFLoRAAdapterTests {
    static let root = LoRAReferenceTests.root
    static let models = LoRAReferenceTests.models.filter { $0 != "gpt2" }

    @Test(arguments: models)
    func writesWhatTheConverterWrites(_ name: String) throws {
        let (params, adapters) = try LoRAReferenceTests.load(name)
        let path = Scratch.path("lora-adapter.gguf")
        try GGUFLoRAAdapter.write(adapters, to: path, overwrite: false)
        let ours = try GGUFFile(path: path), theirs = try GGUFFile(path: Self.root + "/\(name)/adapter.gguf")
        for key in [GGUFKeys.architecture, GGUFKeys.type, GGUFKeys.adapterType] {
            #expect(ours[key]?.stringValue == theirs[key]?.stringValue, "\(name): \(key)")
        }
        #expect(ours.architecture == params.config.architecture)
        // The converter keeps PEFT's alpha even for rsLoRA (qwen3), which llama.cpp would scale by alpha/r.
        let alpha = try #require(theirs[GGUFKeys.adapterLoRAAlpha]?.doubleValue)
        let want = adapters.settings.rsLoRA ? alpha * Double(adapters.settings.rank).squareRoot() : alpha
        #expect(ours[GGUFKeys.adapterLoRAAlpha]?.doubleValue == want, "\(name): alpha")
        #expect(ours.tensorInfos.map(\.name) == theirs.tensorInfos.map(\.name), "\(name): names in the converter's order")
        for (a, b) in zip(ours.tensorInfos, theirs.tensorInfos) {
            #expect(a.dtype == b.dtype && a.ne == b.ne, "\(name): \(a.name)")
            #expect(ours.tensor(a).data.withUnsafeBytes { Array($0) } == theirs.tensor(b).data.withUnsafeBytes { Array($0) }, "\(name): \(a.name) bytes")
        }
    }

    @Test(arguments: models)
    func readsTheConvertersFile(_ name: String) throws {
        let (params, peft) = try LoRAReferenceTests.load(name)
        let gguf = try GGUFLoRAAdapter.read(path: Self.root + "/\(name)/adapter.gguf", config: params.config)
        #expect(gguf.keys == peft.keys && gguf.settings.rank == peft.settings.rank)
        #expect(Array(gguf.values) == Array(peft.values), "\(name): every matrix as PEFT's, B rows in GGUF order")
        #expect(gguf.settings.scale == Float(8.0 / 4.0), "\(name): the file's alpha over the rank, as llama.cpp scales")
        // LoRAAdapterFiles tells the two forms apart by what the path holds.
        let viaPath = try LoRAAdapterFiles.read(Self.root + "/\(name)/adapter.gguf", config: params.config)
        #expect(Array(viaPath.values) == Array(peft.values))
        #expect(try LoRAAdapterFiles.isLoRA(Self.root + "/\(name)/adapter.gguf"))
    }

    /// GPT-2's Conv1D weights are transposed on the way to GGUF, and the converter transposes the adapter's
    /// product with them by swapping and transposing its factors: its lora_a is Bᵀ [r, out] and its lora_b Aᵀ
    /// [in, r], which llama.cpp's loader refuses whenever in ≠ out ("tensor ... has incorrect shape"). ckpt
    /// writes A [r, in] and B [out, r] as for every family, and its reader refuses the converter's file the
    /// way llama.cpp does.
    @Test func gpt2ConverterTransposesTheAdapter() throws {
        let (params, adapters) = try LoRAReferenceTests.load("gpt2")
        let path = Scratch.path("lora-adapter.gguf")
        try GGUFLoRAAdapter.write(adapters, to: path, overwrite: false)
        let ours = try GGUFFile(path: path), theirs = try GGUFFile(path: Self.root + "/gpt2/adapter.gguf")
        #expect(Set(ours.tensorInfos.map(\.name)) == Set(theirs.tensorInfos.map(\.name)))
        let r = adapters.settings.rank
        func floats(_ f: GGUFFile, _ name: String) throws -> [Float] {
            try Quantization.dequantize(try #require(f.tensor(named: name)), path: f.path)
        }
        func transposed(_ x: [Float], rows: Int, cols: Int) -> [Float] {
            (0..<cols).flatMap { j in (0..<rows).map { i in x[i * cols + j] } }
        }
        for key in adapters.keys {
            let e = adapters.layout[key]!, names = LoRAAdapters.ggufNames(key)
            #expect(ours.tensorInfos.first { $0.name == names.a }?.shape == [r, e.inDim])
            #expect(try floats(theirs, names.a) == transposed(floats(ours, names.b), rows: e.outDim, cols: r), "\(names.a) = our Bᵀ")
            #expect(try floats(theirs, names.b) == transposed(floats(ours, names.a), rows: r, cols: e.inDim), "\(names.b) = our Aᵀ")
        }
        let error = #expect(throws: DistillError.self) { try GGUFLoRAAdapter.read(path: Self.root + "/gpt2/adapter.gguf", config: params.config) }
        #expect(error?.description.contains("this model needs") == true, "\(String(describing: error))")
    }

    @Test func refusesAdapterForAnotherModel() throws {
        let (_, adapters) = try LoRAReferenceTests.load("llama3")
        let (other, _) = try LoRAReferenceTests.load("qwen2")
        let path = Scratch.path("a.gguf")
        try GGUFLoRAAdapter.write(adapters, to: path, overwrite: false)
        let error = #expect(throws: DistillError.self) { try GGUFLoRAAdapter.read(path: path, config: other.config) }
        #expect(error?.description.contains("general.architecture") == true, "\(String(describing: error))")
        #expect(error?.description.contains(path) == true)
    }

    @Test func refusesNonAdapterGGUF() throws {
        let (params, _) = try LoRAReferenceTests.load("llama3")
        let path = Scratch.path("model.gguf")
        try GGUFWriter(metadata: [(GGUFKeys.architecture, .string("llama"))]).write(to: path)
        let error = #expect(throws: DistillError.self) { try GGUFLoRAAdapter.read(path: path, config: params.config) }
        #expect(error?.description.contains("'general.type' is missing") == true, "\(String(describing: error))")
    }
}
