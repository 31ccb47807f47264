import Foundation

/// ggml's quantize_row_iq2_xs_impl and quantize_row_iq2_s_impl for one super-block of 256: per 16 values the signs
/// apart, a search over 19 trial scales (step 0.1) with each group of eight snapped to the lattice (or its best
/// neighbour), a refit of the groups that were off it, then 4-bit sub-block scales under d = max/31.
/// - IQ2_XS {f16 d; u16 qs[32]: grid index | 7 sign bits << 9; u8 scales[8]}: the eighth sign of a group is implied
///   by even parity (an odd count flips the value with the smallest w·x²); σ² = Σx²/256; needs an imatrix.
/// - IQ2_S {f16 d; u8 qs[32] index low bytes, u8 signs[32]; u8 qh[8] index bits 8-9; u8 scales[8]}: all eight
///   signs stored; σ² = 2Σx²/256; weights 0.25σ² + x² without an imatrix; d stored ×0.9875.
enum IQ2Quantizer {
    enum Variant { case xs, s }

    static func quantize(_ variant: Variant, _ xbl: UnsafePointer<Float>, weights qw: UnsafePointer<Float>?,
                         into y: UnsafeMutableRawPointer) {
        let lattice = variant == .xs ? IQLattice.iq2xs : IQLattice.iq2s
        let size = variant == .xs ? 74 : 82
        y.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        let sigma2 = IQLattice.sigma2(xbl, factor: variant == .xs ? 1 : 2)
        let eps: Float = variant == .xs ? 1e-15 : 1e-8
        var scales = [Float](repeating: 0, count: 16)
        var weight = [Float](repeating: 0, count: 16), waux = [Float](repeating: 0, count: 16), xval = [Float](repeating: 0, count: 16)
        var L = [Int8](repeating: 0, count: 16)
        var signs = [UInt8](repeating: 0, count: 2)
        var maxScale: Float = 0
        L.withUnsafeMutableBufferPointer { Lp in
        for ib in 0..<16 {
            let xb = xbl + 16 * ib
            IQLattice.weights(xb, count: 16, qw.map { $0 + 16 * ib }, sigma2: sigma2, plain: { 0.25 * sigma2 + $0 * $0 },
                              into: &weight, roots: &waux)
            IQLattice.separateSigns(xb, weights: weight, evenParity: variant == .xs, magnitudes: &xval, signs: &signs)
            var maxValue = xval[0]
            for i in 1..<16 { maxValue = max(maxValue, xval[i]) }
            for i in 0..<16 { Lp[i] = 0 }
            if maxValue < eps { continue }  // scales[ib] stays 0, the groups' bytes 0
            var scale = lattice.searchScale(xval, weights: weight, roots: waux, max: maxValue, trials: -9...9, step: 0.1,
                                            initiallyOnGrid: true, refitAll: false, levels: Lp.baseAddress!)
            if scale < 0 {
                scale = -scale
                for k in 0..<2 { signs[k] = variant == .xs ? ~signs[k] & 127 : ~signs[k] }
            }
            for k in 0..<2 {
                let g = Int(lattice.index(UnsafePointer(Lp.baseAddress! + 8 * k)))
                precondition(g >= 0, "IQ2: a level set off the lattice")
                let i8 = 2 * ib + k, sign = signs[k]
                switch variant {
                case .xs:
                    y.storeBytes(of: (UInt16(g) | UInt16(sign) << 9).littleEndian, toByteOffset: 2 + 2 * i8, as: UInt16.self)
                case .s:
                    y.storeBytes(of: UInt8(g & 255), toByteOffset: 2 + i8, as: UInt8.self)
                    let qh = y.load(fromByteOffset: 66 + i8 / 4, as: UInt8.self)
                    y.storeBytes(of: qh | UInt8((g >> 8) << (2 * (i8 % 4))), toByteOffset: 66 + i8 / 4, as: UInt8.self)
                    y.storeBytes(of: sign, toByteOffset: 34 + i8, as: UInt8.self)
                }
            }
            scales[ib] = scale
            maxScale = max(maxScale, scale)
        }
        }
        guard maxScale != 0 else {
            // IQ2_XS clears its indices (d and scales are 0 already); IQ2_S keeps what it wrote, as ggml does.
            if variant == .xs { y.initializeMemory(as: UInt8.self, repeating: 0, count: size) }
            return
        }
        let d = maxScale / 31
        y.storeHalf(variant == .xs ? d : d * 0.9875, at: 0)
        let id = 1 / d, scalesOffset = variant == .xs ? 66 : 74
        for ib in stride(from: 0, to: 16, by: 2) {
            let levels = IQLattice.scaleLevel(scales[ib], inverse: id) | IQLattice.scaleLevel(scales[ib + 1], inverse: id) << 4
            y.storeBytes(of: levels, toByteOffset: scalesOffset + ib / 2, as: UInt8.self)
        }
    }
}

extension IQ2_S: BlockCodec {
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) { IQ2Quantizer.quantize(.s, x, weights: nil, into: y) }
}
