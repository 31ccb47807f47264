import Formats
import Model

/// A student initialized from scratch from a config (an HF config.json's dimensions) that keeps the
/// teacher's tokenizer: the teacher's general.* and tokenizer.* metadata, architecture keys written from the
/// config, every tensor F32 with GPT-2's init (matrices and embeddings N(0, 0.02), norm weights 1, biases 0).
public enum FreshStudent {
    static let normWeights: Set<TensorNames.Slot> = [.attnNorm, .ffnNorm, .outputNorm, .attnQNorm, .attnKNorm, .postAttnNorm, .postFfnNorm]

    /// GPT-2's initialization of one tensor of `shape`: N(0, 0.02) for matrices and embeddings, 1 for norm
    /// weights, 0 for biases (and norm biases).
    public static func initialValues(_ slot: TensorNames.Slot, shape: [Int], rng: inout SplitMix64) -> [Float] {
        let n = shape.reduce(1, *)
        if shape.count >= 2 { return (0..<n).map { _ in 0.02 * rng.normal() } }
        return [Float](repeating: normWeights.contains(slot) ? 1 : 0, count: n)
    }

    public static func write(teacher: GGUFFile, config c: TransformerConfig, seed: UInt64, to path: String,
                             overwrite: Bool) throws(DistillError) {
        let teacherConfig: TransformerConfig
        do { teacherConfig = try TransformerConfig(gguf: teacher) } catch { throw .model(error) }
        guard c.vocabSize == teacherConfig.vocabSize else {
            throw .invalidOption(name: "--config", reason: "vocab_size \(c.vocabSize), the teacher's vocabulary has \(teacherConfig.vocabSize) tokens")
        }
        let arch = c.architecture, teacherArch = teacher[GGUFKeys.architecture]?.stringValue ?? ""
        var metadata: [(key: String, value: GGUFValue)] = [(GGUFKeys.architecture, .string(arch))]
        for entry in teacher.metadata where !entry.key.hasPrefix(teacherArch + ".")
            && ![GGUFKeys.architecture, GGUFKeys.fileType, GGUFKeys.quantizationVersion].contains(entry.key) {
            metadata.append((entry.key, entry.key == GGUFKeys.name ? .string((entry.value.stringValue ?? "model") + " (fresh student)") : entry.value))
        }
        metadata += c.family.ggufKeys(c, GGUFKeyContext(fileType: GGUFExport.allF32))
        if !metadata.contains(where: { $0.key == GGUFKeys.arch(arch, .vocabSize) }) {
            metadata.append((GGUFKeys.arch(arch, .vocabSize), .uint32(UInt32(c.vocabSize))))
        }
        // Rotary data of the config first (as convert_hf_to_gguf writes it), then every weight.
        let rope = TensorNames.ropeTensors(c)
        let slots = TensorNames.expected(c)
        let descriptors = rope.map { TensorDescriptor(name: $0.tensor.rawValue, dtype: .f32, shape: [$0.values.count], byteCount: 4 * $0.values.count) }
            + slots.map { slot, layer in
                let shape = ParameterSet.shape(slot, c)
                return TensorDescriptor(name: TensorNames.gguf(slot, layer: layer), dtype: .f32, shape: shape, byteCount: 4 * shape.reduce(1, *))
            }
        var rng = SplitMix64(seed: seed)
        do {
            try GGUFWriter(metadata: metadata).write(to: path, overwrite: overwrite, descriptors: descriptors) { i in
                let values = i < rope.count ? rope[i].values : initialValues(slots[i - rope.count].slot, shape: descriptors[i].shape, rng: &rng)
                return ByteView(owned: values.withUnsafeBytes { Array($0) })
            }
        } catch { throw .format(error) }
    }
}
