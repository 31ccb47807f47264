import ArgumentParser
import Distill
import Formats
import Foundation
import Model

/// `ckpt teacher-logits`: the teacher's side of KD-style distillation computed once and stored, so that
/// `distill --teacher-logits DIR` trains without running the teacher (and the teacher can run elsewhere:
/// scripts/teacher_logits_hf.py writes the same folder from transformers on a GPU machine).
struct TeacherLogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teacher-logits",
        abstract: "Store a teacher's top-k log-probabilities on the training data, for distill --teacher-logits.",
        discussion: """
            The data is tokenized as distill tokenizes it (same --max-length, --max-prompt-length and \
            --chat-template). For every target position (response tokens and EOS) the shards hold the top-k ids, \
            their log-probabilities and the mass outside them: DIR/shard-NNNNN.safetensors (tensors example, \
            prompt_length, offsets, tokens, top_ids, top_logprobs, rest_mass) and DIR/manifest.json with the \
            SHA-256 of the teacher, its vocabulary and the data, checked by distill. --responses sampled stores one \
            teacher-sampled response per prompt instead of the data's (SeqKD). The folder appears whole at the end.
            """)

    @Argument(help: "The teacher GGUF (any type; read as stored).") var teacher: String
    @Option(help: "Training data, JSONL (as distill --data). Default: the bundled train split.") var data: String?
    @Option(name: [.customShort("o"), .long], help: "Output folder.") var out: String
    @Option(help: "Log-probabilities kept per position.") var topK = 64
    @Option(help: "dataset (the data's responses; KD) or sampled (one teacher sample per prompt; SeqKD).") var responses = "dataset"
    @Option(help: "Longest sampled response (--responses sampled).") var maxNewTokens = 256
    @Option(help: "Seed of the sampled responses.") var seed: UInt64 = 10
    @Option(help: "Longest sequence in tokens, as distill's --max-length.") var maxLength = 512
    @Option(help: "Skip prompts longer than this, as distill's --max-prompt-length.") var maxPromptLength = 256
    @Flag(help: PromptFormatting.help) var chatTemplate = false
    @Option(help: "Sequences per teacher pass.") var batchSize = 4
    @Option(help: "Examples per shard.") var shardExamples = 256
    @Flag(help: "Replace an existing output folder.") var force = false

    func run() throws {
        guard let mode = TeacherLogitManifest.Responses(rawValue: responses) else { throw ValidationError("--responses must be dataset or sampled") }
        guard topK >= 1, batchSize >= 1, shardExamples >= 1, maxNewTokens >= 1 else {
            throw ValidationError("--top-k, --batch-size, --shard-examples and --max-new-tokens must be positive")
        }
        if FileManager.default.fileExists(atPath: out), !force {
            throw ToolError(message: "'\(out)' already exists", hint: "pass --force to replace it")
        }
        let m = try ModelFile(path: teacher)
        let c = m.transformer.config, V = c.vocabSize
        guard topK <= V else { throw ToolError(message: "--top-k \(topK) is more than the vocabulary (\(V))", hint: nil) }
        let eos = try m.gguf.endOfSequence(vocabSize: V, command: "teacher-logits")
        let dataPath = try data ?? BundledData.path("train")
        var items = try InstructionExample.load(path: dataPath)
        if chatTemplate { items = try PromptFormatting.apply(items, gguf: m.gguf, bosAdded: m.bos != nil) }
        let length = min(maxLength, c.contextLength)
        let train = try TokenizedDataset(items, path: dataPath, tokenizer: m.tokenizer, eos: eos, maxPromptLength: maxPromptLength, maxLength: length)
        Stderr.write("teacher-logits: \(train.examples.count) examples from \(dataPath), top \(topK) of \(V), responses \(mode.rawValue)\n")
        var manifest = TeacherLogitManifest(
            teacherSHA256: try TeacherLogitHashes.teacher(path: teacher), tokenizerSHA256: TeacherLogitHashes.tokenizer(tokens: m.tokenizer.tokens),
            dataSHA256: try TeacherLogitHashes.file(path: dataPath), vocabSize: V, topK: topK, responses: mode, maxLength: length,
            maxPromptLength: maxPromptLength, chatTemplate: chatTemplate, examples: train.examples.count, producer: "ckpt")
        let staging = out + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: staging)
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        var rng = SplitMix64(seed: seed)
        var pending: [TeacherLogitEntry] = []
        let start = Date()
        for first in stride(from: 0, to: train.examples.count, by: batchSize) {
            let indices = Array(first..<min(train.examples.count, first + batchSize))
            var sequences = indices.map { train.examples[$0].tokens }
            let promptLengths = indices.map { train.examples[$0].promptLength }
            if mode == .sampled {
                let prompts = zip(sequences, promptLengths).map { Array($0[..<$1]) }
                let responses = try Distiller.sampleResponses(m.transformer, prompts, maxNewTokens: maxNewTokens, maxLength: length, eos: eos, rng: &rng)
                sequences = zip(prompts, responses).map { Array(($0 + $1).prefix(length)) }
            }
            let logits = try m.transformer.logits(batch: sequences)
            for (j, i) in indices.enumerated() {
                pending.append(try Self.entry(example: i, tokens: sequences[j], promptLength: promptLengths[j], logits: logits[j], vocab: V, k: topK))
            }
            while pending.count >= shardExamples {
                manifest.shards.append(try TeacherLogitShards.write(Array(pending.prefix(shardExamples)), topK: topK, folder: staging,
                                                                    index: manifest.shards.count))
                pending.removeFirst(shardExamples)
            }
            Stderr.write(String(format: "teacher-logits: %d/%d examples, %.1f s\n", indices.last! + 1, train.examples.count, Date().timeIntervalSince(start)))
        }
        if !pending.isEmpty { manifest.shards.append(try TeacherLogitShards.write(pending, topK: topK, folder: staging, index: manifest.shards.count)) }
        try AtomicFile.write(Array((JSONWriter.pretty(manifest.json) + "\n").utf8), to: staging + "/" + TeacherLogitManifest.fileName)
        if FileManager.default.fileExists(atPath: out) { try FileManager.default.removeItem(atPath: out) }
        try FileManager.default.moveItem(atPath: staging, toPath: out)
        let bytes = manifest.shards.reduce(0) { total, shard in
            total + ((try? FileManager.default.attributesOfItem(atPath: out + "/" + shard.file)[.size] as? Int) ?? 0)
        }
        Stdout.write(JSONWriter.pretty(.object([("out", .string(out)), ("examples", .int(manifest.examples)), ("shards", .int(manifest.shards.count)),
                                                ("bytes", .int(bytes)), ("seconds", .double(Date().timeIntervalSince(start)))])) + "\n")
    }

    /// One example's entry from its logits [tokens, V]: the rows that predict the targets.
    static func entry(example: Int, tokens: [Int], promptLength: Int, logits: [Float], vocab V: Int, k: Int) throws -> TeacherLogitEntry {
        var ids: [Int32] = [], logProbs: [Float] = [], rest: [Float] = []
        try logits.withUnsafeBufferPointer { all in
            for t in (promptLength - 1)..<(tokens.count - 1) {
                let row = all.baseAddress! + t * V
                let top = OfflineTeacher.topK(row, vocab: V, k: k)
                guard top.logProbs.allSatisfy(\.isFinite) else {
                    throw ToolError(message: "teacher-logits: the teacher's logits are not finite at example \(example), token \(t)", hint: nil)
                }
                ids += top.ids
                logProbs += top.logProbs
                rest.append(top.rest)
            }
        }
        return TeacherLogitEntry(example: example, tokens: tokens, promptLength: promptLength, topIDs: ids, topLogProbs: logProbs, restMass: rest)
    }
}
