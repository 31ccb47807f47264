import Formats
import Model

/// A student made by keeping some transformer blocks of the teacher (promptkd.md: the student shares the
/// teacher's tokenizer): embeddings, the chosen blocks renumbered 0..<k in order, the final norm and the
/// output head, every tensor copied as stored (quantized stays quantized); metadata is the teacher's with
/// `{arch}.block_count` = k and `general.name` marking the layers kept.
public enum LayerDroppedStudent {
    /// Layers 0, K, 2K, … below `count` (K = 1 keeps all).
    public static func everyKth(_ k: Int, of count: Int) -> [Int] { Array(stride(from: 0, to: count, by: max(1, k))) }

    /// Checks the choice: sorted, unique, inside the teacher, not empty.
    public static func validate(_ layers: [Int], teacherLayers: Int) throws(DistillError) {
        guard !layers.isEmpty else { throw .invalidOption(name: "--layers", reason: "keeps no layer") }
        if let bad = layers.first(where: { $0 < 0 || $0 >= teacherLayers }) {
            throw .invalidOption(name: "--layers", reason: "layer \(bad) is outside the teacher's 0...\(teacherLayers - 1)")
        }
        guard zip(layers, layers.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw .invalidOption(name: "--layers", reason: "\(layers.map(String.init).joined(separator: ",")) is not increasing without repeats")
        }
    }

    /// Writes the student GGUF; returns its config.
    @discardableResult
    public static func write(teacher: GGUFFile, layers: [Int], to path: String, overwrite: Bool) throws(DistillError) -> TransformerConfig {
        let config: TransformerConfig
        do { config = try TransformerConfig(gguf: teacher) } catch { throw .model(error) }
        try validate(layers, teacherLayers: config.layerCount)
        guard let arch = teacher[GGUFKeys.architecture]?.stringValue else {
            throw .model(.missingKey(path: teacher.path, key: GGUFKeys.architecture))
        }
        let renumber = Dictionary(uniqueKeysWithValues: layers.enumerated().map { ($1, $0) })
        var kept: [(info: GGUFFile.TensorInfo, name: String)] = []
        for info in teacher.tensorInfos {
            if TensorNames.isRopeData(info.name) { kept.append((info, info.name)); continue }
            guard let (slot, layer) = TensorNames.parseGGUF(info.name) else {
                throw .model(.unknownTensor(path: teacher.path, tensor: info.name))
            }
            guard let layer else { kept.append((info, info.name)); continue }
            if let newLayer = renumber[layer] { kept.append((info, TensorNames.gguf(slot, layer: newLayer))) }
        }
        let blockKey = GGUFKeys.arch(arch, .blockCount)
        let list = layers.map(String.init).joined(separator: ",")
        let metadata = teacher.metadata.map { entry -> (key: String, value: GGUFValue) in
            switch entry.key {
            case blockKey: return (entry.key, .uint32(UInt32(layers.count)))
            case GGUFKeys.name: return (entry.key, .string((entry.value.stringValue ?? "model") + " (layers \(list))"))
            default: return (entry.key, entry.value)
            }
        }
        let descriptors = kept.map { t in
            TensorDescriptor(name: t.name, dtype: t.info.dtype, shape: t.info.shape, byteCount: Int(t.info.byteCount))
        }
        do {
            try GGUFWriter(metadata: metadata).write(to: path, overwrite: overwrite, descriptors: descriptors) { i in
                teacher.tensor(kept[i].info).data
            }
        } catch { throw .format(error) }
        // Decoded from the file as llama.cpp will read it (Gemma 3's sliding layers follow the new numbering).
        do { return try TransformerConfig(gguf: GGUFFile(path: path)) } catch let error as ModelError {
            throw .model(error)
        } catch let error as FormatError { throw .format(error) } catch { throw .model(.invalidValue(path: path, key: "student", reason: "\(error)")) }
    }
}
