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
    @Flag(help: "With --strings-file: tokenize the strings on every core and print only the token count and the sha256 of the ids (one line per string, ids joined by spaces); timings on stderr.")
    var summary = false
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
        } else if let stringsFile, summary {
            try Self.summarize(tokenizer, stringsFile: stringsFile, special: special)
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

    /// Ids of many strings at once (scripts/bench/tokenize): counted and hashed, not printed.
    static func summarize(_ tokenizer: any Tokenizer, stringsFile: String, special: Bool) throws {
        let start = ContinuousClock.now
        guard let strings = try JSONFile.read(stringsFile).arrayValue?.compactMap(\.stringValue) else {
            throw ToolError(message: "tokenize: \(stringsFile) is not a JSON array of strings", hint: nil)
        }
        let read = ContinuousClock.now
        var results = [[Int]](repeating: [], count: strings.count)
        results.withUnsafeMutableBufferPointer { slots in
            // Each chunk writes only its own strings' slots.
            let shared = SendablePointer(slots.baseAddress!)
            Parallel.forChunks(strings.count, minChunk: 1, perThread: 8) { range in
                for i in range { shared.pointer[i] = tokenizer.encode(strings[i], special: special) }
            }
        }
        let encoded = ContinuousClock.now
        var text: [UInt8] = []
        text.reserveCapacity(strings.count * 1024)
        for (i, ids) in results.enumerated() {
            if i > 0 { text.append(0x0A) }
            for (j, id) in ids.enumerated() {
                if j > 0 { text.append(0x20) }
                text.append(contentsOf: String(id).utf8)
            }
        }
        let count = results.reduce(0) { $0 + $1.count }
        Stdout.write("tokens \(count) sha256 \(SHA256Digest.hex(text))\n")
        func seconds(_ d: Duration) -> String { String(format: "%.3f", Double(d.components.attoseconds) * 1e-18 + Double(d.components.seconds)) }
        Stderr.write("read \(seconds(read - start)) s, encode \(seconds(encoded - read)) s (\(Parallel.threads) threads)\n")
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
