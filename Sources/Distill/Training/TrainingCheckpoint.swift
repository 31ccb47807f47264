import Formats
import Foundation

/// A training checkpoint: everything a run needs to continue bit-exactly, in one folder
/// `RUN/checkpoints/step-NNNNNN/`: state.json (step, data cursor, RNG, the options that must match),
/// weights.safetensors (the trained tensors: every slot, or `prompt_embeddings`) and optimizer.safetensors
/// (`<name>.exp_avg`, `<name>.exp_avg_sq`). The folder is written under a temporary name and renamed,
/// then `RUN/checkpoints/latest` names it; older step folders are removed after that.
extension Trainer {
    static let stateName = "state.json", weightsName = "weights.safetensors", optimizerName = "optimizer.safetensors"
    static let formatTag = "ckpt-training-checkpoint-1"

    private func entries() -> (weights: [TensorFile.Entry], moments: [TensorFile.Entry]) {
        var weights: [TensorFile.Entry] = [], moments: [TensorFile.Entry] = []
        for (r, region) in optimizer.regions.enumerated() {
            weights.append(.init(name: region.name, values: region.values, count: region.count))
            let offset = optimizer.offsets[r]
            moments.append(.init(name: region.name + ".exp_avg", values: optimizer.firstMoment.baseAddress! + offset, count: region.count))
            moments.append(.init(name: region.name + ".exp_avg_sq", values: optimizer.secondMoment.baseAddress! + offset, count: region.count))
        }
        return (weights, moments)
    }

    private func stateJSON() -> JSONValue {
        .object([
            ("format", .string(Self.formatTag)),
            ("step", .int(step)),
            ("epoch", .int(order.cursor.epoch)),
            ("position", .int(order.cursor.position)),
            ("examples", .int(train.count)),
            ("rng", .string(String(rng.state))),
            ("options", .object(options.resumeFingerprint.map { ($0.0, .string($0.1)) })),
        ])
    }

    /// Writes a checkpoint of the current step under `run` and returns its folder.
    @discardableResult
    public func saveCheckpoint(run: String) throws(DistillError) -> String {
        let root = run + "/checkpoints", name = String(format: "step-%06d", step)
        let final = root + "/" + name, partial = root + "/." + name + ".partial"
        let fm = FileManager.default
        do {
            try? fm.removeItem(atPath: partial)
            try fm.createDirectory(atPath: partial, withIntermediateDirectories: true)
        } catch { throw .format(.io(path: partial, reason: "cannot create the folder: \(error.localizedDescription)")) }
        let (weights, moments) = entries()
        try TensorFile.write(weights, folder: partial, fileName: Self.weightsName)
        try TensorFile.write(moments, folder: partial, fileName: Self.optimizerName)
        do {
            let out = try AtomicOutput(path: partial + "/" + Self.stateName, overwrite: true)
            try out.write(Array((JSONWriter.pretty(stateJSON()) + "\n").utf8))
            try out.commit()
        } catch { throw .format(error) }
        do {
            try? fm.removeItem(atPath: final)
            try fm.moveItem(atPath: partial, toPath: final)
            let latest = try AtomicOutput(path: root + "/latest", overwrite: true)
            try latest.write(Array((name + "\n").utf8))
            try latest.commit()
        } catch let error as FormatError { throw .format(error) } catch {
            throw .format(.io(path: final, reason: "cannot rename the checkpoint: \(error.localizedDescription)"))
        }
        for old in (try? fm.contentsOfDirectory(atPath: root)) ?? [] where old.hasPrefix("step-") && old != name {
            try? fm.removeItem(atPath: root + "/" + old)
        }
        lastCheckpoint = final
        return final
    }

    /// The checkpoint folder a `--resume` path means: a run folder (its latest checkpoint) or a checkpoint folder.
    public static func checkpointFolder(_ path: String) throws(DistillError) -> String {
        let fm = FileManager.default
        if fm.fileExists(atPath: path + "/" + stateName) { return path }
        let latestPath = path + "/checkpoints/latest"
        guard let data = fm.contents(atPath: latestPath), let name = String(data: data, encoding: .utf8)?
            .trimmingCharacters(in: .whitespacesAndNewlines), !name.isEmpty, !name.contains("/") else {
            throw .invalidCheckpoint(path: path, reason: "neither a checkpoint (no \(stateName)) nor a run folder with checkpoints/latest")
        }
        return path + "/checkpoints/" + name
    }

    /// Restores weights (or prompt), optimizer moments and step, data cursor and RNG from a checkpoint
    /// written by a run with the same options (except --steps).
    public func restore(from path: String) throws(DistillError) {
        let folder = try Self.checkpointFolder(path)
        let statePath = folder + "/" + Self.stateName
        let state: JSONValue
        do { state = try JSONFile.read(statePath) } catch { throw .format(error) }
        guard state["format"]?.stringValue == Self.formatTag else {
            throw .invalidCheckpoint(path: statePath, reason: "'format' is not \(Self.formatTag)")
        }
        for (name, value) in options.resumeFingerprint {
            let saved = state["options"]?[name]?.stringValue
            guard saved == value else {
                throw .invalidCheckpoint(path: statePath, reason: "saved with \(name) \(saved ?? "?"), this run has \(value)")
            }
        }
        func integer(_ key: String) throws(DistillError) -> Int {
            guard let v = state[key]?.uint64Value, v < UInt64(Int.max) else {
                throw .invalidCheckpoint(path: statePath, reason: "'\(key)' is missing or not a non-negative integer")
            }
            return Int(v)
        }
        let savedStep = try integer("step"), epoch = try integer("epoch"), position = try integer("position")
        guard try integer("examples") == train.count, position <= train.count else {
            throw .invalidCheckpoint(path: statePath, reason: "saved for \(state["examples"]?.uint64Value ?? 0) training examples, the data has \(train.count)")
        }
        guard let rngText = state["rng"]?.stringValue, let rngState = UInt64(rngText) else {
            throw .invalidCheckpoint(path: statePath, reason: "'rng' is not a UInt64 string")
        }
        let (weights, moments) = entries()
        try TensorFile.read(weights, path: folder + "/" + Self.weightsName)
        try TensorFile.read(moments, path: folder + "/" + Self.optimizerName)
        for entry in weights {
            if let i = (0..<entry.count).first(where: { !entry.values[$0].isFinite }) {
                throw .invalidCheckpoint(path: folder + "/" + Self.weightsName, reason: "'\(entry.name)' holds \(entry.values[i]) at element \(i)")
            }
        }
        optimizer.step = savedStep
        order = DataOrder(count: train.count, seed: options.seed, cursor: .init(epoch: epoch, position: position))
        rng = SplitMix64(seed: rngState)
        lastCheckpoint = folder
    }
}
