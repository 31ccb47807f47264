import Foundation
import Formats
import Testing

/// `ckpt finetune` and `ckpt prompt-tune` end to end on the tiny fixtures: a run stopped and resumed
/// writes the same bytes as a run that never stopped; prompt-tune from a Hugging Face folder exports a PEFT
/// adapter; bad data, a damaged model and an occupied run folder are one-line errors with exit code 1.
@Suite struct TrainingCommandTests {
    let cli = CommandLineTests()

    /// Short processed-form examples in the tiny vocabulary (context 64).
    static func dataFile() throws -> String {
        let pairs = [("a tokenizer ", "splits the text"), ("the pieces ", "map to ids"), ("ids in ", "the vocabulary"),
                     ("splits the ", "text into pieces"), ("map to ", "ids in the vocabulary"), ("the text ", "splits"),
                     ("pieces map ", "to ids"), ("a vocabulary ", "of pieces"), ("the ids ", "map to pieces")]
        let text = pairs.map { "{\"prompt\": \"\($0.0)\", \"output\": \"\($0.1)\"}" }.joined(separator: "\n") + "\n"
        let path = TinyModel.temporaryPath("data.jsonl")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func losses(_ run: String) throws -> [String] {
        try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .filter { $0.contains("\"loss\"") }.map { line in String(line.split(separator: ",")[1]) }
    }

    @Test func finetuneResumedEqualsUninterrupted() throws {
        let model = TinyModel.temporaryPath("tiny.gguf"), data = try Self.dataFile()
        try TinyModel.write(to: model)
        let common = ["finetune", model, "--data", data, "--dev-data", data, "--batch-size", "2", "--lr", "1e-3",
                      "--schedule", "constant", "--seed", "3"]
        let straight = TinyModel.temporaryPath("straight"), stopped = TinyModel.temporaryPath("stopped")
        let a = try cli.run(common + ["--out", straight, "--steps", "6", "--hf", "--export", "Q8_0"])
        #expect(a.code == 0, "\(a.stderr)")
        let b = try cli.run(common + ["--out", stopped, "--steps", "3"])
        #expect(b.code == 0, "\(b.stderr)")
        let c = try cli.run(common + ["--out", stopped, "--steps", "6", "--resume", stopped])
        #expect(c.code == 0, "\(c.stderr)")
        #expect(c.stderr.contains("resumed from \(stopped)/checkpoints/step-000003 at step 3"))
        #expect(try losses(stopped) == losses(straight))
        #expect(try losses(straight).count == 6)
        let x = FileManager.default.contents(atPath: straight + "/model.gguf"), y = FileManager.default.contents(atPath: stopped + "/model.gguf")
        #expect(x != nil && x == y)
        #expect(FileManager.default.fileExists(atPath: straight + "/hf/model.safetensors"))
        #expect(FileManager.default.fileExists(atPath: straight + "/hf/config.json"))
        let report = try JSONFile.read(straight + "/report.json")
        #expect(report["steps"]?.uint64Value == 6 && report["dev_loss"]?.doubleValue != nil)
        #expect(report["quantized"]?.stringValue == straight + "/model-Q8_0.gguf")
        let inspected = try cli.run(["inspect", straight + "/model-Q8_0.gguf"])
        #expect(inspected.code == 0 && inspected.stdout.contains("Q8_0"), "\(inspected.stdout)")
        #expect(try String(contentsOfFile: straight + "/loss.svg", encoding: .utf8).hasPrefix("<svg"))
        // The exported model is a normal checkpoint: it generates.
        let g = try cli.run(["generate", straight + "/model.gguf", "--prompt", "the pieces ", "-n", "4"])
        #expect(g.code == 0, "\(g.stderr)")
    }

    @Test func promptTuneFromHuggingFaceFolderExportsPEFT() throws {
        let data = try Self.dataFile(), out = TinyModel.temporaryPath("prompt")
        let r = try cli.run(["prompt-tune", CommandLineTests.root + "/fixtures/hf/gpt2/safetensors", "--data", data, "--out", out,
                             "--steps", "3", "--prompt-len", "4", "--prompt-init", "text:the pieces map", "--batch-size", "3"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stderr.contains("prompt-tune: 4 × 32 = 128 trainable values; weight gradients allocated: 0"))
        let config = try JSONFile.read(out + "/adapter/adapter_config.json")
        #expect(config["num_virtual_tokens"]?.uint64Value == 4 && config["prompt_tuning_init"]?.stringValue == "TEXT")
        let weights = try SafetensorsFile(path: out + "/adapter/adapter_model.safetensors")
        #expect(weights.tensors.map(\.name) == ["prompt_embeddings"] && weights.tensors[0].shape == [4, 32])
        #expect(try losses(out).count == 3)
        // The adapter drives generation from the converted base model.
        let g = try cli.run(["generate", out + "/base.gguf", "--prompt", "the pieces ", "-n", "3", "--adapter", out + "/adapter"])
        #expect(g.code == 0, "\(g.stderr)")
        let wrong = try cli.run(["generate", out + "/base.gguf", "--prompt", "x", "--adapter", out])
        #expect(wrong.code == 1 && wrong.stderr.hasPrefix("error: "), "\(wrong.stderr)")
    }

    @Test func badInputIsOneLine() throws {
        let model = TinyModel.temporaryPath("tiny.gguf")
        try TinyModel.write(to: model)
        let bad = TinyModel.temporaryPath("bad.jsonl")
        try "{\"prompt\": \"a \", \"output\": \"b\"}\n{\"prompt\": \"a \"\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try cli.run(["finetune", model, "--data", bad, "--out", TinyModel.temporaryPath("run"), "--steps", "1"])
        #expect(r.code == 1)
        #expect(r.stderr.hasPrefix("error: data: line 2: not JSON") && r.stderr.hasSuffix("(\(bad))\n"), "\(r.stderr)")

        let damaged = TinyModel.temporaryPath("nan.gguf")
        try TinyModel.write(to: damaged) { _, tensors in
            let i = tensors.firstIndex { $0.name == "output_norm.weight" }!
            var bytes = tensors[i].data.withUnsafeBytes { Array($0) }
            withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { bytes.replaceSubrange(0..<4, with: $0) }
            tensors[i].data = ByteView(owned: bytes)
        }
        let n = try cli.run(["finetune", damaged, "--data", try Self.dataFile(), "--out", TinyModel.temporaryPath("run"), "--steps", "1"])
        #expect(n.code == 1)
        #expect(n.stderr.hasPrefix("error: train: tensor 'output_norm.weight' holds nan at element 0"), "\(n.stderr)")

        let run = TinyModel.temporaryPath("run"), data = try Self.dataFile()
        #expect(try cli.run(["finetune", model, "--data", data, "--out", run, "--steps", "1"]).code == 0)
        let again = try cli.run(["finetune", model, "--data", data, "--out", run, "--steps", "1"])
        #expect(again.code == 1)
        #expect(again.stderr == "error: '\(run)' already holds a run\nhint: pass --resume \(run) to continue it, or --force to start over\n")
    }
}
