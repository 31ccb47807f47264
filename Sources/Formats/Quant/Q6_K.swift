/// Q6_K: `{u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}`, 210 bytes per 256 elements; 16 sub-blocks of 16
/// with signed 8-bit scales. ggml quantize_row_q6_K_ref / dequantize_row_q6_K.
public enum Q6_K: BlockCodec {
    public static let dtype = DType.q6_K
    static let qlOffset = 0, qhOffset = 128, scalesOffset = 192, dOffset = 208

    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) { quantize(x, weights: nil, into: y) }

    /// With `weights` (an importance matrix's 256 column weights of this block) the sub-block scales are
    /// fitted by make_qx_quants with them as quantize_row_q6_K_impl does; nil is the reference quantizer.
    static func quantize(_ x: UnsafePointer<Float>, weights: UnsafePointer<Float>?, into y: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { scaleBuffer in
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: 256 + 16) { buffer in
            let L = buffer.baseAddress!, sc = L + 256
            let scales = scaleBuffer.baseAddress!
            var maxScale: Float = 0, maxAbsScale: Float = 0
            for ib in 0..<16 {
                let scale = weights.map { WeightedSolvers.qx(16, 32, x + 16 * ib, L + 16 * ib, $0 + 16 * ib) }
                    ?? KQuantSolvers.qxFast(16, 32, x + 16 * ib, L + 16 * ib)
                scales[ib] = scale
                if abs(scale) > maxAbsScale { maxAbsScale = abs(scale); maxScale = scale }
            }
            if maxAbsScale < groupMaxEps {
                for k in 0..<210 { y.storeBytes(of: 0, toByteOffset: k, as: UInt8.self) }
                return
            }
            let iscale = -128 / maxScale
            y.storeHalf(1 / iscale, at: dOffset)
            for ib in 0..<16 {
                sc[ib] = Int8(truncatingIfNeeded: Swift.min(127, nearestInt(iscale * scales[ib])))
                y.storeBytes(of: sc[ib], toByteOffset: scalesOffset + ib, as: Int8.self)
            }
            let d = UnsafeRawPointer(y).loadHalf(at: dOffset)
            for j in 0..<16 {
                let dj = d * Float(sc[j])
                if dj == 0 { continue }
                for i in 0..<16 {
                    L[16 * j + i] = Int8(Swift.max(-32, Swift.min(31, nearestInt(x[16 * j + i] / dj))) + 32)
                }
            }
            for (c, j) in stride(from: 0, to: 256, by: 128).enumerated() {
                for l in 0..<32 {
                    let q1 = UInt8(bitPattern: L[j + l]), q2 = UInt8(bitPattern: L[j + l + 32])
                    let q3 = UInt8(bitPattern: L[j + l + 64]), q4 = UInt8(bitPattern: L[j + l + 96])
                    y.storeBytes(of: (q1 & 0xF) | ((q3 & 0xF) << 4), toByteOffset: qlOffset + 64 * c + l, as: UInt8.self)
                    y.storeBytes(of: (q2 & 0xF) | ((q4 & 0xF) << 4), toByteOffset: qlOffset + 64 * c + l + 32, as: UInt8.self)
                    let h = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)
                    y.storeBytes(of: h, toByteOffset: qhOffset + 32 * c + l, as: UInt8.self)
                }
            }
        }
        }
    }

    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: dOffset)
        for c in 0..<2 {
            let ql = qlOffset + 64 * c, qh = qhOffset + 32 * c, sc = scalesOffset + 8 * c
            let out = x + 128 * c
            for l in 0..<32 {
                let s = l / 16
                let h = y.byte(qh + l)
                let q1 = Int32((y.byte(ql + l) & 0xF) | ((h & 3) << 4)) - 32
                let q2 = Int32((y.byte(ql + l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32
                let q3 = Int32((y.byte(ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32
                let q4 = Int32((y.byte(ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32
                func scale(_ k: Int) -> Float { Float(y.load(fromByteOffset: sc + s + k, as: Int8.self)) }
                out[l] = d * scale(0) * Float(q1)
                out[l + 32] = d * scale(2) * Float(q2)
                out[l + 64] = d * scale(4) * Float(q3)
                out[l + 96] = d * scale(6) * Float(q4)
            }
        }
    }
}
