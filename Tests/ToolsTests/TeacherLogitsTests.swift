import Foundation
import Formats
import Testing

/// The offline teacher: `ckpt teacher-logits` stores the teacher's top-k log-probabilities and
/// `distill --teacher-logits` trains from them without running the teacher. With k = V the stored teacher is
/// the teacher itself (the same losses as online KD); with a smaller k the loss is the KL of the coarsened
/// distributions, never above the full one. Shards for another teacher, tokenizer or data, and damaged shards,
/// are refused with one line and exit 1.
@Suite struct TeacherLogitsTests {
    let cli = CommandLineTests()
    let tests = DistillCommandTests()

    /// A tiny teacher GGUF, its layer-dropped student and the training data.
    func setup() throws -> (teacher: String, student: String, data: String) {
        let teacher = TinyModel.temporaryPath("teacher.gguf"), student = TinyModel.temporaryPath("student.gguf")
        try TinyModel.write(to: teacher)
        #expect(try cli.run(["student", "init", "--from", teacher, "--layers", "1", "--out", student]).code == 0)
        return (teacher, student, try TrainingCommandTests.dataFile())
    }

    func store(_ teacher: String, _ data: String, topK: Int, _ extra: [String] = []) throws -> String {
        let out = TinyModel.temporaryPath("logits-\(topK)-\(extra.joined())")
        let r = try cli.run(["teacher-logits", teacher, "--data", data, "-o", out, "--top-k", "\(topK)", "--batch-size", "3",
                             "--shard-examples", "4", "--force"] + extra)
        #expect(r.code == 0, "\(r.stderr)")
        return out
    }

