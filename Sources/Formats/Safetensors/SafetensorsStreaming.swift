/// Safetensors written one tensor at a time: the header (and the shard plan) need only each tensor's name,
/// dtype, shape and size, so the data can be produced when it is written — a converter then holds one
/// tensor, not the model. Same layout and sharding as SafetensorsWriter / SafetensorsSharding.
public enum SafetensorsStreaming {
    /// Writes `folder/<fileName>` (model.safetensors), or shards of at most `maxShardSize` bytes plus the
    /// index, asking `data(i)` for descriptor i's bytes in file order. Each file is written atomically.
    public static func write(_ descriptors: [TensorDescriptor], folder: String, maxShardSize: Int,
                             metadata: [(String, String)] = SafetensorsWriter.defaultMetadata, overwrite: Bool,
                             fileName: String = "model.safetensors",
                             data: (Int) throws(FormatError) -> ByteView) throws(FormatError) {
        // Placeholders carry only the size; the layout and shard functions read nothing else of the data.
        let placeholders = descriptors.map { d in
            RawTensor(name: d.name, dtype: d.dtype, shape: d.shape, data: ByteView(size: d.byteCount))
        }
        let index = Dictionary(uniqueKeysWithValues: descriptors.enumerated().map { ($1.name, $0) })
        let shards = SafetensorsSharding.plan(placeholders, maxShardSize: maxShardSize)
        for (s, shard) in shards.enumerated() {
            let name = shards.count == 1 ? fileName : SafetensorsSharding.shardName(s, of: shards.count)
            let path = folder + "/" + name
            for t in shard where !t.dtype.isSafetensors {
                throw .unencodable(path: path, what: "tensor '\(t.name)'", reason: "dtype \(t.dtype.name) has no safetensors equivalent")
            }
            let (header, ordered) = SafetensorsWriter.layout(shard, metadata: metadata)
            let out = try AtomicOutput(path: path, overwrite: overwrite)
            try out.write(withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) })
            try out.write(header)
            for t in ordered {
                let bytes = try data(index[t.name]!)
                guard bytes.count == t.byteCount else {
                    throw .unencodable(path: path, what: "tensor '\(t.name)'", reason: "produced \(bytes.count) bytes, the header promised \(t.byteCount)")
                }
                try out.write(bytes)
            }
            try out.commit()
        }
        if shards.count > 1 {
            let out = try AtomicOutput(path: folder + "/" + ShardedSafetensors.indexFileName, overwrite: overwrite)
            try out.write(Array(SafetensorsSharding.indexText(shards).utf8))
            try out.commit()
        }
    }
}
