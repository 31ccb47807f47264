import Formats

/// Errors of the transformer layer: configs that cannot be decoded, weights that do not fit the config.
/// One lower-case line naming the file, the key or tensor, and the numbers.
public enum ModelError: Error, Equatable, CustomStringConvertible, Sendable {
    case format(FormatError)
    case unsupportedArchitecture(path: String, found: String, supported: [String])
    case missingKey(path: String, key: String)
    case invalidValue(path: String, key: String, reason: String)
    case unknownTensor(path: String, tensor: String)
    case wrongShape(path: String, tensor: String, expected: [Int], found: [Int])
    /// Slots the config needs that the checkpoint lacks (first few names, and how many in all).
    case missingTensors(path: String, tensors: [String], total: Int)
    /// A chat template ckpt cannot render (or none at all); `excerpt` is its beginning.
    case unsupportedChatTemplate(path: String, excerpt: String)
    /// Two tensors of a checkpoint fill the same weight.
    case duplicateTensor(path: String, slot: String, first: String, second: String)
    /// A chat template that does not parse (line and column) or fails while rendering.
    case chatTemplate(path: String, reason: String)
    /// A LoRA setting that cannot work for this model (`option`: the command-line option it came from).
    case invalidLoRA(option: String, reason: String)

    public var kind: String {
        switch self {
        case .format(let e): "format." + e.kind
        case .unsupportedArchitecture: "unsupportedArchitecture"
        case .missingKey: "missingKey"
        case .invalidValue: "invalidValue"
        case .unknownTensor: "unknownTensor"
        case .wrongShape: "wrongShape"
        case .missingTensors: "missingTensors"
        case .unsupportedChatTemplate: "unsupportedChatTemplate"
        case .chatTemplate: "chatTemplate"
        case .duplicateTensor: "duplicateTensor"
        case .invalidLoRA: "invalidLoRA"
        }
    }

    public var description: String {
        switch self {
        case .format(let e): e.description
        case let .unsupportedArchitecture(path, found, supported):
            "architecture '\(found)' is not supported (supported: \(supported.joined(separator: ", "))) (\(path))"
        case let .missingKey(path, key): "config: missing '\(key)' (\(path))"
        case let .invalidValue(path, key, reason): "config: '\(key)' \(reason) (\(path))"
        case let .unknownTensor(path, tensor): "tensor(s) '\(tensor)' have no place in the model (\(path))"
        case let .missingTensors(path, tensors, total):
            "\(total) tensor(s) missing: '\(tensors.joined(separator: "', '"))'\(total > tensors.count ? " …" : "") (\(path))"
        case let .unsupportedChatTemplate(path, excerpt):
            excerpt.isEmpty ? "chat template: the model has none (\(path))"
                : "chat template: not one ckpt renders: '\(excerpt)…' (\(path))"
        case let .chatTemplate(path, reason): "chat template: \(reason) (\(path))"
        case let .duplicateTensor(path, slot, first, second): "tensors '\(first)' and '\(second)' both fill '\(slot)' (\(path))"
        case let .invalidLoRA(option, reason): "lora: \(option) \(reason)"
        case let .wrongShape(path, tensor, expected, found):
            "tensor '\(tensor)' has shape \(found), the config needs \(expected) (\(path))"
        }
    }
}
