/// Everything `ckpt inspect` reports about a checkpoint, built from headers only: no tensor data is read,
/// so a multi-GB file costs a header parse and a few MB of memory.
public struct CheckpointSummary: Sendable {
    public struct DTypeStat: Sendable {
        public var dtype: DType
        public var tensors = 0
        public var parameters: UInt64 = 0
        public var bytes: UInt64 = 0
        public var bitsPerWeight: Double { parameters == 0 ? 0 : Double(bytes * 8) / Double(parameters) }
    }

    public struct TokenizerInfo: Sendable {
        public var model: String
        public var pre: String?
        public var vocabSize: Int
        public var mergeCount: Int?
        /// (short name, id) in GGUFKeys.specialTokenIDs order.
        public var specialIDs: [(String, Int64)]
        public var addBOS: Bool?
    }

    public struct MetadataItem: Sendable {
        public var key: String
        /// gguf-py type name; safetensors metadata is STRING.
        public var type: String
        public var elementType: String?
        public var count: Int?
        /// The value, or the first values of an array when `truncated`.
        public var value: JSONValue
        public var truncated: Bool
    }

    public struct TensorRow: Sendable {
        public var name: String
        /// numpy order.
        public var shape: [Int]
        public var dtype: DType
        /// Absolute file offset of the first data byte.
        public var offset: UInt64
        public var bytes: UInt64
        /// The shard holding it, for sharded checkpoints.
        public var file: String?
    }

    public var path: String
    public var format: CheckpointFormat
    public var version: Int?
    public var architecture: String?
    public var fileSize: UInt64 = 0
    public var files: [String] = []
    public var alignment: Int?
    public var dataOffset: Int?
    public var tokenizer: TokenizerInfo?
    public var chatTemplateLength: Int?
    public var metadata: [MetadataItem] = []
    public var tensors: [TensorRow] = []

    public var tensorCount: Int { tensors.count }
    public var parameterCount: UInt64 { tensors.reduce(0) { $0 + UInt64($1.shape.reduce(1, *)) } }
    public var tensorBytes: UInt64 { tensors.reduce(0) { $0 + $1.bytes } }

    /// Per-dtype totals, most parameters first.
    public var dtypeStats: [DTypeStat] {
        var stats: [DType: DTypeStat] = [:]
        for t in tensors {
            var s = stats[t.dtype] ?? DTypeStat(dtype: t.dtype)
            s.tensors += 1
            s.parameters += UInt64(t.shape.reduce(1, *))
            s.bytes += t.bytes
            stats[t.dtype] = s
        }
        return stats.values.sorted { ($0.parameters, $1.dtype.rawValue) > ($1.parameters, $0.dtype.rawValue) }
    }

    public var bitsPerWeight: Double {
        parameterCount == 0 ? 0 : Double(tensorBytes * 8) / Double(parameterCount)
    }

    public init(path: String, format: CheckpointFormat) {
        self.path = path
        self.format = format
    }

    /// Detects the format and reads the headers. `arrayLimit` caps the array elements kept per metadata
    /// value (nil keeps all, for `--full`).
    public static func read(_ path: String, arrayLimit: Int? = 8) throws(FormatError) -> CheckpointSummary {
        switch try CheckpointFormat.detect(path) {
        case .gguf: return try fromGGUF(GGUFFile(path: path), arrayLimit: arrayLimit)
        case .safetensors: return fromSafetensors([try SafetensorsFile(path: path)], path: path, format: .safetensors)
        case .shardedSafetensors:
            let sharded = try ShardedSafetensors(indexPath: path)
            return fromSafetensors(sharded.shards, path: path, format: .shardedSafetensors)
        case .huggingFaceDirectory: return try HuggingFaceSummary.read(directory: path)
        }
    }
}
