import CFloatRows

/// Fast paths for the plain float types, which the block machinery would handle one element per call:
/// widening F16/BF16 rows, viewing F32 data in place, and the NaN/Inf scan ggml runs before quantizing.
/// Tested against the per-element codecs (same bits).
public enum FloatRows {
    /// Widens `count` elements of F32/F16/BF16 into `out`; false for any other type.
    static func widen(_ src: UnsafeRawPointer, _ dtype: DType, count: Int, into out: UnsafeMutablePointer<Float>) -> Bool {
        switch dtype {
        case .f32:
            out.update(from: src.assumingMemoryBound(to: Float.self), count: count)  // mapped data is 32-byte aligned
        case .f16:
            let h = src.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: h[i]))) }
        case .bf16:
            let h = src.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: h[i])) << 16) }
        default:
            return false
        }
        return true
    }

    /// Narrows `count` f32 values to F16 (round to nearest even, as numpy and ggml; a NaN becomes sign | 0x7E00)
    /// or BF16 (ggml's rounding); false for any other type. cfloatrows.c: F16C/AVX2 where the CPU has them,
    /// the same bits as `Half.fromFloat` / `BFloat16.fromFloat` (little-endian hosts).
    /// `portable`: the C rounding even where F16C/AVX2 exist (tests compare both).
    public static func narrow(_ src: UnsafePointer<Float>, count: Int, to dtype: DType, into out: UnsafeMutableRawPointer,
                              portable: Bool = false) -> Bool {
        guard let kind = narrowKind(dtype), dtype != .f32 else { return false }
        cf_narrow(portable ? kind | Int32(CF_PORTABLE) : kind, src, Int64(count), out)
        return true
    }

    /// src [rows, cols] f32 transposed to [cols, rows] stored as F32/F16/BF16, output rows `columns` only, into
    /// out [columns.count, outputStride] (callers split the columns across threads); false for any other type.
    /// `outputStride` (elements, default rows) is larger when src is a band of rows of a taller matrix whose
    /// transpose `out` points into.
    public static func transposeNarrow(_ src: UnsafePointer<Float>, rows: Int, cols: Int, columns: Range<Int>,
                                       to dtype: DType, into out: UnsafeMutableRawPointer, outputStride: Int? = nil,
                                       portable: Bool = false) -> Bool {
        guard let kind = narrowKind(dtype) else { return false }
        let stride = outputStride ?? rows
        precondition(stride >= rows, "transposeNarrow: output stride below the row count")
        cf_transpose_narrow(portable ? kind | Int32(CF_PORTABLE) : kind, src, Int64(rows), Int64(cols), Int64(columns.lowerBound), Int64(columns.upperBound), out, Int64(stride))
        return true
    }

    static func narrowKind(_ dtype: DType) -> Int32? {
        switch dtype {
        case .f32: Int32(CF_F32)
        case .f16: Int32(CF_F16)
        case .bf16: Int32(CF_BF16)
        default: nil
        }
    }

    /// Calls `body` with the tensor's values as f32: F32 data in place (no copy), anything else decoded.
    public static func withFloats<R>(_ tensor: RawTensor, path: String, threads: Int,
                                     _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        if tensor.dtype == .f32 {
            return try tensor.data.withUnsafeBytes { raw in
                if Int(bitPattern: raw.baseAddress) % MemoryLayout<Float>.alignment == 0 {
                    return try body(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: Float.self),
                                                        count: raw.count / 4))
                }
                let copy = Array(raw.bindMemory(to: UInt8.self))
                return try copy.withUnsafeBytes { try body($0.bindMemory(to: Float.self)) }
            }
        }
        let values = try Quantization.dequantize(tensor, path: path, threads: threads)
        return try values.withUnsafeBufferPointer(body)
    }

    /// Index of the first NaN or infinity, scanning 16 lanes at a time (ggml_validate_row_data's check).
    public static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
        guard let base = values.baseAddress else { return nil }
        let exponent = SIMD16<UInt32>(repeating: 0x7F80_0000)
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 16 <= values.count {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<UInt32>.self)
            if any((v & exponent) .== exponent) { break }
            i += 16
        }
        while i < values.count {
            if !values[i].isFinite { return i }
            i += 1
        }
        return nil
    }
}
