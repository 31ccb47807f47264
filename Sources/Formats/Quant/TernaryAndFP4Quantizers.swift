import Foundation

// ggml's reference quantizers of the ternary types and MXFP4 (ggml-quants.c quantize_row_{tq1_0,tq2_0,mxfp4}_ref;
// llama-quantize calls them as they are, without an importance matrix). The layouts are the decoders' in
// IQuantDecoders.swift.

/// The block's largest |x| (ggml's MAX(amax, fabsf(v)) loop).
@inline(__always) private func absoluteMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var amax: Float = 0
    for j in 0..<n { amax = max(amax, abs(x[j])) }
    return amax
}

/// lroundf(x·id) + 1: −1, 0, 1 → 0, 1, 2. A block whose largest |x| is subnormal has id = inf, so x·id is ±inf or
/// NaN: x86-64's lroundf then returns LONG_MIN and ggml's `int xi = lroundf(…) + 1` keeps the low 32 bits, 1.
@inline(__always) private func ternaryCode(_ x: Float, _ id: Float) -> Int {
    let v = x * id
    guard v.isFinite else { return 1 }
    return Int(v.rounded(.toNearestOrAwayFromZero)) + 1
}

/// Five (or four, then shifted) trits as base 3, mapped to a byte by ceiling division (243 = 3^5).
@inline(__always) private func packTrits(_ q: Int) -> UInt8 { UInt8(truncatingIfNeeded: (UInt16(UInt8(truncatingIfNeeded: q)) * 256 + 242) / 243) }

extension TQ1_0: BlockCodec {
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        let d = absoluteMax(x, 256), id: Float = d != 0 ? 1 / d : 0
        y.storeHalf(d, at: 52)
        var x = x
        // qs[0..<32]: 5 trits each, strided by 32; qs[32..<48]: 5 trits strided by 16; qh[4]: 4 trits strided by 4.
        for m in 0..<32 {
            var q = 0
            for n in 0..<5 { q = q * 3 + ternaryCode(x[m + n * 32], id) }
            y.storeBytes(of: packTrits(q), toByteOffset: m, as: UInt8.self)
        }
        x += 160
        for m in 0..<16 {
            var q = 0
            for n in 0..<5 { q = q * 3 + ternaryCode(x[m + n * 16], id) }
            y.storeBytes(of: packTrits(q), toByteOffset: 32 + m, as: UInt8.self)
        }
        x += 80
        for j in 0..<4 {
            var q = 0
            for m in 0..<4 { q = q * 3 + ternaryCode(x[j + m * 4], id) }
            y.storeBytes(of: packTrits(q * 3), toByteOffset: 48 + j, as: UInt8.self)
        }
    }
}

extension TQ2_0: BlockCodec {
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        let d = absoluteMax(x, 256), id: Float = d != 0 ? 1 / d : 0
        y.storeHalf(d, at: 64)
        for j in stride(from: 0, to: 64, by: 32) {
            let base = x + 4 * j
            for m in 0..<32 {
                var q: UInt8 = 0
                for n in 0..<4 { q &+= UInt8(truncatingIfNeeded: ternaryCode(base[m + n * 32], id) & 3) << UInt8(2 * n) }
                y.storeBytes(of: q, toByteOffset: j + m, as: UInt8.self)
            }
        }
    }
}

extension MXFP4: BlockCodec {
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for j in 0..<32 where amax < abs(x[j]) { amax = abs(x[j]) }
        let e: UInt8 = amax > 0 ? UInt8(truncatingIfNeeded: Int(floorf(log2f(amax)) - 2 + 127)) : 0
        let d = halfScale(e)
        y.storeBytes(of: e, as: UInt8.self)
        // best_index_mxfp4: the first of the 16 values with the smallest |kvalue·d − x|.
        func best(_ v: Float) -> UInt8 {
            var index = 0
            var error = abs(Float(IQuantTables.fp4Values[0]) * d - v)
            for i in 1..<16 {
                let e = abs(Float(IQuantTables.fp4Values[i]) * d - v)
                if e < error {
                    index = i
                    error = e
                }
            }
            return UInt8(index)
        }
        for j in 0..<16 { y.storeBytes(of: best(x[j]) | best(x[16 + j]) << 4, toByteOffset: 1 + j, as: UInt8.self) }
    }
}
