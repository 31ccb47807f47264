// The 32-element ggml blocks (formats.md §3.4; ggml-quants.c quantize_row_q{4,5,8}_{0,1}_ref and
// dequantize_row_*). `d` is stored as fp16 of the unrounded f32 value; `id` uses the f32 `d`.
// Nibble layout: byte j's low nibble is element j, its high nibble element j + 16.

/// Largest |x| and its signed value, first occurrence (Q4_0, Q5_0).
@inline(__always)
private func signedAbsMax(_ x: UnsafePointer<Float>) -> Float {
    var amax: Float = 0, max: Float = 0
    for j in 0..<32 where amax < abs(x[j]) {
        amax = abs(x[j])
        max = x[j]
    }
    return max
}

@inline(__always)
private func minMax(_ x: UnsafePointer<Float>) -> (min: Float, max: Float) {
    var min = Float.greatestFiniteMagnitude, max = -Float.greatestFiniteMagnitude
    for j in 0..<32 {
        if x[j] < min { min = x[j] }
        if x[j] > max { max = x[j] }
    }
    return (min, max)
}

/// `{f16 d; u8 qs[16]}`, 18 bytes.
public enum Q4_0: BlockCodec {
    public static let dtype = DType.q4_0
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        let d = signedAbsMax(x) / -8
        let id: Float = d != 0 ? 1.0 / d : 0.0
        y.storeHalf(d, at: 0)
        for j in 0..<16 {
            let xi0 = min(15, Int32(cInt8(x[j] * id + 8.5)))
            let xi1 = min(15, Int32(cInt8(x[j + 16] * id + 8.5)))
            y.storeBytes(of: UInt8(truncatingIfNeeded: xi0) | UInt8(truncatingIfNeeded: xi1 << 4), toByteOffset: 2 + j, as: UInt8.self)
        }
    }
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 0)
        for j in 0..<16 {
            let q = y.byte(2 + j)
            x[j] = Float(Int32(q & 0x0F) - 8) * d
            x[j + 16] = Float(Int32(q >> 4) - 8) * d
        }
    }
}

/// `{f16 d; f16 m; u8 qs[16]}`, 20 bytes.
public enum Q4_1: BlockCodec {
    public static let dtype = DType.q4_1
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        let (lo, hi) = minMax(x)
        let d = (hi - lo) / 15
        let id: Float = d != 0 ? 1.0 / d : 0.0
        y.storeHalf(d, at: 0)
        y.storeHalf(lo, at: 2)
        for j in 0..<16 {
            let xi0 = min(15, Int32(cInt8((x[j] - lo) * id + 0.5)))
            let xi1 = min(15, Int32(cInt8((x[j + 16] - lo) * id + 0.5)))
            y.storeBytes(of: UInt8(truncatingIfNeeded: xi0) | UInt8(truncatingIfNeeded: xi1 << 4), toByteOffset: 4 + j, as: UInt8.self)
        }
    }
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 0), m = y.loadHalf(at: 2)
        for j in 0..<16 {
            let q = y.byte(4 + j)
            x[j] = Float(q & 0x0F) * d + m
            x[j + 16] = Float(q >> 4) * d + m
        }
    }
}

/// `{f16 d; u8 qh[4]; u8 qs[16]}`, 22 bytes; bit j of qh (u32 LE) is element j's fifth bit.
public enum Q5_0: BlockCodec {
    public static let dtype = DType.q5_0
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        let d = signedAbsMax(x) / -16
        let id: Float = d != 0 ? 1.0 / d : 0.0
        y.storeHalf(d, at: 0)
        var qh: UInt32 = 0
        for j in 0..<16 {
            let xi0 = UInt8(truncatingIfNeeded: min(31, Int32(cInt8(x[j] * id + 16.5))))
            let xi1 = UInt8(truncatingIfNeeded: min(31, Int32(cInt8(x[j + 16] * id + 16.5))))
            y.storeBytes(of: (xi0 & 0x0F) | ((xi1 & 0x0F) << 4), toByteOffset: 6 + j, as: UInt8.self)
            qh |= UInt32((xi0 & 0x10) >> 4) << UInt32(j)
            qh |= UInt32((xi1 & 0x10) >> 4) << UInt32(j + 16)
        }
        y.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
    }
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 0)
        let qh = UInt32(littleEndian: y.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        for j in 0..<16 {
            let q = y.byte(6 + j)
            let h0 = Int32((qh >> UInt32(j)) & 1) << 4, h1 = Int32((qh >> UInt32(j + 16)) & 1) << 4
            x[j] = Float((Int32(q & 0x0F) | h0) - 16) * d
            x[j + 16] = Float((Int32(q >> 4) | h1) - 16) * d
        }
    }
}

/// `{f16 d; f16 m; u8 qh[4]; u8 qs[16]}`, 24 bytes.
public enum Q5_1: BlockCodec {
    public static let dtype = DType.q5_1
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        let (lo, hi) = minMax(x)
        let d = (hi - lo) / 31
        let id: Float = d != 0 ? 1.0 / d : 0.0
        y.storeHalf(d, at: 0)
        y.storeHalf(lo, at: 2)
        var qh: UInt32 = 0
        for j in 0..<16 {
            let xi0 = cUInt8((x[j] - lo) * id + 0.5)  // no clamp, as in C
            let xi1 = cUInt8((x[j + 16] - lo) * id + 0.5)
            y.storeBytes(of: (xi0 & 0x0F) | ((xi1 & 0x0F) << 4), toByteOffset: 8 + j, as: UInt8.self)
            qh |= UInt32((xi0 & 0x10) >> 4) << UInt32(j)
            qh |= UInt32((xi1 & 0x10) >> 4) << UInt32(j + 16)
        }
        y.storeBytes(of: qh.littleEndian, toByteOffset: 4, as: UInt32.self)
    }
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 0), m = y.loadHalf(at: 2)
        let qh = UInt32(littleEndian: y.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        for j in 0..<16 {
            let q = y.byte(8 + j)
            let h0 = UInt32((qh >> UInt32(j)) & 1) << 4, h1 = UInt32((qh >> UInt32(j + 16)) & 1) << 4
            x[j] = Float(UInt32(q & 0x0F) | h0) * d + m
            x[j + 16] = Float(UInt32(q >> 4) | h1) * d + m
        }
    }
}

/// `{f16 d; i8 qs[32]}`, 34 bytes; `roundf` (half away from zero).
public enum Q8_0: BlockCodec {
    public static let dtype = DType.q8_0
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for j in 0..<32 { let a = abs(x[j]); amax = amax > a ? amax : a }  // C MAX(amax, fabsf(v))
        let d = amax / 127
        let id: Float = d != 0 ? 1.0 / d : 0.0
        y.storeHalf(d, at: 0)
        for j in 0..<32 {
            y.storeBytes(of: cInt8(cRound(x[j] * id)), toByteOffset: 2 + j, as: Int8.self)
        }
    }
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 0)
        for j in 0..<32 { x[j] = Float(y.load(fromByteOffset: 2 + j, as: Int8.self)) * d }
    }
}
