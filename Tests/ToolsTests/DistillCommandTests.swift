import Foundation
import Formats
import Testing

/// `ckpt distill` end to end on the tiny llama (teacher) and a layer-dropped student: every method runs and
/// writes its outputs; a stopped and resumed PromptKD/SeqKD run equals an uninterrupted one byte for byte;
/// a student identical to its teacher has reverse KL 0; divergence stops with the step, the loss and the
/// last good checkpoint; another vocabulary is refused before any work.
@Suite struct DistillCommandTests {
    let cli = CommandLineTests()
    static let teacher = CommandLineTests.root + "/fixtures/hf/llama-gqa/safetensors"

    func student() throws -> String {
        let teacherGGUF = TinyModel.temporaryPath("teacher.gguf"), path = TinyModel.temporaryPath("student.gguf")
        try TinyModel.write(to: teacherGGUF)
        let r = try cli.run(["student", "init", "--from", teacherGGUF, "--layers", "1", "--out", path])
        #expect(r.code == 0, "\(r.stderr)")
        return path
    }

    func common(_ student: String, _ data: String) -> [String] {
        ["distill", "--teacher", Self.teacher, "--student", student, "--data", data, "--dev-data", data, "--batch-size", "2",
         "--max-new-tokens", "6", "--dev-max-new-tokens", "4", "--dev-examples", "3", "--prompt-len", "3",
         "--prompt-init", "text:the pieces", "--lr", "1e-3", "--prompt-lr", "1e-2", "--seed", "5"]
    }

    func losses(_ run: String) throws -> [String] {
        try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .filter { $0.contains("\"loss\"") }.map { String($0.split(separator: ",")[1]) }
    }

