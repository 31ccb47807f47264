import Model

/// Where LoRA adapters come from and go to on disk: a PEFT folder or a GGUF adapter file, read by what the
/// path is; a run writes both forms (`--lora-from`, `generate --adapter` and `lora merge` take either).
public enum LoRAAdapterFiles {
    /// Reads a PEFT adapter folder or a GGUF LoRA adapter (told apart by the GGUF magic). `dropout`, when
    /// given, replaces the adapter's own (training on).
    public static func read(_ path: String, config: TransformerConfig, dropout: Float? = nil) throws(DistillError) -> LoRAAdapters {
        if GGUFLoRAAdapter.isGGUF(path) { return try GGUFLoRAAdapter.read(path: path, config: config, dropout: dropout ?? 0) }
        return try PEFTLoRAAdapter.read(folder: path, config: config, dropout: dropout)
    }

    /// Whether `path` holds a LoRA adapter (a GGUF adapter file, or a PEFT folder whose type is LORA).
    public static func isLoRA(_ path: String) throws(DistillError) -> Bool {
        if GGUFLoRAAdapter.isGGUF(path) { return true }
        return try PEFTLoRAAdapter.isLoRA(folder: path)
    }

    /// Writes the PEFT folder and, beside it, the GGUF adapter (`<folder>.gguf` unless named): what PEFT and
    /// llama.cpp each load. Returns the GGUF file's path.
    @discardableResult
    public static func write(_ adapters: LoRAAdapters, peftFolder: String, gguf: String? = nil, baseModel: String) throws(DistillError) -> String {
        try PEFTLoRAAdapter.write(adapters, to: peftFolder, baseModel: baseModel, overwrite: true)
        let path = gguf ?? peftFolder + ".gguf"
        try GGUFLoRAAdapter.write(adapters, to: path, overwrite: true)
        return path
    }
}
