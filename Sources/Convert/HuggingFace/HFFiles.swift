import Formats
import Model

/// The text files of an exported Hugging Face folder, from the GGUF's metadata: config.json (llama, or
/// gpt2 with both n_positions and n_ctx), generation_config.json, and for byte-level BPE vocabularies
/// tokenizer.json (vocab, merges, added tokens, ByteLevel pre-tokenizer — after individual Digits for
/// SmolLM2's `smollm` — and decoder) with tokenizer_config.json (special tokens, chat template).
enum HFFiles {
    static func build(_ gguf: GGUFFile, config c: TransformerConfig, dtype: DType) throws(ConvertError) -> [(String, [UInt8])] {
        func id(_ name: String) -> JSONValue {
            gguf[GGUFKeys.tokenID(name)]?.integerValue.map { JSONValue.int($0) } ?? .null
        }
        let torchDType = dtype == .f16 ? "float16" : dtype == .bf16 ? "bfloat16" : "float32"
        let config: [(String, JSONValue)]
        do {
            config = try c.family.huggingFaceConfig(c, HFExportContext(bos: id("bos"), eos: id("eos"), pad: id("padding"),
                                                                      torchDType: torchDType, path: gguf.path))
                .sorted { $0.0 < $1.0 }
        } catch {
            throw .unsupportedInput(path: gguf.path, reason: "\(error)")
        }
        let generation: [(String, JSONValue)] = [("bos_token_id", id("bos")), ("eos_token_id", id("eos")),
                                                 ("pad_token_id", id("padding"))].filter { $0.1 != .null }
        var files = [("config.json", text(.object(config.filter { $0.1 != .null }))), ("generation_config.json", text(.object(generation)))]
        files += try gguf[GGUFKeys.tokenizerModel]?.stringValue == "llama"
            ? sentencePieceFiles(gguf, contextLength: c.contextLength) : tokenizerFiles(gguf, contextLength: c.contextLength)
        return files.map { ($0.0, Array($0.1.utf8)) } + (try sentencePieceModel(gguf).map { [("tokenizer.model", $0)] } ?? [])
    }

    static func text(_ value: JSONValue) -> String { JSONWriter.pretty(value, indent: 2) + "\n" }

