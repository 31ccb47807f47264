import Foundation
import Model

/// A teacher that is not run: its top-k log-probabilities, read from a teacher-logits folder, stand in for
/// its logits in KD-style losses. At each target position the teacher distribution is rebuilt as t(v) =
/// exp(logprob) for the stored ids and t(v) = rest · s(v) / (1 − Σ_top s) elsewhere, where s is the student's
/// own softmax and rest the stored mass outside the top k. Then KL(t ‖ s) is exactly the KL between the two
/// distributions coarsened to {top-k ids, everything else}, and its gradient s − t is that KL's gradient;
/// with k = V it is the full KL.
public final class OfflineTeacher: @unchecked Sendable {
    public let manifest: TeacherLogitManifest
    public let folder: String
    /// The entry of each training example (index into the tokenized training set).
    public let entries: [Int: TeacherLogitEntry]

    public init(folder: String) throws(DistillError) {
        self.folder = folder
        manifest = try TeacherLogitManifest.read(folder: folder)
        entries = try TeacherLogitShards.read(folder: folder, manifest: manifest)
    }

    /// Refuses shards made for another tokenizer, data file, tokenization or teacher, naming what differs.
    /// `teacherSHA256`: the hash of a --teacher given beside the shards, when one is.
    public func check(tokenizerTokens: [String], vocabSize: Int, dataPath: String, train: TokenizedDataset, maxLength: Int,
                      maxPromptLength: Int, chatTemplate: Bool, teacherSHA256: String?) throws(DistillError) {
        let m = manifest, path = folder + "/" + TeacherLogitManifest.fileName
        guard m.vocabSize == vocabSize, m.tokenizerSHA256 == TeacherLogitHashes.tokenizer(tokens: tokenizerTokens) else {
            throw .teacherLogits(path: path, reason: "made with another tokenizer (vocabulary of \(m.vocabSize), the student's has \(vocabSize), or other tokens)")
        }
        guard m.dataSHA256 == (try TeacherLogitHashes.file(path: dataPath)) else {
            throw .teacherLogits(path: path, reason: "made from other data than '\(dataPath)' (its SHA-256 differs)")
        }
        if let teacherSHA256, teacherSHA256 != m.teacherSHA256 {
            throw .teacherLogits(path: path, reason: "made by another teacher than --teacher (SHA-256 \(m.teacherSHA256.prefix(12))…, --teacher \(teacherSHA256.prefix(12))…)")
        }
        guard m.maxLength == maxLength, m.maxPromptLength == maxPromptLength, m.chatTemplate == chatTemplate else {
            throw .teacherLogits(path: path, reason: "made with --max-length \(m.maxLength) --max-prompt-length \(m.maxPromptLength)"
                + " chat template \(m.chatTemplate); this run has \(maxLength), \(maxPromptLength), \(chatTemplate)")
        }
        guard m.examples == train.examples.count else {
            throw .teacherLogits(path: path, reason: "holds \(m.examples) examples, this run's data has \(train.examples.count)")
        }
        for (i, example) in train.examples.enumerated() {
            let e = entries[i]!
            let samePrompt = e.promptLength == example.promptLength && e.tokens.prefix(e.promptLength) == example.tokens.prefix(example.promptLength)
            guard samePrompt, m.responses == .sampled || e.tokens == example.tokens else {
                throw .teacherLogits(path: path, reason: "example \(i): the shard's tokens differ from this run's tokenization of the data")
            }
        }
    }

