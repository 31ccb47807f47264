/// llama.cpp's pre-tokenizers by their GGUF name (`tokenizer.ggml.pre`), with the patterns and options
/// llama-vocab.cpp gives each (llm_tokenizer_bpe, llama_vocab::impl::load). The one table of them.
public struct BPEOptions: Sendable, Equatable {
    /// Bytes become GPT-2's printable characters before merging (false: raw UTF-8, SentencePiece-style).
    public var byteEncode = true
    /// A piece that is itself a token is taken whole, without merges (Llama 3, tekken).
    public var ignoreMerges = false
    /// Spaces become U+2581 before splitting (gemma4).
    public var escapeWhitespace = false
    /// Text is put in Unicode normalization form C first (tokenizers' NFC normalizer: Qwen's tokenizer.json).
    public var nfc = false
    public init(byteEncode: Bool = true, ignoreMerges: Bool = false, escapeWhitespace: Bool = false, nfc: Bool = false) {
        self.byteEncode = byteEncode
        self.ignoreMerges = ignoreMerges
        self.escapeWhitespace = escapeWhitespace
        self.nfc = nfc
    }
}

public enum PreTokenizerTable {
    public static let gpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
    static let contractions = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
    public static let llama3 = contractions + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
    public static let qwen2 = contractions + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
    static let qwen35 = contractions + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
    static let cjk = "[\u{4E00}-\u{9FA5}\u{800}-\u{4E00}\u{AC00}-\u{D7FF}]+"
    static let gpt4o = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+" + contractions
        + "?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" + contractions
        + "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
    static let tekken = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
    static let deepseekLLMLetters = "\\s?[A-Za-z\u{B5}\u{C0}-\u{D6}\u{D8}-\u{F6}\u{F8}-\u{1BA}\u{1BC}-\u{1BF}\u{1C4}-\u{293}\u{295}-\u{2AF}\u{370}-\u{373}\u{376}\u{377}\u{37B}-\u{37D}\u{37F}\u{386}\u{388}-\u{38A}\u{38C}\u{38E}-\u{3A1}\u{3A3}-\u{3F5}\u{3F7}-\u{481}\u{48A}-\u{52F}\u{531}-\u{556}\u{10A0}-\u{10C5}\u{13A0}-\u{13F5}\u{13F8}-\u{13FD}\u{1C90}-\u{1CBA}\u{1CBD}-\u{1CBF}\u{1D00}-\u{1D2B}\u{1D6B}-\u{1D77}\u{1D79}-\u{1D9A}\u{1E00}-\u{1F15}\u{1F18}-\u{1F1D}\u{1F20}-\u{1F45}\u{1F48}-\u{1F4D}\u{1F50}-\u{1F57}\u{1F59}\u{1F5B}\u{1F5D}\u{1F5F}-\u{1F7D}\u{1F80}-\u{1FB4}\u{1FB6}-\u{1FBC}\u{1FBE}\u{1FC2}-\u{1FC4}\u{1FC6}-\u{1FCC}\u{1FD0}-\u{1FD3}\u{1FD6}-\u{1FDB}\u{1FE0}-\u{1FEC}\u{1FF2}-\u{1FF4}\u{1FF6}-\u{1FFC}\u{2102}\u{2107}\u{210A}-\u{2113}\u{2115}\u{2119}-\u{211D}\u{2124}\u{2126}\u{2128}\u{212A}-\u{212D}\u{212F}-\u{2134}\u{2139}\u{213C}-\u{213F}\u{2145}-\u{2149}\u{214E}\u{2183}\u{2184}\u{2C00}-\u{2C7B}\u{2C7E}-\u{2CE4}\u{2CEB}-\u{2CEE}\u{2CF2}\u{2CF3}\u{A640}-\u{A66D}\u{A680}-\u{A69B}\u{A722}-\u{A76F}\u{A771}-\u{A787}\u{A78B}-\u{A78E}\u{AB70}-\u{ABBF}\u{FB00}-\u{FB06}\u{FB13}-\u{FB17}\u{FF21}-\u{FF3A}\u{FF41}-\u{FF5A}\u{10400}-\u{1044F}\u{104B0}-\u{104D3}\u{104D8}-\u{104FB}\u{10C80}-\u{10CB2}\u{10CC0}-\u{10CF2}\u{118A0}-\u{118DF}\u{1E900}-\u{1E943}]+"