    @Test(arguments: ["promptkd", "seqkd", "distillm", "imitkd", "minillm"])
    func resumedEqualsUninterrupted(_ method: String) throws {
        let s = try student(), data = try TrainingCommandTests.dataFile()
        let straight = TinyModel.temporaryPath("straight"), stopped = TinyModel.temporaryPath("stopped")
        let args = common(s, data) + ["--method", method, "--eval-every", "2"]
        let a = try cli.run(args + ["--out", straight, "--steps", "4", "--export", "Q8_0"])
        #expect(a.code == 0, "\(a.stderr)")
        #expect(try cli.run(args + ["--out", stopped, "--steps", "4", "--stop-after", "2"]).code == 0)
        let c = try cli.run(args + ["--out", stopped, "--steps", "4", "--resume", stopped, "--export", "Q8_0"])
        #expect(c.code == 0, "\(c.stderr)")
        #expect(try losses(straight).count == 4 && losses(straight) == losses(stopped))
        for file in ["student.gguf", "student-Q8_0.gguf"] + (method == "promptkd" ? ["prompt-adapter/adapter_model.safetensors"] : []) {
            let x = FileManager.default.contents(atPath: straight + "/" + file), y = FileManager.default.contents(atPath: stopped + "/" + file)
            #expect(x != nil && x == y, "\(method): \(file) differs")
        }
        let report = try JSONFile.read(straight + "/report.json")
        #expect(report["method"]?.stringValue == method && report["best_dev_rougeL"]?.doubleValue != nil)
        if method == "promptkd" {
            let lines = try String(contentsOfFile: straight + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            // The log opens with the starting student's dev evaluation (step 0), then the steps.
            #expect(lines[0].hasPrefix("{\"step\":0,\"dev_rougeL\""), "\(lines[0])")
            let line = lines[1]
            for key in ["loss_prompt_student", "loss_prompt_teacher", "time_generate", "time_teacher", "time_prompt", "time_student"] {
                #expect(line.contains("\"\(key)\""), "\(key) missing from \(line)")
            }
        }
    }

    /// Teacher and student of different families sharing a vocabulary (a Qwen3 teacher, a fresh Gemma 3
    /// student from its config): PromptKD runs, and stopped + resumed equals uninterrupted byte for byte.
    @Test func crossFamilyPairDistills() throws {
        let families = CommandLineTests.root + "/fixtures/families"
        let teacher = TinyModel.temporaryPath("qwen3.gguf"), student = TinyModel.temporaryPath("gemma3.gguf")
        #expect(try cli.run(["convert", families + "/qwen3", teacher, "--outtype", "f32"]).code == 0)
        let s = try cli.run(["student", "init", "--from", teacher, "--config", families + "/gemma3/config.json", "--out", student])
        #expect(s.code == 0, "\(s.stderr)")
        let data = try TrainingCommandTests.dataFile()
        var args = common(student, data) + ["--method", "promptkd", "--steps", "3"]
        args[2] = teacher
        let straight = TinyModel.temporaryPath("straight"), stopped = TinyModel.temporaryPath("stopped")
        let a = try cli.run(args + ["--out", straight])
        #expect(a.code == 0, "\(a.stderr)")
        #expect(try cli.run(args + ["--out", stopped, "--stop-after", "1"]).code == 0)
        #expect(try cli.run(args + ["--out", stopped, "--resume", stopped]).code == 0)
        #expect(try losses(straight).count == 3 && losses(straight) == losses(stopped))
        let x = FileManager.default.contents(atPath: straight + "/student.gguf"), y = FileManager.default.contents(atPath: stopped + "/student.gguf")
        #expect(x != nil && x == y)
        #expect(try GGUFFile(path: straight + "/student.gguf").architecture == "gemma3")
    }

    @Test(arguments: ["kd", "rkl", "gkd", "imitkd", "minillm", "sft"])
    func otherMethodsRun(_ method: String) throws {
        let s = try student(), data = try TrainingCommandTests.dataFile(), out = TinyModel.temporaryPath(method)
        let r = try cli.run(common(s, data) + ["--method", method, "--out", out, "--steps", "2"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/student.gguf") && FileManager.default.fileExists(atPath: out + "/loss.svg"))
    }

    /// The step profiler (scripts/bench/distill) times every part of each PromptKD step and leaves the run as
    /// it found it: its losses are those of `ckpt distill` with the same options.
    @Test func stepProfileTimesEveryPartAndDoesNotPerturbTheRun() throws {
        let s = try student(), data = try TrainingCommandTests.dataFile(), out = TinyModel.temporaryPath("profiled")
        let shared = ["--teacher", Self.teacher, "--student", s, "--data", data, "--batch-size", "2", "--max-new-tokens", "6", "--seed", "5"]
        let bench = try cli.run(["bench-distill"] + shared + ["--steps", "2", "--warmup", "1"])
        #expect(bench.code == 0, "\(bench.stderr)")
        let report = try JSONParser.parse(Array(bench.stdout.utf8))
        let parts = report["parts_s"]?.objectValue?.map(\.0) ?? []
        #expect(parts == ["generate", "teacher_forward_pT", "teacher_forward_q", "student_forward", "loss_prompt", "prompt_backward",
                          "teacher_forward_q2", "loss_student", "student_backward", "student_update"])
        #expect(report["parts_s"]?.objectValue?.allSatisfy { ($0.1.doubleValue ?? 0) > 0 } == true)
        #expect((report["whole_over_parts"]?.doubleValue ?? 0) > 0 && (report["prompt_over_frozen"]?.doubleValue ?? 0) > 0)
        let r = try cli.run(["distill"] + shared + ["--method", "promptkd", "--steps", "3", "--dev-examples", "0", "--out", out])
        #expect(r.code == 0, "\(r.stderr)")
        let profiled = report["losses"]?.arrayValue?.compactMap(\.doubleValue) ?? []
        let logged = try losses(out).compactMap { Double($0.split(separator: ":").last ?? "") }
        #expect(profiled.count == 3 && profiled == logged)
    }

    @Test func identicalStudentHasZeroReverseKL() throws {
        let teacherGGUF = TinyModel.temporaryPath("teacher.gguf"), out = TinyModel.temporaryPath("same")
        try TinyModel.write(to: teacherGGUF)
        let r = try cli.run(common(teacherGGUF, try TrainingCommandTests.dataFile()) + ["--method", "rkl", "--out", out, "--steps", "1",
                                                                                      "--teacher", teacherGGUF])
        #expect(r.code == 0, "\(r.stderr)")
        let loss = try JSONFile.read(out + "/report.json")["first_loss"]?.doubleValue ?? -1
        #expect(abs(loss) < 1e-6, "reverse KL of a model to itself: \(loss)")
    }

    @Test func divergenceAndVocabularyErrors() throws {
        let s = try student(), data = try TrainingCommandTests.dataFile(), out = TinyModel.temporaryPath("diverge")
        let r = try cli.run(common(s, data) + ["--method", "sft", "--out", out, "--steps", "4", "--lr", "1e30", "--save-every", "1",
                                               "--clip", "0"])
        #expect(r.code == 1)
        #expect(r.stderr.contains("error: training diverged at step ") && r.stderr.contains("; the last good checkpoint is \(out)/checkpoints/step-"),
                "\(r.stderr)")
        let other = TinyModel.temporaryPath("other.gguf")
        try TinyModel.writeWithOtherVocabulary(to: other)
        let v = try cli.run(common(other, data) + ["--out", TinyModel.temporaryPath("vocab"), "--steps", "1"])
        #expect(v.code == 1 && v.stderr.contains("error: vocabularies differ: 320 tokens"), "\(v.stderr)")
    }

