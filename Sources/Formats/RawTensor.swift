/// A tensor as stored: name, dtype, shape (numpy order, outermost first) and its bytes (a view into a
/// mapped file, or owned). Never touched by math; quantized tensors are just blocks.
public struct RawTensor: Sendable {
    public var name: String
    public var dtype: DType
    /// numpy / PyTorch order: outermost dimension first. GGUF readers and writers reverse `ne` exactly once.
    public var shape: [Int]
    public var data: ByteView

    public init(name: String, dtype: DType, shape: [Int], data: ByteView) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { data.count }
}

/// A tensor's name, type, numpy-order shape and byte size before its data exists: what writers that stream
/// (GGUFWriter, SafetensorsStreaming) need to lay out a file's header.
public struct TensorDescriptor: Sendable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var byteCount: Int
    public init(name: String, dtype: DType, shape: [Int], byteCount: Int) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteCount = byteCount
    }
}
