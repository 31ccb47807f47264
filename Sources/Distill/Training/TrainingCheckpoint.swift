import Formats
import Foundation

/// The Trainer's checkpoint (CheckpointFolder): weights or prompt and AdamW moments, plus the step, the data
/// cursor, the RNG and the options a resumed run must share.
extension Trainer {
    /// Writes a checkpoint of the current step under `run` and returns its folder.
    @discardableResult
    public func saveCheckpoint(run: String) throws(DistillError) -> String {
        let state: [(String, JSONValue)] = [
            ("epoch", .int(order.cursor.epoch)), ("position", .int(order.cursor.position)), ("examples", .int(train.count)),
            ("rng", .string(String(rng.state))),
            ("options", .object(options.resumeFingerprint.map { ($0.0, .string($0.1)) })),
        ]
        let folder = try CheckpointFolder.save(run: run, step: step, optimizers: [optimizer], state: state)
        lastCheckpoint = folder
        return folder
    }

    /// Restores weights (or prompt), optimizer moments and step, data cursor and RNG from a checkpoint
    /// written by a run with the same options (except --steps).
    public func restore(from path: String) throws(DistillError) {
        let (folder, state) = try CheckpointFolder.restore(from: path, fingerprint: options.resumeFingerprint, optimizers: [optimizer])
        let statePath = folder + "/" + CheckpointFolder.stateName
        let savedStep = try CheckpointFolder.integer(state, "step", path: statePath)
        let epoch = try CheckpointFolder.integer(state, "epoch", path: statePath)
        let position = try CheckpointFolder.integer(state, "position", path: statePath)
        guard try CheckpointFolder.integer(state, "examples", path: statePath) == train.count, position <= train.count else {
            throw .invalidCheckpoint(path: statePath, reason: "saved for \(state["examples"]?.uint64Value ?? 0) training examples, the data has \(train.count)")
        }
        optimizer.step = savedStep
        order = DataOrder(count: train.count, seed: options.seed, cursor: .init(epoch: epoch, position: position))
        rng = SplitMix64(seed: try CheckpointFolder.uint64(state, "rng", path: statePath))
        lastCheckpoint = folder
    }
}
