import Distill
import Foundation
import Formats
import Model
import Testing

/// `ckpt finetune --lora-rank` end to end on the tiny llama: only adapters train and only they are
/// checkpointed; a run stopped and resumed (with LoRA dropout, whose masks come from the checkpointed RNG)
/// ends byte-identical to one that never stopped; RUN/adapter is a PEFT LoRA adapter ckpt reads back; the
/// merged model is written only when asked; bad LoRA options are one-line errors.
@Suite struct LoRACommandTests {
    let cli = CommandLineTests()

    @Test func loraFinetuneResumesExactlyAndExportsPEFT() throws {
        let model = TinyModel.temporaryPath("tiny.gguf"), data = try TrainingCommandTests.dataFile()
        try TinyModel.write(to: model)
        let common = ["finetune", model, "--data", data, "--dev-data", data, "--batch-size", "2", "--lr", "1e-2",
                      "--schedule", "constant", "--seed", "3", "--lora-rank", "4", "--lora-alpha", "8", "--lora-dropout", "0.1",
                      "--lora-targets", "q,v,down"]
        let straight = TinyModel.temporaryPath("lora-straight"), stopped = TinyModel.temporaryPath("lora-stopped")
        let a = try cli.run(common + ["--out", straight, "--steps", "6"])
        #expect(a.code == 0, "\(a.stderr)")
        #expect(a.stderr.contains("lora: rank 4, alpha 8 (scale 2), dropout 0.1, q_proj,v_proj,down_proj in 2 layers"), "\(a.stderr)")
        let b = try cli.run(common + ["--out", stopped, "--steps", "3"])
        #expect(b.code == 0, "\(b.stderr)")
        let c = try cli.run(common + ["--out", stopped, "--steps", "6", "--resume", stopped])
        #expect(c.code == 0, "\(c.stderr)")
        let metrics = { (run: String) in try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8) }
        #expect(try metrics(straight).components(separatedBy: "\"loss\"").count == 7)
        let losses = { (run: String) in try metrics(run).split(separator: "\n").filter { $0.contains("\"loss\"") }.map { $0.split(separator: ",")[1] } }
        #expect(try losses(straight) == losses(stopped))
        for file in ["adapter_config.json", "adapter_model.safetensors"] {
            let x = FileManager.default.contents(atPath: straight + "/adapter/" + file)
            #expect(x != nil && x == FileManager.default.contents(atPath: stopped + "/adapter/" + file), "\(file)")
        }
        #expect(!FileManager.default.fileExists(atPath: straight + "/model.gguf"), "no merged model unless asked")

        // The checkpoint holds the adapters (and their moments) only.
        let checkpoint = try SafetensorsFile(path: straight + "/checkpoints/step-000006/weights.safetensors")
        #expect(checkpoint.tensors.count == 2 * 3 * 2)
        #expect(checkpoint.tensors.allSatisfy { $0.name.hasSuffix(".lora_a") || $0.name.hasSuffix(".lora_b") })

        // The adapter reads back with the trained settings, and B has moved off zero.
        let params = try ParameterSet.load(gguf: GGUFFile(file: MappedFile(path: model)))
        let adapter = try PEFTLoRAAdapter.read(folder: straight + "/adapter", config: params.config)
        #expect(adapter.settings == LoRASettings(rank: 4, alpha: 8, dropout: 0.1, targets: [.attnQ, .attnV, .ffnDown]))
        let key = ParameterSet.Key(.attnQ, 0)
        #expect(UnsafeBufferPointer(start: adapter.b(key), count: 4 * 4).contains { $0 != 0 })
        let config = try JSONFile.read(straight + "/adapter/adapter_config.json")
        #expect(config["target_modules"] == .array([.string("down_proj"), .string("q_proj"), .string("v_proj")]))
        #expect(config["r"]?.int64Value == 4 && config["lora_alpha"]?.int64Value == 8 && config["peft_type"]?.stringValue == "LORA")

        // --export merges: the merged model's logits equal base + adapter.
        let merged = TinyModel.temporaryPath("lora-merged")
        let m = try cli.run(common + ["--out", merged, "--steps", "6", "--export", "Q8_0"])
        #expect(m.code == 0, "\(m.stderr)")
        let mergedParams = try ParameterSet.load(gguf: GGUFFile(file: MappedFile(path: merged + "/model.gguf")))
        let tokens = [5, 40, 77, 12, 9]
        let want = try Transformer(params, lora: adapter).logits(tokens), got = try Transformer(mergedParams).logits(tokens)
        let scale = want.map(abs).max()!
        #expect(zip(got, want).map { abs($0 - $1) }.max()! <= 1e-5 * scale)
        #expect(FileManager.default.fileExists(atPath: merged + "/model-Q8_0.gguf"))

