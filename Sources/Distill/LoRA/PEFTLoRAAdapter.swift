import Formats
import Foundation
import Model

/// A LoRA adapter as a PEFT folder: adapter_config.json (LoraConfig) and adapter_model.safetensors with
/// `base_model.model.<module>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r] per adapted module,
/// module = the Hugging Face weight name without `.weight`. B's rows are in Hugging Face order (llama's q/k
/// rows un-permuted); ckpt keeps them in GGUF order like the weight they add to.
public enum PEFTLoRAAdapter {
    public static let configName = "adapter_config.json"
    public static let weightsName = "adapter_model.safetensors"
    static let prefix = "base_model.model."

    /// The safetensors names of one key's A and B.
    public static func tensorNames(_ key: LoRAAdapters.Key, config c: TransformerConfig) -> (a: String, b: String)? {
        guard let name = TensorNames.huggingFace(key.slot, layer: key.layer, family: c.family), name.hasSuffix(".weight") else { return nil }
        let module = prefix + (c.family.exportHuggingFacePrefix ?? "") + name.dropLast(".weight".count)
        return (module + ".lora_A.weight", module + ".lora_B.weight")
    }

    /// adapter_config.json: the LoraConfig fields a LoRA run determines, the rest at PEFT's defaults, sorted.
    public static func configJSON(_ adapters: LoRAAdapters, baseModel: String) -> JSONValue {
        let c = adapters.config, s = adapters.settings
        let modules = Set(s.targets.compactMap { LoRATargets.moduleName($0, c) }).sorted()
        // PEFT sets fan_in_fan_out for GPT-2's Conv1D layers itself (with a warning); say it up front.
        let conv1D = s.targets.contains { TensorNames.fixup($0, family: c.family) == .transpose }
        let fields: [(String, JSONValue)] = [
            ("alpha_pattern", .object([])), ("auto_mapping", .null), ("base_model_name_or_path", .string(baseModel)),
            ("bias", .string("none")), ("exclude_modules", .null), ("fan_in_fan_out", .bool(conv1D)),
            ("inference_mode", .bool(true)), ("init_lora_weights", .bool(true)), ("layer_replication", .null),
            ("layers_pattern", .null), ("layers_to_transform", .null), ("lora_alpha", number(s.alpha)),
            ("lora_bias", .bool(false)), ("lora_dropout", .double(Double(s.dropout))), ("modules_to_save", .null),
            ("peft_type", .string("LORA")), ("r", .int(s.rank)), ("rank_pattern", .object([])), ("revision", .null),
            ("target_modules", .array(modules.map { .string($0) })), ("task_type", .string("CAUSAL_LM")),
            ("use_dora", .bool(false)), ("use_rslora", .bool(s.rsLoRA)),
        ]
        return .object(fields)
    }

    /// An integral alpha as an integer (PEFT's own files say `"lora_alpha": 16`).
    static func number(_ x: Float) -> JSONValue { x == x.rounded() && abs(x) < 1e9 ? .int(Int(x)) : .double(Double(x)) }

