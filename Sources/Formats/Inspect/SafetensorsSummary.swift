extension CheckpointSummary {
    /// Summary of one or more safetensors files seen as one checkpoint (shards in name order).
    static func fromSafetensors(_ files: [SafetensorsFile], path: String, format: CheckpointFormat) -> CheckpointSummary {
        var s = CheckpointSummary(path: path, format: format)
        var seen = Set<String>()
        for file in files {
            s.fileSize += UInt64(file.file.count)
            s.files.append(file.path)
            for (key, value) in file.metadata ?? [] where seen.insert(key).inserted {
                s.metadata.append(MetadataItem(key: key, type: "STRING", elementType: nil, count: nil,
                                               value: .string(value), truncated: false))
            }
            let shardName = files.count > 1 ? String(file.path.split(separator: "/").last ?? "") : nil
            for entry in file.entries {
                s.tensors.append(TensorRow(name: entry.name, shape: entry.shape, dtype: entry.dtype,
                                           offset: UInt64(file.dataStart) + entry.begin,
                                           bytes: entry.end - entry.begin, file: shardName))
            }
        }
        if files.count > 1 { s.tensors.sort { $0.name < $1.name } }
        return s
    }
}
