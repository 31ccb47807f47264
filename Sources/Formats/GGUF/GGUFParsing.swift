/// The record-level pieces of the GGUF reader: strings, typed values, tensor infos. Each checks its
/// length fields against ggml's limits and the bytes remaining before it reads or allocates.
enum GGUFParsing {
    static func string(_ r: inout ByteReader, _ what: String) throws(FormatError) -> String {
        let at = r.offset
        let length = try r.read(UInt64.self, "\(what) length")
        guard length <= GGUFKeys.maxStringLength else {
            throw .limitExceeded(path: r.path, what: "\(what) length", offset: at, value: length, limit: GGUFKeys.maxStringLength)
        }
        return try r.readUTF8(length, what)
    }

    static func value(_ r: inout ByteReader, key: String) throws(FormatError) -> GGUFValue {
        let typeOffset = r.offset
        let raw = try r.read(UInt32.self, "gguf type of '\(key)'")
        guard let type = GGUFValueType(rawValue: raw) else {
            throw .unknownValueType(path: r.path, key: key, type: raw, offset: typeOffset)
        }
        if type == .array { return try array(&r, key: key) }
        return try scalar(type, &r, key: key)
    }

    static func scalar(_ type: GGUFValueType, _ r: inout ByteReader, key: String) throws(FormatError) -> GGUFValue {
        let what = "gguf value of '\(key)'"
        switch type {
        case .uint8: return .uint8(try r.read(UInt8.self, what))
        case .int8: return .int8(try r.read(Int8.self, what))
        case .uint16: return .uint16(try r.read(UInt16.self, what))
        case .int16: return .int16(try r.read(Int16.self, what))
        case .uint32: return .uint32(try r.read(UInt32.self, what))
        case .int32: return .int32(try r.read(Int32.self, what))
        case .float32: return .float32(try r.readFloat(what))
        case .bool: return .bool(try r.read(UInt8.self, what) != 0)
        case .uint64: return .uint64(try r.read(UInt64.self, what))
        case .int64: return .int64(try r.read(Int64.self, what))
        case .float64: return .float64(try r.readDouble(what))
        case .string: return .string(try string(&r, what))
        case .array: return try array(&r, key: key)
        }
    }

    /// Reads the element type and count, checks every element's extent, and keeps the bytes as a view.
    static func array(_ r: inout ByteReader, key: String) throws(FormatError) -> GGUFValue {
        let typeOffset = r.offset
        let raw = try r.read(UInt32.self, "gguf array type of '\(key)'")
        guard let elementType = GGUFValueType(rawValue: raw) else {
            throw .unknownValueType(path: r.path, key: key, type: raw, offset: typeOffset)
        }
        if elementType == .array { throw .nestedArray(path: r.path, key: key, offset: typeOffset) }
        let countOffset = r.offset
        let count = try r.read(UInt64.self, "gguf array count of '\(key)'")
        guard count <= GGUFKeys.maxArrayCount else {
            throw .limitExceeded(path: r.path, what: "gguf array count of '\(key)'", offset: countOffset,
                                 value: count, limit: GGUFKeys.maxArrayCount)
        }
        let start = r.offset
        if let size = elementType.fixedSize {
            try r.skip(Int(count) * size, "gguf array '\(key)' (\(count) × \(elementType.name))")
        } else {
            // Strings: walk the lengths; UTF-8 is checked when the values are decoded.
            for i in 0..<count {
                let at = r.offset
                let length = try r.read(UInt64.self, "gguf string \(i) length of '\(key)'")
                guard length <= GGUFKeys.maxStringLength else {
                    throw .limitExceeded(path: r.path, what: "gguf string \(i) length of '\(key)'", offset: at,
                                         value: length, limit: GGUFKeys.maxStringLength)
                }
                try r.require(length, "gguf string \(i) of '\(key)'")
                try r.skip(Int(length), "gguf string \(i) of '\(key)'")
            }
        }
        let view = try r.file.view(start..<r.offset, what: "gguf array '\(key)'")
        return .array(GGUFArray(elementType: elementType, count: Int(count), encoded: view, path: r.path, fileOffset: start))
    }

    static func tensorInfo(_ r: inout ByteReader) throws(FormatError) -> GGUFFile.TensorInfo {
        let at = r.offset
        let name = try string(&r, "gguf tensor name")
        let path = r.path
        guard !name.isEmpty else { throw .invalidTensorInfo(path: path, tensor: name, offset: at, reason: "empty name") }
        guard name.utf8.count <= GGUFKeys.maxTensorNameLength else {
            throw .invalidTensorInfo(path: path, tensor: name, offset: at,
                                     reason: "name is \(name.utf8.count) bytes, the limit is \(GGUFKeys.maxTensorNameLength)")
        }
        let nDims = try r.read(UInt32.self, "gguf n_dims of '\(name)'")
        guard nDims <= UInt32(GGUFKeys.maxDims) else {
            throw .invalidTensorInfo(path: path, tensor: name, offset: at, reason: "\(nDims) dimensions, the limit is \(GGUFKeys.maxDims)")
        }
        var ne: [UInt64] = []
        for _ in 0..<nDims {
            let dim = try r.read(UInt64.self, "gguf ne of '\(name)'")
            guard dim <= UInt64(Int64.max) else {
                throw .invalidTensorInfo(path: path, tensor: name, offset: at, reason: "negative dimension \(Int64(bitPattern: dim))")
            }
            ne.append(dim)
        }
        let typeOffset = r.offset
        let typeID = try r.read(UInt32.self, "gguf type of '\(name)'")
        guard let dtype = DType(ggmlID: typeID) else {
            throw .unknownGGMLType(path: path, tensor: name, id: typeID, offset: typeOffset)
        }
        let offset = try r.read(UInt64.self, "gguf data offset of '\(name)'")
        guard let count = elementCount(ne), count <= UInt64(Int64.max) else {
            throw .arithmeticOverflow(path: path, tensor: name, what: "element count of ne \(ne)", offset: at)
        }
        let rowLength = ne.first ?? 1
        guard rowLength % UInt64(dtype.blockSize) == 0 else {
            throw .invalidTensorInfo(path: path, tensor: name, offset: at,
                                     reason: "row of \(rowLength) elements is not a multiple of the \(dtype.name) block size \(dtype.blockSize)")
        }
        guard let bytes = dtype.byteCount(elements: count, rowLength: rowLength), bytes <= UInt64(Int64.max) / 2 else {
            throw .arithmeticOverflow(path: path, tensor: name, what: "byte size of ne \(ne)", offset: at)
        }
        return GGUFFile.TensorInfo(name: name, dtype: dtype, ne: ne, offset: offset, byteCount: bytes, infoOffset: at)
    }
}
