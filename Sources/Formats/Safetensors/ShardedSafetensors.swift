#if canImport(Glibc)
import Glibc
#endif

/// A sharded checkpoint (`model.safetensors.index.json` + `model-0000i-of-0000n.safetensors`) seen as one
/// logical tensor map. The index and the shards must agree exactly: a shard listed but missing, a tensor
/// listed but absent from its shard, or a tensor present but unlisted is an error naming it.
public struct ShardedSafetensors: Sendable {
    public static let indexFileName = "model.safetensors.index.json"
    /// An index names tensors and shard files, nothing more: 64 MB is far above any real one.
    public static let maxIndexSize = 64 << 20

    public let indexPath: String
    /// Shards in file-name order.
    public let shards: [SafetensorsFile]
    /// `metadata` of the index (e.g. total_size), as JSON.
    public let indexMetadata: JSONValue?
    /// All tensors of all shards, sorted by name.
    public let tensors: [RawTensor]

    public init(indexPath: String) throws(FormatError) {
        self.indexPath = indexPath
        let index = try JSONFile.read(indexPath, maxSize: Self.maxIndexSize)
        guard let weightMap = index["weight_map"]?.objectValue else {
            throw .invalidHeader(path: indexPath, key: "weight_map", offset: 0, reason: "missing or not an object")
        }
        indexMetadata = index["metadata"]
        var shardOf: [String: String] = [:]
        for (tensor, shard) in weightMap {
            guard let file = shard.stringValue, !file.isEmpty, !file.contains("/") else {
                throw .invalidHeader(path: indexPath, key: "weight_map.\(tensor)", offset: 0, reason: "shard must be a file name")
            }
            shardOf[tensor] = file
        }
        let folder = indexPath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        var shards: [SafetensorsFile] = []
        var tensors: [RawTensor] = []
        for shardName in Set(shardOf.values).sorted() {
            let shardPath = folder.isEmpty ? shardName : folder + "/" + shardName
            guard access(shardPath, F_OK) == 0 else { throw .missingShard(path: indexPath, shard: shardName) }
            let shard = try SafetensorsFile(path: shardPath)
            let present = Set(shard.entries.map(\.name))
            for entry in shard.entries where shardOf[entry.name] != shardName {
                throw .tensorNotInIndex(path: indexPath, tensor: entry.name, shard: shardName)
            }
            for (tensor, file) in shardOf.sorted(by: { $0.key < $1.key }) where file == shardName && !present.contains(tensor) {
                throw .tensorMissingFromShard(path: indexPath, tensor: tensor, shard: shardName)
            }
            shards.append(shard)
            tensors += shard.tensors
        }
        self.shards = shards
        self.tensors = tensors.sorted { $0.name < $1.name }
    }

    /// Sum of tensor byte sizes (the index's `total_size`).
    public var totalSize: Int { tensors.reduce(0) { $0 + $1.byteCount } }
}
