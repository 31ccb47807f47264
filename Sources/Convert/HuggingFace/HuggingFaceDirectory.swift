import Formats
import Foundation
import Model

/// A Hugging Face model folder as the converter reads it: config.json decoded into a TransformerConfig
/// (unsupported architectures refused before any weight is touched), the tensors as mapped views
/// (model.safetensors or the shards of model.safetensors.index.json), and the tokenizer files.
public struct HuggingFaceDirectory {
    public let path: String
    public let configJSON: JSONValue
    public let config: TransformerConfig
    public let tensors: [RawTensor]
    /// tokenizer.json, tokenizer_config.json, generation_config.json when present.
    public let tokenizerJSON: JSONValue?
    public let tokenizerConfig: JSONValue?
    public let generationConfig: JSONValue?
    /// The chat templates, as gguf-py's SpecialVocab finds them: tokenizer_config.json's chat_template (a
    /// string, or a list of {name, template}), else chat_template.jinja with additional_chat_templates/*.jinja
    /// (transformers 5 saves them there), else chat_template.json. "default" is the main one.
    public let chatTemplates: [(name: String, template: String)]
    public var chatTemplate: String? { chatTemplates.first { $0.name == "default" }?.template }
    /// tokenizer.model (SentencePiece) when the folder has one.
    public let sentencePiece: SentencePieceModel?

    /// `path` is a model folder, or a bare weights file (safetensors or PyTorch .bin) with `config` naming
    /// its config.json; the tokenizer files are then looked for beside that config.
    public init(path input: String, config configArgument: String? = nil) throws(ConvertError) {
        var isFolder: ObjCBool = false
        let bareFile = FileManager.default.fileExists(atPath: input, isDirectory: &isFolder) && !isFolder.boolValue
        if bareFile && configArgument == nil {
            throw .unsupportedInput(path: input, reason: "a bare weights file needs --config CONFIG.json (its architecture and sizes)")
        }
        let folder = bareFile ? (configArgument! as NSString).deletingLastPathComponent : input
        let path = folder.isEmpty ? "." : folder
        self.path = path
        let configPath = configArgument ?? path + "/config.json"
        do {
            guard CheckpointFormat.exists(configPath) else {
                throw ConvertError.unsupportedInput(path: path, reason: "no config.json: not a Hugging Face model folder")
            }
            configJSON = try JSONFile.read(configPath)
            do { config = try TransformerConfig(huggingFace: configJSON, path: configPath) } catch {
                throw ConvertError.unsupportedInput(path: configPath, reason: "\(error)")
            }
            let index = path + "/" + ShardedSafetensors.indexFileName
            // convert_hf_to_gguf's order: shard files by name, each file's tensors by name.
            if bareFile {
                // Content decides: a zip is a PyTorch checkpoint, anything else must be safetensors.
                let file = try MappedFile(path: input)
                let head = withExtendedLifetime(file) { Array(file.bytes.prefix(2)) }
                tensors = head == [0x50, 0x4B] ? try TorchCheckpoint(path: input).tensors
                    : try SafetensorsFile(path: input).tensors.sorted { $0.name < $1.name }
            } else if CheckpointFormat.exists(index) {
                tensors = try ShardedSafetensors(indexPath: index).shards.sorted { $0.path < $1.path }
                    .flatMap { $0.tensors.sorted { $0.name < $1.name } }
            } else if CheckpointFormat.exists(path + "/model.safetensors") {
                tensors = try SafetensorsFile(path: path + "/model.safetensors").tensors.sorted { $0.name < $1.name }
            } else if CheckpointFormat.exists(path + "/pytorch_model.bin.index.json") {
                tensors = try Self.torchShards(index: path + "/pytorch_model.bin.index.json", folder: path)
            } else if CheckpointFormat.exists(path + "/pytorch_model.bin") {
                tensors = try TorchCheckpoint(path: path + "/pytorch_model.bin").tensors
            } else {
                throw ConvertError.unsupportedInput(path: path, reason: "no model.safetensors, pytorch_model.bin or their shard index")
            }
            func optional(_ name: String) throws -> JSONValue? {
                CheckpointFormat.exists(path + "/" + name) ? try JSONFile.read(path + "/" + name) : nil
            }
            tokenizerJSON = try optional("tokenizer.json")
            sentencePiece = CheckpointFormat.exists(path + "/tokenizer.model") ? try SentencePieceModel(path: path + "/tokenizer.model") : nil
            tokenizerConfig = try optional("tokenizer_config.json")
            generationConfig = try optional("generation_config.json")
            chatTemplates = try Self.chatTemplates(folder: path, tokenizerConfig: tokenizerConfig)
        } catch let error as ConvertError {
            throw error
        } catch let error as FormatError {
            throw .format(error)
        } catch {
            throw .unsupportedInput(path: path, reason: "\(error)")
        }
    }

    /// The shards named by pytorch_model.bin.index.json's weight_map, each read once, in file-name order;
    /// every name the index lists must be in its shard.
    static func torchShards(index: String, folder: String) throws -> [RawTensor] {
        guard let map = try JSONFile.read(index)["weight_map"]?.objectValue else {
            throw ConvertError.unsupportedInput(path: index, reason: "no weight_map")
        }
        var byFile: [String: [String]] = [:]
        for (name, file) in map {
            guard let f = file.stringValue, !f.contains("/") else { throw ConvertError.unsupportedInput(path: index, reason: "weight_map entry '\(name)'") }
            byFile[f, default: []].append(name)
        }
        var tensors: [RawTensor] = []
        for file in byFile.keys.sorted() {
            let shard = try TorchCheckpoint(path: folder + "/" + file).tensors
            let names = Set(shard.map(\.name))
            if let missing = byFile[file]!.first(where: { !names.contains($0) }) {
                throw FormatError.tensorMissingFromShard(path: index, tensor: missing, shard: file)
            }
            tensors += shard
        }
        return tensors
    }

    /// tokenizer_config.json's text for a special token (`bos_token` …): a string, or an AddedToken's content.
    public static func tokenText(_ tokenizerConfig: JSONValue?, _ key: String) -> String? {
        let v = tokenizerConfig?[key]
        return v?.stringValue ?? v?["content"]?.stringValue
    }

    /// The folder's chat templates as `chatTemplates` describes them (also for folders without weights).
    public static func chatTemplates(folder: String, tokenizerConfig: JSONValue?) throws -> [(name: String, template: String)] {
        func read(_ file: String) throws -> String {
            let mapped = try MappedFile(path: file)
            return withExtendedLifetime(mapped) { String(decoding: mapped.bytes, as: UTF8.self) }
        }
        func named(_ value: JSONValue?) -> [(name: String, template: String)]? {
            if let text = value?.stringValue { return [("default", text)] }
            guard let list = value?.arrayValue else { return nil }
            return list.compactMap { item in
                guard let name = item["name"]?.stringValue, let template = item["template"]?.stringValue else { return nil }
                return (name, template)
            }
        }
        if let inline = named(tokenizerConfig?["chat_template"]) { return inline }
        let jinja = folder + "/chat_template.jinja"
        if CheckpointFormat.exists(jinja) {
            var templates = [(name: "default", template: try read(jinja))]
            let extra = folder + "/additional_chat_templates"
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: extra)) ?? []).filter { $0.hasSuffix(".jinja") }.sorted()
            for file in names { templates.append((String(file.dropLast(6)), try read(extra + "/" + file))) }
            return templates
        }
        if CheckpointFormat.exists(folder + "/chat_template.json") {
            return named(try JSONFile.read(folder + "/chat_template.json")["chat_template"]) ?? []
        }
        return []
    }
}
