import Formats
import Foundation

/// One training example's teacher side: the sequence (prompt, response, EOS) and, at every position that
/// predicts a target (rows r = 0..<tokens.count − promptLength: token promptLength − 1 + r predicting the
/// next), the teacher's top-k token ids and log-probabilities in descending order, and the probability mass
/// outside them.
public struct TeacherLogitEntry: Equatable, Sendable {
    public var example: Int
    public var tokens: [Int]
    public var promptLength: Int
    public var topIDs: [Int32]        // [rows, k]
    public var topLogProbs: [Float]   // [rows, k]
    public var restMass: [Float]      // [rows]
    public var rows: Int { tokens.count - promptLength }

    public init(example: Int, tokens: [Int], promptLength: Int, topIDs: [Int32], topLogProbs: [Float], restMass: [Float]) {
        self.example = example
        self.tokens = tokens
        self.promptLength = promptLength
        self.topIDs = topIDs
        self.topLogProbs = topLogProbs
        self.restMass = restMass
    }
}

/// Shards of entries as safetensors files (the Python script writes the same): per shard the tensors
/// `example` I32 [n], `prompt_length` I32 [n], `offsets` I64 [n+1] (into `tokens`), `tokens` I32 [T],
/// `top_ids` I32 [R, k], `top_logprobs` F32 [R, k], `rest_mass` F32 [R], with R = Σ (length − prompt length).
public enum TeacherLogitShards {
    public static func shardName(_ i: Int) -> String { String(format: "shard-%05d.safetensors", i) }

    /// Writes one shard atomically; returns its manifest entry.
    public static func write(_ entries: [TeacherLogitEntry], topK k: Int, folder: String, index: Int) throws(DistillError) -> TeacherLogitManifest.Shard {
        func bytes<T>(_ values: [T]) -> ByteView { ByteView(owned: values.withUnsafeBytes { Array($0) }) }
        var offsets: [Int64] = [0]
        for e in entries { offsets.append(offsets.last! + Int64(e.tokens.count)) }
        let rows = entries.reduce(0) { $0 + $1.rows }
        let tensors = [
            RawTensor(name: "example", dtype: .i32, shape: [entries.count], data: bytes(entries.map { Int32($0.example) })),
            RawTensor(name: "prompt_length", dtype: .i32, shape: [entries.count], data: bytes(entries.map { Int32($0.promptLength) })),
            RawTensor(name: "offsets", dtype: .i64, shape: [entries.count + 1], data: bytes(offsets)),
            RawTensor(name: "tokens", dtype: .i32, shape: [Int(offsets.last!)], data: bytes(entries.flatMap { $0.tokens.map { Int32($0) } })),
            RawTensor(name: "top_ids", dtype: .i32, shape: [rows, k], data: bytes(entries.flatMap(\.topIDs))),
            RawTensor(name: "top_logprobs", dtype: .f32, shape: [rows, k], data: bytes(entries.flatMap(\.topLogProbs))),
            RawTensor(name: "rest_mass", dtype: .f32, shape: [rows], data: bytes(entries.flatMap(\.restMass))),
        ]
        let path = folder + "/" + shardName(index)
        do { try SafetensorsWriter.write(tensors, to: path, metadata: [("format", "ckpt-teacher-logits")], overwrite: true) } catch { throw .format(error) }
        return .init(file: shardName(index), examples: entries.count, sha256: try TeacherLogitHashes.file(path: path))
    }

    /// Every entry of a folder, by example index, checked against the manifest: each shard's hash, its
    /// tensors' types and shapes, ids inside the vocabulary, finite log-probabilities ≤ 0 and masses in [0, 1].
    public static func read(folder: String, manifest m: TeacherLogitManifest) throws(DistillError) -> [Int: TeacherLogitEntry] {
        var entries: [Int: TeacherLogitEntry] = [:]
        for shard in m.shards {
            let path = folder + "/" + shard.file
            guard FileManager.default.fileExists(atPath: path) else { throw .teacherLogits(path: path, reason: "the shard is missing") }
            guard try TeacherLogitHashes.file(path: path) == shard.sha256 else {
                throw .teacherLogits(path: path, reason: "the shard's SHA-256 is not the manifest's (damaged, truncated or replaced)")
            }
            for e in try readShard(path, manifest: m) {
                guard entries[e.example] == nil else { throw .teacherLogits(path: path, reason: "example \(e.example) appears twice") }
                entries[e.example] = e
            }
        }
        guard entries.count == m.examples else {
            throw .teacherLogits(path: folder, reason: "\(entries.count) examples in the shards, the manifest says \(m.examples)")
        }
        return entries
    }

