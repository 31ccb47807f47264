import ArgumentParser
import Convert
import Distill
import Formats
import Foundation
import Model

/// `ckpt lora merge`: a base model with a LoRA adapter folded into its weights.
struct LoRACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lora", abstract: "Work with LoRA adapters.", subcommands: [Merge.self])

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "merge",
            abstract: "Fold a PEFT LoRA adapter into its base model: W + scale · B·A, written as GGUF.",
            discussion: """
                BASE is a GGUF file (any type; dequantized to f32) or a Hugging Face folder; ADAPTER a PEFT LoRA \
                folder (adapter_config.json + adapter_model.safetensors) made for that base. OUT is written F32, \
                or quantized to --outtype (any llama-quantize type, e.g. Q8_0, Q4_K_M); with --hf also as a \
                Hugging Face folder OUT-hf. An adapter for another model is refused, naming the tensor.
                """)

        @Argument(help: "The base model (GGUF file or Hugging Face folder).")
        var base: String
        @Argument(help: "The LoRA adapter: a PEFT folder or a GGUF adapter file (lora-adapter.gguf).")
        var adapter: String
        @Argument(help: "The merged GGUF to write.")
        var out: String
        @Option(help: "F32 (default) or a llama-quantize type for the merged file.")
        var outtype = "F32"
        @Flag(help: "Also write the merged model as a Hugging Face folder (OUT without .gguf, plus -hf).")
        var hf = false
        @Flag(help: "Replace OUT if it exists.")
        var force = false

        func run() throws {
            let type = outtype.uppercased() == "F32" ? nil : LlamaFileType.named(outtype)
            if outtype.uppercased() != "F32", type == nil {
                throw ConvertError.unknownQuantType(name: outtype, menu: ["F32"] + LlamaFileType.menu.map(\.name))
            }
            if !force, FileManager.default.fileExists(atPath: out) {
                throw ToolError(message: "'\(out)' exists", hint: "pass --force to replace it")
            }
            let scratch = FileManager.default.temporaryDirectory.path + "/ckpt-merge-\(getpid())"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let model = try TrainingModel(path: base, runFolder: scratch)
            let lora = try LoRAAdapterFiles.read(adapter, config: model.params.config)
            Stderr.write(LoRAArguments.describe(lora, modelParameters: model.params.count) + "\n")
            lora.merge(into: model.params)
            let f32 = type == nil ? out : scratch + "/merged-f32.gguf"
            try GGUFExport.write(model.params, source: model.gguf, to: f32, overwrite: true)
            if let type {
                try GGUFQuantizer.run(input: f32, output: out, options: QuantizeOptions(fileType: type), overwrite: true) { _ in }
            }
            if hf {
                let folder = (out.hasSuffix(".gguf") ? String(out.dropLast(5)) : out) + "-hf"
                try GGUFToHuggingFace.convert(input: f32, output: folder, overwrite: force)
                Stderr.write("wrote \(folder)\n")
            }
            Stderr.write("wrote \(out)\n")
        }
    }
}
