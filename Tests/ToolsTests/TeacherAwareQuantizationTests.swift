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
        let bad = try cli.run(d.common(s, data) + ["--method", "kd", "--steps", "1", "--tune-quant", "--out", TinyModel.temporaryPath("bad")])
        #expect(bad.code == 1 && bad.stderr.contains("--tune-quant needs --export TYPE"), "\(bad.stderr)")
    }
}
