import Formats

/// Strict weight loading (DESIGN.md): every expected slot filled exactly once with the expected shape;
/// names that fit no slot are an error listing them; known buffers (TensorNames) are skipped; HF layouts go
/// through TensorNames' fixups. Quantized GGUF tensors are dequantized bit-exactly with ggml.
extension ParameterSet {
    /// From a GGUF file: the config comes from its metadata.
    public static func load(gguf: GGUFFile, threads: Int = 2) throws(ModelError) -> ParameterSet {
        let params = ParameterSet(config: try TransformerConfig(gguf: gguf))
        var filled: [Key: String] = [:]
        var unknown: [String] = []
        for info in gguf.tensorInfos where !TensorNames.isRopeData(info.name) {
            guard let (slot, layer) = TensorNames.parseGGUF(info.name), params.contains(slot, layer: layer) else {
                unknown.append(info.name)
                continue
            }
            let key = Key(slot, layer)
            try Self.claim(key, by: info.name, in: &filled, path: gguf.path)
            try params.checkShape(key, info.shape, name: info.name, path: gguf.path)
            let values: [Float]
            do { values = try Quantization.dequantize(gguf.tensor(info), path: gguf.path, threads: threads) } catch {
                throw .format(error)
            }
            values.withUnsafeBufferPointer { params.fill(key, with: $0) }
        }
        try params.finish(filled: Set(filled.keys), unknown: unknown, path: gguf.path)
        return params
    }

    /// From a Hugging Face folder: config.json plus model.safetensors or its shards and index.
    public static func load(huggingFaceDirectory folder: String) throws(ModelError) -> ParameterSet {
        do {
            let configPath = folder + "/config.json"
            let config = try TransformerConfig(huggingFace: JSONFile.read(configPath), path: configPath)
            let index = folder + "/" + ShardedSafetensors.indexFileName
            let tensors = CheckpointFormat.exists(index) ? try ShardedSafetensors(indexPath: index).tensors
                : try SafetensorsFile(path: folder + "/model.safetensors").tensors
            return try load(huggingFace: tensors, config: config, path: folder)
        } catch let error as ModelError {
            throw error
        } catch let error as FormatError {
            throw .format(error)
        } catch {
            throw .invalidValue(path: folder, key: "checkpoint", reason: "\(error)")
        }
    }

    /// From Hugging Face tensors (one safetensors file or all shards), with the config from config.json.
    public static func load(huggingFace tensors: [RawTensor], config: TransformerConfig, path: String) throws(ModelError) -> ParameterSet {
        let params = ParameterSet(config: config)
        var filled: [Key: String] = [:]
        var unknown: [String] = []
        for tensor in tensors {
            if TensorNames.isIgnorableHuggingFace(tensor.name) { continue }
            guard let (slot, layer) = TensorNames.parseHuggingFace(tensor.name, family: config.family) else {
                unknown.append(tensor.name)
                continue
            }
            // A tied checkpoint may still carry lm_head: the embedding is the one used.
            if slot == .output && config.tiedEmbeddings { continue }
            guard params.contains(slot, layer: layer) else {
                unknown.append(tensor.name)
                continue
            }
            let key = Key(slot, layer)
            try Self.claim(key, by: tensor.name, in: &filled, path: path)
            let values = try params.hfValues(tensor, key: key, path: path)
            values.withUnsafeBufferPointer { params.fill(key, with: $0) }
        }
        try params.finish(filled: Set(filled.keys), unknown: unknown, path: path)
        return params
    }

    /// HF tensor → f32 in GGUF layout: decode, then the slot's fixup.
    func hfValues(_ tensor: RawTensor, key: Key, path: String) throws(ModelError) -> [Float] {
        let fixup = TensorNames.fixup(key.slot, family: config.family)
        var shape = tensor.shape
        if fixup == .transpose { shape.reverse() }
        try checkShape(key, shape, name: tensor.name, path: path)
        let values: [Float]
        do { values = try Quantization.dequantize(tensor, path: path) } catch { throw .format(error) }
        guard let arranged = RowLayout.apply(fixup, to: values, shape: tensor.shape, config: config, toGGUF: true) else {
            throw .wrongShape(path: path, tensor: tensor.name, expected: layout[key]!.shape, found: tensor.shape)
        }
        return arranged
    }

    func checkShape(_ key: Key, _ shape: [Int], name: String, path: String) throws(ModelError) {
        try Self.checkShape(key, shape, config: config, name: name, path: path)
    }

    /// The stored shape must be the slot's (GGUF may keep size-1 leading dims or drop them).
    static func checkShape(_ key: Key, _ shape: [Int], config: TransformerConfig, name: String, path: String) throws(ModelError) {
        let expected = Self.shape(key.slot, config)
        let trim = { (s: [Int]) in Array(s.drop { $0 == 1 && s.count > 1 }) }
        guard trim(shape) == trim(expected) else {
            throw .wrongShape(path: path, tensor: name, expected: expected, found: shape)
        }
    }

    /// A slot takes one tensor: a second one (another spelling of the same weight) is an error naming both.
    static func claim(_ key: Key, by name: String, in filled: inout [Key: String], path: String) throws(ModelError) {
        if let first = filled[key] {
            throw .duplicateTensor(path: path, slot: TensorNames.gguf(key.slot, layer: key.layer), first: first, second: name)
        }
        filled[key] = name
    }

    func finish(filled: Set<Key>, unknown: [String], path: String) throws(ModelError) {
        try Self.checkComplete(expected: keys, filled: filled, unknown: unknown, path: path)
    }

    /// Leftover names are an error listing them; so are slots never filled.
    static func checkComplete(expected keys: [Key], filled: Set<Key>, unknown: [String], path: String) throws(ModelError) {
        if !unknown.isEmpty {
            throw .unknownTensor(path: path, tensor: unknown.prefix(8).joined(separator: "', '")
                                 + (unknown.count > 8 ? "' and \(unknown.count - 8) more" : ""))
        }
        let missing = keys.filter { !filled.contains($0) }
        if !missing.isEmpty {
            let names = missing.prefix(8).map { TensorNames.gguf($0.slot, layer: $0.layer) }
            throw .missingTensors(path: path, tensors: names, total: missing.count)
        }
    }
}
