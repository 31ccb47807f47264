import ArgumentParser
import Formats
import Model

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Token ids of text with a GGUF model's vocabulary (special tokens parsed), like llama-tokenize.")

    @Argument(help: "A GGUF model (byte-level BPE or SentencePiece vocabulary).")
    var model: String
    @Option(help: "Text to tokenize.")
    var text: String?
    @Option(help: "A JSON array of strings; prints a JSON array of id arrays.")
    var stringsFile: String?

    func run() throws {
        let tokenizer = try Tokenizers.load(gguf: GGUFFile(path: model))
        if let stringsFile {
            guard let strings = try JSONFile.read(stringsFile).arrayValue?.compactMap(\.stringValue) else {
                throw ToolError(message: "tokenize: \(stringsFile) is not a JSON array of strings", hint: nil)
            }
            let ids = strings.map { JSONValue.array(tokenizer.encode($0, special: true).map { .int($0) }) }
            Stdout.write(JSONWriter.compact(.array(ids)) + "\n")
        } else if let text {
            Stdout.write(tokenizer.encode(text, special: true).map(String.init).joined(separator: " ") + "\n")
        } else {
            throw ValidationError("give --text or --strings-file")
        }
    }
}
