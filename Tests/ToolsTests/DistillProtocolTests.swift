import Foundation
import Formats
import Testing

/// The PromptKD protocol's training controls in `ckpt distill`: gradient accumulation (micro-batches summed
/// into one step), best-on-dev selection (`--load-best`, kept across a resume).
@Suite struct DistillProtocolTests {
    let cli = CommandLineTests()
    let tests = DistillCommandTests()

    /// Training data whose every example has the same response, so every micro-batch has as many targets as
    /// every other: then K micro-batches of B, each micro-loss divided by K, are one batch of K·B.
    static func equalTargetsData() throws -> String {
        let prompts = ["a tokenizer ", "the pieces ", "ids in ", "splits the ", "map to ", "the text ", "pieces map ", "a vocabulary "]
        let text = prompts.map { "{\"prompt\": \"\($0)\", \"output\": \"map to ids\"}" }.joined(separator: "\n") + "\n"
        let path = TinyModel.temporaryPath("equal-targets.jsonl")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// (loss, grad_norm) of every step in a run's log.
    func steps(_ run: String) throws -> [(Double, Double)] {
        try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").compactMap { line in
            let v = try JSONParser.parse(Array(line.utf8))
            guard let loss = v["loss"]?.doubleValue, let norm = v["grad_norm"]?.doubleValue else { return nil }
            return (loss, norm)
        }
    }

    @Test(arguments: ["sft", "kd"])
    func accumulatedMicroBatchesEqualOneBatch(_ method: String) throws {
        let s = try tests.student(), data = try Self.equalTargetsData()
        var args = tests.common(s, data) + ["--method", method, "--steps", "3", "--dev-examples", "0"]
        args[args.firstIndex(of: "--batch-size")! + 1] = "1"
        let accumulated = TinyModel.temporaryPath("accumulated"), whole = TinyModel.temporaryPath("whole")
        let a = try cli.run(args + ["--grad-accum", "4", "--out", accumulated])
        #expect(a.code == 0, "\(a.stderr)")
        var wholeArgs = args
        wholeArgs[wholeArgs.firstIndex(of: "--batch-size")! + 1] = "4"
        #expect(try cli.run(wholeArgs + ["--out", whole]).code == 0)
        let x = try steps(accumulated), y = try steps(whole)
        #expect(x.count == 3 && y.count == 3)
        for (p, q) in zip(x, y) {
            #expect(abs(p.0 - q.0) <= 1e-5 * abs(q.0) && abs(p.1 - q.1) <= 1e-4 * abs(q.1), "\(method): \(p) vs \(q)")
        }
        // One micro-batch of 1 is not the same step: the comparison can fail.
        let single = TinyModel.temporaryPath("single")
        #expect(try cli.run(args + ["--out", single]).code == 0)
        #expect(try abs(steps(single)[1].0 - y[1].0) > 1e-4)
    }

