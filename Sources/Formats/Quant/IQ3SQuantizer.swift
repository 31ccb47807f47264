import Foundation

/// ggml's quantize_row_iq3_s_impl (block_size 32) for one super-block of 256: per 32 values the signs apart,
/// a search over 19 trial scales with every group of four snapped to the lattice (or its best neighbour),
/// a refit, then 4-bit sub-block scales under d = max/31 stored ×1.033. `qw`: the imatrix row slice or nil.
enum IQ3SQuantizer {
    static func quantize(_ xbl: UnsafePointer<Float>, weights qw: UnsafePointer<Float>?, into y: UnsafeMutableRawPointer) {
        let lattice = IQLattice.iq3s
        y.initializeMemory(as: UInt8.self, repeating: 0, count: 110)
        let qsOffset = 2, qhOffset = 66, signsOffset = 74, scalesOffset = 106
        var scales = [Float](repeating: 0, count: 8)
        var weight = [Float](repeating: 0, count: 32), waux = [Float](repeating: 0, count: 32), xval = [Float](repeating: 0, count: 32)
        var L = [Int8](repeating: 0, count: 32)
        var blockSigns = [UInt8](repeating: 0, count: 4)
        var maxScale: Float = 0
        let sigma2 = IQLattice.sigma2(xbl, factor: 2)
        var qs = qsOffset, signs = signsOffset
        L.withUnsafeMutableBufferPointer { Lp in
        for ib in 0..<8 {
            let xb = xbl + 32 * ib
            IQLattice.weights(xb, count: 32, qw.map { $0 + 32 * ib }, sigma2: sigma2, plain: { $0 * $0 }, into: &weight, roots: &waux)
            IQLattice.separateSigns(xb, weights: weight, evenParity: false, magnitudes: &xval, signs: &blockSigns)
            var maxValue = xval[0]
            for i in 1..<32 { maxValue = max(maxValue, xval[i]) }
            for i in 0..<32 { Lp[i] = 0 }
            if maxValue == 0 {
                scales[ib] = 0
                continue
            }
            var scale = lattice.searchScale(xval, weights: weight, roots: waux, max: maxValue, trials: -9...9, step: 0.2,
                                            initiallyOnGrid: false, refitAll: true, levels: Lp.baseAddress!)
            if scale < 0 {
                scale = -scale
                for k in 0..<4 { blockSigns[k] = ~blockSigns[k] }
            }
            for k in 0..<8 {
                let g = Int(lattice.index(UnsafePointer(Lp.baseAddress! + 4 * k)))
                precondition(g >= 0, "IQ3_S: a level set off the lattice")
                y.storeBytes(of: UInt8(g & 255), toByteOffset: qs + k, as: UInt8.self)
                let bit = ib * 8 + k
                let old = y.load(fromByteOffset: qhOffset + bit / 8, as: UInt8.self)
                y.storeBytes(of: old | UInt8((g >> 8) << (bit % 8)), toByteOffset: qhOffset + bit / 8, as: UInt8.self)
            }
            qs += 8
            for k in 0..<4 { y.storeBytes(of: blockSigns[k], toByteOffset: signs + k, as: UInt8.self) }
            signs += 4
            scales[ib] = scale
            maxScale = max(maxScale, scale)
        }
        }
        guard maxScale != 0 else { return }
        let d = maxScale / 31
        y.storeHalf(d * 1.033, at: 0)
        let id = 1 / d
        for ib in stride(from: 0, to: 8, by: 2) {
            let levels = IQLattice.scaleLevel(scales[ib], inverse: id) | IQLattice.scaleLevel(scales[ib + 1], inverse: id) << 4
            y.storeBytes(of: levels, toByteOffset: scalesOffset + ib / 2, as: UInt8.self)
        }
    }
}

extension IQ3_S: BlockCodec {
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) { IQ3SQuantizer.quantize(x, weights: nil, into: y) }
}
