import Formats
import Foundation
import Model

/// A LoRA adapter as llama.cpp loads it (`--lora FILE`, llama-cpp-python's `lora_path`), the file
/// convert_lora_to_gguf.py writes: general.architecture of the base, general.type "adapter", adapter.type
/// "lora", adapter.lora.alpha (f32), and per adapted weight `<gguf name>.lora_a` [r, in] and `.lora_b`
/// [out, r] (numpy order), B's rows in GGUF order (llama's q/k permuted like the weight).
/// llama.cpp scales B·A by alpha / r (1 when alpha is 0) and has no rsLoRA: an rsLoRA adapter (alpha / √r)
/// is written with alpha·√r, which gives llama.cpp the same scale. (convert_lora_to_gguf.py writes PEFT's
/// alpha unchanged, so its rsLoRA files are scaled by √r too little.)
public enum GGUFLoRAAdapter {
    /// The file every LoRA run folder holds beside its PEFT adapter folder.
    public static let fileName = "lora-adapter.gguf"

    /// The alpha that gives llama.cpp this adapter's scale (alpha / r, or alpha / √r with rsLoRA).
    static func fileAlpha(_ s: LoRASettings) -> Float { s.rsLoRA ? s.alpha * Float(s.rank).squareRoot() : s.alpha }

    /// Writes the adapter (atomically), tensors in the converter's order: sorted by the PEFT module name.
    public static func write(_ adapters: LoRAAdapters, to path: String, overwrite: Bool) throws(DistillError) {
        let c = adapters.config, r = adapters.settings.rank
        let metadata: [(key: String, value: GGUFValue)] = [
            (GGUFKeys.architecture, .string(c.architecture)), (GGUFKeys.type, .string("adapter")),
            (GGUFKeys.adapterType, .string("lora")), (GGUFKeys.name, .string("Adapter")),
            (GGUFKeys.adapterLoRAAlpha, .float32(fileAlpha(adapters.settings))), (GGUFKeys.quantizationVersion, .uint32(2)),
        ]
        let ordered = adapters.keys.sorted { PEFTLoRAAdapter.tensorNames($0, config: c)!.a < PEFTLoRAAdapter.tensorNames($1, config: c)!.a }
        var tensors: [RawTensor] = []
        for key in ordered {
            let e = adapters.layout[key]!, names = LoRAAdapters.ggufNames(key)
            for (name, start, shape) in [(names.a, adapters.a(key), [r, e.inDim]), (names.b, adapters.b(key), [e.outDim, r])] {
                let bytes = Array(UnsafeRawBufferPointer(start: start, count: shape.reduce(1, *) * 4))
                tensors.append(RawTensor(name: name, dtype: .f32, shape: shape, data: ByteView(owned: bytes)))
            }
        }
        do { try GGUFWriter(metadata: metadata, tensors: tensors).write(to: path, overwrite: overwrite) } catch { throw .format(error) }
    }

    /// Whether `path` is a GGUF file (by its magic) rather than a PEFT folder.
    public static func isGGUF(_ path: String) -> Bool { (try? CheckpointFormat.detect(path)) == .gguf }