    static func tokenizerFiles(_ gguf: GGUFFile, contextLength: Int) throws(ConvertError) -> [(String, String)] {
        guard gguf[GGUFKeys.tokenizerModel]?.stringValue == "gpt2" else {
            throw .unsupportedInput(path: gguf.path, reason: "only byte-level BPE (gpt2) and SentencePiece (llama) vocabularies are exported")
        }
        let tokens: [String], types: [Int64], merges: [String]
        do {
            tokens = try gguf[GGUFKeys.tokens]?.arrayValue?.stringValues() ?? []
            types = try gguf[GGUFKeys.tokenTypes]?.arrayValue?.values().compactMap(\.integerValue) ?? []
            merges = try gguf[GGUFKeys.merges]?.arrayValue?.stringValues() ?? []
        } catch { throw .format(error) }
        var vocab: [(String, JSONValue)] = [], added: [JSONValue] = []
        for (i, t) in tokens.enumerated() {
            vocab.append((t, .int(i)))
            let type = i < types.count ? types[i] : 1
            if type == 3 || type == 4 {
                added.append(.object([("id", .int(i)), ("content", .string(t)), ("single_word", .bool(false)),
                                      ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(false)),
                                      ("special", .bool(type == 3))]))
            }
        }
        let byteLevel: JSONValue = .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)),
                                            ("trim_offsets", .bool(true)), ("use_regex", .bool(true))])
        let preName = gguf[GGUFKeys.tokenizerPre]?.stringValue ?? "default"
        let (pre, ignoreMerges) = try preTokenizerJSON(preName, byteLevel: byteLevel, path: gguf.path)
        let model: JSONValue = .object([
            ("type", .string("BPE")), ("dropout", .null), ("unk_token", .null), ("continuing_subword_prefix", .null),
            ("end_of_word_suffix", .null), ("fuse_unk", .bool(false)), ("byte_fallback", .bool(false)),
            ("ignore_merges", .bool(ignoreMerges)), ("vocab", .object(vocab)),
            ("merges", .array(merges.map { m in
                let parts = m.split(separator: " ", maxSplits: 1).map { JSONValue.string(String($0)) }
                return .array(parts)
            })),
        ])
        let tokenizer: JSONValue = .object([
            ("version", .string("1.0")), ("truncation", .null), ("padding", .null), ("added_tokens", .array(added)),
            ("normalizer", .null), ("pre_tokenizer", pre), ("post_processor", byteLevel), ("decoder", byteLevel), ("model", model),
        ])
        let config = tokenizerConfig(gguf, tokens: tokens, contextLength: contextLength, tokenizerClass: "PreTrainedTokenizerFast",
                                     addBOSDefault: false, extra: [])
        return [("tokenizer.json", HFFiles.text(tokenizer)), ("tokenizer_config.json", config)]
    }

    /// tokenizer.json's pre_tokenizer for llama.cpp's pre-tokenizer `name` (PreTokenizerTable): GPT-2's as a
    /// regex ByteLevel, SmolLM2's as individual Digits then that, any other as its patterns in order, each an
    /// isolating Split (GPT-2's pattern written out), then a ByteLevel that only maps bytes.
    static func preTokenizerJSON(_ name: String, byteLevel: JSONValue, path: String) throws(ConvertError) -> (JSONValue, Bool) {
        guard let entry = PreTokenizerTable.entries.first(where: { $0.names.contains(name) }), entry.options.byteEncode else {
            throw .unsupportedInput(path: path, reason: "tokenizer.ggml.pre '\(name)' has no tokenizer.json form here")
        }
        func sequence(_ items: [JSONValue]) -> JSONValue { .object([("type", .string("Sequence")), ("pretokenizers", .array(items))]) }
        if entry.patterns == ["gpt2"] { return (byteLevel, entry.options.ignoreMerges) }
        if entry.patterns == ["\\p{N}", "gpt2"] {
            return (sequence([.object([("type", .string("Digits")), ("individual_digits", .bool(true))]), byteLevel]), entry.options.ignoreMerges)
        }
        let splits: [JSONValue] = entry.patterns.map { pattern in
            .object([("type", .string("Split")),
                     ("pattern", .object([("Regex", .string(pattern == "gpt2" ? PreTokenizerTable.gpt2 + "|\\s+" : pattern))])),
                     ("behavior", .string("Isolated")), ("invert", .bool(false))])
        }
        let mapOnly: JSONValue = .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)),
                                          ("trim_offsets", .bool(false)), ("use_regex", .bool(false))])
        return (sequence(splits + [mapOnly]), entry.options.ignoreMerges)
    }

    /// A llama (SentencePiece) vocabulary as tokenizer.model, nil for other vocabularies.
    static func sentencePieceModel(_ gguf: GGUFFile) throws(ConvertError) -> [UInt8]? {
        guard gguf[GGUFKeys.tokenizerModel]?.stringValue == "llama" else { return nil }
        let tokens: [String], scores: [Float], types: [Int]
        do {
            tokens = try gguf[GGUFKeys.tokens]?.arrayValue?.stringValues() ?? []
            scores = try (gguf[GGUFKeys.scores]?.arrayValue?.values() ?? []).map { v in
                if case .float32(let f) = v { f } else { 0 }
            }
            types = try (gguf[GGUFKeys.tokenTypes]?.arrayValue?.values() ?? []).compactMap(\.integerValue).map { Int($0) }
        } catch { throw .format(error) }
        guard scores.count == tokens.count, types.count == tokens.count else {
            throw .unsupportedInput(path: gguf.path, reason: "tokenizer.ggml.scores and token_type do not match the tokens")
        }
        func id(_ key: String, _ fallback: Int) -> Int { gguf[GGUFKeys.tokenID(key)]?.integerValue.map { Int($0) } ?? fallback }
        let pieces = tokens.indices.map { SentencePieceModel.Piece(text: tokens[$0], score: scores[$0], type: types[$0]) }
        return SentencePieceModel.encode(pieces: pieces, byteFallback: types.contains(6),
                                         addDummyPrefix: gguf[GGUFKeys.addSpacePrefix]?.boolValue ?? true,
                                         unknownID: id("unknown", 0), bosID: id("bos", 1), eosID: id("eos", 2), padID: id("padding", -1))
    }

    /// tokenizer_config.json for a SentencePiece vocabulary (transformers builds the fast tokenizer from
    /// tokenizer.model).
    static func sentencePieceFiles(_ gguf: GGUFFile, contextLength: Int) throws(ConvertError) -> [(String, String)] {
        let tokens: [String]
        do { tokens = try gguf[GGUFKeys.tokens]?.arrayValue?.stringValues() ?? [] } catch { throw .format(error) }
        return [("tokenizer_config.json", tokenizerConfig(gguf, tokens: tokens, contextLength: contextLength,
                                                          tokenizerClass: "LlamaTokenizer", addBOSDefault: true,
                                                          extra: [("legacy", .bool(false))]))]
    }

    /// tokenizer_config.json's chat_template: the template, or with named variants
    /// (`tokenizer.chat_templates`) the list of {name, template} transformers reads, "default" first.
    static func chatTemplateJSON(_ gguf: GGUFFile) -> JSONValue {
        let main = gguf[GGUFKeys.chatTemplate]?.stringValue
        let names = ChatTemplate.variantNames(gguf: gguf)
        let variants: [JSONValue] = names.compactMap { name in
            gguf[GGUFKeys.chatTemplate(named: name)]?.stringValue.map { .object([("name", .string(name)), ("template", .string($0))]) }
        }
        if variants.isEmpty { return main.map { .string($0) } ?? .null }
        let first: [JSONValue] = main.map { [.object([("name", .string("default")), ("template", .string($0))])] } ?? []
        return .array(first + variants)
    }

    /// tokenizer_config.json: add flags, special token texts, chat template, context, class (keys sorted as
    /// transformers writes them).
    static func tokenizerConfig(_ gguf: GGUFFile, tokens: [String], contextLength: Int, tokenizerClass: String,
                                addBOSDefault: Bool, extra: [(String, JSONValue)]) -> String {
        func text(_ key: String) -> JSONValue {
            guard let i = gguf[GGUFKeys.tokenID(key)]?.integerValue, tokens.indices.contains(Int(i)) else { return .null }
            return .string(tokens[Int(i)])
        }
        var config: [(String, JSONValue)] = [
            ("add_bos_token", .bool(gguf[GGUFKeys.addBOS]?.boolValue ?? addBOSDefault)),
            ("add_eos_token", .bool(gguf[GGUFKeys.addEOS]?.boolValue ?? false)),
            ("bos_token", text("bos")), ("chat_template", chatTemplateJSON(gguf)),
            ("clean_up_tokenization_spaces", .bool(false)), ("eos_token", text("eos")),
            ("model_max_length", .int(contextLength)), ("pad_token", text("padding")),
            ("tokenizer_class", .string(tokenizerClass)), ("unk_token", text("unknown")),
        ] + extra
        config.sort { $0.0 < $1.0 }
        return HFFiles.text(.object(config.filter { $0.1 != .null }))

    }
}
