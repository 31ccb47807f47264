/// Q4_K: `{f16 d; f16 dmin; u8 scales[12]; u8 qs[128]}`, 144 bytes per 256 elements; 8 sub-blocks of 32
/// with 6-bit scales and mins (`KQuantSolvers.scaleMinK4`). ggml quantize_row_q4_K_ref / dequantize_row_q4_K.
public enum Q4_K: BlockCodec {
    public static let dtype = DType.q4_K
    static let dOffset = 0, dminOffset = 2, scalesOffset = 4, qsOffset = 16

    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { L in
            KQuantScaleMin.quantizeScales(x, y, L.baseAddress!, nmax: 15, rmin: -1.0, rdelta: 0.1, nstep: 20,
                                          dOffset: dOffset, dminOffset: dminOffset, scalesOffset: scalesOffset)
            var q = y + qsOffset
            for j in stride(from: 0, to: 256, by: 64) {
                for l in 0..<32 { q.storeBytes(of: L[j + l] | (L[j + l + 32] << 4), toByteOffset: l, as: UInt8.self) }
                q += 32
            }
        }
    }

    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: dOffset), dmin = y.loadHalf(at: dminOffset)
        var out = x
        for (c, j) in stride(from: 0, to: 256, by: 64).enumerated() {
            let (s1, m1) = KQuantSolvers.scaleMinK4(2 * c, y + scalesOffset)
            let (s2, m2) = KQuantSolvers.scaleMinK4(2 * c + 1, y + scalesOffset)
            let d1 = d * Float(s1), n1 = dmin * Float(m1), d2 = d * Float(s2), n2 = dmin * Float(m2)
            let q = qsOffset + j / 2
            for l in 0..<32 { out[l] = d1 * Float(y.byte(q + l) & 0xF) - n1 }
            for l in 0..<32 { out[32 + l] = d2 * Float(y.byte(q + l) >> 4) - n2 }
            out += 64
        }
    }
}

/// The scale/min half shared by Q4_K and Q5_K (they differ in nmax, search parameters and packing).
enum KQuantScaleMin {
    /// First pass (make_qkx2_quants per 32-element sub-block, weights av_x + |x|), 6-bit scale/min packing,
    /// d/dmin, then the second pass that requantizes each sub-block against the stored scales into L.
    static func quantizeScales(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ L: UnsafeMutablePointer<UInt8>,
                               nmax: Int32, rmin: Float, rdelta: Float, nstep: Int,
                               dOffset: Int, dminOffset: Int, scalesOffset: Int) {
        // Scratch on the stack: mins[8], scales[8], weights[32] floats and Laux[4×32] bytes (no heap per block).
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 48) { f in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { aux in
        let mins = f.baseAddress!, scales = mins + 8, w = mins + 16
        var maxScale: Float = 0, maxMin: Float = 0
        for j in 0..<8 {
            var sumX2: Float = 0
            for l in 0..<32 { sumX2 += x[32 * j + l] * x[32 * j + l] }
            let avX = (sumX2 / 32).squareRoot()
            for l in 0..<32 { w[l] = avX + abs(x[32 * j + l]) }
            scales[j] = KQuantSolvers.qkx2Fast(32, nmax, x + 32 * j, w, L + 32 * j, &mins[j],
                                           aux.baseAddress!, rmin: rmin, rdelta: rdelta, nstep: nstep, useMad: false)
            if scales[j] > maxScale { maxScale = scales[j] }
            if mins[j] > maxMin { maxMin = mins[j] }
        }
        let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
        let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
        packScales(y + scalesOffset) { j in
            (Swift.min(63, UInt8(truncatingIfNeeded: nearestInt(invScale * scales[j]))),
             Swift.min(63, UInt8(truncatingIfNeeded: nearestInt(invMin * mins[j]))))
        }
        y.storeHalf(maxScale / 63, at: dOffset)
        y.storeHalf(maxMin / 63, at: dminOffset)
        let d = UnsafeRawPointer(y).loadHalf(at: dOffset), dmin = UnsafeRawPointer(y).loadHalf(at: dminOffset)
        for j in 0..<8 {
            let (sc, m) = KQuantSolvers.scaleMinK4(j, UnsafeRawPointer(y + scalesOffset))
            let dj = d * Float(sc)
            if dj == 0 { continue }
            let dm = dmin * Float(m)
            for i in 0..<32 {
                L[32 * j + i] = UInt8(Swift.max(0, Swift.min(nmax, nearestInt((x[32 * j + i] + dm) / dj))))
            }
        }
        }
        }
    }

    /// The 12 scale bytes of Q4_K/Q5_K from 8 (scale, min) pairs of 6 bits: pairs 0–3 in the low 6 bits of bytes
    /// 0–3 and 4–7, pairs 4–7 as nibbles of bytes 8–11 with their top 2 bits in the high bits of bytes 0–7.
    static func packScales(_ s: UnsafeMutableRawPointer, _ pair: (Int) -> (scale: UInt8, min: UInt8)) {
        for k in 0..<12 { s.storeBytes(of: 0, toByteOffset: k, as: UInt8.self) }
        func put(_ k: Int, _ v: UInt8) { s.storeBytes(of: v, toByteOffset: k, as: UInt8.self) }
        func get(_ k: Int) -> UInt8 { UnsafeRawPointer(s).byte(k) }
        for j in 0..<8 {
            let (ls, lm) = pair(j)
            if j < 4 {
                put(j, ls)
                put(j + 4, lm)
            } else {
                put(j + 4, (ls & 0xF) | ((lm & 0xF) << 4))
                put(j - 4, get(j - 4) | ((ls >> 4) << 6))
                put(j, get(j) | ((lm >> 4) << 6))
            }
        }
    }
}
