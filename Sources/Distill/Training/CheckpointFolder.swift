import Formats
import Foundation

/// The on-disk form every training checkpoint shares: `RUN/checkpoints/step-NNNNNN/` holding state.json,
/// weights.safetensors (the trained tensors of every optimizer, by region name) and optimizer.safetensors
/// (`<name>.exp_avg`, `<name>.exp_avg_sq`), plus any extra tensors a method keeps. The folder is written
/// under a temporary name and renamed, then `RUN/checkpoints/latest` names it, then older step folders go:
/// a crash at any point leaves the previous checkpoint whole.
public enum CheckpointFolder {
    static let stateName = "state.json", weightsName = "weights.safetensors", optimizerName = "optimizer.safetensors"
    static let formatTag = "ckpt-training-checkpoint-1"

    static func entries(_ optimizers: [AdamW]) -> (weights: [TensorFile.Entry], moments: [TensorFile.Entry]) {
        var weights: [TensorFile.Entry] = [], moments: [TensorFile.Entry] = []
        for optimizer in optimizers {
            for (r, region) in optimizer.regions.enumerated() {
                weights.append(.init(name: region.name, values: region.values, count: region.count))
                let offset = optimizer.offsets[r]
                moments.append(.init(name: region.name + ".exp_avg", values: optimizer.firstMoment.baseAddress! + offset, count: region.count))
                moments.append(.init(name: region.name + ".exp_avg_sq", values: optimizer.secondMoment.baseAddress! + offset, count: region.count))
            }
        }
        return (weights, moments)
    }

    /// Writes a checkpoint for `step`; `state` fields are stored next to the format tag and step.
    static func save(run: String, step: Int, optimizers: [AdamW], state: [(String, JSONValue)],
                     extra: [TensorFile.Entry] = []) throws(DistillError) -> String {
        let root = run + "/checkpoints", name = String(format: "step-%06d", step)
        let final = root + "/" + name, partial = root + "/." + name + ".partial"
        let fm = FileManager.default
        do {
            try? fm.removeItem(atPath: partial)
            try fm.createDirectory(atPath: partial, withIntermediateDirectories: true)
        } catch { throw .format(.io(path: partial, reason: "cannot create the folder: \(error.localizedDescription)")) }
        // A write that fails (a full disk) takes its partial folder with it: nothing half-written stays.
        do throws(DistillError) {
            let (weights, moments) = entries(optimizers)
            try TensorFile.write(weights + extra, folder: partial, fileName: weightsName)
            try TensorFile.write(moments, folder: partial, fileName: optimizerName)
            let json = JSONValue.object([("format", .string(formatTag)), ("step", .int(step))] + state)
            do {
                let out = try AtomicOutput(path: partial + "/" + stateName, overwrite: true)
                try out.write(Array((JSONWriter.pretty(json) + "\n").utf8))
                try out.commit()
            } catch { throw .format(error) }
        } catch {
            try? fm.removeItem(atPath: partial)
            throw error
        }
        do {
            try? fm.removeItem(atPath: final)
            try fm.moveItem(atPath: partial, toPath: final)
            let latest = try AtomicOutput(path: root + "/latest", overwrite: true)
            try latest.write(Array((name + "\n").utf8))
            try latest.commit()
        } catch let error as FormatError { throw .format(error) } catch {
            throw .format(.io(path: final, reason: "cannot rename the checkpoint: \(error.localizedDescription)"))
        }
        // Older checkpoints, and partial folders a killed process left (one process writes a run at a time).
        for old in (try? fm.contentsOfDirectory(atPath: root)) ?? []
        where (old.hasPrefix("step-") && old != name) || (old.hasPrefix(".step-") && old.hasSuffix(".partial")) {
            try? fm.removeItem(atPath: root + "/" + old)
        }
        return final
    }

    /// The checkpoint folder a `--resume` path means: a run folder (its latest checkpoint) or a checkpoint folder.
    public static func resolve(_ path: String) throws(DistillError) -> String {
        let fm = FileManager.default
        if fm.fileExists(atPath: path + "/" + stateName) { return path }
        let latestPath = path + "/checkpoints/latest"
        guard let data = fm.contents(atPath: latestPath), let name = String(data: data, encoding: .utf8)?
            .trimmingCharacters(in: .whitespacesAndNewlines), !name.isEmpty, !name.contains("/") else {
            throw .invalidCheckpoint(path: path, reason: "neither a checkpoint (no \(stateName)) nor a run folder with checkpoints/latest")
        }
        return path + "/checkpoints/" + name
    }

    /// A checkpoint read back: its state (checked against `fingerprint`), with every optimizer's weights and
    /// moments and the `extra` tensors restored in place. Returns the folder and the state.
    static func restore(from path: String, fingerprint: [(String, String)], optimizers: [AdamW],
                        extra: [TensorFile.Entry] = []) throws(DistillError) -> (folder: String, state: JSONValue) {
        let folder = try resolve(path)
        let statePath = folder + "/" + stateName
        let state: JSONValue
        do { state = try JSONFile.read(statePath) } catch { throw .format(error) }
        guard state["format"]?.stringValue == formatTag else {
            throw .invalidCheckpoint(path: statePath, reason: "'format' is not \(formatTag)")
        }
        for (name, value) in fingerprint {
            let saved = state["options"]?[name]?.stringValue
            guard saved == value else {
                throw .invalidCheckpoint(path: statePath, reason: "saved with \(name) \(saved ?? "?"), this run has \(value)")
            }
        }
        let (weights, moments) = entries(optimizers)
        try TensorFile.read(weights + extra, path: folder + "/" + weightsName)
        try TensorFile.read(moments, path: folder + "/" + optimizerName)
        for entry in weights + extra {
            if let i = (0..<entry.count).first(where: { !entry.values[$0].isFinite }) {
                throw .invalidCheckpoint(path: folder + "/" + weightsName, reason: "'\(entry.name)' holds \(entry.values[i]) at element \(i)")
            }
        }
        return (folder, state)
    }

    /// A non-negative integer field of a checkpoint state.
    static func integer(_ state: JSONValue, _ key: String, path: String) throws(DistillError) -> Int {
        guard let v = state[key]?.uint64Value, v < UInt64(Int.max) else {
            throw .invalidCheckpoint(path: path, reason: "'\(key)' is missing or not a non-negative integer")
        }
        return Int(v)
    }

    /// A UInt64 stored as a decimal string (JSON numbers lose precision above 2^53 in other readers).
    static func uint64(_ state: JSONValue, _ key: String, path: String) throws(DistillError) -> UInt64 {
        guard let text = state[key]?.stringValue, let v = UInt64(text) else {
            throw .invalidCheckpoint(path: path, reason: "'\(key)' is not a UInt64 string")
        }
        return v
    }
}
