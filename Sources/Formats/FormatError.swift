// One error enum for every reader and writer in Formats. Each case carries the file, the tensor or key,
// the offset and the numbers that explain the failure; `description` is the one-line message the CLI prints.

public enum FormatError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The file cannot be opened, mapped, created or renamed.
    case io(path: String, reason: String)
    /// A read needs `needed` bytes at `offset`, only `available` remain.
    case truncated(path: String, what: String, offset: Int, needed: Int, available: Int)
    case badMagic(path: String, found: String)
    case unsupportedVersion(path: String, version: UInt32, reason: String)
    case bigEndian(path: String)
    /// A count or size read from the file is above a named limit.
    case limitExceeded(path: String, what: String, offset: Int, value: UInt64, limit: UInt64)
    case invalidUTF8(path: String, what: String, offset: Int)
    case invalidJSON(path: String, offset: Int, reason: String)
    case duplicateKey(path: String, key: String, offset: Int)
    case duplicateTensor(path: String, tensor: String, offset: Int)
    /// A JSON header or GGUF key with the wrong structure (missing field, wrong JSON type, empty key).
    case invalidHeader(path: String, key: String, offset: Int, reason: String)
    case unknownDType(path: String, tensor: String, dtype: String, offset: Int)
    case unknownGGMLType(path: String, tensor: String, id: UInt32, offset: Int)
    case unknownValueType(path: String, key: String, type: UInt32, offset: Int)
    /// safetensors: tensors must tile the data buffer from 0 with no gap or overlap.
    case invalidOffsets(path: String, tensor: String, begin: UInt64, end: UInt64, expectedBegin: UInt64, offset: Int)
    case sizeMismatch(path: String, tensor: String, expectedBytes: UInt64, actualBytes: UInt64, offset: Int)
    case arithmeticOverflow(path: String, tensor: String, what: String, offset: Int)
    case fileLengthMismatch(path: String, expected: UInt64, actual: UInt64)
    case invalidTensorInfo(path: String, tensor: String, offset: Int, reason: String)
    /// GGUF: tensor data must be contiguous in info order, each tensor padded to the alignment.
    case misplacedTensor(path: String, tensor: String, offset: UInt64, expected: UInt64)
    case invalidAlignment(path: String, value: UInt64, offset: Int)
    case wrongValueType(path: String, key: String, expected: String, found: String, offset: Int)
    case nestedArray(path: String, key: String, offset: Int)
    case missingShard(path: String, shard: String)
    case tensorMissingFromShard(path: String, tensor: String, shard: String)
    case tensorNotInIndex(path: String, tensor: String, shard: String)
    case unrecognizedFormat(path: String, reason: String)
    /// A tensor type ckpt can carry but not decode or encode (IQ*, TQ*, MXFP4, ...).
    case unsupportedType(path: String, tensor: String, dtype: String, reason: String)
    /// A value cannot be represented in the requested output (writer side).
    case unencodable(path: String, what: String, reason: String)
    /// A zip archive (PyTorch checkpoint) whose directory or entry is broken.
    case invalidArchive(path: String, entry: String, offset: Int, reason: String)
    /// A pickle that names a global outside the allowlist: refused, nothing is called.
    case unsafePickle(path: String, global: String, offset: Int)
    /// A pickle ckpt cannot read (unknown opcode, wrong stack shape, not a state dict).
    case invalidPickle(path: String, offset: Int, reason: String)

    /// The case name, stable for tests and for fixtures/formats/malformed/manifest.json.
    public var kind: String {
        switch self {
        case .io: "io"
        case .truncated: "truncated"
        case .badMagic: "badMagic"
        case .unsupportedVersion: "unsupportedVersion"
        case .bigEndian: "bigEndian"
        case .limitExceeded: "limitExceeded"
        case .invalidUTF8: "invalidUTF8"
        case .invalidJSON: "invalidJSON"
        case .duplicateKey: "duplicateKey"
        case .duplicateTensor: "duplicateTensor"
        case .invalidHeader: "invalidHeader"
        case .unknownDType: "unknownDType"
        case .unknownGGMLType: "unknownGGMLType"
        case .unknownValueType: "unknownValueType"
        case .invalidOffsets: "invalidOffsets"
        case .sizeMismatch: "sizeMismatch"
        case .arithmeticOverflow: "arithmeticOverflow"
        case .fileLengthMismatch: "fileLengthMismatch"
        case .invalidTensorInfo: "invalidTensorInfo"
        case .misplacedTensor: "misplacedTensor"
        case .invalidAlignment: "invalidAlignment"
        case .wrongValueType: "wrongValueType"
        case .nestedArray: "nestedArray"
        case .missingShard: "missingShard"
        case .tensorMissingFromShard: "tensorMissingFromShard"
        case .tensorNotInIndex: "tensorNotInIndex"
        case .unrecognizedFormat: "unrecognizedFormat"
        case .unsupportedType: "unsupportedType"
        case .unencodable: "unencodable"
        case .invalidArchive: "invalidArchive"
        case .unsafePickle: "unsafePickle"
        case .invalidPickle: "invalidPickle"
        }
    }

    public var description: String {
        switch self {
        case let .io(path, reason):
            "\(path): \(reason)"
        case let .truncated(path, what, offset, needed, available):
            "\(what) needs \(needed) bytes at offset \(offset), only \(available) remain (\(path))"
        case let .badMagic(path, found):
            "gguf: bad magic '\(found)' at offset 0, expected 'GGUF' (\(path))"
        case let .unsupportedVersion(path, version, reason):
            "gguf: version \(version) at offset 4 is not supported: \(reason) (\(path))"
        case let .bigEndian(path):
            "gguf: big-endian file (version at offset 4 is byte-swapped); only little-endian GGUF is supported (\(path))"
        case let .limitExceeded(path, what, offset, value, limit):
            "\(what) at offset \(offset) is \(value), above the limit \(limit) (\(path))"
        case let .invalidUTF8(path, what, offset):
            "\(what) at offset \(offset) is not valid UTF-8 (\(path))"
        case let .invalidJSON(path, offset, reason):
            "invalid JSON at offset \(offset): \(reason) (\(path))"
        case let .duplicateKey(path, key, offset):
            "duplicate key '\(key)' at offset \(offset) (\(path))"
        case let .duplicateTensor(path, tensor, offset):
            "gguf: duplicate tensor '\(tensor)' at offset \(offset) (\(path))"
        case let .invalidHeader(path, key, offset, reason):
            "header entry '\(key)' at offset \(offset): \(reason) (\(path))"
        case let .unknownDType(path, tensor, dtype, offset):
            "safetensors: tensor '\(tensor)' at header offset \(offset) has unknown dtype '\(dtype)' (\(path))"
        case let .unknownGGMLType(path, tensor, id, offset):
            "gguf: tensor '\(tensor)' has unknown or removed ggml type id \(id) at offset \(offset) (\(path))"
        case let .unknownValueType(path, key, type, offset):
            "gguf: key '\(key)' has unknown value type \(type) at offset \(offset) (\(path))"
        case let .invalidOffsets(path, tensor, begin, end, expectedBegin, offset):
            "safetensors: tensor '\(tensor)' at header offset \(offset) has data_offsets [\(begin), \(end)], expected to begin at \(expectedBegin) with no gap or overlap (\(path))"
        case let .sizeMismatch(path, tensor, expectedBytes, actualBytes, offset):
            "safetensors: tensor '\(tensor)' at header offset \(offset): shape and dtype need \(expectedBytes) bytes, data_offsets give \(actualBytes) (\(path))"
        case let .arithmeticOverflow(path, tensor, what, offset):
            "tensor '\(tensor)' at offset \(offset): \(what) overflows (\(path))"
        case let .fileLengthMismatch(path, expected, actual):
            "safetensors: header and data need a file of \(expected) bytes, the file has \(actual) (\(path))"
        case let .invalidTensorInfo(path, tensor, offset, reason):
            "gguf: tensor '\(tensor)' at offset \(offset): \(reason) (\(path))"
        case let .misplacedTensor(path, tensor, offset, expected):
            "gguf: tensor '\(tensor)' has data offset \(offset), expected \(expected) (contiguous, aligned) (\(path))"
        case let .invalidAlignment(path, value, offset):
            "gguf: general.alignment \(value) at offset \(offset) is not a power of two (\(path))"
        case let .wrongValueType(path, key, expected, found, offset):
            "gguf: key '\(key)' at offset \(offset) has type \(found), expected \(expected) (\(path))"
        case let .nestedArray(path, key, offset):
            "gguf: key '\(key)' at offset \(offset) is an array of arrays, which llama.cpp rejects (\(path))"
        case let .missingShard(path, shard):
            "safetensors index: shard '\(shard)' is listed but missing (\(path))"
        case let .tensorMissingFromShard(path, tensor, shard):
            "safetensors index: tensor '\(tensor)' is listed in shard '\(shard)' but absent from it (\(path))"
        case let .tensorNotInIndex(path, tensor, shard):
            "safetensors index: tensor '\(tensor)' is in shard '\(shard)' but not listed in the index (\(path))"
        case let .unrecognizedFormat(path, reason):
            "\(path): not a recognized checkpoint: \(reason)"
        case let .unsupportedType(path, tensor, dtype, reason):
            "tensor '\(tensor)' has type \(dtype), which is not supported here: \(reason) (\(path))"
        case let .invalidArchive(path, entry, offset, reason):
            "zip: entry '\(entry)' at offset \(offset): \(reason) (\(path))"
        case let .unsafePickle(path, global, offset):
            "pickle: global '\(global)' at offset \(offset) is not allowed; nothing was executed (\(path))"
        case let .invalidPickle(path, offset, reason):
            "pickle: \(reason) at offset \(offset) (\(path))"
        case let .unencodable(path, what, reason):
            "\(what): \(reason) (\(path))"
        }
    }
}
