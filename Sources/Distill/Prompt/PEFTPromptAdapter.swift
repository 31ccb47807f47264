import Formats
import Foundation
import Model

/// A soft prompt as a PEFT PROMPT_TUNING adapter folder (formats.md §7): adapter_config.json
/// (`json.dumps(asdict(config), indent=2, sort_keys=True)`, no trailing newline) and
/// adapter_model.safetensors holding the single F32 tensor `prompt_embeddings` [P, E] with metadata
/// {"format": "pt"}. PEFT loads what this writes (scripts/crosscheck checks it with PEFT itself).
public enum PEFTPromptAdapter {
    public static let tensorName = "prompt_embeddings"
    public static let configName = "adapter_config.json"
    public static let weightsName = "adapter_model.safetensors"

    /// What the config records besides the prompt's shape.
    public struct Description: Sendable {
        public var baseModel: String
        public var initialization: SoftPrompt.Initialization
        public var config: TransformerConfig
        public init(baseModel: String, initialization: SoftPrompt.Initialization, config: TransformerConfig) {
            self.baseModel = baseModel
            self.initialization = initialization
            self.config = config
        }
    }

    /// The adapter_config.json fields of PEFT's PromptTuningConfig for a decoder-only model, sorted by key.
    public static func configJSON(rows: Int, _ d: Description) -> JSONValue {
        var text: JSONValue = .null
        if case .text(let t) = d.initialization { text = .string(t) }
        let fields: [(String, JSONValue)] = [
            ("auto_mapping", .null),
            ("base_model_name_or_path", .string(d.baseModel)),
            ("inference_mode", .bool(true)),
            ("modules_to_save", .null),
            ("num_attention_heads", .int(d.config.headCount)),
            ("num_layers", .int(d.config.layerCount)),
            ("num_transformer_submodules", .int(1)),
            ("num_virtual_tokens", .int(rows)),
            ("peft_type", .string("PROMPT_TUNING")),
            ("prompt_tuning_init", .string(d.initialization.peftName)),
            ("prompt_tuning_init_text", text),
            ("revision", .null),
            ("task_type", .string("CAUSAL_LM")),
            ("token_dim", .int(d.config.embeddingSize)),
            ("tokenizer_kwargs", .null),
            ("tokenizer_name_or_path", text == .null ? .null : .string(d.baseModel)),
        ]
        return .object(fields)
    }

    /// Writes the folder (created if needed; each file atomically).
    public static func write(_ prompt: SoftPrompt, to folder: String, _ description: Description, overwrite: Bool) throws(DistillError) {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw .format(.io(path: folder, reason: "cannot create the folder: \(error.localizedDescription)"))
        }
        do {
            let out = try AtomicOutput(path: folder + "/" + configName, overwrite: overwrite)
            try out.write(Array(JSONWriter.pretty(configJSON(rows: prompt.rows, description), indent: 2).utf8))
            try out.commit()
            let bytes = Array(UnsafeRawBufferPointer(prompt.values))
            let descriptor = TensorDescriptor(name: tensorName, dtype: .f32, shape: [prompt.rows, prompt.dim], byteCount: bytes.count)
            try SafetensorsStreaming.write([descriptor], folder: folder, maxShardSize: Int.max, overwrite: overwrite,
                                           fileName: weightsName) { _ in ByteView(owned: bytes) }
        } catch { throw .format(error) }
    }

    /// Reads a PEFT prompt-tuning adapter for a model of width `dim`.
    public static func read(folder: String, dim: Int) throws(DistillError) -> SoftPrompt {
        let configPath = folder + "/" + configName, weightsPath = folder + "/" + weightsName
        let config: JSONValue
        do { config = try JSONFile.read(configPath) } catch { throw .format(error) }
        guard config["peft_type"]?.stringValue == "PROMPT_TUNING" else {
            throw .invalidCheckpoint(path: configPath, reason: "'peft_type' is \(config["peft_type"].map { JSONWriter.compact($0) } ?? "missing"), not \"PROMPT_TUNING\"")
        }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: weightsPath) } catch { throw .format(error) }
        guard let tensor = file.tensors.first(where: { $0.name == tensorName }) else {
            throw .invalidCheckpoint(path: weightsPath, reason: "no tensor '\(tensorName)'")
        }
        guard tensor.dtype == .f32, tensor.shape.count == 2, tensor.shape[1] == dim, tensor.shape[0] > 0 else {
            throw .invalidCheckpoint(path: weightsPath, reason: "'\(tensorName)' is \(tensor.dtype.rawValue) \(tensor.shape), the model needs F32 [P, \(dim)]")
        }
        if let tokens = config["num_virtual_tokens"]?.uint64Value, Int(tokens) != tensor.shape[0] {
            throw .invalidCheckpoint(path: configPath, reason: "num_virtual_tokens \(tokens) but the tensor has \(tensor.shape[0]) rows")
        }
        let prompt = SoftPrompt(rows: tensor.shape[0], dim: dim)
        tensor.data.withUnsafeBytes { raw in
            for i in 0..<prompt.values.count { prompt.values[i] = raw.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        }
        if let bad = prompt.values.firstIndex(where: { !$0.isFinite }) {
            throw .invalidCheckpoint(path: weightsPath, reason: "'\(tensorName)' holds \(prompt.values[bad]) at row \(bad / dim)")
        }
        return prompt
    }
}
