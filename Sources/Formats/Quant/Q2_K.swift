/// Q2_K: `{u8 scales[16]; u8 qs[64]; f16 d; f16 dmin}`, 84 bytes per 256 elements; 16 sub-blocks of 16
/// with 4-bit scale (low nibble) and 4-bit min (high nibble). ggml quantize_row_q2_K_ref / dequantize_row_q2_K.
public enum Q2_K: BlockCodec {
    public static let dtype = DType.q2_K
    static let scalesOffset = 0, qsOffset = 16, dOffset = 80, dminOffset = 82

    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 48) { f in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256 + 80) { buffer in
            let L = buffer.baseAddress!, Laux = L + 256, packed = Laux + 64
            let w = f.baseAddress!, mins = w + 16, scales = w + 32
            var maxScale: Float = 0, maxMin: Float = 0
            for j in 0..<16 {
                for l in 0..<16 { w[l] = abs(x[16 * j + l]) }
                scales[j] = KQuantSolvers.qkx2Fast(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], Laux,
                                               rmin: -0.5, rdelta: 0.1, nstep: 15, useMad: true)
                if scales[j] > maxScale { maxScale = scales[j] }
                if mins[j] > maxMin { maxMin = mins[j] }
            }
            for j in 0..<16 { packed[j] = 0 }
            if maxScale > 0 {
                let iscale = 15 / maxScale
                for j in 0..<16 { packed[j] = UInt8(truncatingIfNeeded: nearestInt(iscale * scales[j])) }
                y.storeHalf(maxScale / 15, at: dOffset)
            } else {
                y.storeHalf(0, at: dOffset)
            }
            if maxMin > 0 {
                let iscale = 15 / maxMin
                for j in 0..<16 { packed[j] |= UInt8(truncatingIfNeeded: nearestInt(iscale * mins[j]) << 4) }
                y.storeHalf(maxMin / 15, at: dminOffset)
            } else {
                y.storeHalf(0, at: dminOffset)
            }
            for j in 0..<16 { y.storeBytes(of: packed[j], toByteOffset: scalesOffset + j, as: UInt8.self) }
            let d = UnsafeRawPointer(y).loadHalf(at: dOffset), dmin = UnsafeRawPointer(y).loadHalf(at: dminOffset)
            for j in 0..<16 {
                let dj = d * Float(packed[j] & 0xF)
                if dj == 0 { continue }  // keep the first pass's L, as ggml does
                let dm = dmin * Float(packed[j] >> 4)
                for i in 0..<16 {
                    L[16 * j + i] = UInt8(Swift.max(0, Swift.min(3, nearestInt((x[16 * j + i] + dm) / dj))))
                }
            }
            KQuantSolvers.pack2Bit(L, into: y + qsOffset)
        }
        }
    }

    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: dOffset), dmin = y.loadHalf(at: dminOffset)
        var out = x
        var scaleIndex = 0
        for n in stride(from: 0, to: 256, by: 128) {
            let q = qsOffset + n / 4
            var shift: UInt8 = 0
            for _ in 0..<4 {
                for half in 0..<2 {
                    let sc = y.byte(scalesOffset + scaleIndex)
                    scaleIndex += 1
                    let dl = d * Float(sc & 0xF), ml = dmin * Float(sc >> 4)
                    for l in 0..<16 {
                        out.pointee = dl * Float((y.byte(q + l + 16 * half) >> shift) & 3) - ml
                        out += 1
                    }
                }
                shift += 2
            }
        }
    }
}
