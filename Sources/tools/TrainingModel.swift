import Convert
import Distill
import Formats
import Foundation
import Model

/// A model to train: a GGUF file (any type, dequantized to f32) or a Hugging Face folder, which is first
/// converted to an F32 GGUF inside the run folder so that every run trains, checkpoints and exports from
/// one kind of file (metadata, tokenizer and chat template travel with it).
struct TrainingModel {
    let gguf: GGUFFile
    let params: ParameterSet
    let tokenizer: any Tokenizer
    /// BOS in front of a text when the vocabulary asks for it; the end-of-sequence id every target ends with.
    let bos: Int?
    let eos: Int

    /// `convertedName`: the file an HF folder is converted to inside the run folder.
    init(path: String, runFolder: String, convertedName: String = "base.gguf") throws {
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
        params = try ParameterSet.load(gguf: gguf)
        tokenizer = try Tokenizers.load(gguf: gguf)
        let addBOS = gguf[GGUFKeys.addBOS]?.boolValue ?? false
        bos = addBOS ? gguf[GGUFKeys.bosTokenID]?.integerValue.map { Int($0) } : nil
        guard let eos = gguf[GGUFKeys.eosTokenID]?.integerValue.map({ Int($0) }), eos >= 0,
              eos < params.config.vocabSize else {
            throw ToolError(message: "train: '\(file)' has no usable tokenizer.ggml.eos_token_id", hint: nil)
        }
        self.eos = eos
        for key in params.keys {
            let p = params.pointer(key.slot, layer: key.layer), n = params.layout[key]!.shape.reduce(1, *)
            if let i = (0..<n).first(where: { !p[$0].isFinite }) {
                throw ToolError(message: "train: tensor '\(TensorNames.gguf(key.slot, layer: key.layer))' holds \(p[i]) at element \(i) (\(file))",
                                hint: "the model is damaged; training from it cannot work")
            }
        }
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
