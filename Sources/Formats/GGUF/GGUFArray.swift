/// A GGUF array value: either the encoded element bytes as read (a view into the mapped file, validated
/// for length but decoded only on request) or values built in memory for writing.
public struct GGUFArray: Sendable, Equatable {
    public let elementType: GGUFValueType
    public let count: Int
    private enum Storage: Sendable {
        /// Encoded elements; `fileOffset` is where they start in `path`, for error messages.
        case encoded(ByteView, path: String, fileOffset: Int)
        case values([GGUFValue])
        /// Typed forms for the large arrays writers build (a tokenizer's 50K tokens, types and scores):
        /// no GGUFValue per element, encoded in one sized pass.
        case strings([String])
        case int32s([Int32])
        case float32s([Float])
    }
    private let storage: Storage

    init(elementType: GGUFValueType, count: Int, encoded: ByteView, path: String, fileOffset: Int) {
        self.elementType = elementType
        self.count = count
        storage = .encoded(encoded, path: path, fileOffset: fileOffset)
    }

    /// Values must all have `elementType` (not `.array`: llama.cpp rejects nested arrays).
    public init(_ elementType: GGUFValueType, _ values: [GGUFValue]) {
        self.elementType = elementType
        count = values.count
        storage = .values(values)
    }

    private init(_ elementType: GGUFValueType, count: Int, storage: Storage) {
        self.elementType = elementType
        self.count = count
        self.storage = storage
    }

    public static func strings(_ values: [String]) -> GGUFArray { GGUFArray(.string, count: values.count, storage: .strings(values)) }
    public static func int32s(_ values: [Int32]) -> GGUFArray { GGUFArray(.int32, count: values.count, storage: .int32s(values)) }
    public static func float32s(_ values: [Float]) -> GGUFArray { GGUFArray(.float32, count: values.count, storage: .float32s(values)) }

    /// The first `limit` elements decoded (all when nil). Strings are checked for UTF-8 here.
    public func values(limit: Int? = nil) throws(FormatError) -> [GGUFValue] {
        let n = min(count, limit ?? count)
        switch storage {
        case .values(let values):
            return Array(values.prefix(n))
        case .strings(let values):
            return values.prefix(n).map { .string($0) }
        case .int32s(let values):
            return values.prefix(n).map { .int32($0) }
        case .float32s(let values):
            return values.prefix(n).map { .float32($0) }
        case let .encoded(view, path, fileOffset):
            return try view.withUnsafeBytes { (raw) throws(FormatError) -> [GGUFValue] in
                var out: [GGUFValue] = []
                out.reserveCapacity(n)
                var at = 0
                for _ in 0..<n {
                    out.append(try Self.decode(elementType, raw, &at, path: path, fileOffset: fileOffset))
                }
                return out
            }
        }
    }

    /// Strings of a string array (nil when the array holds another type).
    public func stringValues(limit: Int? = nil) throws(FormatError) -> [String]? {
        guard elementType == .string else { return nil }
        return try values(limit: limit).compactMap(\.stringValue)
    }

    static func decode(_ type: GGUFValueType, _ raw: UnsafeRawBufferPointer, _ at: inout Int,
                       path: String, fileOffset: Int) throws(FormatError) -> GGUFValue {
        func load<T: FixedWidthInteger>(_: T.Type) -> T {
            defer { at += MemoryLayout<T>.size }
            return T(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: T.self))
        }
        switch type {
        case .uint8: return .uint8(load(UInt8.self))
        case .int8: return .int8(load(Int8.self))
        case .uint16: return .uint16(load(UInt16.self))
        case .int16: return .int16(load(Int16.self))
        case .uint32: return .uint32(load(UInt32.self))
        case .int32: return .int32(load(Int32.self))
        case .float32: return .float32(Float(bitPattern: load(UInt32.self)))
        case .bool: return .bool(load(UInt8.self) != 0)
        case .uint64: return .uint64(load(UInt64.self))
        case .int64: return .int64(load(Int64.self))
        case .float64: return .float64(Double(bitPattern: load(UInt64.self)))
        case .string:
            // Lengths were bounds-checked when the file was read.
            let length = Int(load(UInt64.self))
            let start = at
            at += length
            guard let text = String(validating: UnsafeRawBufferPointer(rebasing: raw[start..<at]), as: UTF8.self) else {
                throw .invalidUTF8(path: path, what: "gguf array string", offset: fileOffset + start)
            }
            return .string(text)
        case .array:
            throw .nestedArray(path: path, key: "(array element)", offset: fileOffset + at)
        }
    }

    func encodeElements(into out: inout [UInt8]) {
        let size = encodedElementsSize
        out.reserveCapacity(out.count + size)
        switch storage {
        case .encoded(let view, _, _):
            view.withUnsafeBytes { out.append(contentsOf: $0) }
        case .values(let values):
            for value in values { value.encode(into: &out) }
        case .strings(let values):
            // Written through one pointer into bytes made once: two Array appends per string took 4 ms for a
            // 50257-token vocabulary.
            out += Self.encoded(size) { p in
                var at = p
                for value in values {
                    let n = value.utf8.count
                    at.storeBytes(of: UInt64(n).littleEndian, as: UInt64.self)
                    at += 8
                    if value.utf8.withContiguousStorageIfAvailable({ at.copyMemory(from: $0.baseAddress!, byteCount: n) }) == nil {
                        for (i, byte) in value.utf8.enumerated() { at.storeBytes(of: byte, toByteOffset: i, as: UInt8.self) }
                    }
                    at += n
                }
            }
        case .int32s(let values):
            out += Self.encoded(size) { p in
                for (i, value) in values.enumerated() { p.storeBytes(of: value.littleEndian, toByteOffset: i * 4, as: Int32.self) }
            }
        case .float32s(let values):
            out += Self.encoded(size) { p in
                for (i, value) in values.enumerated() { p.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
            }
        }
    }

    /// `size` bytes, all written by `body`.
    private static func encoded(_ size: Int, _ body: (UnsafeMutableRawPointer) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            if let base = buffer.baseAddress { body(UnsafeMutableRawPointer(base)) }
            count = size
        }
    }

    /// Bytes `encodeElements` appends.
    var encodedElementsSize: Int {
        switch storage {
        case .encoded(let view, _, _): view.count
        case .values(let values): values.reduce(0) { $0 + $1.encodedSize }
        case .strings(let values): values.reduce(0) { $0 + 8 + $1.utf8.count }
        case .int32s(let values): values.count * 4
        case .float32s(let values): values.count * 4
        }
    }

    /// Equal when the element type and the encoded elements are equal.
    public static func == (a: GGUFArray, b: GGUFArray) -> Bool {
        guard a.elementType == b.elementType, a.count == b.count else { return false }
        var x: [UInt8] = [], y: [UInt8] = []
        a.encodeElements(into: &x)
        b.encodeElements(into: &y)
        return x == y
    }
}