    /// Reads a GGUF LoRA adapter for a model of config `c` (F32, F16, BF16 or Q8_0 matrices, as llama.cpp
    /// takes). Weights it leaves out of some layers get zero matrices there. The settings come back as
    /// plain LoRA with the file's alpha (rsLoRA is not recorded in the file; the scale is the same).
    public static func read(path: String, config c: TransformerConfig, dropout: Float = 0) throws(DistillError) -> LoRAAdapters {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw .format(error) }
        func bad(_ key: String, _ reason: String) -> DistillError { .invalidCheckpoint(path: path, reason: "'\(key)' \(reason)") }
        for (key, want) in [(GGUFKeys.type, "adapter"), (GGUFKeys.adapterType, "lora"), (GGUFKeys.architecture, c.architecture)] {
            let value = file[key]?.stringValue
            guard value == want else { throw bad(key, "is \(value.map { "\"\($0)\"" } ?? "missing"), this needs \"\(want)\"") }
        }
        guard let alpha = file[GGUFKeys.adapterLoRAAlpha]?.doubleValue, alpha.isFinite, alpha >= 0 else {
            throw bad(GGUFKeys.adapterLoRAAlpha, "must be a finite non-negative number")
        }
        var found: [LoRAAdapters.Key: (a: GGUFFile.TensorInfo?, b: GGUFFile.TensorInfo?)] = [:]
        let linear = Set(LoRATargets.linearSlots(c))
        for info in file.tensorInfos {
            let isA = info.name.hasSuffix(".lora_a")
            guard isA || info.name.hasSuffix(".lora_b") else {
                throw .invalidCheckpoint(path: path, reason: "tensor '\(info.name)' is not a lora_a/lora_b matrix")
            }
            guard let (slot, layer) = TensorNames.parseGGUF(String(info.name.dropLast(".lora_a".count))), layer != nil, linear.contains(slot) else {
                throw .invalidCheckpoint(path: path, reason: "tensor '\(info.name)': no such linear layer in this \(c.architecture) model")
            }
            let key = LoRAAdapters.Key(slot, layer)
            guard layer! < c.layerCount else { throw .invalidCheckpoint(path: path, reason: "tensor '\(info.name)': the model has \(c.layerCount) layers") }
            var pair = found[key] ?? (nil, nil)
            if isA { pair.a = info } else { pair.b = info }
            found[key] = pair
        }
        guard let first = found.values.first else { throw .invalidCheckpoint(path: path, reason: "no LoRA tensor") }
        // A is [r, in], B [out, r] (numpy order); every other matrix is checked against this rank below.
        let rank = first.a.map { $0.shape.count == 2 ? $0.shape[0] : 0 } ?? (first.b!.shape.count == 2 ? first.b!.shape[1] : 0)
        guard rank > 0 else { throw .invalidCheckpoint(path: path, reason: "'\((first.a ?? first.b)!.name)' has rank 0") }
        let settings = LoRASettings(rank: rank, alpha: alpha == 0 ? Float(rank) : Float(alpha), dropout: dropout, rsLoRA: false,
                                    targets: Array(Set(found.keys.map(\.slot))))
        let adapters: LoRAAdapters
        do { adapters = try LoRAAdapters(config: c, settings: settings) } catch { throw .model(error) }
        for (key, pair) in found {
            let e = adapters.layout[key]!, names = LoRAAdapters.ggufNames(key)
            for (info, isA) in [(pair.a, true), (pair.b, false)] {
                guard let info else {
                    throw .invalidCheckpoint(path: path, reason: "'\(isA ? names.b : names.a)' has no '\(isA ? names.a : names.b)'")
                }
                let want = isA ? [rank, e.inDim] : [e.outDim, rank]
                guard info.shape == want else {
                    throw .invalidCheckpoint(path: path, reason: "'\(info.name)' at offset \(info.infoOffset) is \(info.shape), this model needs \(want)")
                }
                guard [.f32, .f16, .bf16, .q8_0].contains(info.dtype) else {
                    throw .invalidCheckpoint(path: path, reason: "'\(info.name)' is \(info.dtype.name); LoRA matrices are F32, F16, BF16 or Q8_0")
                }
                let values: [Float]
                do { values = try Quantization.dequantize(file.tensor(info), path: path) } catch { throw .format(error) }
                if let i = values.firstIndex(where: { !$0.isFinite }) {
                    throw .invalidCheckpoint(path: path, reason: "'\(info.name)' holds \(values[i]) at element \(i)")
                }
                values.withUnsafeBufferPointer { (isA ? adapters.a(key) : adapters.b(key)).update(from: $0.baseAddress!, count: $0.count) }
            }
        }
        return adapters
    }
}
