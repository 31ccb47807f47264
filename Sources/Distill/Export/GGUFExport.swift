import Formats
import Model

/// A trained model written back as GGUF: the source file's metadata (architecture, tokenizer, chat
/// template) with `general.file_type` set to ALL_F32, and every tensor as F32 from the parameter set, in
/// the source file's tensor order. `ckpt quantize` and `ckpt convert --to hf` take it from there.
public enum GGUFExport {
    /// llama.cpp's LLAMA_FTYPE_ALL_F32.
    static let allF32: UInt32 = 0

    public static func write(_ params: ParameterSet, source: GGUFFile, to path: String, overwrite: Bool) throws(DistillError) {
        var metadata = source.metadata.filter { $0.key != GGUFKeys.fileType && $0.key != GGUFKeys.quantizationVersion }
            .map { (key: $0.key, value: $0.value) }
        metadata.append((key: GGUFKeys.fileType, value: .uint32(allF32)))
        // Each source tensor is a parameter slot, or rotary data of the config copied as stored.
        var keys: [ParameterSet.Key?] = []
        var descriptors: [TensorDescriptor] = []
        for info in source.tensorInfos {
            if TensorNames.isRopeData(info.name) {
                keys.append(nil)
                descriptors.append(TensorDescriptor(name: info.name, dtype: info.dtype, shape: info.shape, byteCount: Int(info.byteCount)))
                continue
            }
            guard let (slot, layer) = TensorNames.parseGGUF(info.name), params.contains(slot, layer: layer) else {
                throw .model(.unknownTensor(path: source.path, tensor: info.name))
            }
            keys.append(ParameterSet.Key(slot, layer))
            let shape = params.layout[ParameterSet.Key(slot, layer)]!.shape
            descriptors.append(TensorDescriptor(name: info.name, dtype: .f32, shape: shape, byteCount: 4 * shape.reduce(1, *)))
        }
        do {
            try GGUFWriter(metadata: metadata).write(to: path, overwrite: overwrite, descriptors: descriptors) { i in
                guard let key = keys[i] else { return source.tensor(source.tensorInfos[i]).data }
                return ByteView(owned: Array(UnsafeRawBufferPointer(start: params.pointer(key.slot, layer: key.layer),
                                                                   count: descriptors[i].byteCount)))
            }
        } catch { throw .format(error) }
    }
}
