/// A GGUF file (v2 or v3, little-endian), mapped and validated with every check of ggml's
/// `gguf_init_from_reader` (formats.md §2.3). Metadata arrays and tensor data stay in the mapping.
public struct GGUFFile: Sendable {
    public struct Metadata: Sendable {
        public var key: String
        public var value: GGUFValue
        /// File offset of the key's length field.
        public var offset: Int
    }

    public struct TensorInfo: Sendable, Equatable {
        public var name: String
        public var dtype: DType
        /// ggml order: `ne[0]` is the innermost (contiguous) dimension.
        public var ne: [UInt64]
        /// Relative to the data section.
        public var offset: UInt64
        public var byteCount: UInt64
        /// File offset of the tensor info record.
        public var infoOffset: Int
        /// numpy order (ne reversed): the one place GGUF dimensions are reversed on reading.
        public var shape: [Int] { ne.reversed().map { Int($0) } }
        public var elementCount: UInt64 { ne.reduce(1, *) }
    }

    public let file: MappedFile
    public let version: UInt32
    public let metadata: [Metadata]
    public let tensorInfos: [TensorInfo]
    public let alignment: Int
    /// Absolute file offset of the data section.
    public let dataOffset: Int

    public var path: String { file.path }

    public init(path: String) throws(FormatError) {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws(FormatError) {
        self.file = file
        let path = file.path
        var r = ByteReader(file)
        let magic = try r.readBytes(4, "gguf magic")
        guard magic == GGUFKeys.magic else {
            throw .badMagic(path: path, found: String(decoding: magic, as: UTF8.self).unicodeScalars
                .map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\x" + String($0.value, radix: 16) }.joined())
        }
        version = try r.read(UInt32.self, "gguf version")
        if version == 0 { throw .unsupportedVersion(path: path, version: 0, reason: "version 0 is invalid") }
        if version & 0xFFFF == 0 { throw .bigEndian(path: path) }
        if version == 1 {
            throw .unsupportedVersion(path: path, version: 1, reason: "GGUF v1 (32-bit counts) is no longer supported; re-convert with a current llama.cpp")
        }
        guard version <= 3 else { throw .unsupportedVersion(path: path, version: version, reason: "newest known version is 3") }

        let tensorCountOffset = r.offset
        let tensorCount = try r.read(UInt64.self, "gguf tensor count")
        let kvCountOffset = r.offset
        let kvCount = try r.read(UInt64.self, "gguf metadata count")
        // A count above the bytes left cannot be honest (every record takes more than one byte): report it
        // as a limit, so a lying count never drives an allocation. Smaller lies end as `truncated`.
        let left = UInt64(r.remaining)
        guard kvCount <= left else {
            throw .limitExceeded(path: path, what: "gguf metadata count", offset: kvCountOffset, value: kvCount, limit: left)
        }
        guard tensorCount <= left else {
            throw .limitExceeded(path: path, what: "gguf tensor count", offset: tensorCountOffset, value: tensorCount, limit: left)
        }

        var metadata: [Metadata] = []
        metadata.reserveCapacity(Int(kvCount))
        var keys = Set<String>()
        for _ in 0..<kvCount {
            let at = r.offset
            let key = try GGUFParsing.string(&r, "gguf metadata key")
            guard !key.isEmpty else { throw .invalidHeader(path: path, key: "", offset: at, reason: "empty gguf metadata key") }
            guard keys.insert(key).inserted else { throw .duplicateKey(path: path, key: key, offset: at) }
            let value = try GGUFParsing.value(&r, key: key)
            metadata.append(Metadata(key: key, value: value, offset: at))
        }
        self.metadata = metadata

        var alignment = GGUFKeys.defaultAlignment
        if let entry = metadata.first(where: { $0.key == GGUFKeys.alignment }) {
            guard case .uint32(let value) = entry.value else {
                throw .wrongValueType(path: path, key: GGUFKeys.alignment, expected: "UINT32", found: entry.value.type.name,
                                      offset: entry.offset)
            }
            guard value != 0, value & (value - 1) == 0 else { throw .invalidAlignment(path: path, value: UInt64(value), offset: entry.offset) }
            alignment = Int(value)
        }
        self.alignment = alignment

        var infos: [TensorInfo] = []
        infos.reserveCapacity(Int(tensorCount))
        var names = Set<String>()
        for _ in 0..<tensorCount {
            let info = try GGUFParsing.tensorInfo(&r)
            guard names.insert(info.name).inserted else {
                throw .duplicateTensor(path: path, tensor: info.name, offset: info.infoOffset)
            }
            infos.append(info)
        }
        tensorInfos = infos

        let align = UInt64(alignment)
        let dataStart = (UInt64(r.offset) + align - 1) / align * align
        dataOffset = Int(dataStart)
        // Data must be contiguous in info order, each tensor padded to the alignment.
        var expected: UInt64 = 0
        for info in infos {
            guard info.offset == expected else {
                throw .misplacedTensor(path: path, tensor: info.name, offset: info.offset, expected: expected)
            }
            let end = dataStart + info.offset + info.byteCount
            guard end <= UInt64(file.count) else {
                let start = dataStart + info.offset
                throw .truncated(path: path, what: "gguf tensor '\(info.name)' data", offset: Int(clamping: start),
                                 needed: Int(clamping: info.byteCount), available: max(0, file.count - Int(clamping: start)))
            }
            expected = info.offset + (info.byteCount + align - 1) / align * align
        }
    }

    /// The value of `key`, if present.
    public subscript(key: String) -> GGUFValue? { metadata.first { $0.key == key }?.value }

    public var architecture: String? { self[GGUFKeys.architecture]?.stringValue }

    /// The tensor's bytes as a view into the mapping, with its numpy-order shape.
    public func tensor(_ info: TensorInfo) -> RawTensor {
        let start = dataOffset + Int(info.offset)
        return RawTensor(name: info.name, dtype: info.dtype, shape: info.shape,
                         data: ByteView(file: file, range: start..<(start + Int(info.byteCount))))
    }

    public func tensor(named name: String) -> RawTensor? {
        tensorInfos.first { $0.name == name }.map(tensor)
    }
}
