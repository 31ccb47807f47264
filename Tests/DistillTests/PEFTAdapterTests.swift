import Distill
import Formats
import Foundation
import Model
import Testing
import TestSupport

/// The PEFT prompt-tuning adapter against what PEFT 0.21.2 itself saved (fixtures/make_training.py):
/// the same adapter_config.json fields and values (PEFT's own `peft_version` aside), and the same tensor
/// name, dtype, shape and metadata; reading PEFT's adapter gives its prompt back.
@Suite struct PEFTAdapterTests {
    @Test(arguments: TorchTrainingStepTests.models)
    func writesWhatPEFTWrites(_ name: String) throws {
        let fixtures = TorchTrainingStepTests.fixtures
        let peftFolder = fixtures + "/training/\(name)/adapter"
        let peftConfig = try JSONFile.read(peftFolder + "/adapter_config.json")
        let params = try ParameterSet.load(huggingFaceDirectory: fixtures + "/hf/\(name)/safetensors")
        let prompt = try PEFTPromptAdapter.read(folder: peftFolder, dim: params.config.embeddingSize)
        let expected = try #require(TorchTrainingStepTests.expected?["models"]?[name]?["prompt_tuning"])
        #expect(Array(prompt.values) == TorchTrainingStepTests.floats(expected["updated_prompt"]))

        let out = Scratch.path("peft")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try PEFTPromptAdapter.write(prompt, to: out, .init(baseModel: "fixtures/hf/\(name)/safetensors",
                                                          initialization: .text("the pieces map"), config: params.config),
                                    overwrite: false)
        let ours = try JSONFile.read(out + "/adapter_config.json")
        let theirs = (peftConfig.objectValue ?? []).filter { $0.0 != "peft_version" }
        #expect(ours == .object(theirs))
        // Byte layout of the JSON: indent 2, sorted keys, no trailing newline, like json.dumps.
        let text = try String(contentsOfFile: out + "/adapter_config.json", encoding: .utf8)
        #expect(text.hasPrefix("{\n  \"auto_mapping\": null,\n") && text.hasSuffix("\n}"))

        let mine = try SafetensorsFile(path: out + "/adapter_model.safetensors")
        let peft = try SafetensorsFile(path: peftFolder + "/adapter_model.safetensors")
        #expect(mine.tensors.map(\.name) == peft.tensors.map(\.name))
        #expect(mine.tensors.map(\.shape) == peft.tensors.map(\.shape))
        #expect(mine.tensors.map(\.dtype) == peft.tensors.map(\.dtype))
        #expect(mine.metadata.map { $0.map { "\($0.0)=\($0.1)" } } == peft.metadata.map { $0.map { "\($0.0)=\($0.1)" } })
        let bytes = { (f: SafetensorsFile) in f.tensors[0].data.withUnsafeBytes { Array($0) } }
        #expect(bytes(mine) == bytes(peft))
    }

    @Test func refusesWrongWidthAndType() throws {
        let folder = TorchTrainingStepTests.fixtures + "/training/gpt2/adapter"
        do {
            _ = try PEFTPromptAdapter.read(folder: folder, dim: 64)
            Issue.record("read a 32-wide prompt as 64")
        } catch {
            #expect(error.description.contains("'prompt_embeddings' is F32 [4, 32], the model needs F32 [P, 64]"))
        }
    }
}
