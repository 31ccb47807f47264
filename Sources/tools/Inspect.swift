import ArgumentParser
import Formats

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarize a checkpoint: GGUF, safetensors (single or sharded) or a Hugging Face folder.",
        discussion: "The format is detected from the content, not the extension. No tensor data is read.")

    @Argument(help: "A GGUF or safetensors file, a model.safetensors.index.json, or a Hugging Face folder.")
    var path: String

    @Flag(help: "Print every element of metadata arrays (vocabularies, merges).")
    var full = false

    @Flag(help: "List every tensor: name, shape (numpy order), dtype, offset, bytes.")
    var tensors = false

    @Flag(help: "Print the summary as JSON (schema ckpt.inspect/1, see README).")
    var json = false

    func run() throws {
        let summary = try CheckpointSummary.read(path, arrayLimit: full ? nil : 8)
        if json {
            Stdout.write(JSONWriter.pretty(SummaryReport.json(summary)) + "\n")
        } else {
            Stdout.write(SummaryReport.text(summary, showTensors: tensors))
        }
    }
}