        // `ckpt lora merge` on the adapter alone writes the same merged file.
        let mergedFile = TinyModel.temporaryPath("lora-merged.gguf")
        let lm = try cli.run(["lora", "merge", model, straight + "/adapter", mergedFile])
        #expect(lm.code == 0, "\(lm.stderr)")
        let fromMerge = FileManager.default.contents(atPath: mergedFile)
        #expect(fromMerge != nil && fromMerge == FileManager.default.contents(atPath: merged + "/model.gguf"))
        // generate --adapter applies a LoRA adapter unmerged: the same greedy text as the merged model.
        let viaAdapter = try cli.run(["generate", model, "--adapter", straight + "/adapter", "--prompt", "the pieces ", "-n", "8", "--temp", "0"])
        let viaMerged = try cli.run(["generate", mergedFile, "--prompt", "the pieces ", "-n", "8", "--temp", "0"])
        #expect(viaAdapter.code == 0 && viaMerged.code == 0, "\(viaAdapter.stderr)")
        #expect(!viaAdapter.stdout.isEmpty && viaAdapter.stdout == viaMerged.stdout)

        // RUN/lora-adapter.gguf holds the same adapter for llama.cpp; every command takes it like the folder.
        let ggufAdapter = straight + "/" + GGUFLoRAAdapter.fileName
        let fromGGUF = try GGUFLoRAAdapter.read(path: ggufAdapter, config: params.config)
        #expect(Array(fromGGUF.values) == Array(adapter.values))
        let viaGGUF = try cli.run(["generate", model, "--adapter", ggufAdapter, "--prompt", "the pieces ", "-n", "8", "--temp", "0"])
        #expect(viaGGUF.code == 0 && viaGGUF.stdout == viaMerged.stdout, "\(viaGGUF.stderr)")
        let mergedFromGGUF = TinyModel.temporaryPath("lora-merged-gguf.gguf")
        #expect(try cli.run(["lora", "merge", model, ggufAdapter, mergedFromGGUF]).code == 0)
        #expect(FileManager.default.contents(atPath: mergedFromGGUF) == fromMerge)
        // --lora-from the GGUF adapter continues from it: one step at lr 0 leaves it as it was.
        let continued = TinyModel.temporaryPath("lora-continued")
        let k = try cli.run(["finetune", model, "--data", data, "--out", continued, "--steps", "1", "--lr", "0", "--lora-from", ggufAdapter])
        #expect(k.code == 0, "\(k.stderr)")
        let after = try PEFTLoRAAdapter.read(folder: continued + "/adapter", config: params.config)
        #expect(Array(after.values) == Array(adapter.values))
        withExtendedLifetime((fromGGUF, after)) {}

