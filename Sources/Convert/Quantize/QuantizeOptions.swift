import Formats

/// What `ckpt quantize` was asked for; mirrors llama_model_quantize_params.
public struct QuantizeOptions: Sendable {
    public var fileType: LlamaFileType
    public var pure = false
    public var allowRequantize = false
    /// false with --leave-output-tensor.
    public var quantizeOutputTensor = true
    public var outputTensorType: DType?
    public var tokenEmbeddingType: DType?
    /// --tensor-type PATTERN=TYPE in command-line order; the first pattern found in a name wins.
    public var tensorTypes: [TensorTypeOverride] = []
    public var threads = 2
    /// --imatrix: the matrix (already narrowed by --include-weights / --exclude-weights) and the path as given
    /// (llama-quantize records it in quantize.imatrix.file).
    public var imatrix: (matrix: ImportanceMatrix, path: String)?

    public init(fileType: LlamaFileType) { self.fileType = fileType }
}

/// One --tensor-type PATTERN=TYPE: the pattern is lower-cased and searched in the tensor name as a regular
/// expression, as llama-quantize does.
public struct TensorTypeOverride: @unchecked Sendable {
    public var pattern: String
    public var dtype: DType
    let regex: Regex<AnyRegexOutput>

    public init(argument: String) throws(ConvertError) {
        guard let eq = argument.firstIndex(of: "=") else {
            throw .invalidTensorTypeOverride(argument: argument, reason: "malformed, expected PATTERN=TYPE")
        }
        let pattern = String(argument[..<eq]).lowercased()
        let typeName = String(argument[argument.index(after: eq)...])
        guard !pattern.isEmpty else { throw .invalidTensorTypeOverride(argument: argument, reason: "missing tensor name") }
        guard !typeName.isEmpty else { throw .invalidTensorTypeOverride(argument: argument, reason: "missing quantization type") }
        guard let dtype = DType(ggmlName: typeName) else { throw .unknownTensorType(name: typeName) }
        do {
            regex = try Regex(pattern)
        } catch {
            throw .invalidTensorTypeOverride(argument: argument, reason: "invalid regular expression")
        }
        self.pattern = pattern
        self.dtype = dtype
    }

    public func matches(_ name: String) -> Bool { name.contains(regex) }
}