    /// Bad input to `ckpt distill`: empty and malformed data, a teacher that cannot be loaded are one-line
    /// errors with exit code 1; a student bigger than its teacher is a warning.
    @Test func badInputAndBiggerStudent() throws {
        let s = try student(), data = try TrainingCommandTests.dataFile()
        let empty = TinyModel.temporaryPath("empty.jsonl")
        try "\n".write(toFile: empty, atomically: true, encoding: .utf8)
        let e = try cli.run(common(s, empty) + ["--out", TinyModel.temporaryPath("empty-run"), "--steps", "1"])
        #expect(e.code == 1 && e.stderr.hasSuffix("\nerror: data: no usable example: the file has no lines (\(empty))\n"), "\(e.stderr)")
        let bad = TinyModel.temporaryPath("bad.jsonl")
        try "{\"prompt\": \"a \", \"output\": \"b\"}\n[1, 2\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let m = try cli.run(common(s, bad) + ["--out", TinyModel.temporaryPath("bad-run"), "--steps", "1"])
        #expect(m.code == 1 && m.stderr.contains("\nerror: data: line 2: not JSON") && m.stderr.hasSuffix("(\(bad))\n"), "\(m.stderr)")

        let truncated = TinyModel.temporaryPath("truncated.gguf")
        try TinyModel.write(to: truncated)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: truncated))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        var args = common(s, data) + ["--out", TinyModel.temporaryPath("truncated-run"), "--steps", "1"]
        args[args.firstIndex(of: "--teacher")! + 1] = truncated
        let t = try cli.run(args)
        #expect(t.code == 1 && t.stderr.hasPrefix("error: ") && t.stderr.contains(truncated), "\(t.stderr)")

        // The 1-block student as the teacher of the 2-block model: it runs, with a warning.
        let teacherGGUF = TinyModel.temporaryPath("big-student.gguf")
        try TinyModel.write(to: teacherGGUF)
        var swapped = common(teacherGGUF, data) + ["--method", "kd", "--out", TinyModel.temporaryPath("swapped"), "--steps", "1"]
        swapped[swapped.firstIndex(of: "--teacher")! + 1] = s
        let w = try cli.run(swapped)
        #expect(w.code == 0 && w.stderr.contains("warning: the student ("), "\(w.stderr)")
    }
}
