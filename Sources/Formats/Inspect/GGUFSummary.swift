extension CheckpointSummary {
    /// Summary of a GGUF file: metadata in file order (arrays abbreviated to `arrayLimit`), tokenizer keys,
    /// tensor rows with absolute offsets.
    public static func fromGGUF(_ gguf: GGUFFile, arrayLimit: Int?) throws(FormatError) -> CheckpointSummary {
        var s = CheckpointSummary(path: gguf.path, format: .gguf)
        s.version = Int(gguf.version)
        s.architecture = gguf.architecture
        s.fileSize = UInt64(gguf.file.count)
        s.files = [gguf.path]
        s.alignment = gguf.alignment
        s.dataOffset = gguf.dataOffset
        s.chatTemplateLength = gguf[GGUFKeys.chatTemplate]?.stringValue.map { $0.utf8.count }
        for entry in gguf.metadata {
            s.metadata.append(try metadataItem(entry.key, entry.value, arrayLimit: arrayLimit))
        }
        s.tensors = gguf.tensorInfos.map { info in
            TensorRow(name: info.name, shape: info.shape, dtype: info.dtype,
                      offset: UInt64(gguf.dataOffset) + info.offset, bytes: info.byteCount, file: nil)
        }
        if let model = gguf[GGUFKeys.tokenizerModel]?.stringValue {
            let special = GGUFKeys.specialTokenIDs.compactMap { item -> (String, Int64)? in
                gguf[item.key]?.integerValue.map { (item.short, $0) }
            }
            s.tokenizer = TokenizerInfo(model: model, pre: gguf[GGUFKeys.tokenizerPre]?.stringValue,
                                        vocabSize: gguf[GGUFKeys.tokens]?.arrayValue?.count ?? 0,
                                        mergeCount: gguf[GGUFKeys.merges]?.arrayValue?.count,
                                        specialIDs: special, addBOS: gguf[GGUFKeys.addBOS]?.boolValue)
        }
        return s
    }

    static func metadataItem(_ key: String, _ value: GGUFValue, arrayLimit: Int?) throws(FormatError) -> MetadataItem {
        guard case .array(let array) = value else {
            return MetadataItem(key: key, type: value.type.name, elementType: nil, count: nil,
                                value: json(value), truncated: false)
        }
        let shown = try array.values(limit: arrayLimit)
        return MetadataItem(key: key, type: "ARRAY", elementType: array.elementType.name, count: array.count,
                            value: .array(shown.map(json)), truncated: shown.count < array.count)
    }

    /// JSON for a scalar: integers exact, floats as the shortest text that reads back to the same
    /// float32/float64, non-finite floats as the strings "nan", "inf", "-inf".
    static func json(_ value: GGUFValue) -> JSONValue {
        func float<F: BinaryFloatingPoint & LosslessStringConvertible>(_ f: F) -> JSONValue {
            if f.isNaN { return .string("nan") }
            if f.isInfinite { return .string(f < 0 ? "-inf" : "inf") }
            return .number(f.description)
        }
        switch value {
        case .uint8(let v): return .int(v)
        case .int8(let v): return .int(v)
        case .uint16(let v): return .int(v)
        case .int16(let v): return .int(v)
        case .uint32(let v): return .int(v)
        case .int32(let v): return .int(v)
        case .uint64(let v): return .int(v)
        case .int64(let v): return .int(v)
        case .float32(let v): return float(v)
        case .float64(let v): return float(v)
        case .bool(let v): return .bool(v)
        case .string(let v): return .string(v)
        case .array: return .null
        }
    }
}
