import Formats
import Foundation
import Model

/// GGUF → Hugging Face folder: config.json, model.safetensors (sharded above `maxShardSize`, with the
/// index), tokenizer.json + tokenizer_config.json (byte-level BPE vocabularies) or tokenizer.model +
/// tokenizer_config.json (SentencePiece vocabularies), generation_config.json.
/// Tensors get their HF names and layouts back (inverse q/k permutation, Conv1D transpose), f32 (quantized
/// types dequantized bit-exactly with ggml) or the `dtype` asked for; tied embeddings are written once.
/// Tensors are produced and written one at a time (peak memory: about one tensor in f32). The folder is
/// built under a temporary name and renamed when complete.
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
        guard DType.weightFloats.contains(dtype) else {
            throw .unsupportedInput(path: input, reason: "HF weights are written as f32, f16 or bf16, not \(dtype.name)")
        }
        let manager = FileManager.default
        if manager.fileExists(atPath: output) && !overwrite {
            throw .format(.io(path: output, reason: "already exists"))
        }
        let staging = output + ".ckpt-tmp-\(getpid())"
        try? manager.removeItem(atPath: staging)
        // Staging folders of killed earlier runs (their process is gone) are removed too.
        let parent = (output as NSString).deletingLastPathComponent
        AtomicOutput.removeLeftovers(in: parent.isEmpty ? "." : parent, prefix: (output as NSString).lastPathComponent + ".ckpt-tmp-")
        do {
            try manager.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw .format(.io(path: staging, reason: "cannot create: \((error as NSError).underlyingErrorReason)"))
        }
        do throws(ConvertError) {
            let plan = try tensorPlan(gguf, config: config)
            let descriptors = plan.map { p in
                TensorDescriptor(name: p.name, dtype: dtype, shape: p.shape, byteCount: p.shape.reduce(1, *) * dtype.bytesPerBlock)
            }
            var failure: ConvertError?
            do {
                try SafetensorsStreaming.write(descriptors, folder: staging, maxShardSize: maxShardSize, overwrite: true) { (i) throws(FormatError) -> ByteView in
                    do throws(ConvertError) {
                        return try tensorData(plan[i], gguf: gguf, config: config, dtype: dtype)
                    } catch {
                        failure = error
                        throw FormatError.unencodable(path: output, what: "tensor '\(plan[i].name)'", reason: "\(error)")
                    }
                }
            } catch { throw failure ?? .format(error) }
            let files = try HFFiles.build(gguf, config: config, dtype: dtype)
            for (name, bytes) in files {
                do {
                    let out = try AtomicOutput(path: staging + "/" + name, overwrite: true)
                    try out.write(bytes)
                    try out.commit()
                } catch { throw .format(error) }
            }
            // The folder it replaces is renamed aside first and removed last: deleting it in place, file by
            // file, let a kill leave half of it (scripts/soak). A kill between the renames leaves no output and
            // the old folder under a leftover name, which the next write removes.
            let replaced = staging + "-old"
            let hadOutput = manager.fileExists(atPath: output)
            if hadOutput, rename(output, replaced) != 0 {
                throw .format(.io(path: output, reason: "cannot move the old folder aside: \(MappedFile.errnoText())"))
            }
            guard rename(staging, output) == 0 else {
                let reason = MappedFile.errnoText()
                if hadOutput { _ = rename(replaced, output) }
                throw .format(.io(path: output, reason: "cannot rename the finished folder: \(reason)"))
            }
            if hadOutput { try? manager.removeItem(atPath: replaced) }
        } catch {
            try? manager.removeItem(atPath: staging)
            throw error
        }
    }

    struct PlannedTensor {
        let info: GGUFFile.TensorInfo
        let name: String
        /// HF layout, numpy order.
        let shape: [Int]
        let fixup: TensorNames.Fixup
        let slot: TensorNames.Slot
    }

    /// Every GGUF tensor's HF name and shape, decided before any data is read. Unknown names are an error.
    static func tensorPlan(_ gguf: GGUFFile, config: TransformerConfig) throws(ConvertError) -> [PlannedTensor] {
        var plan: [PlannedTensor] = []
        for info in gguf.tensorInfos where !TensorNames.isRopeData(info.name) {  // rotary data: config.json's rope_scaling
            guard let (slot, layer) = TensorNames.parseGGUF(info.name),
                  let bare = TensorNames.huggingFace(slot, layer: layer, family: config.family) else {
                throw .unsupportedInput(path: gguf.path, reason: "tensor '\(info.name)' has no Hugging Face name")
            }
            let fixup = TensorNames.fixup(slot, family: config.family)
            var shape = info.shape
            if fixup == .transpose { shape.reverse() }
            plan.append(PlannedTensor(info: info, name: (config.family.exportHuggingFacePrefix ?? "") + bare,
                                      shape: shape, fixup: fixup, slot: slot))
        }
        return plan
    }

    /// One tensor in HF layout and `dtype`; the GGUF pages it came from are released afterwards.
    static func tensorData(_ p: PlannedTensor, gguf: GGUFFile, config: TransformerConfig, dtype: DType) throws(ConvertError) -> ByteView {
        let raw = gguf.tensor(p.info)
        defer { raw.data.releasePages() }
        if p.fixup == .none, dtype == .f32, let direct = widenInPlace(raw, shape: p.info.shape) { return direct }
        let widened: [Float]
        do { widened = try Quantization.dequantize(raw, path: gguf.path, threads: 2) } catch { throw .format(error) }
        guard let values = RowLayout.apply(p.fixup, to: widened, shape: p.info.shape, config: config, toGGUF: false) else {
            throw .unsupportedInput(path: gguf.path, reason: "tensor '\(p.info.name)' of shape \(p.info.shape) does not fit its layout change")
        }
        if dtype == .f32 { return ByteView(owned: values.withUnsafeBytes { Array($0) }) }
        guard let encoded = values.withUnsafeBufferPointer({ Quantization.quantize($0, as: dtype, threads: 2) }) else {
            throw .unsupportedInput(path: gguf.path, reason: "tensor '\(p.info.name)' cannot be written as \(dtype.name)")
        }
        return ByteView(owned: encoded)
    }

    /// A tensor without a layout fixup widened straight into the output bytes (one copy of the tensor in
    /// memory, not two), with the kernels' ggml-exact widening; nil for types they do not cover.
    static func widenInPlace(_ raw: RawTensor, shape: [Int]) -> ByteView? {
        let cols = shape.last ?? 1, rows = max(1, shape.dropLast().reduce(1, *))
        let bytes: [UInt8]? = raw.data.withUnsafeBytes { src in
            guard let base = src.baseAddress, let w = WeightMatrix(dtype: raw.dtype, base: base, rows: rows, cols: cols),
                  src.count >= rows * w.rowBytes else { return nil }
            return [UInt8](unsafeUninitializedCapacity: rows * cols * 4) { out, filled in
                w.widenRows(0..<rows, into: UnsafeMutableRawPointer(out.baseAddress!).assumingMemoryBound(to: Float.self))
                filled = rows * cols * 4
            }
        }
        return bytes.map { ByteView(owned: $0) }
    }
}
