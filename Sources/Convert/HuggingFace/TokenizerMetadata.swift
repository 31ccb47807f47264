import Formats
import Model

/// GGUF tokenizer keys from tokenizer.json (+ tokenizer_config.json), as convert_hf_to_gguf writes them:
/// byte-level BPE → `gpt2` with tokens, token types (added special tokens CONTROL, other added tokens
/// USER_DEFINED, ids without a token `[PADn]` UNUSED), merges "a b"; SentencePiece-style tokenizer.json
/// (Metaspace, byte fallback) → `llama` with scores (−merge rank) and types (byte tokens BYTE). Special ids
/// from tokenizer_config.json's bos/eos/unk/pad tokens; add_bos/add_eos from tokenizer_config.json or the
/// post-processor; the chat template.
enum TokenizerMetadata {
    static func build(_ hf: HuggingFaceDirectory, vocabSize: Int, preTokenizer: String? = nil) throws(ConvertError) -> [GGUFMetadata.KV] {
        if let model = hf.sentencePiece {
            let (keys, index) = sentencePieceKeys(model, hf: hf, vocabSize: vocabSize)
            return keys + specialKeys(hf, json: hf.tokenizerJSON ?? .object([]), index: index)
        }
        guard let json = hf.tokenizerJSON else {
            throw .unsupportedInput(path: hf.path, reason: "no tokenizer.json (a tokenizer.model alone is not converted yet)")
        }
        guard let vocab = json["model"]?["vocab"]?.objectValue, json["model"]?["type"]?.stringValue == "BPE" else {
            throw .unsupportedInput(path: hf.path + "/tokenizer.json", reason: "only BPE tokenizers (byte-level or SentencePiece-converted) are converted")
        }
        // Ids index arrays (a dictionary lookup per id, and "[PAD" + String(i) + "]", were most of the 8 ms
        // this took for a 50257-id vocabulary padded from a small one).
        let added = json["added_tokens"]?.arrayValue ?? []
        var ids: [(Int, String, Int32)] = []  // (id, text, type; 0: from the vocabulary)
        ids.reserveCapacity(vocab.count + added.count)
        for (token, id) in vocab { if let i = id.int64Value { ids.append((Int(i), token, 0)) } }
        for entry in added {
            guard let id = entry["id"]?.int64Value, let content = entry["content"]?.stringValue else { continue }
            ids.append((Int(id), content, entry["special"]?.boolValue == true ? 3 : 4))
        }
        // Ids past vocab_size are kept (the count grows to cover them), but not past what the entries could
        // fill: a lying id must not make the arrays huge.
        let limit = vocabSize + ids.count
        if let bad = ids.first(where: { $0.0 < 0 || $0.0 >= limit }) {
            throw .unsupportedInput(path: hf.path + "/tokenizer.json", reason: "token '\(bad.1)' has id \(bad.0), outside 0..<\(limit)")
        }
        let count = max(vocabSize, (ids.map(\.0).max() ?? -1) + 1)
        var byID = [String?](repeating: nil, count: count), types = [Int32](repeating: 0, count: count)
        for (id, text, type) in ids {
            byID[id] = text
            if type != 0 { types[id] = type }
        }
        var tokens: [String] = [], tokenTypes: [Int32] = []
        tokens.reserveCapacity(count)
        tokenTypes.reserveCapacity(count)
        let sentencePiece = SentencePieceBPE.isSentencePiece(json)
        for i in 0..<count {
            if let t = byID[i] {
                tokens.append(t)
                let byte = sentencePiece && SentencePieceBPE.byteValue(t) != nil
                tokenTypes.append(types[i] != 0 ? types[i] : (byte ? 6 : 1))
            } else {
                tokens.append(padToken(i))
                tokenTypes.append(5)
            }
        }
        let merges: [String] = (json["model"]?["merges"]?.arrayValue ?? []).compactMap { m in
            if let s = m.stringValue { return s }
            guard let pair = m.arrayValue?.compactMap(\.stringValue), pair.count == 2 else { return nil }
            return pair.joined(separator: " ")
        }
        let index = smallestIDs(byID)
        func tokenText(_ key: String) -> String? { HuggingFaceDirectory.tokenText(hf.tokenizerConfig, key) }
        var kv: [GGUFMetadata.KV] = []
        if sentencePiece {
            // SentencePiece BPE scores each normal piece −(its index among normal pieces) (the trainer's
            // order, which is also the merge order); tokenizer.json drops them, the order keeps them.
            let unk = tokenText("unk_token").flatMap { index[$0] }
            if let unk, unk < tokenTypes.count { tokenTypes[unk] = 2 }
            let firstNormal = tokenTypes.firstIndex { $0 == 1 } ?? 0
            let scores = (0..<count).map { i in tokenTypes[i] == 1 ? -Float(i - firstNormal) : 0 }
            kv += [(GGUFKeys.tokenizerModel, .string("llama")), (GGUFKeys.tokenizerPre, .string("default")),
                   (GGUFKeys.tokens, .array(.strings(tokens))),
                   (GGUFKeys.scores, .array(.float32s(scores))),
                   (GGUFKeys.tokenTypes, .array(.int32s(tokenTypes)))]
        } else {
            kv += [(GGUFKeys.tokenizerModel, .string("gpt2")),
                   (GGUFKeys.tokenizerPre, .string(try preTokenizerName(hf, json: json, override: preTokenizer))),
                   (GGUFKeys.tokens, .array(.strings(tokens))),
                   (GGUFKeys.tokenTypes, .array(.int32s(tokenTypes))),
                   (GGUFKeys.merges, .array(.strings(merges)))]
        }
        kv += specialKeys(hf, json: json, index: index)
        return kv
    }

