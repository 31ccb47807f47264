/// Q5_K: `{f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}`, 176 bytes per 256 elements; as Q4_K
/// with 5-bit values whose high bits sit in qh. ggml quantize_row_q5_K_ref / dequantize_row_q5_K.
public enum Q5_K: BlockCodec {
    public static let dtype = DType.q5_K
    static let dOffset = 0, dminOffset = 2, scalesOffset = 4, qhOffset = 16, qsOffset = 48

    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { L in
            KQuantScaleMin.quantizeScales(x, y, L.baseAddress!, nmax: 31, rmin: -0.5, rdelta: 0.1, nstep: 15,
                                          dOffset: dOffset, dminOffset: dminOffset, scalesOffset: scalesOffset)
            pack(L.baseAddress!, y)
        }
    }

    /// 5-bit codes L (0...31) into qs (low nibbles) and qh (high bits), as quantize_row_q5_K_ref/_impl end.
    static func pack(_ L: UnsafePointer<UInt8>, _ y: UnsafeMutableRawPointer) {
        var qh = [UInt8](repeating: 0, count: 32)
        var m1: UInt8 = 1, m2: UInt8 = 2
        for (c, n) in stride(from: 0, to: 256, by: 64).enumerated() {
            for j in 0..<32 {
                var l1 = L[n + j], l2 = L[n + j + 32]
                if l1 > 15 { l1 -= 16; qh[j] |= m1 }
                if l2 > 15 { l2 -= 16; qh[j] |= m2 }
                y.storeBytes(of: l1 | (l2 << 4), toByteOffset: qsOffset + 32 * c + j, as: UInt8.self)
            }
            m1 <<= 2
            m2 <<= 2
        }
        for j in 0..<32 { y.storeBytes(of: qh[j], toByteOffset: qhOffset + j, as: UInt8.self) }
    }

    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: dOffset), dmin = y.loadHalf(at: dminOffset)
        var out = x
        var u1: UInt8 = 1, u2: UInt8 = 2
        for c in 0..<4 {
            let (s1, m1) = KQuantSolvers.scaleMinK4(2 * c, y + scalesOffset)
            let (s2, m2) = KQuantSolvers.scaleMinK4(2 * c + 1, y + scalesOffset)
            let d1 = d * Float(s1), n1 = dmin * Float(m1), d2 = d * Float(s2), n2 = dmin * Float(m2)
            let ql = qsOffset + 32 * c
            for l in 0..<32 {
                let h: UInt8 = (y.byte(qhOffset + l) & u1) != 0 ? 16 : 0
                out[l] = d1 * Float((y.byte(ql + l) & 0xF) + h) - n1
            }
            for l in 0..<32 {
                let h: UInt8 = (y.byte(qhOffset + l) & u2) != 0 ? 16 : 0
                out[32 + l] = d2 * Float((y.byte(ql + l) >> 4) + h) - n2
            }
            out += 64
            u1 <<= 2
            u2 <<= 2
        }
    }
}