    static func readShard(_ path: String, manifest m: TeacherLogitManifest) throws(DistillError) -> [TeacherLogitEntry] {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: path) } catch { throw .format(error) }
        func tensor<T>(_ name: String, _ dtype: DType, _ type: T.Type, shape: (([Int]) -> Bool)) throws(DistillError) -> [T] {
            guard let t = file.tensor(named: name) else { throw .teacherLogits(path: path, reason: "no tensor '\(name)'") }
            guard t.dtype == dtype, shape(t.shape), t.byteCount == t.elementCount * MemoryLayout<T>.size else {
                throw .teacherLogits(path: path, reason: "tensor '\(name)' is \(t.dtype.rawValue) \(t.shape), not the expected \(dtype.rawValue) shape")
            }
            return t.data.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
        }
        let examples = try tensor("example", .i32, Int32.self) { $0.count == 1 }
        let n = examples.count, k = m.topK
        let promptLengths = try tensor("prompt_length", .i32, Int32.self) { $0 == [n] }
        let offsets = try tensor("offsets", .i64, Int64.self) { $0 == [n + 1] }
        let tokens = try tensor("tokens", .i32, Int32.self) { $0.count == 1 }
        guard offsets.first == 0, offsets.last == Int64(tokens.count), zip(offsets, offsets.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw .teacherLogits(path: path, reason: "'offsets' do not cut 'tokens' (\(tokens.count)) into \(n) increasing sequences")
        }
        var rows = 0
        for i in 0..<n {
            let length = Int(offsets[i + 1] - offsets[i]), p = Int(promptLengths[i])
            guard p >= 1, p < length, length <= m.maxLength, examples[i] >= 0, Int(examples[i]) < m.examples else {
                throw .teacherLogits(path: path, reason: "entry \(i): example \(examples[i]), prompt length \(p) of \(length) tokens is out of range")
            }
            rows += length - p
        }
        let ids = try tensor("top_ids", .i32, Int32.self) { $0 == [rows, k] }
        let logProbs = try tensor("top_logprobs", .f32, Float.self) { $0 == [rows, k] }
        let rest = try tensor("rest_mass", .f32, Float.self) { $0 == [rows] }
        if let bad = tokens.firstIndex(where: { $0 < 0 || Int($0) >= m.vocabSize }) ?? ids.firstIndex(where: { $0 < 0 || Int($0) >= m.vocabSize }) {
            throw .teacherLogits(path: path, reason: "a token id is outside the vocabulary of \(m.vocabSize) (element \(bad))")
        }
        if let bad = logProbs.firstIndex(where: { !$0.isFinite || $0 > 1e-4 }) {
            throw .teacherLogits(path: path, reason: "top_logprobs element \(bad) is \(logProbs[bad]), not a log-probability")
        }
        if let bad = rest.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw .teacherLogits(path: path, reason: "rest_mass element \(bad) is \(rest[bad]), not in [0, 1]")
        }
        var out: [TeacherLogitEntry] = []
        var row = 0
        for i in 0..<n {
            let range = Int(offsets[i])..<Int(offsets[i + 1]), p = Int(promptLengths[i]), r = range.count - p
            out.append(TeacherLogitEntry(example: Int(examples[i]), tokens: tokens[range].map { Int($0) }, promptLength: p,
                                         topIDs: Array(ids[(row * k)..<((row + r) * k)]), topLogProbs: Array(logProbs[(row * k)..<((row + r) * k)]),
                                         restMass: Array(rest[row..<(row + r)])))
            row += r
        }
        return out
    }
}
