import Formats

/// A Hugging Face tokenizer.json whose model is byte-level BPE (GPT-2, Llama 3, Qwen, SmolLM2, StarCoder…)
/// as a BPETokenizer: the pre-tokenizer's Split/Digits/ByteLevel steps become PreTokenizer steps (patterns
/// with the Unicode meaning of `\p{…}`, as Oniguruma), the NFC normalizer and `ignore_merges` become options,
/// added tokens are cut out of the text (special: control, others: user-defined), with their lstrip/rstrip.
/// Anything else in the pipeline is refused by name rather than approximated.
extension BPETokenizer {
    public static func load(tokenizerJSON json: JSONValue, path: String) throws(ModelError) -> BPETokenizer {
        guard let model = json["model"], model["type"]?.stringValue == "BPE" else {
            throw .invalidValue(path: path, key: "model.type", reason: "'\(json["model"]?["type"]?.stringValue ?? "none")' is not BPE")
        }
        guard let vocab = model["vocab"]?.objectValue else { throw .missingKey(path: path, key: "model.vocab") }
        var byID: [Int: String] = [:]
        for (token, id) in vocab { if let i = id.int64Value, i >= 0 { byID[Int(i)] = token } }
        var types: [Int: SentencePieceBPE.TokenType] = [:]
        var strips: [Int: (Bool, Bool)] = [:]
        let added = json["added_tokens"]?.arrayValue ?? []
        for entry in added {
            guard let id = entry["id"]?.int64Value, id >= 0, let content = entry["content"]?.stringValue else { continue }
            byID[Int(id)] = content
            types[Int(id)] = entry["special"]?.boolValue == true ? .control : .userDefined
            strips[Int(id)] = (entry["lstrip"]?.boolValue == true, entry["rstrip"]?.boolValue == true)
        }
        let count = (byID.keys.max() ?? -1) + 1
        // Ids may leave gaps, but not so many that a lying id allocates without bound.
        guard count <= byID.count + 1_000_000 else {
            throw .invalidValue(path: path, key: "model.vocab", reason: "ids reach \(count - 1) for \(byID.count) tokens")
        }
        let tokens = (0..<count).map { byID[$0] ?? "" }
        // "Ġ t" strings, or ["Ġ", "t"] pairs (a space inside a part written as U+0120, as gguf-py does).
        let merges: [String] = (model["merges"]?.arrayValue ?? []).compactMap { m in
            if let s = m.stringValue { return s }
            guard let pair = m.arrayValue, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue else { return nil }
            // (A space is rare: checking bytes first keeps 150 000 pairs from costing a third of loading.)
            func spaced(_ s: String) -> String { s.utf8.contains(0x20) ? s.replacing(" ", with: "\u{120}") : s }
            return spaced(a) + " " + spaced(b)
        }
        var options = BPEOptions(ignoreMerges: model["ignore_merges"]?.boolValue == true)
        switch json["normalizer"]?["type"]?.stringValue {
        case nil: break
        case "NFC": options.nfc = true
        case let other?:
            throw .invalidValue(path: path, key: "normalizer", reason: "normalizer '\(other)' is not supported for byte-level BPE (none, NFC)")
        }
        let (steps, byteLevel) = try HuggingFacePreTokenizer.steps(json["pre_tokenizer"], path: path)
        guard byteLevel else {
            throw .invalidValue(path: path, key: "pre_tokenizer", reason: "no ByteLevel step: not a byte-level BPE tokenizer")
        }
        let preTokenizer = PreTokenizer(name: HuggingFacePreTokenizer.describe(json["pre_tokenizer"]), steps: steps)
        return BPETokenizer(tokens: tokens, merges: merges, types: (0..<count).map { types[$0] ?? .normal },
                            preTokenizer: preTokenizer, options: options, strip: { strips[$0] ?? (false, false) })
    }
}

/// tokenizer.json `pre_tokenizer` → PreTokenizer steps.
enum HuggingFacePreTokenizer {
    /// The steps, and whether a ByteLevel step was among them.
    static func steps(_ json: JSONValue?, path: String) throws(ModelError) -> ([PreTokenizer.Step], Bool) {
        guard let json, json != .null else { return ([], false) }
        let type = json["type"]?.stringValue ?? ""
        func refuse(_ reason: String) -> ModelError { .invalidValue(path: path, key: "pre_tokenizer", reason: reason) }
        switch type {
        case "Sequence":
            var steps: [PreTokenizer.Step] = [], byteLevel = false
            for item in json["pretokenizers"]?.arrayValue ?? [] {
                let (more, isByteLevel) = try Self.steps(item, path: path)
                steps += more
                byteLevel = byteLevel || isByteLevel
            }
            return (steps, byteLevel)
        case "ByteLevel":
            if json["add_prefix_space"]?.boolValue == true { throw refuse("ByteLevel with add_prefix_space is not supported") }
            return (json["use_regex"]?.boolValue == false ? [] : [.gpt2], true)
        case "Digits":
            let pattern = json["individual_digits"]?.boolValue == true ? "\\p{N}" : "\\p{N}+"
            return ([.isolate(try compile(pattern, path: path))], false)
        case "Split":
            guard json["invert"]?.boolValue != true else { throw refuse("Split with invert is not supported") }
            let pattern: String
            if let regex = json["pattern"]?["Regex"]?.stringValue {
                pattern = regex
            } else if let literal = json["pattern"]?["String"]?.stringValue {
                pattern = literal.unicodeScalars.map { "\\x{\(String($0.value, radix: 16))}" }.joined()
            } else {
                throw refuse("Split has no pattern")
            }
            let compiled = try compile(pattern, path: path)
            switch json["behavior"]?.stringValue {
            case "Isolated":
                // Llama 3's and Qwen2's patterns run hand-written.
                if let known = PreTokenizerTable.handWrittenPatterns[pattern] { return ([.llama3(maxDigits: known.maxDigits)], false) }
                return ([.isolate(compiled)], false)
            case "Removed": return ([.remove(compiled)], false)
            case let other: throw refuse("Split behavior '\(other ?? "none")' is not supported (Isolated, Removed)")
            }
        default:
            throw refuse("pre-tokenizer '\(type)' is not supported for byte-level BPE (Sequence, Split, Digits, ByteLevel)")
        }
    }

    static func compile(_ pattern: String, path: String) throws(ModelError) -> SplitPattern {
        do throws(PatternError) {
            return try SplitPattern(pattern, dialect: .unicode)
        } catch {
            throw .invalidValue(path: path, key: "pre_tokenizer", reason: error.description)
        }
    }

    /// A short name for the pipeline ("Split+ByteLevel"), for messages.
    static func describe(_ json: JSONValue?) -> String {
        guard let json, let type = json["type"]?.stringValue else { return "none" }
        if type == "Sequence" { return (json["pretokenizers"]?.arrayValue ?? []).map { describe($0) }.joined(separator: "+") }
        return type
    }
}