    /// convert_hf_to_gguf's name for the pre-tokenizer (PreTokenizerIdentity), or the one the user gave,
    /// which must be one llama.cpp knows.
    static func preTokenizerName(_ hf: HuggingFaceDirectory, json: JSONValue, override: String?) throws(ConvertError) -> String {
        let path = hf.path + "/tokenizer.json"
        if let override {
            guard PreTokenizerTable.llamaCpp(named: override) != nil else {
                throw .unsupportedInput(path: path, reason: "--pre-tokenizer '\(override)' is unknown to llama.cpp (known: \(PreTokenizerTable.knownNames.joined(separator: ", ")))")
            }
            return override
        }
        do throws(ModelError) {
            return try PreTokenizerIdentity.identify(tokenizerJSON: json, path: path).name
        } catch {
            throw .unsupportedInput(path: path, reason: "\(error)")
        }
    }

    /// gguf-py's add_chat_template: each named template (its name with characters other than letters and
    /// digits as '_') as `tokenizer.chat_template.NAME`, their names in `tokenizer.chat_templates`, then the
    /// default one as `tokenizer.chat_template`. (gguf-py lists the names from a Python set, in no fixed
    /// order; here in the folder's order.)
    static func chatTemplateKeys(_ templates: [(name: String, template: String)]) -> [GGUFMetadata.KV] {
        var kv: [GGUFMetadata.KV] = [], names: [String] = []
        for (name, template) in templates where name != "default" && !name.isEmpty {
            let clean = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
            guard !names.contains(clean) else { continue }
            names.append(clean)
            kv.append((GGUFKeys.chatTemplate(named: clean), .string(template)))
        }
        if !names.isEmpty { kv.append((GGUFKeys.chatTemplateNames, .array(.strings(names)))) }
        if let main = templates.first(where: { $0.name == "default" }) { kv.append((GGUFKeys.chatTemplate, .string(main.template))) }
        return kv
    }

