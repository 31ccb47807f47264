import ArgumentParser
import Distill
import Formats
import Foundation
import Model

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text with a GGUF model (f32 math over the dequantized weights).",
        discussion: """
            --prompt is raw text, special tokens such as <|im_start|> parsed. --chat wraps a user message in the \
            model's chat template (ChatML, Llama-2, Llama-3); --raw skips the template. Tokens stream to stdout; \
            speed to stderr.
            """)

    @Argument(help: "A GGUF model (llama or gpt2 family, byte-level BPE vocabulary).")
    var model: String
    @Option(help: "Raw prompt text (special tokens parsed).")
    var prompt: String?
    @Option(help: "A user message, wrapped in the model's chat template.")
    var chat: String?
    @Flag(help: "With --chat: use the message as it is, without the chat template.")
    var raw = false
    @Option(name: .shortAndLong, help: "Tokens to generate.")
    var n = 32
    @Option(help: "Temperature; 0 is greedy.")
    var temp: Float = 0
    @Option(help: "Keep the K most likely tokens (0: all).")
    var topK = 0
    @Option(help: "Keep the smallest set of tokens whose probability reaches P.")
    var topP: Float = 1
    @Option(help: "HF-style repetition penalty (1: none).")
    var repeatPenalty: Float = 1
    @Option(help: "Ban tokens that would repeat an n-gram of this size (0: off).")
    var noRepeatNgramSize = 0
    @Option(help: "Sampling seed.")
    var seed: UInt64 = 0
    @Flag(help: "Keep generating past the end-of-sequence token (benchmarks).")
    var ignoreEos = false
    @Option(help: "Write the prompt's logits as float32 [T, vocab] NumPy .npy.")
    var logitsOut: String?
    @Option(help: "Write the prompt's token ids as JSON.")
    var idsOut: String?
    @Option(help: "A PEFT adapter folder or a GGUF LoRA adapter: a prompt-tuning one puts its soft prompt in front of the prompt; a LoRA one is applied to its layers (unmerged, on the weights as stored).")
    var adapter: String?

    func validate() throws {
        guard (prompt == nil) != (chat == nil) else { throw ValidationError("give exactly one of --prompt and --chat") }
        if raw && chat == nil { throw ValidationError("--raw goes with --chat") }
    }

    /// The text to tokenize: --prompt as is, or --chat through the model's template.
    func promptText(_ gguf: GGUFFile, bosAdded: Bool) throws -> String {
        if let prompt { return prompt }
        let message = chat ?? ""
        if raw { return message }
        do {
            let template = try ChatTemplate(gguf: gguf)
            let text = try template.render([.init(role: "user", content: message)])
            // The tokenizer puts BOS in front itself (ModelFile.bos): not twice.
            return bosAdded ? template.droppingLeadingBOS(text) : text
        } catch {
            throw ToolError(message: "generate: \(error)", hint: "use --raw to send the message without a template, or --prompt")
        }
    }

    func run() throws {
        let start = Date()
        let m = try ModelFile(path: model)
        let (gguf, tokenizer) = (m.gguf, m.tokenizer)
        var transformer = m.transformer
        let config = transformer.config
        var promptAdapter = adapter
        if let adapter, try LoRAAdapterFiles.isLoRA(adapter) {
            transformer = Transformer(weights: transformer.weights, lora: try LoRAAdapterFiles.read(adapter, config: config))
            promptAdapter = nil
        }
        let ids = (m.bos.map { [$0] } ?? []) + tokenizer.encode(try promptText(gguf, bosAdded: m.bos != nil), special: true)
        guard !ids.isEmpty else { throw ToolError(message: "generate: the prompt is empty", hint: nil) }
        let prefix = try promptAdapter.map { try PEFTPromptAdapter.read(folder: $0, dim: config.embeddingSize) }
        let prefixRows = prefix?.rows ?? 0
        guard ids.count + prefixRows < config.contextLength else {
            throw ToolError(message: "generate: the prompt has \(ids.count) tokens, the context is \(config.contextLength)", hint: nil)
        }
        if let idsOut {
            try AtomicFile.write(Array(JSONWriter.compact(.array(ids.map { JSONValue.int($0) })).utf8), to: idsOut)
        }
        let loaded = Date()
        var options = Sampler.Options()
        options.temperature = temp
        options.topK = topK
        options.topP = topP
        options.repetitionPenalty = repeatPenalty
        options.noRepeatNgramSize = noRepeatNgramSize
        options.seed = seed
        var prefilled = loaded, prompt: [Float] = []
        var generated: [Int] = []
        var printed = ""
        let stops = Self.stopTokens(gguf, tokenizer)
        let room = min(config.contextLength, prefixRows + ids.count + n) - prefixRows - ids.count
        _ = try Generation.sample(transformer, [.init(prompt: ids, sampler: Sampler(options), prefix: prefix.map { Array($0.values) } ?? [])],
                                  maxNewTokens: room, stop: ignoreEos ? [] : stops, prefillRows: logitsOut == nil ? .last : .all,
                                  onPrefill: { _, logits in
                                      prefilled = Date()
                                      prompt = logits
                                  }, onToken: { _, next in
            guard ignoreEos || !stops.contains(next) else { return }
            generated.append(next)
            let text = tokenizer.decode(generated)
            if text.hasPrefix(printed) && !text.hasSuffix("\u{FFFD}") {
                Stdout.write(String(text.dropFirst(printed.count)))
                printed = text
            }
        })
        if let logitsOut {  // the soft prompt's rows predict nothing
            try AtomicFile.write(NumPy.float32(Array(prompt.dropFirst(prefixRows * config.vocabSize)), shape: [ids.count, config.vocabSize]),
                                 to: logitsOut)
        }
        let text = tokenizer.decode(generated)
        if text.count > printed.count { Stdout.write(String(text.dropFirst(printed.count))) }
        Stdout.write("\n")
        let done = Date()
        Stderr.write(String(format: "generate: load %.2f s, prompt %d tokens %.1f tok/s, decode %d tokens %.1f tok/s\n",
                            loaded.timeIntervalSince(start), ids.count, Double(ids.count) / prefilled.timeIntervalSince(loaded),
                            generated.count, Double(generated.count) / max(done.timeIntervalSince(prefilled), 1e-9)))
    }
}

extension Generate {
    /// End of sequence and end of turn: the GGUF's eos/eot ids and the turn-closing control tokens of the
    /// chat formats ckpt renders.
    static func stopTokens(_ gguf: GGUFFile, _ tokenizer: any Tokenizer) -> Set<Int> {
        var stops = Set([GGUFKeys.eosTokenID, GGUFKeys.eotTokenID].compactMap {
            gguf[$0]?.integerValue.map { Int($0) }
        })
        for text in ["<|im_end|>", "<|eot_id|>", "<|end_of_text|>"] {
            if let id = tokenizer.tokens.firstIndex(of: text) { stops.insert(id) }
        }
        return stops
    }
}

/// Small outputs written atomically (temporary name, then rename).
enum AtomicFile {
    static func write(_ bytes: [UInt8], to path: String) throws {
        let out = try AtomicOutput(path: path, overwrite: true)
        try out.write(bytes)
        try out.commit()
    }
}

/// NumPy .npy v1.0: magic, header dict padded with spaces to a multiple of 64 ending in '\n', raw data.
enum NumPy {
    static func float32(_ values: [Float], shape: [Int]) -> [UInt8] {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(header.utf8.count)
        out += [UInt8(length & 0xFF), UInt8(length >> 8)]
        out += Array(header.utf8)
        values.withUnsafeBytes { out += $0 }
        return out
    }
}
