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
    /// tokenizer_config.json's chat_template, or chat_template.jinja (transformers 5 saves it there).
    public let chatTemplate: String?
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
            if let inline = tokenizerConfig?["chat_template"]?.stringValue {
                chatTemplate = inline
            } else if let file = try? MappedFile(path: path + "/chat_template.jinja") {
                chatTemplate = withExtendedLifetime(file) { String(decoding: file.bytes, as: UTF8.self) }
            } else {
                chatTemplate = nil
            }
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
}
