import ArgumentParser
import Foundation
import Formats
import Model

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Token ids of text with a GGUF model's vocabulary, like llama-tokenize (no BOS is added).",
        discussion: """
            --strings-file takes a JSON array of strings (prints a JSON array of id arrays) or llama.cpp's \
            tokenizer-test input, strings separated by a line `__ggml_vocab_test__` (a file ending in .inp; \
            prints one line of ids per string, as the suite's .out files).
            """)

    @Argument(help: "A GGUF model or vocabulary (BPE, SentencePiece), a Hugging Face tokenizer.json or a folder holding one.")
    var model: String
    @Option(help: "Text to tokenize.")
    var text: String?
    @Option(help: "A JSON array of strings, or a llama.cpp .inp file.")
    var stringsFile: String?
    @Flag(help: "Do not parse special tokens written in the text (control tokens stay plain text).")
    var noSpecial = false
    @Flag(help: "For a tokenizer.json: print the name llama.cpp knows its pre-tokenizer by (as convert_hf_to_gguf finds it).")
    var preName = false

    func run() throws {
        if preName {
            let json = model.hasSuffix(".json") ? model : model + "/tokenizer.json"
            let identity = try PreTokenizerIdentity.identify(tokenizerJSON: JSONFile.read(json), path: json)
            Stdout.write("\(identity.name) (\(identity.basis.rawValue); check-text hash \(identity.hash))\n")
            return
        }
        let tokenizer = try Self.load(model)
        let special = !noSpecial
        if let stringsFile, stringsFile.hasSuffix(".inp") {
            for string in try Self.vocabTestStrings(stringsFile) {
                Stdout.write(tokenizer.encode(string, special: special).map { " \($0)" }.joined() + "\n")
            }
        } else if let stringsFile {
            guard let strings = try JSONFile.read(stringsFile).arrayValue?.compactMap(\.stringValue) else {
                throw ToolError(message: "tokenize: \(stringsFile) is not a JSON array of strings", hint: nil)
            }
            let ids = strings.map { JSONValue.array(tokenizer.encode($0, special: special).map { .int($0) }) }
            Stdout.write(JSONWriter.compact(.array(ids)) + "\n")
        } else if let text {
            Stdout.write(tokenizer.encode(text, special: special).map(String.init).joined(separator: " ") + "\n")
        } else {
            throw ValidationError("give --text or --strings-file")
        }
    }

    static func load(_ model: String) throws -> any Tokenizer {
        var isFolder: ObjCBool = false
        let json = FileManager.default.fileExists(atPath: model, isDirectory: &isFolder) && isFolder.boolValue
            ? model + "/tokenizer.json" : model.hasSuffix(".json") ? model : nil
        guard let json else { return try Tokenizers.load(gguf: GGUFFile(path: model)) }
        return try Tokenizers.load(tokenizerJSON: JSONFile.read(json), path: json)
    }

    /// The strings of a llama.cpp tokenizer-test .inp file (the last separator ends the last string).
    static func vocabTestStrings(_ path: String) throws -> [String] {
        let bytes = try MappedFile(path: path)
        let text = String(decoding: bytes.bytes, as: UTF8.self)
        var parts = text.split(separator: "\n__ggml_vocab_test__\n", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }
        return parts
    }
}