    /// Writes the folder (created if needed; each file atomically).
    public static func write(_ adapters: LoRAAdapters, to folder: String, baseModel: String, overwrite: Bool) throws(DistillError) {
        let c = adapters.config
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw .format(.io(path: folder, reason: "cannot create the folder: \(error.localizedDescription)"))
        }
        var descriptors: [TensorDescriptor] = [], payloads: [[UInt8]] = []
        let r = adapters.settings.rank
        for key in adapters.keys {
            let e = adapters.layout[key]!, names = tensorNames(key, config: c)!
            let a = Array(UnsafeBufferPointer(start: adapters.a(key), count: r * e.inDim))
            let bGGUF = Array(UnsafeBufferPointer(start: adapters.b(key), count: e.outDim * r))
            let b = RowLayout.apply(rowFixup(key.slot, c), to: bGGUF, shape: [e.outDim, r], config: c, toGGUF: false)!
            for (name, values, shape) in [(names.a, a, [r, e.inDim]), (names.b, b, [e.outDim, r])] {
                let bytes = values.withUnsafeBytes { Array($0) }
                descriptors.append(TensorDescriptor(name: name, dtype: .f32, shape: shape, byteCount: bytes.count))
                payloads.append(bytes)
            }
        }
        do {
            let out = try AtomicOutput(path: folder + "/" + configName, overwrite: overwrite)
            try out.write(Array(JSONWriter.pretty(configJSON(adapters, baseModel: baseModel), indent: 2).utf8))
            try out.commit()
            try SafetensorsStreaming.write(descriptors, folder: folder, maxShardSize: Int.max, overwrite: overwrite,
                                           fileName: weightsName) { i in ByteView(owned: payloads[i]) }
        } catch { throw .format(error) }
    }

    /// B's rows move like the base weight's rows (llama q/k); a Conv1D transpose concerns only the base weight.
    static func rowFixup(_ slot: TensorNames.Slot, _ c: TransformerConfig) -> TensorNames.Fixup {
        let fixup = TensorNames.fixup(slot, family: c.family)
        if case .permuteHeads = fixup { return fixup }
        return .none
    }

    /// Whether the folder's adapter_config.json says LORA (false for other PEFT types; errors if unreadable).
    public static func isLoRA(folder: String) throws(DistillError) -> Bool {
        do { return try JSONFile.read(folder + "/" + configName)["peft_type"]?.stringValue == "LORA" } catch { throw .format(error) }
    }

    /// Reads a PEFT LoRA adapter for a model of config `c`. Modules the adapter leaves out of some layers get
    /// zero matrices there (no change, as in PEFT). `dropout`, when given, replaces the file's (training on).
    public static func read(folder: String, config c: TransformerConfig, dropout: Float? = nil) throws(DistillError) -> LoRAAdapters {
        let configPath = folder + "/" + configName, weightsPath = folder + "/" + weightsName
        let json: JSONValue
        do { json = try JSONFile.read(configPath) } catch { throw .format(error) }
        func bad(_ key: String, _ reason: String) -> DistillError { .invalidCheckpoint(path: configPath, reason: "'\(key)' \(reason)") }
        guard json["peft_type"]?.stringValue == "LORA" else {
            throw bad("peft_type", "is \(json["peft_type"].map { JSONWriter.compact($0) } ?? "missing"), not \"LORA\"")
        }
        guard let rank = json["r"]?.int64Value, rank > 0, rank <= 1 << 16 else { throw bad("r", "must be a positive integer") }
        guard let alpha = json["lora_alpha"]?.doubleValue, alpha.isFinite else { throw bad("lora_alpha", "must be a number") }
        for (key, ok) in [("use_dora", json["use_dora"]?.boolValue != true), ("bias", (json["bias"]?.stringValue ?? "none") == "none"),
                          ("rank_pattern", (json["rank_pattern"]?.objectValue ?? []).isEmpty),
                          ("alpha_pattern", (json["alpha_pattern"]?.objectValue ?? []).isEmpty)] where !ok {
            throw bad(key, "is not supported by ckpt (plain LoRA, one rank and alpha, no bias)")
        }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: weightsPath) } catch { throw .format(error) }

        // Every tensor: module → (slot, layer), A or B.
        var found: [LoRAAdapters.Key: (a: RawTensor?, b: RawTensor?)] = [:]
        for tensor in file.tensors {
            var name = Substring(tensor.name)
            guard name.hasPrefix(prefix) else { throw .invalidCheckpoint(path: weightsPath, reason: "tensor '\(tensor.name)' is not a PEFT LoRA weight") }
            name = name.dropFirst(prefix.count)
            let isA: Bool
            if name.hasSuffix(".lora_A.weight") { isA = true } else if name.hasSuffix(".lora_B.weight") { isA = false } else {
                throw .invalidCheckpoint(path: weightsPath, reason: "tensor '\(tensor.name)' is not a lora_A/lora_B weight")
            }
            let module = String(name.dropLast(".lora_A.weight".count)) + ".weight"
            guard let (slot, layer) = TensorNames.parseHuggingFace(module, family: c.family), layer != nil,
                  LoRATargets.linearSlots(c).contains(slot) else {
                throw .invalidCheckpoint(path: weightsPath, reason: "tensor '\(tensor.name)': no linear layer '\(module)' in this \(c.architecture) model")
            }
            let key = LoRAAdapters.Key(slot, layer)
            var pair = found[key] ?? (nil, nil)
            if isA { pair.a = tensor } else { pair.b = tensor }
            found[key] = pair
        }
        guard !found.isEmpty else { throw .invalidCheckpoint(path: weightsPath, reason: "no LoRA tensor") }
        let settings = LoRASettings(rank: Int(rank), alpha: Float(alpha), dropout: dropout ?? Float(json["lora_dropout"]?.doubleValue ?? 0),
                                    rsLoRA: json["use_rslora"]?.boolValue ?? false, targets: found.keys.map(\.slot))
        let adapters: LoRAAdapters
        do { adapters = try LoRAAdapters(config: c, settings: settings) } catch { throw .model(error) }
        for (key, pair) in found {
            let e = adapters.layout[key]!
            for (tensor, isA) in [(pair.a, true), (pair.b, false)] {
                let names = tensorNames(key, config: c)!
                guard let tensor else {
                    throw .invalidCheckpoint(path: weightsPath, reason: "'\(isA ? names.b : names.a)' has no '\(isA ? names.a : names.b)'")
                }
                let want = isA ? [Int(rank), e.inDim] : [e.outDim, Int(rank)]
                guard tensor.shape == want else {
                    throw .invalidCheckpoint(path: weightsPath, reason: "'\(tensor.name)' is \(tensor.shape), this model needs \(want)")
                }
                var values: [Float]
                do { values = try Quantization.dequantize(tensor, path: weightsPath) } catch { throw .format(error) }
                if let i = values.firstIndex(where: { !$0.isFinite }) {
                    throw .invalidCheckpoint(path: weightsPath, reason: "'\(tensor.name)' holds \(values[i]) at element \(i)")
                }
                if !isA { values = RowLayout.apply(rowFixup(key.slot, c), to: values, shape: want, config: c, toGGUF: true)! }
                let target = isA ? adapters.a(key) : adapters.b(key)
                values.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: $0.count) }
            }
        }
        return adapters
    }
}
