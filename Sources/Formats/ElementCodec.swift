// Bit-exact conversions between stored elements and Float, matching ggml (formats.md §3.2):
// fp32 -> fp16 is IEEE round-to-nearest-even with NaN -> sign | 0x7E00; fp32 -> bf16 rounds to nearest
// even with no flush-to-zero and NaN -> quiet (u >> 16) | 64; both widenings are exact.

public enum Half {
    /// IEEE binary16 bits -> Float, exact (subnormals included).
    @inlinable public static func toFloat(_ bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }

    /// Float -> binary16 bits as ggml's `ggml_compute_fp32_to_fp16`.
    @inlinable public static func fromFloat(_ value: Float) -> UInt16 {
        if value.isNaN { return UInt16(truncatingIfNeeded: value.bitPattern >> 16) & 0x8000 | 0x7E00 }
        return Float16(value).bitPattern
    }
}

public enum BFloat16 {
    @inlinable public static func toFloat(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Float -> bfloat16 bits as ggml's `ggml_compute_fp32_to_bf16`.
    @inlinable public static func fromFloat(_ value: Float) -> UInt16 {
        let u = value.bitPattern
        if (u & 0x7fff_ffff) > 0x7f80_0000 { return UInt16(truncatingIfNeeded: (u >> 16) | 64) }
        return UInt16(truncatingIfNeeded: (u &+ (0x7fff &+ ((u >> 16) & 1))) >> 16)
    }
}

/// Element codecs for the plain (block size 1, byte-aligned) types: decode to Float / encode from Float.
/// Integer encodes are exact only for integral in-range values; they round toward zero and saturate.
public enum ElementCodec {
    public static let supported: Set<DType> = [.f64, .f32, .f16, .bf16, .i64, .i32, .i16, .i8, .u8]

    /// Decodes little-endian elements of `dtype` into Floats (F64 rounds to nearest, ints convert).
    public static func decode(_ bytes: UnsafeRawBufferPointer, as dtype: DType) -> [Float]? {
        guard supported.contains(dtype) else { return nil }
        let n = bytes.count / dtype.bytesPerBlock
        return [Float](unsafeUninitializedCapacity: n) { out, filled in
            for i in 0..<n {
                out[i] = element(bytes, i, dtype)
            }
            filled = n
        }
    }

    @inline(__always)
    static func element(_ bytes: UnsafeRawBufferPointer, _ i: Int, _ dtype: DType) -> Float {
        func load<T: FixedWidthInteger>(_: T.Type) -> T {
            T(littleEndian: bytes.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
        }
        switch dtype {
        case .f32: return Float(bitPattern: load(UInt32.self))
        case .f16: return Half.toFloat(load(UInt16.self))
        case .bf16: return BFloat16.toFloat(load(UInt16.self))
        case .f64: return Float(Double(bitPattern: load(UInt64.self)))
        case .i64: return Float(load(Int64.self))
        case .i32: return Float(load(Int32.self))
        case .i16: return Float(load(Int16.self))
        case .i8: return Float(load(Int8.self))
        default: return Float(load(UInt8.self))
        }
    }

    /// Encodes Floats as little-endian `dtype` elements.
    public static func encode(_ values: [Float], as dtype: DType) -> [UInt8]? {
        guard supported.contains(dtype) else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(values.count * dtype.bytesPerBlock)
        func put<T: FixedWidthInteger>(_ v: T) {
            withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
        }
        for v in values {
            switch dtype {
            case .f32: put(v.bitPattern)
            case .f16: put(Half.fromFloat(v))
            case .bf16: put(BFloat16.fromFloat(v))
            case .f64: put(Double(v).bitPattern)
            case .i64: put(Int64(saturating: v))
            case .i32: put(Int32(saturating: v))
            case .i16: put(Int16(saturating: v))
            case .i8: put(Int8(saturating: v))
            default: put(UInt8(saturating: v))
            }
        }
        return out
    }
}

extension FixedWidthInteger {
    /// Rounds toward zero, clamps to the type's range, NaN -> 0.
    @usableFromInline init(saturating value: Float) {
        if value.isNaN { self = 0; return }
        if value <= Float(Self.min) { self = Self.min; return }
        if value >= Float(Self.max) { self = Self.max; return }
        self.init(value.rounded(.towardZero))
    }
}
