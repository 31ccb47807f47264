import ArgumentParser
import Convert
import Formats
import Model
import Foundation

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a Hugging Face model folder to GGUF (as llama.cpp's convert_hf_to_gguf.py) or a GGUF back to a Hugging Face folder.",
        discussion: """
            Llama (LlamaForCausalLM: GQA, tied or untied) and GPT-2 (GPT2LMHeadModel) folders with safetensors \
            (single or sharded) and tokenizer.json. Norms, biases and position embeddings stay F32; other weights take \
            --outtype (auto: f16 for f16 checkpoints, else bf16). Tensors stream one at a time; the output is written \
            to a temporary file and renamed, never left half-written.
            """)

    @Argument(help: "A Hugging Face model folder, a bare safetensors / pytorch_model.bin file (with --config), or a GGUF file.")
    var input: String
    @Argument(help: "The GGUF file to write.")
    var output: String
    @Option(help: "Type of the 2-D weights: f32, f16, bf16, q8_0 or auto (to HF: f32, f16 or bf16; default f32).")
    var outtype: String?
    @Option(help: "Output format: gguf or hf (default: hf for a GGUF input, else gguf).")
    var to: String?
    @Option(help: "Largest safetensors shard when writing a Hugging Face folder, in bytes.")
    var maxShardSize = SafetensorsSharding.defaultMaxShardSize
    @Option(help: "config.json for a bare safetensors or pytorch_model.bin file (tokenizer files are read beside it).")
    var config: String?
    @Option(help: "llama.cpp's name for a byte-level BPE pre-tokenizer that convert_hf_to_gguf's hash table does not know (e.g. llama-bpe, qwen2, gpt-2).")
    var preTokenizer: String?
    @Flag(help: "Overwrite the output if it exists.")
    var force = false

    func run() throws {
        Parallel.preferSleepingWorkers()
        let inputIsGGUF = (try? CheckpointFormat.detect(input)) == .gguf
        let target = to ?? (inputIsGGUF ? "hf" : "gguf")
        if target == "hf" {
            guard inputIsGGUF else { throw ToolError(message: "convert: --to hf needs a GGUF input ('\(input)')", hint: nil) }
            let dtype: DType = switch outtype?.lowercased() { case "f16": .f16; case "bf16": .bf16; default: .f32 }
            try GGUFToHuggingFace.convert(input: input, output: output, dtype: dtype, overwrite: force, maxShardSize: maxShardSize)
            Stderr.write("convert: wrote the Hugging Face folder \(output)\n")
            return
        }
        guard target == "gguf" else { throw ValidationError("--to must be gguf or hf") }
        guard let type = ConvertOutType(rawValue: (outtype ?? "f16").lowercased()) else {
            throw ValidationError("--outtype must be one of \(ConvertOutType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let start = Date()
        let summary = try HuggingFaceToGGUF.convert(input: input, config: config, output: output, outtype: type, overwrite: force, preTokenizer: preTokenizer) { done, total, bytes, all in
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