    func distill(_ s: (teacher: String, student: String, data: String), _ extra: [String]) throws -> (code: Int32, losses: [Double], stderr: String) {
        let out = TinyModel.temporaryPath("run-\(extra.joined().hashValue)")
        let r = try cli.run(["distill", "--student", s.student, "--data", s.data, "--batch-size", "2", "--steps", "3", "--lr", "1e-3",
                             "--dev-examples", "0", "--seed", "5", "--out", out, "--force"] + extra)
        let losses = r.code != 0 ? [] : try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONParser.parse(Array($0.utf8))["loss"]?.doubleValue }
        return (r.code, losses, r.stderr)
    }

    @Test func fullVocabularyEqualsTheOnlineTeacher() throws {
        let s = try setup()
        let logits = try store(s.teacher, s.data, topK: 320)
        let manifest = try JSONFile.read(logits + "/manifest.json")
        #expect(manifest["examples"]?.uint64Value == 9 && manifest["shards"]?.arrayValue?.count == 3 && manifest["top_k"]?.uint64Value == 320)
        let online = try distill(s, ["--teacher", s.teacher, "--method", "kd"])
        let offline = try distill(s, ["--teacher-logits", logits, "--method", "kd"])
        let checked = try distill(s, ["--teacher-logits", logits, "--teacher", s.teacher, "--method", "kd"])
        #expect(online.code == 0 && offline.code == 0 && checked.code == 0, "\(offline.stderr)")
        #expect(online.losses.count == 3 && offline.losses == checked.losses)
        for (a, b) in zip(online.losses, offline.losses) { #expect(abs(a - b) <= 1e-5 * abs(a), "\(a) vs \(b)") }
        // Top 8 of 320: the coarsened KL is below the full one on the same first step (data processing
        // inequality), and training still runs.
        let top8 = try distill(s, ["--teacher-logits", try store(s.teacher, s.data, topK: 8), "--method", "kd"])
        #expect(top8.code == 0 && top8.losses[0] < online.losses[0] - 1e-4, "\(top8.losses) vs \(online.losses)")
    }

    /// `--responses sampled`: the shards hold one teacher sample per prompt, and seqkd trains on exactly those.
    @Test func sampledResponsesServeSeqKD() throws {
        let s = try setup()
        let logits = try store(s.teacher, s.data, topK: 16, ["--responses", "sampled", "--max-new-tokens", "5"])
        let shard = try SafetensorsFile(path: logits + "/shard-00000.safetensors")
        let promptLengths = shard.tensor(named: "prompt_length")!.data.array.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
        let offsets = shard.tensor(named: "offsets")!.data.array.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
        let responseLengths = promptLengths.indices.map { Int(offsets[$0 + 1] - offsets[$0]) - Int(promptLengths[$0]) }
        #expect(responseLengths.allSatisfy { $0 >= 1 && $0 <= 5 }, "\(responseLengths)")
        let r = try distill(s, ["--teacher-logits", logits, "--method", "seqkd"])
        #expect(r.code == 0 && r.losses.count == 3, "\(r.stderr)")
    }

    /// scripts/teacher_logits_hf.py (transformers) on the tiny llama, committed by fixtures/make_teacher_logits.py:
    /// ckpt's shards for the same weights have the same manifest hashes of tokenizer and data, the same examples
    /// and tokens, the same top ids and log-probabilities within 1e-4; and distill trains from the Python folder.
    @Test func shardsEqualTransformers() throws {
        let golden = CommandLineTests.root + "/fixtures/teacher_logits/llama-gqa"
        let data = CommandLineTests.root + "/fixtures/teacher_logits/data.jsonl"
        let teacher = TinyModel.temporaryPath("teacher.gguf")
        try TinyModel.write(to: teacher)
        let mine = TinyModel.temporaryPath("mine")
        let r = try cli.run(["teacher-logits", teacher, "--data", data, "-o", mine, "--top-k", "16", "--batch-size", "2", "--shard-examples", "3"])
        #expect(r.code == 0, "\(r.stderr)")
        let a = try JSONFile.read(mine + "/manifest.json"), b = try JSONFile.read(golden + "/manifest.json")
        for key in ["tokenizer_sha256", "data_sha256", "vocab_size", "top_k", "responses", "max_length", "max_prompt_length", "examples"] {
            #expect(a[key] == b[key], "\(key): \(String(describing: a[key])) vs \(String(describing: b[key]))")
        }
        func tensors(_ folder: String, _ file: String) throws -> [String: [Double]] {
            let shard = try SafetensorsFile(path: folder + "/" + file)
            var out: [String: [Double]] = [:]
            for t in shard.tensors {
                out[t.name] = t.data.array.withUnsafeBytes { raw in
                    switch t.dtype {
                    case .i32: raw.bindMemory(to: Int32.self).map { Double($0) }
                    case .i64: raw.bindMemory(to: Int64.self).map { Double($0) }
                    default: raw.bindMemory(to: Float.self).map { Double($0) }
                    }
                }
            }
            return out
        }
        var compared = 0
        for shard in ["shard-00000.safetensors", "shard-00001.safetensors"] {
            let x = try tensors(mine, shard), y = try tensors(golden, shard)
            for name in ["example", "prompt_length", "offsets", "tokens", "top_ids"] { #expect(x[name] == y[name], "\(shard) \(name)") }
            for name in ["top_logprobs", "rest_mass"] {
                let p = x[name] ?? [], q = y[name] ?? []
                #expect(p.count == q.count && !p.isEmpty)
                let worst = zip(p, q).map { abs($0 - $1) }.max() ?? 1
                #expect(worst <= 1e-4, "\(shard) \(name): \(worst)")
                compared += p.count
            }
        }
        #expect(compared > 100)
        // The Python folder trains a student here (its teacher hash is of model.safetensors, so no --teacher).
        let student = TinyModel.temporaryPath("student.gguf")
        #expect(try cli.run(["student", "init", "--from", teacher, "--layers", "1", "--out", student]).code == 0)
        let d = try cli.run(["distill", "--student", student, "--data", data, "--teacher-logits", golden, "--method", "kd", "--steps", "2",
                             "--batch-size", "2", "--dev-examples", "0", "--out", TinyModel.temporaryPath("from-python")])
        #expect(d.code == 0, "\(d.stderr)")
    }

    @Test func mismatchedOrDamagedShardsAreRefused() throws {
        let s = try setup()
        let logits = try store(s.teacher, s.data, topK: 8)
        func refused(_ extra: [String], _ message: String, student: String? = nil, data: String? = nil) throws {
            var setup = s
            if let student { setup.student = student }
            if let data { setup.data = data }
            let r = try distill(setup, extra)
            let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
            #expect(r.code == 1 && errors.count == 1 && errors[0].contains(message), "\(extra): \(r.stderr)")
        }
        // Another data file (one character changed).
        let other = TinyModel.temporaryPath("other-data.jsonl")
        try String(contentsOfFile: s.data, encoding: .utf8).replacingOccurrences(of: "splits the text", with: "splits the texT")
            .write(toFile: other, atomically: true, encoding: .utf8)
        try refused(["--teacher-logits", logits, "--method", "kd"], "made from other data than", data: other)
        // Another teacher given beside the shards.
        let otherTeacher = TinyModel.temporaryPath("other-teacher.gguf")
        try TinyModel.write(to: otherTeacher) { _, tensors in tensors.swapAt(0, 1) }
        try refused(["--teacher-logits", logits, "--teacher", otherTeacher, "--method", "kd"], "made by another teacher than --teacher")
        // A student with another vocabulary.
        let otherStudent = TinyModel.temporaryPath("other-vocab.gguf")
        try TinyModel.writeWithOtherVocabulary(to: otherStudent)
        try refused(["--teacher-logits", logits, "--method", "kd"], "made with another tokenizer", student: otherStudent)
        // On-policy methods need the teacher itself.
        try refused(["--teacher-logits", logits, "--method", "promptkd"], "option --teacher-logits: promptkd needs the teacher")
        // A truncated shard, a missing manifest.
        let damaged = TinyModel.temporaryPath("damaged-logits")
        try? FileManager.default.removeItem(atPath: damaged)
        try FileManager.default.copyItem(atPath: logits, toPath: damaged)
        let shard = damaged + "/shard-00001.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: shard))
        try bytes.prefix(bytes.count - 10).write(to: URL(fileURLWithPath: shard))
        try refused(["--teacher-logits", damaged, "--method", "kd"], "shard-00001.safetensors)")
        try FileManager.default.removeItem(atPath: damaged + "/manifest.json")
        try refused(["--teacher-logits", damaged, "--method", "kd"], "no manifest.json")
        // The command refuses to overwrite, and bad options before any work.
        let again = try cli.run(["teacher-logits", s.teacher, "--data", s.data, "-o", logits])
        #expect(again.code == 1 && again.stderr.contains("already exists"), "\(again.stderr)")
        let big = try cli.run(["teacher-logits", s.teacher, "--data", s.data, "-o", TinyModel.temporaryPath("big"), "--top-k", "321"])
        #expect(big.code == 1 && big.stderr.contains("--top-k 321 is more than the vocabulary"), "\(big.stderr)")
    }
}