    /// The teacher's top k at one row of logits [V]: ids by descending log-probability (ties: lower id
    /// first), their log-probabilities and the mass outside them. Log-softmax in Double.
    public static func topK(_ logits: UnsafePointer<Float>, vocab V: Int, k: Int) -> (ids: [Int32], logProbs: [Float], rest: Float) {
        let (maxLogit, sum) = Divergence.exponentSum(logits, V)
        let lse = maxLogit + log(sum)
        // The k largest, kept sorted descending; a value enters only when it beats the current k-th.
        var best: [(value: Float, id: Int32)] = []
        best.reserveCapacity(k + 1)
        for v in 0..<V {
            let x = logits[v]
            if best.count == k, x <= best[k - 1].value { continue }
            var i = best.count
            while i > 0, best[i - 1].value < x { i -= 1 }
            best.insert((x, Int32(v)), at: i)
            if best.count > k { best.removeLast() }
        }
        let logProbs = best.map { Float(Double($0.value) - lse) }
        let inside = best.reduce(0.0) { $0 + exp(Double($1.value) - lse) }
        return (best.map(\.id), logProbs, Float(max(0, 1 - inside)))
    }

    /// The rebuilt teacher rows of a batch, at its target positions, against the student's logits.
    /// `sequences[s]` is example `examples[s]`'s stored sequence; `studentRow(s, t)` the student's logits [V] at token t.
    func rows(sequences: [[Int]], examples: [Int], isTarget: [[Bool]], vocab V: Int,
              studentRow: (Int, Int) -> UnsafePointer<Float>) -> OfflineTeacherRows {
        let table = OfflineTeacherRows(sequences: sequences, isTarget: isTarget, vocab: V)
        var work: [(out: UnsafeMutablePointer<Float>, student: UnsafePointer<Float>, entry: TeacherLogitEntry, row: Int)] = []
        for (s, sequence) in sequences.enumerated() {
            let entry = entries[examples[s]]!
            for t in 0..<(sequence.count - 1) where isTarget[s][t + 1] {
                work.append((table.row(s, t), studentRow(s, t), entry, t - (entry.promptLength - 1)))
            }
        }
        let shared = SendablePointer(work), k = manifest.topK
        Parallel.forChunks(work.count, minChunk: 1) { range in
            for i in range {
                let w = shared.pointer[i]
                Self.rebuild(into: w.out, student: w.student, vocab: V, entry: w.entry, row: w.row, k: k)
            }
        }
        return table
    }

    /// One teacher row as logits [V] (log-probabilities; −1e30 stands for probability 0).
    static func rebuild(into out: UnsafeMutablePointer<Float>, student z: UnsafePointer<Float>, vocab V: Int,
                        entry: TeacherLogitEntry, row: Int, k: Int) {
        let (maxLogit, total) = Divergence.exponentSum(z, V)
        var top = 0.0
        for j in 0..<k { top += exp(Double(z[Int(entry.topIDs[row * k + j])]) - maxLogit) }
        let rest = Double(entry.restMass[row])
        // log t(v) = log rest + log s(v) − log(1 − Σ_top s) = log rest + z_v − max − log(total − top).
        let outside = max(total - top, total * 1e-30)
        let shift = rest > 0 ? log(rest) - maxLogit - log(outside) : -Double.infinity
        for v in 0..<V { out[v] = shift.isFinite ? Float(Double(z[v]) + shift) : -1e30 }
        for j in 0..<k { out[Int(entry.topIDs[row * k + j])] = entry.topLogProbs[row * k + j] }
    }
}

/// Rebuilt teacher rows [targets, V] of one batch, found by (sequence, token).
final class OfflineTeacherRows {
    let storage: UnsafeMutableBufferPointer<Float>
    let index: [[Int]]  // per sequence, per token: its row, or −1
    let vocab: Int

    init(sequences: [[Int]], isTarget: [[Bool]], vocab: Int) {
        self.vocab = vocab
        var next = 0
        index = sequences.indices.map { s in
            (0..<sequences[s].count).map { t in
                guard t + 1 < sequences[s].count, isTarget[s][t + 1] else { return -1 }
                defer { next += 1 }
                return next
            }
        }
        storage = .allocate(capacity: max(1, next * vocab))
    }

    deinit { storage.deallocate() }

    func row(_ s: Int, _ t: Int) -> UnsafeMutablePointer<Float> { storage.baseAddress! + index[s][t] * vocab }
}
