@testable import Formats
import Testing

/// The pieces streaming conversion is built from: pread copies of mapped views, reusable buffers, the
/// typed GGUF arrays tokenizers are written with, and where a safetensors key sits in its header.
@Suite struct StreamingReadTests {
    /// copyBytes (pread) gives exactly the bytes the mapping shows, at unaligned offsets and lengths, for
    /// views that start inside the file; owned and size-only views copy what they hold.
    @Test func copyBytesEqualsTheMapping() throws {
        let folder = try Fixtures.temporaryFolder()
        let path = folder + "/bytes.bin"
        let bytes = (0..<20_011).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        try Fixtures.writeFile(path, bytes)
        let file = try MappedFile(path: path)
        let view = try file.view(13..<19_997, what: "test")
        for range in [0..<0, 0..<1, 5..<4_101, 4_095..<12_289, 0..<view.count] {
            var out = [UInt8](repeating: 0xAA, count: range.count + 1)
            out.withUnsafeMutableBytes { view.copyBytes(range, to: $0.baseAddress!) }
            #expect(Array(out.prefix(range.count)) == Array(bytes[(13 + range.lowerBound)..<(13 + range.upperBound)]), "\(range)")
            #expect(out.last == 0xAA, "wrote past \(range)")
        }
        let owned = ByteView(owned: Array(bytes.prefix(100))).slice(10..<60)
        var out = [UInt8](repeating: 0, count: 20)
        out.withUnsafeMutableBytes { owned.copyBytes(5..<25, to: $0.baseAddress!) }
        #expect(out == Array(bytes[15..<35]))
        var untouched = [UInt8](repeating: 7, count: 8)
        untouched.withUnsafeMutableBytes { ByteView(size: 64).copyBytes(0..<8, to: $0.baseAddress!) }
        #expect(untouched == [UInt8](repeating: 7, count: 8))
    }

    /// A scratch buffer keeps its memory until asked for more, then gives at least that much, writable.
    @Test func scratchBufferGrowsOnlyWhenAsked() {
        let scratch = ScratchBuffer(capacity: 4096)
        let first = scratch.reserve(100)
        #expect(scratch.capacity == 4096)
        #expect(scratch.reserve(4096) == first)
        let grown = scratch.reserve(1 << 20)
        #expect(scratch.capacity >= 1 << 20)
        grown.storeBytes(of: 0x1234_5678, toByteOffset: (1 << 20) - 8, as: UInt64.self)
        #expect(grown.load(fromByteOffset: (1 << 20) - 8, as: UInt64.self) == 0x1234_5678)
    }

    /// Typed arrays encode to the same bytes as arrays of GGUFValue, decode to the same values, and
    /// encodedSize counts what encode appends, for every kind of value.
    @Test func typedArraysEncodeAsValueArrays() {
        let strings = ["", "a", "héllo", "[PAD50256]", String(repeating: "x", count: 300)]
        let ints: [Int32] = [0, -1, .max, .min, 42], floats: [Float] = [0, -0, 1.5, -.infinity, .nan]
        let pairs: [(GGUFArray, GGUFArray)] = [
            (.strings(strings), GGUFArray(.string, strings.map { .string($0) })),
            (.int32s(ints), GGUFArray(.int32, ints.map { .int32($0) })),
            (.float32s(floats), GGUFArray(.float32, floats.map { .float32($0) })),
        ]
        for (typed, values) in pairs {
            #expect(typed == values)
            var a: [UInt8] = [], b: [UInt8] = []
            GGUFValue.array(typed).encode(into: &a)
            GGUFValue.array(values).encode(into: &b)
            #expect(a == b && a.count == GGUFValue.array(typed).encodedSize)
            func encoded(_ array: GGUFArray) -> [[UInt8]]? {
                (try? array.values())?.map { value in
                    var out: [UInt8] = []
                    value.encode(into: &out)
                    return out
                }
            }
            #expect(encoded(typed) != nil && encoded(typed) == encoded(values))
        }
        let scalars: [GGUFValue] = [.uint8(1), .int8(-1), .uint16(2), .int16(-2), .uint32(3), .int32(-3), .float32(1),
                                    .bool(true), .string("ключ"), .uint64(4), .int64(-4), .float64(2)]
        for value in scalars {
            var out: [UInt8] = []
            value.encode(into: &out)
            #expect(out.count == value.encodedSize, "\(value)")
        }
    }

    /// The key's own quoted name followed by a colon, not the same text appearing earlier as a value.
    @Test func locateFindsTheKeyNotAnEarlierValue() {
        let header = Array(#"{"b": {"dtype": "a", "shape": []}, "a" : {"dtype": "F32"}}"#.utf8)
        let at = header.withUnsafeBytes { SafetensorsFile.locate("a", in: $0) }
        #expect(at == 8 + 35)
        #expect(Array(header[35..<38]) == Array(#""a""#.utf8))
        #expect(header.withUnsafeBytes { SafetensorsFile.locate("missing", in: $0) } == 8)
    }

    /// The search starts where the previous key was found (keys come in file order); a key before that
    /// point (a hint past it) is still found, from the beginning.
    @Test func locateFromAHintFindsKeysEitherSide() {
        let header = Array(#"{"b": {"dtype": "a", "shape": []}, "a" : {"dtype": "F32"}}"#.utf8)
        header.withUnsafeBytes { raw in
            #expect(SafetensorsFile.locate("a", in: raw, from: 2) == 8 + 35)
            #expect(SafetensorsFile.locate("b", in: raw, from: 36) == 8 + 1)
            #expect(SafetensorsFile.locate("a", in: raw, from: 36) == 8 + 35)
            #expect(SafetensorsFile.locate("missing", in: raw, from: 20) == 8)
        }
    }
}
