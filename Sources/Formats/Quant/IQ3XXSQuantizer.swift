import Foundation

/// ggml's quantize_row_iq3_xxs_impl (grid_size 256) for one super-block of 256 into {f16 d; u8 qs[64];
/// u32 scales_and_signs[8]}: per 32 values the signs apart (seven bits per eight values, the eighth implied by
/// even parity: an odd count flips the sign of the value with the smallest w·x²), a search over 31 trial scales
/// with every group of four snapped to the 256-point lattice (or its best neighbour), a refit of the groups that
/// were off it, then 4-bit scales in the top bits under d = max/31 stored ×1.0125. `qw`: imatrix slice or nil.
enum IQ3XXSQuantizer {
    static let groupMaxEps: Float = 1e-8

    static func quantize(_ xbl: UnsafePointer<Float>, weights qw: UnsafePointer<Float>?, into y: UnsafeMutableRawPointer) {
        let lattice = IQLattice.iq3xxs
        y.initializeMemory(as: UInt8.self, repeating: 0, count: 98)
        var scales = [Float](repeating: 0, count: 8), scalesAndSigns = [UInt32](repeating: 0, count: 8)
        var weight = [Float](repeating: 0, count: 32), waux = [Float](repeating: 0, count: 32), xval = [Float](repeating: 0, count: 32)
        var L = [Int8](repeating: 0, count: 32)
        var blockSigns = [UInt8](repeating: 0, count: 4)
        var maxScale: Float = 0
        let sigma2 = IQLattice.sigma2(xbl, factor: 2)
        L.withUnsafeMutableBufferPointer { Lp in
        for ib in 0..<8 {
            let xb = xbl + 32 * ib
            IQLattice.weights(xb, count: 32, qw.map { $0 + 32 * ib }, sigma2: sigma2, plain: { $0 * $0 }, into: &weight, roots: &waux)
            IQLattice.separateSigns(xb, weights: weight, evenParity: true, magnitudes: &xval, signs: &blockSigns)
            var maxValue = xval[0]
            for i in 1..<32 { maxValue = max(maxValue, xval[i]) }
            for i in 0..<32 { Lp[i] = 0 }
            if maxValue < groupMaxEps {
                scales[ib] = 0
                continue
            }
            var scale = lattice.searchScale(xval, weights: weight, roots: waux, max: maxValue, trials: -15...15, step: 0.2,
                                            initiallyOnGrid: true, refitAll: false, levels: Lp.baseAddress!)
            if scale < 0 {
                scale = -scale
                for k in 0..<4 { blockSigns[k] = ~blockSigns[k] & 127 }
            }
            for k in 0..<8 {
                let g = Int(lattice.index(UnsafePointer(Lp.baseAddress! + 4 * k)))
                precondition(g >= 0, "IQ3_XXS: a level set off the lattice")
                y.storeBytes(of: UInt8(g), toByteOffset: 2 + 8 * ib + k, as: UInt8.self)
            }
            scalesAndSigns[ib] = UInt32(blockSigns[0]) | UInt32(blockSigns[1]) << 7 | UInt32(blockSigns[2]) << 14 | UInt32(blockSigns[3]) << 21
            scales[ib] = scale
            maxScale = max(maxScale, scale)
        }
        }
        guard maxScale != 0 else {
            y.initializeMemory(as: UInt8.self, repeating: 0, count: 98)
            return
        }
        let d = maxScale / 31
        y.storeHalf(d * 1.0125, at: 0)
        let id = 1 / d
        for ib in 0..<8 {
            let level = UInt32(IQLattice.scaleLevel(scales[ib], inverse: id))
            y.storeBytes(of: (scalesAndSigns[ib] | level << 28).littleEndian, toByteOffset: 66 + 4 * ib, as: UInt32.self)
        }
    }
}

extension IQ3_XXS: BlockCodec {
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) { IQ3XXSQuantizer.quantize(x, weights: nil, into: y) }
}
