import Foundation
import Formats
import Model
import Testing

/// `ckpt quantize ... --teacher T`: the tuned file is the ordinary quantization with only block-scale bytes
/// changed (the same types, sizes, metadata: llama.cpp reads it as any other file), and KL to the teacher
/// falls by at least 10% on held-out text drawn like the calibration data.
@Suite struct TeacherAwareQuantizationTests {
    let cli = CommandLineTests()

    /// Random sentences over the tiny vocabulary's words: calibration lines (JSONL) and a held-out text drawn
    /// the same way with another seed.
    static func words(_ count: Int, seed: UInt64) -> [String] {
        let vocabulary = ["a", "tokenizer", "splits", "the", "text", "into", "pieces", "map", "to", "ids", "in", "vocabulary", "of", "and"]
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return vocabulary[Int(state >> 33) % vocabulary.count]
        }
    }

    static func calibration() throws -> String {
        let w = words(64 * 9, seed: 1)
        let lines = (0..<64).map { i in
            "{\"prompt\": \"\(w[(9 * i)..<(9 * i + 3)].joined(separator: " ")) \", \"output\": \"\(w[(9 * i + 3)..<(9 * i + 9)].joined(separator: " "))\"}"
        }
        let path = TinyModel.temporaryPath("calibration.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: ["Q4_0", "Q4_1"])
    func onlyScaleBytesChangeAndHeldOutKLFalls(_ type: String) throws {
        let teacher = TinyModel.temporaryPath("teacher.gguf"), plain = TinyModel.temporaryPath("plain.gguf"), tuned = TinyModel.temporaryPath("tuned.gguf")
        try TinyModel.write(to: teacher)
        #expect(try cli.run(["quantize", teacher, plain, type]).code == 0)
        let r = try cli.run(["quantize", teacher, tuned, type, "--teacher", teacher, "--data", try Self.calibration(),
                             "--steps", "40", "--tune-batch-size", "8", "--tune-lr", "1e-2"])
        #expect(r.code == 0, "\(r.stderr)")
        let a = try GGUFFile(path: plain), b = try GGUFFile(path: tuned)
        #expect(a.file.count == b.file.count && a.tensorInfos.map(\.dtype) == b.tensorInfos.map(\.dtype))
        // Every differing byte is a d (or m) field of some block.
        var allowed = Set<Int>()
        for info in a.tensorInfos {
            guard let fields = BlockScales.fields(info.dtype) else { continue }
            let start = a.dataOffset + Int(info.offset), size = info.dtype.bytesPerBlock
            for k in 0..<(Int(info.elementCount) / info.dtype.blockSize) {
                for f in [fields.d] + (fields.m.map { [$0] } ?? []) { allowed.formUnion([start + k * size + f, start + k * size + f + 1]) }
            }
        }
        let changed = (0..<a.file.count).filter { a.file.bytes[$0] != b.file.bytes[$0] }
        #expect(!changed.isEmpty && changed.allSatisfy { allowed.contains($0) }, "\(changed.filter { !allowed.contains($0) }.prefix(5))")
        // Held-out text (not the calibration data): KL(teacher ‖ tuned) < KL(teacher ‖ plain).
        let text = TinyModel.temporaryPath("heldout.txt")
        try Self.words(400, seed: 2).joined(separator: " ").write(toFile: text, atomically: true, encoding: .utf8)
        func kl(_ other: String) throws -> Double {
            let c = try cli.run(["compare", teacher, other, "-f", text, "--ctx", "32", "--json"])
            #expect(c.code == 0, "\(c.stderr)")
            return try JSONParser.parse(Array(c.stdout.utf8))["kld_mean"]?["value"]?.doubleValue ?? -1
        }
        let before = try kl(plain), after = try kl(tuned)
        #expect(after > 0 && after < 0.9 * before, "\(type): held-out KL \(before) -> \(after)")
    }

    /// --tune-eval-every N: the file written holds the fields of the step with the lowest held-out KL — the same
    /// bytes as tuning for exactly that many steps, and the plain file itself when every step made it worse.
    @Test func heldOutSelectionWritesTheBestStep() throws {
        let teacher = TinyModel.temporaryPath("teacher.gguf"), plain = TinyModel.temporaryPath("plain.gguf")
        try TinyModel.write(to: teacher)
        #expect(try cli.run(["quantize", teacher, plain, "Q4_0"]).code == 0)
        let data = try Self.calibration()
        let dev = TinyModel.temporaryPath("dev.jsonl")
        let w = Self.words(16 * 9, seed: 3)
        try (0..<16).map { i in
            "{\"prompt\": \"\(w[(9 * i)..<(9 * i + 3)].joined(separator: " ")) \", \"output\": \"\(w[(9 * i + 3)..<(9 * i + 9)].joined(separator: " "))\"}"
        }.joined(separator: "\n").write(toFile: dev, atomically: true, encoding: .utf8)
        func tune(_ out: String, _ extra: [String]) throws -> String {
            let r = try cli.run(["quantize", teacher, out, "Q4_0", "--teacher", teacher, "--data", data, "--tune-batch-size", "8"] + extra)
            #expect(r.code == 0, "\(r.stderr)")
            return r.stderr
        }
        let selected = TinyModel.temporaryPath("selected.gguf")
        let log = try tune(selected, ["--steps", "40", "--tune-lr", "0.15", "--tune-eval-every", "2", "--tune-dev", dev])
        let line = try #require(log.split(separator: "\n").first { $0.hasPrefix("tune: writing the fields of step ") })
        let best = try #require(Int(line.dropFirst("tune: writing the fields of step ".count).prefix { $0.isNumber }))
        #expect(best > 0 && best % 2 == 0, "\(log.split(separator: "\n").filter { $0.contains("held-out") }.joined(separator: " | "))")
        let exact = TinyModel.temporaryPath("exact.gguf")
        _ = try tune(exact, ["--steps", "\(best)", "--tune-lr", "0.15"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: selected)) == Data(contentsOf: URL(fileURLWithPath: exact)), "best step \(best)")
        // A learning rate that wrecks the scales: nothing beats step 0, so the plain bytes are written.
        let wrecked = TinyModel.temporaryPath("wrecked.gguf")
        let bad = try tune(wrecked, ["--steps", "4", "--tune-lr", "3", "--tune-eval-every", "2", "--tune-dev", dev])
        #expect(bad.contains("tune: writing the fields of step 0 "), "\(bad)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: wrecked)) == Data(contentsOf: URL(fileURLWithPath: plain)))
        let refused = try cli.run(["quantize", teacher, wrecked, "Q4_0", "--teacher", teacher, "--tune-dev", dev])
        #expect(refused.code != 0 && refused.stderr.contains("--tune-dev is for --tune-eval-every"), "\(refused.stderr)")
    }

    @Test func badTeacherAndOptionsAreRefused() throws {
        let model = TinyModel.temporaryPath("model.gguf"), other = TinyModel.temporaryPath("other-vocab.gguf")
        try TinyModel.write(to: model)
        try TinyModel.writeWithOtherVocabulary(to: other)
        let out = TinyModel.temporaryPath("out.gguf")
        let r = try cli.run(["quantize", model, out, "Q4_0", "--teacher", other, "--steps", "1", "--data", try Self.calibration()])
        #expect(r.code == 1 && r.stderr.contains("vocabularies differ") && !FileManager.default.fileExists(atPath: out), "\(r.stderr)")
        let d = try cli.run(["quantize", model, out, "Q4_0", "--data", "x.jsonl"])
        #expect(d.code != 0 && d.stderr.contains("--data is for teacher-aware quantization"), "\(d.stderr)")
        let f = try cli.run(["quantize", model, out, "F16", "--teacher", model, "--steps", "1", "--data", try Self.calibration()])
        #expect(f.code == 1 && f.stderr.contains("no tensor") && !FileManager.default.fileExists(atPath: out), "\(f.stderr)")
    }

    /// distill --export TYPE --tune-quant: the exported student is tuned toward the distillation teacher on the
    /// training data (the report says so) and differs from the plain export only in scale bytes.
    @Test func distillExportTunesTowardTheTeacher() throws {
        let d = DistillCommandTests()
        let s = try d.student(), data = try Self.calibration()
        let args = d.common(s, data) + ["--method", "kd", "--steps", "2", "--dev-examples", "0", "--export", "Q4_0"]
        let plain = TinyModel.temporaryPath("plain-run"), tuned = TinyModel.temporaryPath("tuned-run")
        #expect(try cli.run(args + ["--out", plain]).code == 0)
        let r = try cli.run(args + ["--out", tuned, "--tune-quant", "--tune-quant-steps", "5"])
        #expect(r.code == 0 && r.stderr.contains("tune: step 5/5"), "\(r.stderr)")
        #expect(try JSONFile.read(tuned + "/report.json")["tuned_quantization"]?.boolValue == true)
        let a = try GGUFFile(path: plain + "/student-Q4_0.gguf"), b = try GGUFFile(path: tuned + "/student-Q4_0.gguf")
        #expect(a.file.count == b.file.count && a.tensorInfos.map(\.dtype) == b.tensorInfos.map(\.dtype))
        #expect(Array(a.file.bytes) != Array(b.file.bytes))
        // --tune-quant-eval-every: the dev data's KL picks the step (common's --dev-data is the calibration file).
        let selected = try cli.run(d.common(s, data) + ["--method", "kd", "--steps", "2", "--export", "Q4_0", "--out", TinyModel.temporaryPath("selected-run"),
                                                        "--tune-quant", "--tune-quant-steps", "4", "--tune-quant-eval-every", "2"])
        #expect(selected.code == 0 && selected.stderr.contains("tune: step 4  held-out KL") && selected.stderr.contains("tune: writing the fields of step "),
                "\(selected.stderr)")
        // Without dev data (--data given, no --dev-data) it is refused before training.
        let noDev = try cli.run(["distill", "--teacher", DistillCommandTests.teacher, "--student", s, "--data", data, "--method", "kd", "--steps", "1",
                                 "--export", "Q4_0", "--tune-quant", "--tune-quant-eval-every", "2", "--out", TinyModel.temporaryPath("no-dev")])
        #expect(noDev.code == 1 && noDev.stderr.contains("--tune-quant-eval-every: no dev examples"), "\(noDev.stderr)")
        let bad = try cli.run(d.common(s, data) + ["--method", "kd", "--steps", "1", "--tune-quant", "--out", TinyModel.temporaryPath("bad")])
        #expect(bad.code == 1 && bad.stderr.contains("--tune-quant needs --export TYPE"), "\(bad.stderr)")
    }
}