    /// `[PADn]`, the text convert_hf_to_gguf gives an id without a token, built from its digits (a small
    /// string: no allocation).
    static func padToken(_ id: Int) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
            var digits = max(0, id), end = 32
            buffer[end - 1] = UInt8(ascii: "]")
            end -= 1
            repeat {
                end -= 1
                buffer[end] = UInt8(ascii: "0") + UInt8(digits % 10)
                digits /= 10
            } while digits > 0
            for byte in "[PAD".utf8.reversed() {
                end -= 1
                buffer[end] = byte
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[end..<32]), as: UTF8.self)
        }
    }

    /// Special ids (from tokenizer_config.json's token texts), which special tokens are added, the template.
    static func specialKeys(_ hf: HuggingFaceDirectory, json: JSONValue, index: [String: Int]) -> [GGUFMetadata.KV] {
        func tokenText(_ key: String) -> String? { HuggingFaceDirectory.tokenText(hf.tokenizerConfig, key) }
        var kv: [GGUFMetadata.KV] = []
        // gguf-py's SpecialVocab: tokenizer_config.json's token texts, else config.json's `<type>_token_id`.
        for (key, name) in [("bos_token", "bos"), ("eos_token", "eos"), ("unk_token", "unknown"), ("pad_token", "padding")] {
            if let text = tokenText(key), let id = index[text] {
                kv.append((GGUFKeys.tokenID(name), .uint32(UInt32(id))))
            } else if let id = hf.configJSON[key + "_id"]?.int64Value, id >= 0, id < hf.config.vocabSize {
                kv.append((GGUFKeys.tokenID(name), .uint32(UInt32(id))))
            }
        }
        var adds = addSpecialTokens(json, tokenText)
        for name in ["bos", "eos", "sep"] {
            guard let value = hf.tokenizerConfig?["add_\(name)_token"]?.boolValue else { continue }
            if let i = adds.firstIndex(where: { $0.0 == name }) { adds[i].1 = value } else { adds.append((name, value)) }
        }
        for (name, value) in adds { kv.append((GGUFKeys.addToken(name), .bool(value))) }
        kv += chatTemplateKeys(hf.chatTemplates)
        return kv
    }

    /// convert_hf_to_gguf's _create_vocab_sentencepiece: every piece with its score; types unknown, control,
    /// unused and byte as the model says, everything else (user-defined included) normal; ids past the
    /// model up to vocab_size `[PADn]` (score −10000, unused); tokenizer_config.json's added_tokens_decoder
    /// entries become control (special) or user-defined tokens.
    static func sentencePieceKeys(_ model: SentencePieceModel, hf: HuggingFaceDirectory, vocabSize: Int) -> ([GGUFMetadata.KV], [String: Int]) {
        var tokens = (0..<vocabSize).map(padToken)
        var scores = [Float](repeating: -10000, count: vocabSize), types = [Int32](repeating: 5, count: vocabSize)
        for (i, p) in model.pieces.enumerated() where i < vocabSize {
            tokens[i] = p.text
            scores[i] = p.score
            types[i] = [2, 3, 5, 6].contains(p.type) ? Int32(p.type) : 1
        }
        switch hf.config.family.sentencePieceAddedTokens {
        case .llama:
            for (key, data) in hf.tokenizerConfig?["added_tokens_decoder"]?.objectValue ?? [] {
                guard let id = Int(key), id < vocabSize, let content = data["content"]?.stringValue else { continue }
                let special = data["special"]?.boolValue == true
                tokens[id] = special ? content : content.replacing("\u{2581}", with: " ")
                types[id] = special ? 3 : 4
            }
        case .phi3:
            let decoder = (hf.tokenizerConfig?["added_tokens_decoder"]?.objectValue ?? []).map { (Int($0.0), $0.1) }
            let added = (hf.tokenizerJSON?["added_tokens"]?.arrayValue ?? []).map { ($0["id"]?.int64Value.map { Int($0) }, $0) }
            for (id, data) in decoder + added {
                guard let id, id >= 0, id < vocabSize, let content = data["content"]?.stringValue else { continue }
                tokens[id] = content
                scores[id] = -1000
                types[id] = data["special"]?.boolValue == true ? 3 : 4
            }
        }
        let kv: [GGUFMetadata.KV] = [
            (GGUFKeys.tokenizerModel, .string("llama")), (GGUFKeys.tokenizerPre, .string("default")),
            (GGUFKeys.tokens, .array(.strings(tokens))),
            (GGUFKeys.scores, .array(.float32s(scores))),
            (GGUFKeys.tokenTypes, .array(.int32s(types))),
        ]
        return (kv, smallestIDs(tokens.map(Optional.some)))
    }

    /// Each token text's smallest id, from the texts in id order (nil: an id without a text).
    static func smallestIDs(_ textsByID: [String?]) -> [String: Int] {
        var index: [String: Int] = [:]
        index.reserveCapacity(textsByID.count)
        for (id, text) in textsByID.enumerated() { if let text, index[text] == nil { index[text] = id } }
        return index
    }

    /// Which special tokens the tokenizer adds, as gguf-py's SpecialVocab reads them: a TemplateProcessing
    /// post-processor's single template (leading BOS, trailing EOS) and pair template (a separator between
    /// A and B), then tokenizer_config.json's add_*_token booleans. Byte-level BPE without a template
    /// adds neither BOS nor EOS.
    static func addSpecialTokens(_ json: JSONValue, _ tokenText: (String) -> String?) -> [(String, Bool)] {
        var adds: [(String, Bool)] = []
        func set(_ name: String, _ value: Bool) {
            if let i = adds.firstIndex(where: { $0.0 == name }) { adds[i].1 = value } else { adds.append((name, value)) }
        }
        let processors = json["post_processor"]?["processors"]?.arrayValue ?? (json["post_processor"].map { [$0] } ?? [])
        let bos = tokenText("bos_token"), eos = tokenText("eos_token"), sep = tokenText("sep_token"), cls = tokenText("cls_token")
        var template = false
        for p in processors where p["type"]?.stringValue == "TemplateProcessing" {
            template = true
            let single = p["single"]?.arrayValue ?? [], pair = p["pair"]?.arrayValue ?? []
            func special(_ v: JSONValue?) -> String? { v?["SpecialToken"]?["id"]?.stringValue }
            var first: String?, last: String?
            if single.count > 1 {
                first = special(single.first)
                if let first { set("bos", first == bos || first == cls) }
                last = special(single.last)
                if let last { set("eos", last == eos) }
            }
            guard !pair.isEmpty else { continue }
            let start = first != nil && special(pair.first) == first ? 1 : 0
            let stop = last != nil && special(pair.last) == last ? pair.count - 1 : pair.count
            guard start < stop else { continue }
            let inner = Array(pair[start..<stop])
            guard inner.first?["Sequence"]?["id"]?.stringValue == "A", inner.last?["Sequence"]?["id"]?.stringValue == "B",
                  inner.count > 2 else { continue }
            let middle = Array(inner[1..<(inner.count - 1)])
            var addSep = false
            if let entry = special(middle.first), entry == sep || entry == eos, last == nil { addSep = true }
            if middle.count == 2, let entry = special(middle[1]), entry == sep || entry == eos { addSep = true }
            set("sep", addSep)
        }
        if !template && !SentencePieceBPE.isSentencePiece(json) {
            set("bos", false)
            set("eos", false)
        }
        return adds
    }
}
