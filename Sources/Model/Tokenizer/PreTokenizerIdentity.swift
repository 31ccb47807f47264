import Formats

/// The name llama.cpp knows a Hugging Face byte-level BPE tokenizer's pre-tokenizer by (`tokenizer.ggml.pre`),
/// found as convert_hf_to_gguf finds it: tokenize PreTokenizerHashes.checkText with the file's own pipeline
/// (added tokens parsed, the post-processor's BOS/EOS added, as transformers' encode does), hash Python's
/// repr of the ids, look the hash up. A hash the table lacks is an error that prints it, unless the
/// pre-tokenizer is exactly one llama.cpp runs under a name (a fine-tune's own vocabulary with Llama 3's,
/// Qwen2's or GPT-2's splitting): then that name, said to be by structure.
public struct PreTokenizerIdentity: Sendable, Equatable {
    public enum Basis: String, Sendable { case hash, structure }
    public let name: String
    public let hash: String
    public let basis: Basis

    public static func identify(tokenizerJSON json: JSONValue, path: String) throws(ModelError) -> PreTokenizerIdentity {
        let tokenizer = try BPETokenizer.load(tokenizerJSON: json, path: path)
        let (prefix, suffix) = postProcessorTokens(json)
        let ids = prefix + tokenizer.encode(PreTokenizerHashes.checkText, special: true) + suffix
        let repr = "[" + ids.map(String.init).joined(separator: ", ") + "]"
        let hash = SHA256Digest.hex(Array(repr.utf8))
        if let name = PreTokenizerHashes.names[hash] { return PreTokenizerIdentity(name: name, hash: hash, basis: .hash) }
        if let name = structuralName(json) { return PreTokenizerIdentity(name: name, hash: hash, basis: .structure) }
        throw .invalidValue(path: path, key: "pre_tokenizer",
                            reason: "llama.cpp does not know this pre-tokenizer (check-text hash \(hash), not in convert_hf_to_gguf's table); name it with --pre-tokenizer (known: \(PreTokenizerTable.knownNames.joined(separator: ", ")))")
    }

    /// Special-token ids the post-processor puts around a single sequence (TemplateProcessing, possibly
    /// inside a Sequence; ByteLevel adds none).
    static func postProcessorTokens(_ json: JSONValue) -> ([Int], [Int]) {
        guard let post = json["post_processor"] else { return ([], []) }
        let processors = post["type"]?.stringValue == "Sequence" ? post["processors"]?.arrayValue ?? [] : [post]
        guard let template = processors.first(where: { $0["type"]?.stringValue == "TemplateProcessing" }) else { return ([], []) }
        var prefix: [Int] = [], suffix: [Int] = [], seenSequence = false
        for item in template["single"]?.arrayValue ?? [] {
            if item["Sequence"] != nil { seenSequence = true; continue }
            guard let name = item["SpecialToken"]?["id"]?.stringValue else { continue }
            let ids = (template["special_tokens"]?[name]?["ids"]?.arrayValue ?? []).compactMap { $0.int64Value.map(Int.init) }
            if seenSequence { suffix += ids } else { prefix += ids }
        }
        return (prefix, suffix)
    }

    /// A pipeline equal to one llama.cpp runs: ByteLevel alone (gpt-2), individual Digits then ByteLevel
    /// (smollm), or a Split with the Llama 3 / Qwen2 pattern then ByteLevel without its own regex.
    static func structuralName(_ json: JSONValue) -> String? {
        let pre = json["pre_tokenizer"]
        let steps = pre?["type"]?.stringValue == "Sequence" ? pre?["pretokenizers"]?.arrayValue ?? [] : pre.map { [$0] } ?? []
        let kinds = steps.compactMap { $0["type"]?.stringValue }
        let regexByteLevel = steps.last?["use_regex"]?.boolValue != false
        switch kinds {
        case ["ByteLevel"] where regexByteLevel: return "gpt-2"
        case ["Digits", "ByteLevel"] where steps[0]["individual_digits"]?.boolValue == true && regexByteLevel: return "smollm"
        case ["Split", "ByteLevel"] where !regexByteLevel && steps[0]["behavior"]?.stringValue == "Isolated":
            return steps[0]["pattern"]?["Regex"]?.stringValue.flatMap { PreTokenizerTable.handWrittenPatterns[$0]?.name }
        default: return nil
        }
    }
}
