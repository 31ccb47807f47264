import Formats

/// Errors of whole-checkpoint operations. Messages are one lower-case line naming the file, the tensor
/// and the numbers that explain the failure; `hint` says what to try where that helps.
public enum ConvertError: Error, Equatable, CustomStringConvertible, Sendable {
    case format(FormatError)
    case unknownQuantType(name: String, menu: [String])
    case unknownTensorType(name: String)
    case invalidTensorTypeOverride(argument: String, reason: String)
    /// A row length no type in the fallback chain can hold.
    case noFallback(tensor: String, dtype: String, rowLength: Int)
    case requantizeDisabled(path: String, tensor: String, dtype: String)
    /// A NaN or infinity in the weights, with the element index as ggml's row validation reports it.
    case nonFinite(path: String, tensor: String, element: Int, value: String)
    case sameInputAndOutput(path: String)
    case unsupportedInput(path: String, reason: String)
    /// An importance matrix that cannot be read or does not fit the model.
    case invalidImatrix(path: String, reason: String)
    /// A tensor whose target type llama.cpp quantizes only with an importance matrix, and none for it.
    case imatrixRequired(tensor: String, dtype: String)

    public var kind: String {
        switch self {
        case .format(let e): "format." + e.kind
        case .unknownQuantType: "unknownQuantType"
        case .unknownTensorType: "unknownTensorType"
        case .invalidTensorTypeOverride: "invalidTensorTypeOverride"
        case .noFallback: "noFallback"
        case .requantizeDisabled: "requantizeDisabled"
        case .nonFinite: "nonFinite"
        case .sameInputAndOutput: "sameInputAndOutput"
        case .unsupportedInput: "unsupportedInput"
        case .invalidImatrix: "invalidImatrix"
        case .imatrixRequired: "imatrixRequired"
        }
    }

    public var description: String {
        switch self {
        case .format(let e): e.description
        case let .unknownQuantType(name, menu):
            "quantize: unknown type '\(name)'; the types are \(menu.joined(separator: ", "))"
        case let .unknownTensorType(name):
            "quantize: unknown ggml type '\(name)' (use names like q4_0, q8_0, q4_K, q6_K, f16, bf16, f32)"
        case let .invalidTensorTypeOverride(argument, reason):
            "quantize: --tensor-type '\(argument)': \(reason)"
        case let .noFallback(tensor, dtype, rowLength):
            "quantize: tensor '\(tensor)' has rows of \(rowLength) elements, not a multiple of the \(dtype) block, and no fallback type fits"
        case let .requantizeDisabled(path, tensor, dtype):
            "quantize: tensor '\(tensor)' is already \(dtype); requantizing from \(dtype) is disabled (\(path))"
        case let .nonFinite(path, tensor, element, value):
            "quantize: tensor '\(tensor)' has invalid data: found \(value) value at block \(element) (\(path))"
        case let .sameInputAndOutput(path):
            "quantize: the output is the input file (\(path))"
        case let .invalidImatrix(path, reason): "imatrix: \(reason) (\(path))"
        case let .imatrixRequired(tensor, dtype):
            "quantize: tensor '\(tensor)' would become \(dtype), which needs an importance matrix (llama-quantize refuses it too)"
        case let .unsupportedInput(path, reason):
            "\(path): \(reason)"
        }
    }

    public var hint: String? {
        switch self {
        case .imatrixRequired: "pass --imatrix FILE (ckpt imatrix MODEL --data TEXT -o FILE makes one)"
        case .requantizeDisabled: "pass --allow-requantize to quantize an already-quantized model (quality suffers)"
        case .format(.io(_, let reason)) where reason.contains("already exists"): "pass --force to overwrite"
        default: nil
        }
    }
}
