import CFloatRows
import Formats
import Testing

/// cfloatrows.c (FloatRows.narrow / transposeNarrow) against numpy's and gguf-py's bits from the codec
/// goldens and against the per-element codecs over a sweep of bit patterns (NaNs, subnormals, overflow), on
/// the F16C/AVX2 code and on the portable code.
@Suite(.serialized) struct FloatNarrowingTests {
    static func narrowed(_ values: [Float], _ dtype: DType, portable: Bool = false) -> [UInt16] {
        var out = [UInt16](repeating: 0xAAAA, count: values.count)
        let ok = values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBytes { FloatRows.narrow(v.baseAddress!, count: v.count, to: dtype, into: $0.baseAddress!, portable: portable) }
        }
        #expect(ok)
        return out
    }

    /// Every exponent, both signs, mantissas near the rounding points, and all NaN kinds.
    static let sweep: [Float] = {
        var bits: [UInt32] = [0x7FC0_0000, 0xFFC0_0000, 0x7F80_0001, 0xFF80_0001, 0x7FFF_FFFF, 0x7F80_0000, 0xFF80_0000]
        for exponent in UInt32(0)...255 {
            for mantissa: UInt32 in [0, 1, 0xFFF, 0x1000, 0x1001, 0x2000, 0x3000, 0x7FFF, 0x8000, 0x8001, 0x18000, 0x7F_E000, 0x7F_F000, 0x7F_FFFF] {
                bits.append(exponent << 23 | mantissa)
                bits.append(0x8000_0000 | exponent << 23 | mantissa)
            }
        }
        return bits.map { Float(bitPattern: $0) }
    }()

    @Test(arguments: [false, true])
    func narrowMatchesGoldensAndCodecs(portable: Bool) throws {
        let golden = try Fixtures.json("../codecs/codecs.json")
        let f32 = try #require(golden["f32_bits"]?.arrayValue).compactMap(\.uint64Value).map { Float(bitPattern: UInt32($0)) }
        let f16 = try #require(golden["f16_bits"]?.arrayValue).compactMap(\.uint64Value).map { UInt16($0) }
        #expect(Self.narrowed(f32, .f16, portable: portable) == f16, "f16 against numpy")
        let bfIn = try #require(golden["bf16_input_f32_bits"]?.arrayValue).compactMap(\.uint64Value).map { Float(bitPattern: UInt32($0)) }
        let bf = try #require(golden["bf16_bits"]?.arrayValue).compactMap(\.uint64Value).map { UInt16($0) }
        #expect(Self.narrowed(bfIn, .bf16, portable: portable) == bf, "bf16 against gguf-py")
        for (dtype, codec) in [(DType.f16, Half.fromFloat), (.bf16, BFloat16.fromFloat)] {
            let got = Self.narrowed(Self.sweep, dtype, portable: portable), want = Self.sweep.map(codec)
            let bad = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(bad == nil, "\(dtype.name): f32 bits \(String(Self.sweep[bad?.offset ?? 0].bitPattern, radix: 16))")
        }
    }

    /// A block of columns transposed into its own buffer equals the same rows of the whole transpose.
    @Test(arguments: [false, true])
    func transposedColumnsEqualElementwise(portable: Bool) {
        let rows = 37, cols = 29, columns = 5..<26
        let src = (0..<(rows * cols)).map { Self.sweep[($0 * 7919) % Self.sweep.count] }
        for dtype in [DType.f32, .f16, .bf16] {
            let size = dtype.bytesPerBlock
            var out = [UInt8](repeating: 0xAA, count: columns.count * rows * size)
            let ok = src.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBytes { FloatRows.transposeNarrow(s.baseAddress!, rows: rows, cols: cols, columns: columns, to: dtype, into: $0.baseAddress!, portable: portable) }
            }
            var want: [UInt8] = []
            for c in columns {
                for r in 0..<rows {
                    let v = src[r * cols + c]
                    switch dtype {
                    case .f32: withUnsafeBytes(of: v.bitPattern.littleEndian) { want += $0 }
                    case .f16: withUnsafeBytes(of: Half.fromFloat(v).littleEndian) { want += $0 }
                    default: withUnsafeBytes(of: BFloat16.fromFloat(v).littleEndian) { want += $0 }
                    }
                }
            }
            #expect(ok && out == want, "\(dtype.name) portable \(portable)")
        }
    }

    /// Bands of source rows, each transposed into its columns of the whole output (output stride = all
    /// rows), make the same bytes as one transpose of the whole matrix, short last band included.
    @Test(arguments: [false, true])
    func bandsTransposedIntoTheWholeOutputEqualOneTranspose(portable: Bool) {
        let rows = 37, cols = 29, band = 8
        let src = (0..<(rows * cols)).map { Self.sweep[($0 * 7919) % Self.sweep.count] }
        for dtype in [DType.f32, .f16, .bf16] {
            let size = dtype.bytesPerBlock
            var whole = [UInt8](repeating: 0xAA, count: rows * cols * size), banded = whole
            src.withUnsafeBufferPointer { s in
                whole.withUnsafeMutableBytes { _ = FloatRows.transposeNarrow(s.baseAddress!, rows: rows, cols: cols, columns: 0..<cols, to: dtype, into: $0.baseAddress!, portable: portable) }
                banded.withUnsafeMutableBytes { out in
                    for r0 in stride(from: 0, to: rows, by: band) {
                        _ = FloatRows.transposeNarrow(s.baseAddress! + r0 * cols, rows: min(band, rows - r0), cols: cols, columns: 0..<cols,
                                                      to: dtype, into: out.baseAddress! + r0 * size, outputStride: rows, portable: portable)
                    }
                }
            }
            #expect(banded == whole, "\(dtype.name) portable \(portable)")
        }
    }
}
