import Formats
import Foundation
import Model

/// GGUF → Hugging Face folder: config.json, model.safetensors (sharded above `maxShardSize`, with the
/// index), tokenizer.json + tokenizer_config.json (byte-level BPE vocabularies) or tokenizer.model +
/// tokenizer_config.json (SentencePiece vocabularies), generation_config.json.
/// Tensors get their HF names and layouts back (inverse q/k permutation, Conv1D transpose), f32 (quantized
/// types dequantized bit-exactly with ggml) or the `dtype` asked for; tied embeddings are written once.
/// The folder is built under a temporary name and renamed when complete.
public enum GGUFToHuggingFace {
    public static func convert(input: String, output: String, dtype: DType = .f32, overwrite: Bool,
                               maxShardSize: Int = SafetensorsSharding.defaultMaxShardSize) throws(ConvertError) {
        let gguf: GGUFFile
        let config: TransformerConfig
        do {
            gguf = try GGUFFile(path: input)
            config = try TransformerConfig(gguf: gguf)
        } catch let error as FormatError {
            throw .format(error)
        } catch {
            throw .unsupportedInput(path: input, reason: "\(error)")
        }
        guard [.f32, .f16, .bf16].contains(dtype) else {
            throw .unsupportedInput(path: input, reason: "HF weights are written as f32, f16 or bf16, not \(dtype.name)")
        }
        let manager = FileManager.default
        if manager.fileExists(atPath: output) && !overwrite {
            throw .format(.io(path: output, reason: "already exists"))
        }
        let staging = output + ".ckpt-tmp-\(getpid())"
        try? manager.removeItem(atPath: staging)
        do {
            try manager.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw .format(.io(path: staging, reason: "cannot create: \(error)"))
        }
        do throws(ConvertError) {
            let tensors = try hfTensors(gguf, config: config, dtype: dtype)
            do {
                try SafetensorsSharding.write(tensors, folder: staging, maxShardSize: maxShardSize)
            } catch { throw .format(error) }
            let files = try HFFiles.build(gguf, config: config, dtype: dtype)
            for (name, bytes) in files {
                do {
                    let out = try AtomicOutput(path: staging + "/" + name, overwrite: true)
                    try out.write(bytes)
                    try out.commit()
                } catch { throw .format(error) }
            }
            if manager.fileExists(atPath: output) { try? manager.removeItem(atPath: output) }
            do { try manager.moveItem(atPath: staging, toPath: output) } catch {
                throw .format(.io(path: output, reason: "cannot rename the finished folder: \(error)"))
            }
        } catch {
            try? manager.removeItem(atPath: staging)
            throw error
        }
    }

    /// Every GGUF tensor under its HF name, in HF layout and `dtype`. Unknown names are an error.
    static func hfTensors(_ gguf: GGUFFile, config: TransformerConfig, dtype: DType) throws(ConvertError) -> [RawTensor] {
        var out: [RawTensor] = []
        for info in gguf.tensorInfos {
            guard let (slot, layer) = TensorNames.parseGGUF(info.name),
                  let bare = TensorNames.huggingFace(slot, layer: layer, family: config.family) else {
                throw .unsupportedInput(path: gguf.path, reason: "tensor '\(info.name)' has no Hugging Face name")
            }
            let name = config.family == .gpt2 ? "transformer." + bare : bare
            var values: [Float]
            do { values = try Quantization.dequantize(gguf.tensor(info), path: gguf.path, threads: 2) } catch { throw .format(error) }
            var shape = info.shape
            switch TensorNames.fixup(slot, family: config.family) {
            case .none:
                break
            case .transpose:
                if let t = values.withUnsafeBytes({ RowLayout.transpose($0, rows: shape[0], cols: shape[1], elementSize: 4) }) {
                    values = t.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                }
                shape.reverse()
            case .permuteHeads(let kv):
                let heads = kv ? config.kvHeadCount : config.headCount
                guard let p = values.withUnsafeBytes({ RowLayout.permuteHeads($0, rows: shape[0], heads: heads, inverse: true) }) else {
                    throw .unsupportedInput(path: gguf.path, reason: "tensor '\(info.name)' does not split into \(heads) heads")
                }
                values = p.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            }
            let bytes: [UInt8]
            if dtype == .f32 {
                bytes = values.withUnsafeBytes { Array($0) }
            } else {
                guard let encoded = values.withUnsafeBufferPointer({ Quantization.quantize($0, as: dtype) }) else {
                    throw .unsupportedInput(path: gguf.path, reason: "tensor '\(info.name)' cannot be written as \(dtype.name)")
                }
                bytes = encoded
            }
            out.append(RawTensor(name: name, dtype: dtype, shape: shape, data: ByteView(owned: bytes)))
        }
        return out
    }
}
