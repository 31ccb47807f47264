/// Q3_K: `{u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}`, 110 bytes per 256 elements; 16 sub-blocks of
/// 16 with signed 6-bit scales. ggml quantize_row_q3_K_ref / dequantize_row_q3_K.
public enum Q3_K: BlockCodec {
    public static let dtype = DType.q3_K
    static let hmaskOffset = 0, qsOffset = 32, scalesOffset = 96, dOffset = 108

    /// The j-th 6-bit scale, unsigned (0..63): low 4 bits in scales[0..7] nibbles, high 2 bits in scales[8..11].
    @inline(__always)
    static func scale(_ j: Int, _ s: UnsafeRawPointer) -> Int32 {
        let low = j < 8 ? s.byte(j) & 0xF : s.byte(j - 8) >> 4
        return Int32(low | (((s.byte(8 + j % 4) >> UInt8(2 * (j / 4))) & 3) << 4))
    }

    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { scaleBuffer in
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: 256) { buffer in
            let L = buffer.baseAddress!
            let scales = scaleBuffer.baseAddress!
            var maxScale: Float = 0, amax: Float = 0
            for j in 0..<16 {
                scales[j] = KQuantSolvers.q3(16, 4, x + 16 * j, L + 16 * j)
                let s = abs(scales[j])
                if s > amax { amax = s; maxScale = scales[j] }
            }
            let s = y + scalesOffset
            for k in 0..<12 { s.storeBytes(of: 0, toByteOffset: k, as: UInt8.self) }
            if maxScale != 0 {
                let iscale = -32 / maxScale
                for j in 0..<16 {
                    var l = Int8(truncatingIfNeeded: nearestInt(iscale * scales[j]))
                    l = Swift.max(-32, Swift.min(31, l)) + 32
                    let u = UInt8(bitPattern: l)
                    if j < 8 {
                        s.storeBytes(of: u & 0xF, toByteOffset: j, as: UInt8.self)
                    } else {
                        s.storeBytes(of: UnsafeRawPointer(s).byte(j - 8) | ((u & 0xF) << 4), toByteOffset: j - 8, as: UInt8.self)
                    }
                    let high = u >> 4
                    s.storeBytes(of: UnsafeRawPointer(s).byte(8 + j % 4) | (high << UInt8(2 * (j / 4))), toByteOffset: 8 + j % 4, as: UInt8.self)
                }
                y.storeHalf(1 / iscale, at: dOffset)
            } else {
                y.storeHalf(0, at: dOffset)
            }
            finish(x, L, y)
        }
        }
    }

    /// The codes against the stored scales (L holds the first pass's codes where a scale is 0), the high bits
    /// into hmask and the low two bits packed: the end of both quantize_row_q3_K_ref and _impl.
    static func finish(_ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>, _ y: UnsafeMutableRawPointer) {
        let s = y + scalesOffset
        let d = UnsafeRawPointer(y).loadHalf(at: dOffset)
        for j in 0..<16 {
            let sc = Int8(truncatingIfNeeded: scale(j, UnsafeRawPointer(s)) - 32)
            let dj = d * Float(sc)
            if dj == 0 { continue }
            for i in 0..<16 {
                L[16 * j + i] = Int8(Swift.max(-4, Swift.min(3, nearestInt(x[16 * j + i] / dj))) + 4)
            }
        }
        // High bit of element j goes to hmask[j % 32], bit j / 32.
        for k in 0..<32 { y.storeBytes(of: 0, toByteOffset: hmaskOffset + k, as: UInt8.self) }
        for j in 0..<256 where L[j] > 3 {
            let at = hmaskOffset + j % 32
            y.storeBytes(of: UnsafeRawPointer(y).byte(at) | UInt8(1 << (j / 32)), toByteOffset: at, as: UInt8.self)
            L[j] -= 4
        }
        L.withMemoryRebound(to: UInt8.self, capacity: 256) { KQuantSolvers.pack2Bit($0, into: y + qsOffset) }
    }

    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: dOffset)
        let s = y + scalesOffset
        var out = x
        var scaleIndex = 0
        var m: UInt8 = 1
        for n in stride(from: 0, to: 256, by: 128) {
            let q = qsOffset + n / 4
            var shift: UInt8 = 0
            for _ in 0..<4 {
                for half in 0..<2 {
                    let dl = d * Float(scale(scaleIndex, s) - 32)
                    scaleIndex += 1
                    for l in 0..<16 {
                        let k = l + 16 * half
                        let q2 = Int32((y.byte(q + k) >> shift) & 3)
                        let h: Int32 = (y.byte(hmaskOffset + k) & m) != 0 ? 0 : 4
                        out.pointee = dl * Float(q2 - h)
                        out += 1
                    }
                }
                shift += 2
                m <<= 1
            }
        }
    }
}
