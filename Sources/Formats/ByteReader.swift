/// Sequential little-endian reader over a mapped file. Every read is bounds-checked and throws
/// `FormatError.truncated` naming the file, the thing being read and the offset.
public struct ByteReader {
    public let file: MappedFile
    public private(set) var offset: Int

    public init(_ file: MappedFile, offset: Int = 0) {
        self.file = file
        self.offset = offset
    }

    public var path: String { file.path }
    public var remaining: Int { file.count - offset }

    /// Throws unless `count` bytes remain; `count` may come straight from the file (UInt64).
    public func require(_ count: UInt64, _ what: @autoclosure () -> String) throws(FormatError) {
        guard count <= UInt64(remaining) else {
            throw .truncated(path: path, what: what(), offset: offset,
                             needed: Int(clamping: count), available: remaining)
        }
    }

    public mutating func skip(_ count: Int, _ what: @autoclosure () -> String) throws(FormatError) {
        try require(UInt64(count), what())
        offset += count
    }

    /// A fixed-width little-endian integer.
    public mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(FormatError) -> T {
        let size = MemoryLayout<T>.size
        try require(UInt64(size), what())
        let value = file.bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    public mutating func readFloat(_ what: @autoclosure () -> String) throws(FormatError) -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    public mutating func readDouble(_ what: @autoclosure () -> String) throws(FormatError) -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// `count` raw bytes as a copy.
    public mutating func readBytes(_ count: UInt64, _ what: @autoclosure () -> String) throws(FormatError) -> [UInt8] {
        try require(count, what())
        let n = Int(count)
        let bytes = Array(UnsafeRawBufferPointer(rebasing: file.bytes[offset..<(offset + n)]))
        offset += n
        return bytes
    }

    /// `count` bytes decoded as UTF-8; invalid UTF-8 is an error, never a replacement character.
    public mutating func readUTF8(_ count: UInt64, _ what: @autoclosure () -> String) throws(FormatError) -> String {
        let start = offset
        let bytes = try readBytes(count, what())
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalidUTF8(path: path, what: what(), offset: start)
        }
        return text
    }
}
