import Formats
import Foundation

/// The Distiller's checkpoint (CheckpointFolder): student weights and moments, the prompt and its moments
/// (PromptKD), the step, data cursor and RNG, SeqKD's cached teacher samples and DistiLLM's replay state.
extension Distiller {
    @discardableResult
    public func saveCheckpoint(run: String) throws(DistillError) -> String {
        let cache: [(String, JSONValue)] = teacherSamples.keys.sorted().map { (String($0), .array(teacherSamples[$0]!.map { .int($0) })) }
        let state: [(String, JSONValue)] = [
            ("epoch", .int(order.cursor.epoch)), ("position", .int(order.cursor.position)), ("examples", .int(train.examples.count)),
            ("rng", .string(String(rng.state))), ("prompt_step", .int(promptOptimizer?.step ?? 0)),
            ("options", .object(options.resumeFingerprint.map { ($0.0, .string($0.1)) })),
            ("seqkd_cache", .object(cache)),
            ("replay_threshold", .double(replay.threshold)),
            ("replay_previous_dev_loss", replay.previousDevLoss.map { .double($0) } ?? .null),
            ("replay_buffer", .array(replay.buffer.map { .array($0.map { .int($0) }) })),
            ("lm_cursor", .int(lmCursor)),
        ]
        let folder = try CheckpointFolder.save(run: run, step: step, optimizers: optimizers, state: state)
        lastCheckpoint = folder
        return folder
    }

    var optimizers: [AdamW] { [studentOptimizer] + (promptOptimizer.map { [$0] } ?? []) }

    public func restore(from path: String) throws(DistillError) {
        let (folder, state) = try CheckpointFolder.restore(from: path, fingerprint: options.resumeFingerprint, optimizers: optimizers)
        let statePath = folder + "/" + CheckpointFolder.stateName
        func int(_ key: String) throws(DistillError) -> Int { try CheckpointFolder.integer(state, key, path: statePath) }
        guard try int("examples") == train.examples.count else {
            throw .invalidCheckpoint(path: statePath, reason: "saved for \(state["examples"]?.uint64Value ?? 0) training examples, the data has \(train.examples.count)")
        }
        studentOptimizer.step = try int("step")
        promptOptimizer?.step = try int("prompt_step")
        order = DataOrder(count: train.examples.count, seed: options.seed, cursor: .init(epoch: try int("epoch"), position: try int("position")))
        rng = SplitMix64(seed: try CheckpointFolder.uint64(state, "rng", path: statePath))
        func tokens(_ value: JSONValue) throws(DistillError) -> [Int] {
            guard let list = value.arrayValue else { throw .invalidCheckpoint(path: statePath, reason: "a token list is not an array") }
            var out: [Int] = []
            for item in list {
                guard let v = item.uint64Value, v < UInt64(student.config.vocabSize) || out.isEmpty else {
                    throw .invalidCheckpoint(path: statePath, reason: "a cached token is not a vocabulary id")
                }
                out.append(Int(v))
            }
            return out
        }
        teacherSamples = [:]
        for (key, value) in state["seqkd_cache"]?.objectValue ?? [] {
            guard let i = Int(key), i >= 0, i < train.examples.count else {
                throw .invalidCheckpoint(path: statePath, reason: "seqkd_cache key '\(key)' is not an example index")
            }
            teacherSamples[i] = try tokens(value)
        }
        replay.threshold = state["replay_threshold"]?.doubleValue ?? 0
        replay.previousDevLoss = state["replay_previous_dev_loss"]?.doubleValue
        var buffer: [[Int]] = []
        for entry in state["replay_buffer"]?.arrayValue ?? [] { buffer.append(try tokens(entry)) }
        replay.buffer = buffer
        lmCursor = Int(state["lm_cursor"]?.uint64Value ?? 0) % max(1, languageModeling?.tokens.count ?? 1)
        lastCheckpoint = folder
    }
}
