import ArgumentParser
import Convert
import Foundation

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a Hugging Face model folder to GGUF, as llama.cpp's convert_hf_to_gguf.py does.",
        discussion: """
            Llama (LlamaForCausalLM: GQA, tied or untied) and GPT-2 (GPT2LMHeadModel) folders with safetensors \
            (single or sharded) and tokenizer.json. Norms, biases and position embeddings stay F32; other weights take \
            --outtype (auto: f16 for f16 checkpoints, else bf16). Tensors stream one at a time; the output is written \
            to a temporary file and renamed, never left half-written.
            """)

    @Argument(help: "A Hugging Face model folder (config.json, model.safetensors or shards, tokenizer.json).")
    var input: String
    @Argument(help: "The GGUF file to write.")
    var output: String
    @Option(help: "Type of the 2-D weights: f32, f16, bf16, q8_0 or auto.")
    var outtype: String = "f16"
    @Option(help: "Output format (gguf).")
    var to: String = "gguf"
    @Flag(help: "Overwrite the output if it exists.")
    var force = false

    func run() throws {
        guard let type = ConvertOutType(rawValue: outtype.lowercased()) else {
            throw ValidationError("--outtype must be one of \(ConvertOutType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard to == "gguf" else {
            throw ToolError(message: "convert: --to \(to) is not available yet; ckpt converts Hugging Face folders to GGUF", hint: nil)
        }
        let start = Date()
        let summary = try HuggingFaceToGGUF.convert(input: input, output: output, outtype: type, overwrite: force) { done, total, bytes, all in
            let elapsed = Date().timeIntervalSince(start)
            let rate = Double(bytes) / max(elapsed, 1e-9)
            let eta = Double(all - bytes) / max(rate, 1)
            Stderr.write(String(format: "[%d/%d] %.1f/%.1f MB, %.1f MB/s, ETA %.1f s\n", done, total,
                                Double(bytes) / 1e6, Double(all) / 1e6, rate / 1e6, eta))
        }
        Stderr.write(String(format: "convert: wrote %d tensors, %.1f MB to %@ in %.2f s\n", summary.tensors,
                            Double(summary.bytes) / 1e6, output, Date().timeIntervalSince(start)))
    }
}
