/// Writes GGUF v3 in explicit phases, as gguf-py's `GGUFWriter` does (formats.md §2.1): header, metadata,
/// tensor infos, zero padding to the alignment, then each tensor's data padded to the alignment (the last
/// one too). Byte-identical to gguf-py for the same metadata (in order) and tensors (in order).
public struct GGUFWriter {
    /// What the tensor-info phase needs to know of a tensor before its data exists (streaming writers
    /// produce the data one tensor at a time). Shapes are numpy order, reversed into `ne` here, the one place
    /// the writer reverses dimensions.
    public typealias TensorDescriptor = Formats.TensorDescriptor

    public var metadata: [(key: String, value: GGUFValue)]
    public var tensors: [RawTensor]

    public init(metadata: [(key: String, value: GGUFValue)] = [], tensors: [RawTensor] = []) {
        self.metadata = metadata
        self.tensors = tensors
    }

    /// The alignment the file will use: `general.alignment` when set (UINT32), else 32.
    public var alignment: Int {
        if let value = metadata.first(where: { $0.key == GGUFKeys.alignment })?.value, case .uint32(let a) = value {
            return Int(a)
        }
        return GGUFKeys.defaultAlignment
    }

    // MARK: phases

    public func headerBytes(tensorCount: Int? = nil) -> [UInt8] {
        var out = GGUFKeys.magic
        GGUFValue.uint32(3).encode(into: &out)
        GGUFValue.uint64(UInt64(tensorCount ?? tensors.count)).encode(into: &out)
        GGUFValue.uint64(UInt64(metadata.count)).encode(into: &out)
        return out
    }

