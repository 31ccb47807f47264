/// Writes safetensors in the reference layout (formats.md §1.3): tensors sorted by dtype (descending in the
/// Rust `Dtype` enum order) then name, contiguous from offset 0, compact serde-style JSON with
/// `__metadata__` first, the header padded with spaces to a multiple of 8. Byte-identical to the Python
/// `safetensors` library for the same tensors and at most one metadata key.
public enum SafetensorsWriter {
    /// Default metadata: transformers refuses safetensors whose `format` is missing or unknown.
    public static let defaultMetadata: [(String, String)] = [("format", "pt")]

    /// Tensors that share storage (same bytes of the same mapping or buffer) are written once under the
    /// name that sorts first; each dropped alias is recorded as `metadata[alias] = kept`, as the
    /// safetensors `convert.py` does.
    public static func deduplicated(_ tensors: [RawTensor]) -> (kept: [RawTensor], aliases: [(String, String)]) {
        var kept: [RawTensor] = []
        var aliases: [(String, String)] = []
        for tensor in tensors.sorted(by: { $0.name < $1.name }) {
            if let first = kept.first(where: { $0.data.sharesStorage(with: tensor.data) && $0.dtype == tensor.dtype && $0.shape == tensor.shape }) {
                aliases.append((tensor.name, first.name))
            } else {
                kept.append(tensor)
            }
        }
        return (kept, aliases)
    }

    /// The header bytes (length prefix excluded) and the tensors in data order.
    public static func layout(_ tensors: [RawTensor], metadata: [(String, String)]?) -> (header: [UInt8], ordered: [RawTensor]) {
        let ordered = tensors.sorted { a, b in
            let ra = a.dtype.safetensorsRank ?? -1, rb = b.dtype.safetensorsRank ?? -1
            if ra != rb { return ra > rb }
            return Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8))
        }
        var members: [(String, JSONValue)] = []
        if let metadata {
            members.append(("__metadata__", .object(metadata.map { ($0.0, .string($0.1)) })))
        }
        var offset = 0
        for tensor in ordered {
            let end = offset + tensor.byteCount
            members.append((tensor.name, .object([
                ("dtype", .string(tensor.dtype.rawValue)),
                ("shape", .array(tensor.shape.map { JSONValue.int($0) })),
                ("data_offsets", .array([.int(offset), .int(end)])),
            ])))
            offset = end
        }
        var header = Array(JSONWriter.compact(.object(members)).utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        return (header, ordered)
    }

    /// Writes one file atomically. Tensors must be safetensors dtypes; tied tensors are stored once.
    public static func write(_ tensors: [RawTensor], to path: String,
                             metadata: [(String, String)]? = defaultMetadata,
                             overwrite: Bool = false) throws(FormatError) {
        for tensor in tensors where !tensor.dtype.isSafetensors {
            throw .unencodable(path: path, what: "tensor '\(tensor.name)'",
                               reason: "dtype \(tensor.dtype.name) has no safetensors equivalent")
        }
        let (kept, aliases) = deduplicated(tensors)
        var meta = metadata
        if !aliases.isEmpty { meta = (meta ?? []) + aliases }
        let (header, ordered) = layout(kept, metadata: meta)
        guard UInt64(header.count) <= SafetensorsFile.maxHeaderSize else {
            throw .limitExceeded(path: path, what: "safetensors header length", offset: 0,
                                 value: UInt64(header.count), limit: SafetensorsFile.maxHeaderSize)
        }
        let out = try AtomicOutput(path: path, overwrite: overwrite)
        try out.write(withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) })
        try out.write(header)
        for tensor in ordered { try out.write(tensor.data) }
        try out.commit()
    }
}

extension ByteView {
    /// True when both views are the same bytes of the same mapping or owned buffer (tied weights).
    public func sharesStorage(with other: ByteView) -> Bool {
        guard range == other.range else { return false }
        return withUnsafeBytes { a in other.withUnsafeBytes { b in a.baseAddress == b.baseAddress } }
    }
}
