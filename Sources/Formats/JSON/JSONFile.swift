/// Reading a whole JSON file (config.json, tokenizer.json, shard indexes) with a size bound and errors
/// mapped to `FormatError` (duplicate keys and syntax errors with their offsets).
public enum JSONFile {
    /// Config, index and tokenizer files are text; 256 MB is far above any real tokenizer.json (2-20 MB).
    public static let maxSize = 256 << 20

    public static func read(_ path: String, maxSize: Int = JSONFile.maxSize) throws(FormatError) -> JSONValue {
        let file = try MappedFile(path: path)
        guard file.count <= maxSize else {
            throw .limitExceeded(path: path, what: "JSON file size", offset: 0, value: UInt64(file.count), limit: UInt64(maxSize))
        }
        return try parse(file.bytes, path: path, baseOffset: 0)
    }

    /// Parses `bytes` that start at file offset `baseOffset` of `path`.
    public static func parse(_ bytes: UnsafeRawBufferPointer, path: String, baseOffset: Int) throws(FormatError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            if let key = error.duplicateKey { throw .duplicateKey(path: path, key: key, offset: baseOffset + error.offset) }
            throw .invalidJSON(path: path, offset: baseOffset + error.offset, reason: error.reason)
        }
    }
}