        let wrong = try cli.run(["lora", "merge", model, CommandLineTests.root + "/fixtures/lora/phi3/adapter", mergedFile, "--force"])
        #expect(wrong.code == 1 && wrong.stderr.hasPrefix("error: checkpoint: tensor 'base_model.model.model.layers.0.mlp.gate_up_proj.lora_A.weight': no linear layer 'model.layers.0.mlp.gate_up_proj.weight' in this llama model")
                && wrong.stderr.split(separator: "\n").count == 1, "\(wrong.stderr)")
    }

    @Test func badLoRAOptionsAreOneLine() throws {
        let model = TinyModel.temporaryPath("tiny.gguf"), data = try TrainingCommandTests.dataFile()
        try TinyModel.write(to: model)
        func run(_ extra: [String]) throws -> (code: Int32, stdout: String, stderr: String) {
            try cli.run(["finetune", model, "--data", data, "--out", TinyModel.temporaryPath("bad-lora"), "--steps", "1"] + extra)
        }
        let zero = try run(["--lora-rank", "0"])
        #expect(zero.code == 1 && zero.stderr == "error: lora: --lora-rank must be positive, is 0\n", "\(zero.stderr)")
        let target = try run(["--lora-rank", "2", "--lora-targets", "q,c_fc"])
        #expect(target.code == 1 && target.stderr.hasPrefix("error: lora: --lora-targets 'c_fc' is not a linear layer of this model; llama has q, k, v, o, gate, up, down, q_proj"), "\(target.stderr)")
        #expect(target.stderr.split(separator: "\n").count == 1)
        let other = try run(["--lora-from", CommandLineTests.root + "/fixtures/lora/qwen3/adapter"])
        #expect(other.code == 1 && other.stderr.hasPrefix("error: checkpoint: '") && other.stderr.contains("this model needs"), "\(other.stderr)")
        #expect(other.stderr.split(separator: "\n").count == 1)
    }

    /// prompt-tune --lora-rank trains the soft prompt and LoRA adapters together; both are exported.
    @Test func promptTuneWithLoRA() throws {
        let model = TinyModel.temporaryPath("tiny.gguf"), data = try TrainingCommandTests.dataFile()
        try TinyModel.write(to: model)
        let out = TinyModel.temporaryPath("prompt-lora")
        let r = try cli.run(["prompt-tune", model, "--data", data, "--out", out, "--steps", "3", "--prompt-len", "2",
                             "--prompt-init", "random", "--lora-rank", "2", "--lora-targets", "q,v"])
        #expect(r.code == 0, "\(r.stderr)")
        let params = try ParameterSet.load(gguf: GGUFFile(file: MappedFile(path: model)))
        let lora = try PEFTLoRAAdapter.read(folder: out + "/lora-adapter", config: params.config)
        #expect(lora.settings.targets == [.attnQ, .attnV] && lora.settings.rank == 2)
        #expect(UnsafeBufferPointer(start: lora.b(.init(.attnV, 1)), count: lora.layout[.init(.attnV, 1)]!.outDim * 2).contains { $0 != 0 })
        #expect(try PEFTPromptAdapter.read(folder: out + "/adapter", dim: params.config.embeddingSize).rows == 2)
        let checkpoint = try SafetensorsFile(path: out + "/checkpoints/step-000003/weights.safetensors")
        #expect(checkpoint.tensors.count == 1 + 2 * 2 * 2, "the prompt and the adapters, nothing else")
    }

    /// distill --lora-rank: the student's LoRA adapters learn (every method's student step, here PromptKD and
    /// KD, with dropout); stopped + resumed equals uninterrupted byte for byte; the student's weights are not
    /// written unless --export asks, and then merged.
    @Test(arguments: ["promptkd", "kd"])
    func distillLoRAStudent(_ method: String) throws {
        let d = DistillCommandTests()
        let s = try d.student(), data = try TrainingCommandTests.dataFile()
        let args = d.common(s, data) + ["--method", method, "--eval-every", "2", "--lora-rank", "2", "--lora-dropout", "0.1"]
        let straight = TinyModel.temporaryPath("lora-distill-straight"), stopped = TinyModel.temporaryPath("lora-distill-stopped")
        let a = try cli.run(args + ["--out", straight, "--steps", "4"])
        #expect(a.code == 0, "\(a.stderr)")
        #expect(a.stderr.contains("lora: rank 2"), "\(a.stderr)")
        #expect(try cli.run(args + ["--out", stopped, "--steps", "4", "--stop-after", "2"]).code == 0)
        let c = try cli.run(args + ["--out", stopped, "--steps", "4", "--resume", stopped])
        #expect(c.code == 0, "\(c.stderr)")
        #expect(try d.losses(straight).count == 4 && d.losses(straight) == d.losses(stopped))
        // (best-adapter, like best-student.gguf, is chosen again after a resume: the best dev score is not yet
        // part of the checkpoint, so it is not compared here.)
        #expect(FileManager.default.fileExists(atPath: straight + "/best-adapter/adapter_config.json"))
        for file in ["adapter/adapter_config.json", "adapter/adapter_model.safetensors"] {
            let x = FileManager.default.contents(atPath: straight + "/" + file)
            #expect(x != nil && x == FileManager.default.contents(atPath: stopped + "/" + file), "\(method): \(file)")
        }
        #expect(!FileManager.default.fileExists(atPath: straight + "/student.gguf"))
        let checkpoint = try SafetensorsFile(path: straight + "/checkpoints/step-000004/weights.safetensors")
        #expect(checkpoint.tensors.allSatisfy { $0.name.hasSuffix(".lora_a") || $0.name.hasSuffix(".lora_b") || $0.name.contains("prompt") },
                "\(checkpoint.tensors.map(\.name))")
        let exported = TinyModel.temporaryPath("lora-distill-export")
        let e = try cli.run(args + ["--out", exported, "--steps", "2", "--export", "Q8_0"])
        #expect(e.code == 0 && FileManager.default.fileExists(atPath: exported + "/student-Q8_0.gguf"), "\(e.stderr)")
    }
}