    /// PromptKD with accumulation: the prompt moves once per step (on the last micro-batch), and a stopped
    /// and resumed run equals an uninterrupted one byte for byte.
    @Test func promptKDAccumulatesAndResumesExactly() throws {
        let s = try tests.student(), data = try TrainingCommandTests.dataFile()
        let args = tests.common(s, data) + ["--method", "promptkd", "--steps", "3", "--grad-accum", "2", "--dev-examples", "0"]
        let straight = TinyModel.temporaryPath("straight"), stopped = TinyModel.temporaryPath("stopped")
        let a = try cli.run(args + ["--out", straight])
        #expect(a.code == 0, "\(a.stderr)")
        #expect(try cli.run(args + ["--out", stopped, "--stop-after", "1"]).code == 0)
        let c = try cli.run(args + ["--out", stopped, "--resume", stopped])
        #expect(c.code == 0, "\(c.stderr)")
        for file in ["student.gguf", "prompt-adapter/adapter_model.safetensors"] {
            let x = FileManager.default.contents(atPath: straight + "/" + file), y = FileManager.default.contents(atPath: stopped + "/" + file)
            #expect(x != nil && x == y, "\(file) differs")
        }
        // Each step's tokens are its two micro-batches of 2 sequences.
        let line = try String(contentsOfFile: straight + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")[0]
        let first = try JSONParser.parse(Array(line.utf8))
        #expect((first["prompt_grad_norm"]?.doubleValue ?? 0) > 0 && (first["response_tokens"]?.doubleValue ?? 0) > 0)
        // A resume with another accumulation is refused by the checkpoint's fingerprint.
        var other = args
        other[other.firstIndex(of: "--grad-accum")! + 1] = "1"
        let d = try cli.run(other + ["--out", stopped, "--resume", stopped])
        #expect(d.code == 1 && d.stderr.contains("--grad-accum"), "\(d.stderr)")
    }

    /// `--load-best`: the result is the best dev student, byte for byte the best-student file; a resumed run
    /// remembers the best of its first part (the same report as an uninterrupted run).
    @Test func loadBestKeepsTheBestDevStudentAcrossAResume() throws {
        let s = try tests.student(), data = try TrainingCommandTests.dataFile()
        let args = tests.common(s, data) + ["--method", "sft", "--steps", "4", "--eval-every", "1", "--lr", "3e-2", "--load-best"]
        let straight = TinyModel.temporaryPath("straight"), stopped = TinyModel.temporaryPath("stopped")
        let a = try cli.run(args + ["--out", straight])
        #expect(a.code == 0, "\(a.stderr)")
        #expect(a.stderr.contains("load-best: the result is the student of the best dev ROUGE-L"))
        let best = FileManager.default.contents(atPath: straight + "/best-student.gguf")
        let result = FileManager.default.contents(atPath: straight + "/student.gguf")
        #expect(best != nil && best == result)
        let dev = try String(contentsOfFile: straight + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONParser.parse(Array($0.utf8))["dev_rougeL"]?.doubleValue }
        let report = try JSONFile.read(straight + "/report.json")
        #expect(dev.count == 5 && report["best_dev_rougeL"]?.doubleValue == dev.max())  // the start, then steps 1-4
        #expect(try cli.run(args + ["--out", stopped, "--stop-after", "2"]).code == 0)
        let c = try cli.run(args + ["--out", stopped, "--resume", stopped])
        #expect(c.code == 0, "\(c.stderr)")
        #expect(try JSONFile.read(stopped + "/report.json")["best_dev_rougeL"]?.doubleValue == dev.max())
        #expect(FileManager.default.contents(atPath: stopped + "/student.gguf") == result)
        // Without a dev set there is nothing to select: one line, exit 1.
        let none = try cli.run(args + ["--out", TinyModel.temporaryPath("nodev"), "--dev-examples", "0"])
        #expect(none.code == 1 && none.stderr.contains("--load-best: no dev evaluation runs"), "\(none.stderr)")
        let noDev = try cli.run(Array(args.dropLast()) + ["--out", TinyModel.temporaryPath("nodev2"), "--dev-examples", "0"])
        #expect(noDev.code == 1 && noDev.stderr.contains("--eval-every 1: no dev evaluation runs"), "\(noDev.stderr)")
    }

    /// The starting student is evaluated too (step 0), so when every step makes dev worse the result is the
    /// student the run started from: a tiny student taught the data until it scores on dev, then a learning
    /// rate that wrecks it. The best-student file written at step 0 is never replaced and is the result.
    @Test func loadBestKeepsTheStartWhenTrainingOnlyHurts() throws {
        let data = try TrainingCommandTests.dataFile(), teacher = DistillCommandTests.teacher
        func run(_ student: String, _ out: String, steps: String, lr: String, every: String) throws -> [Double] {
            let r = try cli.run(["distill", "--teacher", teacher, "--student", student, "--data", data, "--dev-data", data,
                                 "--batch-size", "2", "--max-new-tokens", "6", "--dev-max-new-tokens", "4", "--dev-examples", "3",
                                 "--seed", "5", "--method", "sft", "--steps", steps, "--lr", lr, "--eval-every", every,
                                 "--load-best", "--out", out])
            #expect(r.code == 0, "\(r.stderr)")
            return try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
                .compactMap { try JSONParser.parse(Array($0.utf8))["dev_rougeL"]?.doubleValue }
        }
        let taught = TinyModel.temporaryPath("taught"), wrecked = TinyModel.temporaryPath("wrecked")
        let learning = try run(teacher, taught, steps: "30", lr: "1e-2", every: "10")
        #expect(learning.count == 4 && learning[0] == 0 && learning.max()! > 0, "\(learning)")
        let dev = try run(taught + "/student.gguf", wrecked, steps: "4", lr: "1", every: "1")
        #expect(dev.count == 5 && dev[0] == learning.max() && dev[0] > dev.dropFirst().max()!, "\(dev)")
        let kept = FileManager.default.contents(atPath: wrecked + "/best-student.gguf")
        #expect(kept != nil && kept == FileManager.default.contents(atPath: wrecked + "/student.gguf"))
        #expect(try JSONFile.read(wrecked + "/report.json")["best_dev_rougeL"]?.doubleValue == dev[0])
    }

    /// The LM term (--lm-data): DistiLLM with it logs loss_lm (the student's cross-entropy on the text, about
    /// log V for this random tiny model), trains differently from DistiLLM without it, and resumes byte for byte
    /// (the text's cursor is in the checkpoint).
    @Test func languageModelingTermTrainsAndResumes() throws {
        let s = try tests.student(), data = try TrainingCommandTests.dataFile()
        let text = TinyModel.temporaryPath("lm.txt")
        try String(repeating: "a tokenizer splits the text into pieces and the pieces map to ids in the vocabulary. ", count: 6)
            .write(toFile: text, atomically: true, encoding: .utf8)
        let args = tests.common(s, data) + ["--method", "distillm", "--steps", "3", "--dev-examples", "0", "--lm-data", text, "--lm-length", "12"]
        let straight = TinyModel.temporaryPath("straight"), stopped = TinyModel.temporaryPath("stopped"), plain = TinyModel.temporaryPath("plain")
        let a = try cli.run(args + ["--out", straight])
        #expect(a.code == 0, "\(a.stderr)")
        let first = try JSONParser.parse(Array(try String(contentsOfFile: straight + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")[0].utf8))
        let lm = first["loss_lm"]?.doubleValue ?? 0
        #expect(lm > 0.5 * log(320.0) && lm < 2 * log(320.0), "loss_lm \(lm)")
        #expect(try cli.run(args + ["--out", stopped, "--stop-after", "1"]).code == 0)
        #expect(try cli.run(args + ["--out", stopped, "--resume", stopped]).code == 0)
        let x = FileManager.default.contents(atPath: straight + "/student.gguf"), y = FileManager.default.contents(atPath: stopped + "/student.gguf")
        #expect(x != nil && x == y)
        #expect(try cli.run(Array(args.dropLast(4)) + ["--out", plain]).code == 0)
        #expect(FileManager.default.contents(atPath: plain + "/student.gguf") != x)
    }
}