    /// (names, patterns, options); `"gpt2"` stands for the hand-written GPT-2 split, `"newlines"` for the
    /// newline-run split. Order: as llama-vocab.cpp lists them.
    public static let entries: [(names: [String], patterns: [String], options: BPEOptions)] = [
        (["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano",
          "dbrx", "smaug-bpe"], [llama3], BPEOptions(ignoreMerges: true)),
        (["deepseek-llm"], ["[\r\n]", deepseekLLMLetters, "\\s?[!-/:-~\u{FF01}-\u{FF0F}\u{FF1A}-\u{FF5E}\u{2018}-\u{201F}\u{3000}-\u{3002}]+", "\\s+$", cjk, "\\p{N}+"], BPEOptions()),
        (["deepseek-coder"], ["[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", cjk, "\\p{N}"], BPEOptions()),
        (["falcon"], ["[\\p{P}\\$\\+<=>\\^~\\|`]+", "gpt2", "[0-9][0-9][0-9]"], BPEOptions()),
        (["starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"], ["\\p{N}", "gpt2"], BPEOptions()),
        (["gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
          "modern-bert", "mpt", "olmo", "jais", "trillion", "granite-docling", "exaone4", "jina-v1-en", "jina-v2-code",
          "roberta-bpe"], ["gpt2"], BPEOptions()),
        (["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "stablelm2", "hunyuan", "megrez", "solar-open"], [qwen2], BPEOptions()),
        (["qwen35"], [qwen35], BPEOptions()),
        (["chatglm-bpe"], [llama3], BPEOptions()),
        (["glm4", "glm5"], [llama3], BPEOptions(ignoreMerges: true)),
        (["poro-chat", "bloom", "gpt3-finnish"], [" ?[^(\\s|.,!?\u{2026}\u{3002}\u{FF0C}\u{3001}\u{964}\u{6D4}\u{60C})]+"], BPEOptions()),
        (["viking"], [" ?[^(\\s|.,!?\u{2026}\u{3002}\u{FF0C}\u{3001}\u{964}\u{6D4}\u{60C})]+", "\\p{N}"], BPEOptions()),
        (["tekken"], [tekken], BPEOptions(ignoreMerges: true)),
        (["gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"], [gpt4o], BPEOptions()),
        (["seed-coder"], [contractions + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"], BPEOptions()),
        (["grok-2", "laguna"], [qwen2], BPEOptions()),
        (["gemma4", "granite-embed-multi-311m"], ["newlines"], BPEOptions(byteEncode: false, escapeWhitespace: true)),
        (["default"], ["[\\p{P}\\$\\+<=>\\^~\\|]+", "gpt2", "\\p{N}+", "[0-9][0-9][0-9]"], BPEOptions()),
    ]

    /// The Llama 3 and Qwen2 patterns run by Llama3Split: (llama.cpp's name, digits per piece), keyed by
    /// the table's spelling and tokenizer.json's (contractions as `(?i:'s|'t|…)`).
    static let handWrittenPatterns: [String: (name: String, maxDigits: Int)] = {
        let insensitive = "(?i:'s|'t|'re|'ve|'m|'ll|'d)"
        var table: [String: (name: String, maxDigits: Int)] = [:]
        for (pattern, name, digits) in [(llama3, "llama-bpe", 3), (qwen2, "qwen2", 1)] {
            table[pattern] = (name, digits)
            table[pattern.replacing(contractions, with: insensitive)] = (name, digits)
        }
        return table
    }()

    /// Every name the table knows, for error messages.
    public static var knownNames: [String] { entries.flatMap(\.names).sorted() }

    /// The pre-tokenizer and options llama.cpp uses for `name`, or nil when it is not in the table.
    public static func llamaCpp(named name: String) -> (PreTokenizer, BPEOptions)? {
        guard let entry = entries.first(where: { $0.names.contains(name) }) else { return nil }
        let steps: [PreTokenizer.Step] = entry.patterns.map { pattern in
            if let known = handWrittenPatterns[pattern] { return .llama3(maxDigits: known.maxDigits) }
            switch pattern {
            case "gpt2": return .gpt2
            case "newlines": return .newlineRuns
            default:
                // The table's patterns are fixed and tested: a failure here is a programming error.
                guard let compiled = try? SplitPattern(pattern, dialect: .llamaCpp) else {
                    preconditionFailure("pre-tokenizer table pattern does not compile: \(pattern)")
                }
                return .isolate(compiled)
            }
        }
        return (PreTokenizer(name: name, steps: steps), entry.options)
    }
}
