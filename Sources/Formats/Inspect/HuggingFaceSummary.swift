/// Summary of a Hugging Face checkpoint folder: config.json (architecture, hyper-parameters as metadata),
/// safetensors weights (single or sharded), tokenizer.json and tokenizer_config.json (chat template).
enum HuggingFaceSummary {
    static func read(directory: String) throws(FormatError) -> CheckpointSummary {
        let config = try JSONFile.read(directory + "/config.json")
        let weights: [SafetensorsFile]
        let index = directory + "/" + ShardedSafetensors.indexFileName
        if CheckpointFormat.exists(index) {
            weights = try ShardedSafetensors(indexPath: index).shards
        } else {
            weights = [try SafetensorsFile(path: directory + "/model.safetensors")]
        }
        var s = CheckpointSummary.fromSafetensors(weights, path: directory, format: .huggingFaceDirectory)
        s.architecture = config["architectures"]?.arrayValue?.first?.stringValue ?? config["model_type"]?.stringValue
        // config.json keys come first, as "config.<key>", typed by their JSON kind.
        let configItems = (config.objectValue ?? []).map { key, value in
            CheckpointSummary.MetadataItem(key: "config.\(key)", type: "JSON", elementType: nil, count: nil,
                                           value: value, truncated: false)
        }
        s.metadata = configItems + s.metadata
        let tokenizerConfigPath = directory + "/tokenizer_config.json"
        let tokenizerConfig = CheckpointFormat.exists(tokenizerConfigPath) ? try JSONFile.read(tokenizerConfigPath) : nil
        if let template = tokenizerConfig?["chat_template"]?.stringValue {
            s.chatTemplateLength = template.utf8.count
        } else if CheckpointFormat.exists(directory + "/chat_template.jinja") {
            s.chatTemplateLength = try MappedFile(path: directory + "/chat_template.jinja").count
        }
        let tokenizerPath = directory + "/tokenizer.json"
        if CheckpointFormat.exists(tokenizerPath) {
            s.tokenizer = tokenizerInfo(try JSONFile.read(tokenizerPath), config: config, tokenizerConfig: tokenizerConfig)
        }
        return s
    }

    /// Vocabulary size counts the model's vocab plus added tokens outside it; special ids come from
    /// config.json (`bos_token_id`, ...) as transformers uses them.
    static func tokenizerInfo(_ tokenizer: JSONValue, config: JSONValue, tokenizerConfig: JSONValue?) -> CheckpointSummary.TokenizerInfo {
        let model = tokenizer["model"]
        let vocab = model?["vocab"]?.objectValue ?? []
        let vocabIDs = Set(vocab.compactMap { $0.1.int64Value })
        let added = (tokenizer["added_tokens"]?.arrayValue ?? []).compactMap { $0["id"]?.int64Value }
        let extra = Set(added).subtracting(vocabIDs).count
        var special: [(String, Int64)] = []
        for (short, key) in [("bos", "bos_token_id"), ("eos", "eos_token_id"), ("unk", "unk_token_id"), ("pad", "pad_token_id")] {
            if let id = config[key]?.int64Value { special.append((short, id)) }
        }
        return CheckpointSummary.TokenizerInfo(
            model: model?["type"]?.stringValue ?? "unknown",
            pre: tokenizer["pre_tokenizer"]?["type"]?.stringValue,
            vocabSize: vocab.count + extra,
            mergeCount: model?["merges"]?.arrayValue?.count,
            specialIDs: special,
            addBOS: tokenizerConfig?["add_bos_token"]?.boolValue)
    }
}
