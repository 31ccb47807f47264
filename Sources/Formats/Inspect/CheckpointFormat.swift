#if canImport(Glibc)
import Glibc
#endif

/// What a path holds, decided by content (magic bytes, header shape), never by extension.
public enum CheckpointFormat: String, Sendable {
    case gguf
    case safetensors
    /// A `model.safetensors.index.json` and its shards.
    case shardedSafetensors = "safetensors-sharded"
    /// A Hugging Face folder: config.json plus safetensors weights (single or sharded).
    case huggingFaceDirectory = "hf-directory"

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func detect(_ path: String) throws(FormatError) -> CheckpointFormat {
        if isDirectory(path) {
            guard exists(path + "/config.json") else {
                throw .unrecognizedFormat(path: path, reason: "a directory needs config.json to be a Hugging Face checkpoint")
            }
            guard exists(path + "/model.safetensors") || exists(path + "/" + ShardedSafetensors.indexFileName) else {
                throw .unrecognizedFormat(path: path, reason: "no model.safetensors or \(ShardedSafetensors.indexFileName) (PyTorch .bin folders arrive with `ckpt convert`)")
            }
            return .huggingFaceDirectory
        }
        let file = try MappedFile(path: path)
        let bytes = file.bytes
        if bytes.count >= 4 && Array(bytes[0..<4]) == GGUFKeys.magic { return .gguf }
        if bytes.count >= 2 && bytes[0] == UInt8(ascii: "P") && bytes[1] == UInt8(ascii: "K") {
            throw .unrecognizedFormat(path: path, reason: "a zip archive (PyTorch .bin?): PyTorch files are not supported by this version")
        }
        // safetensors: u64 header length, then JSON starting with '{' (whitespace allowed, as the reference).
        // A header length that runs past the end (but is not absurd) is a truncated safetensors file:
        // let its reader name the offset.
        if bytes.count >= 8 {
            let n = bytes.loadUnaligned(as: UInt64.self).littleEndian
            var i = 8
            while i < bytes.count && [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
            if n > 0 && i < bytes.count && bytes[i] == UInt8(ascii: "{") { return .safetensors }
            if n > UInt64(bytes.count - 8) && n < 1 << 32 && (i == bytes.count || bytes[i] == UInt8(ascii: "{")) {
                return .safetensors
            }
        }
        // A bare JSON object with a weight_map: the shard index.
        var i = 0
        while i < bytes.count && [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        if i < bytes.count && bytes[i] == UInt8(ascii: "{"),
           let json = try? JSONParser.parse(bytes), json["weight_map"] != nil {
            return .shardedSafetensors
        }
        if bytes.count >= 4 && (Array(bytes[0..<4]) == Array("FUGG".utf8)) {
            throw .unrecognizedFormat(path: path, reason: "looks like a byte-swapped GGUF magic")
        }
        throw .unrecognizedFormat(path: path, reason: "neither GGUF (magic 'GGUF') nor safetensors (u64 length + JSON header)")
    }
}
