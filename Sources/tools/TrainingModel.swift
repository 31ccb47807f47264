import Convert
import Distill
import Formats
import Foundation
import Model

/// A model to train: a GGUF file (any type, dequantized to f32) or a Hugging Face folder, which is first
/// converted to an F32 GGUF inside the run folder so that every run trains, checkpoints and exports from
/// one kind of file (metadata, tokenizer and chat template travel with it).
/// `frozen`: only prompts or LoRA adapters will train, so the weights stay as stored in the mapped file
/// (QLoRA on a quantized GGUF: no f32 copy); the f32 parameter set is then made only if something asks for
/// it (a merged export after training).
final class TrainingModel {
    let gguf: GGUFFile
    /// What training and inference read: views of `params`, or of the mapped file when frozen.
    let weights: ModelWeights
    var config: TransformerConfig { weights.config }
    /// Every weight as f32: loaded at once unless frozen, else on first use (dequantized from the file).
    var params: ParameterSet {
        if let loaded { return loaded }
        let params = loadParameters()
        loaded = params
        return params
    }
    private var loaded: ParameterSet?
    /// Whether the weights are read as stored (frozen) rather than from an f32 copy.
    let frozen: Bool
    let tokenizer: any Tokenizer
    /// BOS in front of a text when the vocabulary asks for it; the end-of-sequence id every target ends with.
    let bos: Int?
    let eos: Int

    /// `convertedName`: the file an HF folder is converted to inside the run folder.
    init(path: String, runFolder: String, convertedName: String = "base.gguf", frozen: Bool = false) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ToolError(message: "cannot read '\(path)': no such file or folder", hint: nil)
        }
        var file = path
        if isFolder.boolValue {
            file = runFolder + "/" + convertedName
            if !FileManager.default.fileExists(atPath: file) {
                Stderr.write("converting \(path) to \(file) (f32)\n")
                _ = try HuggingFaceToGGUF.convert(input: path, output: file, outtype: .f32, overwrite: false)
            }
        }
        gguf = try GGUFFile(file: MappedFile(path: file))
        self.frozen = frozen
        if frozen {
            weights = try ModelWeights.load(gguf: gguf)
        } else {
            let params = try ParameterSet.load(gguf: gguf)
            weights = ModelWeights(params)
            loaded = params
        }
        tokenizer = try Tokenizers.load(gguf: gguf)
        let addBOS = gguf[GGUFKeys.addBOS]?.boolValue ?? false
        bos = addBOS ? gguf[GGUFKeys.bosTokenID]?.integerValue.map { Int($0) } : nil
        eos = try gguf.endOfSequence(vocabSize: weights.config.vocabSize, command: "train")
        if let (key, element, value) = weights.firstNonFinite() {
            throw ToolError(message: "train: tensor '\(TensorNames.gguf(key.slot, layer: key.layer))' holds \(value) at element \(element) (\(file))",
                            hint: "the model is damaged; training from it cannot work")
        }
    }

    /// Parameters of the model (whatever the stored type).
    var parameterCount: Int { ParameterSet.count(for: config) }

    /// Bytes the weights take in memory as read (stored blocks, or f32).
    var weightBytes: Int { weights.byteCount }

    private func loadParameters() -> ParameterSet {
        // The file loaded and checked once already; a failure now would be the file changing under us.
        do { return try ParameterSet.load(gguf: gguf) } catch { preconditionFailure("reloading '\(gguf.path)': \(error)") }
    }
}

/// The dataset that ships in fixtures/data (train/dev/test, Dolly form): the default of --data, found
/// through this source file's location, so it works from a checkout (make demo, tests).
enum BundledData {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/data").path

    static func path(_ split: String) throws -> String {
        let path = folder + "/\(split).jsonl"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ToolError(message: "the bundled \(split) data is not at '\(path)'", hint: "pass your own with --data")
        }
        return path
    }
}
