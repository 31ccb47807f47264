/// Hugging Face sharding (formats.md §1.6): tensors in the given order fill shards up to `maxShardSize`
/// bytes; a tensor larger than the limit gets a shard of its own. Shards are named
/// `model-0000i-of-0000n.safetensors`; the index is `json.dumps(index, indent=2, sort_keys=True) + "\n"`.
public enum SafetensorsSharding {
    /// transformers' and huggingface_hub's default.
    public static let defaultMaxShardSize = 5_000_000_000

    /// Groups tensors into shards, preserving order.
    public static func plan(_ tensors: [RawTensor], maxShardSize: Int) -> [[RawTensor]] {
        var shards: [[RawTensor]] = []
        var current: [RawTensor] = []
        var size = 0
        for tensor in tensors {
            if !current.isEmpty && size + tensor.byteCount > maxShardSize {
                shards.append(current)
                current = []
                size = 0
            }
            current.append(tensor)
            size += tensor.byteCount
        }
        if !current.isEmpty { shards.append(current) }
        return shards
    }

    public static func shardName(_ index: Int, of count: Int) -> String {
        func five(_ n: Int) -> String { let s = String(n); return String(repeating: "0", count: max(0, 5 - s.count)) + s }
        return "model-\(five(index + 1))-of-\(five(count)).safetensors"
    }

    /// The index file's text for `shards` (already planned).
    public static func indexText(_ shards: [[RawTensor]]) -> String {
        var map: [(String, JSONValue)] = []
        var total = 0
        for (i, shard) in shards.enumerated() {
            for tensor in shard {
                map.append((tensor.name, .string(shardName(i, of: shards.count))))
                total += tensor.byteCount
            }
        }
        map.sort { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) }
        let index: JSONValue = .object([
            ("metadata", .object([("total_size", .int(total))])),
            ("weight_map", .object(map)),
        ])
        return JSONWriter.pretty(index, indent: 2, asciiOnly: true) + "\n"
    }

    /// Writes `folder/model.safetensors` when everything fits one shard, else the shards and the index.
    /// Returns the file names written.
    @discardableResult
    public static func write(_ tensors: [RawTensor], folder: String, maxShardSize: Int = defaultMaxShardSize,
                             metadata: [(String, String)]? = SafetensorsWriter.defaultMetadata,
                             overwrite: Bool = false) throws(FormatError) -> [String] {
        let kept = SafetensorsWriter.deduplicated(tensors).kept
        let shards = plan(kept, maxShardSize: maxShardSize)
        if shards.count <= 1 {
            try SafetensorsWriter.write(tensors, to: folder + "/model.safetensors", metadata: metadata, overwrite: overwrite)
            return ["model.safetensors"]
        }
        var names: [String] = []
        for (i, shard) in shards.enumerated() {
            let name = shardName(i, of: shards.count)
            try SafetensorsWriter.write(shard, to: folder + "/" + name, metadata: metadata, overwrite: overwrite)
            names.append(name)
        }
        let out = try AtomicOutput(path: folder + "/" + ShardedSafetensors.indexFileName, overwrite: overwrite)
        try out.write(Array(indexText(shards).utf8))
        try out.commit()
        return names + [ShardedSafetensors.indexFileName]
    }
}
