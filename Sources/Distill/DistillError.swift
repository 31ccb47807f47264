import Formats
import Model

/// Errors of training and distillation: bad data, checkpoints that cannot be resumed, runs that diverge.
/// One lower-case line naming the file, line or key and the numbers (DESIGN.md "Errors and outputs").
public enum DistillError: Error, Equatable, CustomStringConvertible, Sendable {
    case format(FormatError)
    case model(ModelError)
    /// A data line that is not what the trainer reads; `line` is 1-based.
    case malformedData(path: String, line: Int, reason: String)
    /// No usable example (empty file, or every prompt too long).
    case emptyData(path: String, reason: String)
    /// A checkpoint folder that cannot be resumed from.
    case invalidCheckpoint(path: String, reason: String)
    /// A loss or gradient norm that is NaN or infinite; the last good checkpoint is kept.
    case diverged(step: Int, quantity: String, value: Float, lastCheckpoint: String?)
    /// Options that cannot work together.
    case invalidOption(name: String, reason: String)
    /// A teacher-logits folder or shard that is damaged or made for another teacher, tokenizer or data.
    case teacherLogits(path: String, reason: String)

    public var description: String {
        switch self {
        case .format(let e): e.description
        case .model(let e): e.description
        case let .malformedData(path, line, reason): "data: line \(line): \(reason) (\(path))"
        case let .emptyData(path, reason): "data: no usable example: \(reason) (\(path))"
        case let .invalidCheckpoint(path, reason): "checkpoint: \(reason) (\(path))"
        case let .diverged(step, quantity, value, last):
            "training diverged at step \(step): \(quantity) is \(value.isNaN ? "nan" : "\(value)")"
                + (last.map { "; the last good checkpoint is \($0)" } ?? "; no checkpoint was written yet")
        case let .invalidOption(name, reason): "option \(name): \(reason)"
        case let .teacherLogits(path, reason): "teacher logits: \(reason) (\(path))"
        }
    }
}
