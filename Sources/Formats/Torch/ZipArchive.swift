import CZlib

/// A read-only zip archive over a mapped file, as torch.save writes them (formats.md §6.2): the end of
/// central directory (zip64 when the counts or offsets overflow), the central directory, and each entry's
/// local header to find its data. Stored entries are views into the mapping; deflated ones are inflated
/// with zlib (raw deflate). Every offset and size is checked against the file before use.
public struct ZipArchive: Sendable {
    public struct Entry: Sendable {
        public let name: String
        let method: UInt16
        let compressedSize: Int
        public let size: Int
        let localHeaderOffset: Int
    }

    public let file: MappedFile
    public let entries: [Entry]
    /// Entries larger than this are refused (no unbounded allocation from a lying header).
    public static let maxEntrySize = 1 << 40

    public var path: String { file.path }

    public init(file: MappedFile) throws(FormatError) {
        self.file = file
        let path = file.path
        let bytes = file.bytes
        // The end-of-central-directory record is within the last 22 + 65535 bytes.
        let eocdSignature: UInt32 = 0x0605_4b50
        var eocd = -1
        var i = bytes.count - 22
        while i >= max(0, bytes.count - 22 - 65_535) {
            if Self.u32(bytes, i) == eocdSignature { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw .invalidArchive(path: path, entry: "", offset: 0, reason: "no end of central directory record") }
        var count = Int(Self.u16(bytes, eocd + 10)), directorySize = Int(Self.u32(bytes, eocd + 12))
        var directoryOffset = Int(Self.u32(bytes, eocd + 16))
        // Zip64: the locator sits right before the EOCD and points at the zip64 record.
        if eocd >= 20, Self.u32(bytes, eocd - 20) == 0x0706_4b50 {
            let record = Self.u64(bytes, eocd - 12)
            guard bytes.count >= 56, record < UInt64(bytes.count - 56), Self.u32(bytes, Int(record)) == 0x0606_4b50 else {
                throw .invalidArchive(path: path, entry: "", offset: eocd - 20, reason: "zip64 locator points outside the file")
            }
            let r = Int(record)
            guard let c = Int(exactly: Self.u64(bytes, r + 32)), let s = Int(exactly: Self.u64(bytes, r + 40)),
                  let o = Int(exactly: Self.u64(bytes, r + 48)) else {
                throw .invalidArchive(path: path, entry: "", offset: r, reason: "zip64 sizes do not fit")
            }
            (count, directorySize, directoryOffset) = (c, s, o)
        }
        // Compared by subtraction: zip64 fields reach 2^63 and their sum would overflow (found by FuzzTorch).
        guard directoryOffset >= 0, directorySize >= 0, directoryOffset <= eocd + 1, directorySize <= eocd + 1 - directoryOffset,
              count <= directorySize / 46 + 1 else {
            throw .invalidArchive(path: path, entry: "", offset: eocd, reason: "central directory of \(count) entries at \(directoryOffset) (+\(directorySize)) lies outside the file")
        }
        var entries: [Entry] = []
        var p = directoryOffset
        for _ in 0..<count {
            guard p + 46 <= bytes.count, Self.u32(bytes, p) == 0x0201_4b50 else {
                throw .invalidArchive(path: path, entry: "", offset: p, reason: "central directory entry signature missing")
            }
            let method = Self.u16(bytes, p + 10)
            var compressed = UInt64(Self.u32(bytes, p + 20)), size = UInt64(Self.u32(bytes, p + 24))
            let nameLength = Int(Self.u16(bytes, p + 28)), extraLength = Int(Self.u16(bytes, p + 30)),
                commentLength = Int(Self.u16(bytes, p + 32))
            var local = UInt64(Self.u32(bytes, p + 42))
            guard p + 46 + nameLength + extraLength + commentLength <= bytes.count else {
                throw .invalidArchive(path: path, entry: "", offset: p, reason: "entry name runs past the end of the file")
            }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(p + 46)..<(p + 46 + nameLength)]), as: UTF8.self)
            // Zip64 extra field (id 1): the 0xFFFFFFFF fields, in order size, compressed, offset.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = Self.u16(bytes, e), length = Int(Self.u16(bytes, e + 2))
                if id == 1 {
                    var q = e + 4
                    if size == 0xFFFF_FFFF, q + 8 <= e + 4 + length { size = Self.u64(bytes, q); q += 8 }
                    if compressed == 0xFFFF_FFFF, q + 8 <= e + 4 + length { compressed = Self.u64(bytes, q); q += 8 }
                    if local == 0xFFFF_FFFF, q + 8 <= e + 4 + length { local = Self.u64(bytes, q) }
                }
                e += 4 + length
            }
            guard size <= UInt64(Self.maxEntrySize), compressed <= UInt64(bytes.count), local < UInt64(bytes.count) else {
                throw .invalidArchive(path: path, entry: name, offset: p, reason: "sizes (\(compressed) compressed, \(size)) or offset \(local) do not fit the file")
            }
            guard method == 0 || method == 8 else {
                throw .invalidArchive(path: path, entry: name, offset: p, reason: "compression method \(method) (only stored and deflated)")
            }
            entries.append(Entry(name: name, method: method, compressedSize: Int(compressed), size: Int(size), localHeaderOffset: Int(local)))
            p += 46 + nameLength + extraLength + commentLength
        }
        self.entries = entries
    }

    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

    /// The entry's bytes: a view for stored entries, inflated for deflated ones.
    public func data(_ entry: Entry) throws(FormatError) -> ByteView {
        let bytes = file.bytes, h = entry.localHeaderOffset
        guard h + 30 <= bytes.count, Self.u32(bytes, h) == 0x0403_4b50 else {
            throw .invalidArchive(path: path, entry: entry.name, offset: h, reason: "local header signature missing")
        }
        let start = h + 30 + Int(Self.u16(bytes, h + 26)) + Int(Self.u16(bytes, h + 28))
        guard entry.compressedSize >= 0, start <= bytes.count, entry.compressedSize <= bytes.count - start else {
            throw .invalidArchive(path: path, entry: entry.name, offset: h, reason: "\(entry.compressedSize) bytes at \(start) run past the end of the file")
        }
        let view = try file.view(start..<(start + entry.compressedSize), what: "zip entry '\(entry.name)'")
        if entry.method == 0 {
            guard entry.compressedSize == entry.size else {
                throw .invalidArchive(path: path, entry: entry.name, offset: h, reason: "stored entry with \(entry.compressedSize) bytes claims \(entry.size)")
            }
            return view
        }
        return ByteView(owned: try inflate(view, entry: entry))
    }

    /// Deflate expands at most 1032:1: a declared size beyond that (or past zlib's 32-bit counts) is a lie,
    /// refused before anything is allocated for it (found by FuzzTorch: 1.4 GB asked for a 2 KB file).
    static let maxDeflateRatio = 1032

    func inflate(_ input: ByteView, entry: Entry) throws(FormatError) -> [UInt8] {
        guard entry.size >= 0, entry.size <= input.count * Self.maxDeflateRatio + 1024, entry.size <= Int(UInt32.max) else {
            throw .invalidArchive(path: path, entry: entry.name, offset: entry.localHeaderOffset,
                                  reason: "claims \(entry.size) bytes inflated from \(input.count): more than deflate can produce")
        }
        var out = [UInt8](repeating: 0, count: entry.size)
        let status: Int32 = input.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                var stream = z_stream()
                guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return Z_MEM_ERROR }
                defer { inflateEnd(&stream) }
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress?.assumingMemoryBound(to: UInt8.self))
                stream.avail_in = UInt32(src.count)
                stream.next_out = dst.baseAddress?.assumingMemoryBound(to: UInt8.self)
                stream.avail_out = UInt32(dst.count)
                let r = CZlib.inflate(&stream, Z_FINISH)
                return r == Z_STREAM_END && stream.total_out == UInt(dst.count) ? Z_OK : (r == Z_OK ? Z_BUF_ERROR : r)
            }
        }
        guard status == Z_OK else {
            throw .invalidArchive(path: path, entry: entry.name, offset: entry.localHeaderOffset, reason: "deflate stream is corrupt or not \(entry.size) bytes (zlib \(status))")
        }
        return out
    }

    static func u16(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt16 { i + 2 <= b.count ? UInt16(littleEndian: b.loadUnaligned(fromByteOffset: i, as: UInt16.self)) : 0 }
    static func u32(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt32 { i + 4 <= b.count && i >= 0 ? UInt32(littleEndian: b.loadUnaligned(fromByteOffset: i, as: UInt32.self)) : 0 }
    static func u64(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt64 { i + 8 <= b.count && i >= 0 ? UInt64(littleEndian: b.loadUnaligned(fromByteOffset: i, as: UInt64.self)) : 0 }
}