    public func metadataBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(metadata.reduce(0) { $0 + 12 + $1.key.utf8.count + $1.value.encodedSize })
        for (key, value) in metadata {
            GGUFValue.string(key).encode(into: &out)
            GGUFValue.uint32(value.type.rawValue).encode(into: &out)
            value.encode(into: &out)
        }
        return out
    }

    public var descriptors: [TensorDescriptor] {
        tensors.map { TensorDescriptor(name: $0.name, dtype: $0.dtype, shape: $0.shape, byteCount: $0.byteCount) }
    }

    /// Tensor infos with offsets assigned contiguously, each padded to the alignment.
    public func tensorInfoBytes(_ tensors: [TensorDescriptor]? = nil) -> [UInt8] {
        var out: [UInt8] = []
        var offset: UInt64 = 0
        let align = UInt64(alignment)
        for tensor in tensors ?? descriptors {
            GGUFValue.string(tensor.name).encode(into: &out)
            GGUFValue.uint32(UInt32(tensor.shape.count)).encode(into: &out)
            for dim in tensor.shape.reversed() { GGUFValue.uint64(UInt64(dim)).encode(into: &out) }
            GGUFValue.uint32(tensor.dtype.ggmlID ?? 0).encode(into: &out)
            GGUFValue.uint64(offset).encode(into: &out)
            offset += (UInt64(tensor.byteCount) + align - 1) / align * align
        }
        return out
    }

    /// Checks what llama.cpp's reader would reject, before anything is written.
    public func validate(path: String, _ tensors: [TensorDescriptor]? = nil) throws(FormatError) {
        let tensors = tensors ?? descriptors
        let align = alignment
        guard align > 0, align & (align - 1) == 0 else { throw .invalidAlignment(path: path, value: UInt64(align), offset: 0) }
        var keys = Set<String>()
        for (key, value) in metadata {
            guard !key.isEmpty else { throw .invalidHeader(path: path, key: key, offset: 0, reason: "empty gguf metadata key") }
            guard keys.insert(key).inserted else { throw .duplicateKey(path: path, key: key, offset: 0) }
            if case .array(let array) = value, array.elementType == .array {
                throw .nestedArray(path: path, key: key, offset: 0)
            }
        }
        var names = Set<String>()
        for tensor in tensors {
            guard let _ = tensor.dtype.ggmlID else {
                throw .unencodable(path: path, what: "tensor '\(tensor.name)'", reason: "dtype \(tensor.dtype.name) has no ggml type")
            }
            guard !tensor.name.isEmpty, tensor.name.utf8.count <= GGUFKeys.maxTensorNameLength else {
                throw .invalidTensorInfo(path: path, tensor: tensor.name, offset: 0,
                                         reason: "name must be 1 to \(GGUFKeys.maxTensorNameLength) bytes")
            }
            guard names.insert(tensor.name).inserted else { throw .duplicateTensor(path: path, tensor: tensor.name, offset: 0) }
            guard tensor.shape.count <= GGUFKeys.maxDims else {
                throw .invalidTensorInfo(path: path, tensor: tensor.name, offset: 0, reason: "more than \(GGUFKeys.maxDims) dimensions")
            }
            let row = UInt64(tensor.shape.last ?? 1)
            let elements = UInt64(tensor.shape.reduce(1, *))
            guard let bytes = tensor.dtype.byteCount(elements: elements, rowLength: row),
                  bytes == UInt64(tensor.byteCount) else {
                throw .unencodable(path: path, what: "tensor '\(tensor.name)'",
                                   reason: "\(tensor.byteCount) bytes do not hold shape \(tensor.shape) of \(tensor.dtype.name)")
            }
        }
    }

    /// Writes the file atomically (temporary name, then rename).
    public func write(to path: String, overwrite: Bool = false) throws(FormatError) {
        let tensors = self.tensors
        try write(to: path, overwrite: overwrite, descriptors: descriptors) { (i) throws(FormatError) in tensors[i].data }
    }

    /// Streaming form: the data of tensor `i` is asked for only when it is written, so peak memory is a few
    /// tensors. `data(i)` must return exactly `descriptors[i].byteCount` bytes. Writing runs on a background
    /// queue, overlapped with producing the next tensor (at most two large tensors wait).
    public func write(to path: String, overwrite: Bool = false, descriptors: [TensorDescriptor],
                      data: (Int) throws(FormatError) -> ByteView) throws(FormatError) {
        try write(to: path, overwrite: overwrite, descriptors: descriptors) { (i, out) throws(FormatError) in
            try out.write(data(i))
        }
    }

    /// Piecewise form: `stream(i, out)` writes tensor `i`'s bytes into `out` in as many pieces as it likes
    /// (converting straight into its staging buffers), exactly `descriptors[i].byteCount` in all. Writing
    /// runs on a background queue, overlapped with producing the next piece.
    public func write(to path: String, overwrite: Bool = false, descriptors: [TensorDescriptor],
                      stream: (Int, StagedOutput) throws(FormatError) -> Void) throws(FormatError) {
        try validate(path: path, descriptors)
        let file = try AtomicOutput(path: path, overwrite: overwrite)
        let align = alignment
        let out = StagedOutput(file)
        // The header is encoded and written, and the file's blocks reserved, on the writer's queue, ahead
        // of the pieces: ~7 ms (a 50k-token vocabulary) that used to delay the first tensor.
        out.enqueue { (file) throws(FormatError) in
            let header = headerBytes(tensorCount: descriptors.count) + metadataBytes() + tensorInfoBytes(descriptors)
            let padded = { (n: Int) in (n + align - 1) / align * align }
            file.reserve(descriptors.reduce(padded(header.count)) { $0 + padded($1.byteCount) })
            try file.write(header)
            try file.padTo(alignment: align)
        }
        do throws(FormatError) {
            for (i, descriptor) in descriptors.enumerated() {
                let start = out.bytesStaged
                try stream(i, out)
                guard out.bytesStaged - start == descriptor.byteCount else {
                    throw .unencodable(path: path, what: "tensor '\(descriptor.name)'",
                                       reason: "produced \(out.bytesStaged - start) bytes, the header promised \(descriptor.byteCount)")
                }
                try out.pad(toAlignment: align)
            }
            try out.finish()
            try file.commit()
        } catch {
            // Every queued write finished, then the temporary goes now (not at deinit: see discard()).
            try? out.finish()
            file.discard()
            throw error
        }
    }
}

