// The IQ4_NL / IQ4_XS quantizer: ggml's quantize_row_iq4_nl_impl as quantize_iq4_nl / quantize_iq4_xs call it
// (what llama-quantize runs, ntry 7), with or without an importance matrix. Per 32 values: the scale that best
// fits kvalues_iq4nl by weighted least squares over 15 trial inverse scales (weights x², or with an imatrix
// qw·sqrt(σ² + x²)); IQ4_XS then stores the 8 scales as 6-bit multiples of one f16 super-block scale and
// re-picks every value against its stored scale. Float32 throughout, products left to right, as in C.

enum IQ4Quantizer {
    /// kvalues_iq4nl as floats, in memory that lives for the process (no array bounds or lazy-global checks in
    /// the inner loops, which call bestIndex 16 times per value).
    nonisolated(unsafe) static let values: UnsafePointer<Float> = {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: 16)
        for i in 0..<16 { p[i] = Float(IQuantTables.iq4nlValues[i]) }
        return UnsafePointer(p)
    }()

    /// best_index_int8(16, kvalues_iq4nl, x): the nearest table value's index (ties to the upper one).
    @inline(__always)
    static func bestIndex(_ x: Float, _ values: UnsafePointer<Float>) -> UInt8 {
        if x <= values[0] { return 0 }
        if x >= values[15] { return 15 }
        // ggml's binary search ends with values[ml] <= x < values[ml + 1]; the values increase strictly, so that
        // ml is unique and four selects find it without the search's unpredictable branches.
        var ml = 0
        ml += x >= values[ml + 8] ? 8 : 0
        ml += x >= values[ml + 4] ? 4 : 0
        ml += x >= values[ml + 2] ? 2 : 0
        ml += x >= values[ml + 1] ? 1 : 0
        let mu = ml + 1
        return x - values[ml] < values[mu] - x ? UInt8(ml) : UInt8(mu)
    }

    /// One super-block of `n` values (32: IQ4_NL, 256: IQ4_XS) into `y`; `qw`: its imatrix column weights or nil.
    static func quantize(_ x: UnsafePointer<Float>, count n: Int, weights qw: UnsafePointer<Float>?, into y: UnsafeMutableRawPointer) {
        let ntry = 7, blocks = n / 32, values = Self.values
        func bestIndex(_ x: Float) -> UInt8 { Self.bestIndex(x, values) }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 32 + 8) { f in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { u in
            let weight = f.baseAddress!, scales = weight + 32, L = u.baseAddress!
            var sigma2: Float = 0
            for j in 0..<n { sigma2 += x[j] * x[j] }
            sigma2 *= 2 / Float(n)
            var maxScale: Float = 0, amaxScale: Float = 0
            for ib in 0..<blocks {
                let xb = x + 32 * ib, Lb = L + 32 * ib
                if let qw {
                    WeightedSolvers.imatrixWeights(weight, qw + 32 * ib, xb, sigma2: sigma2, count: 32)
                } else {
                    for j in 0..<32 { weight[j] = xb[j] * xb[j] }
                }
                var amax: Float = 0, max: Float = 0
                for j in 0..<32 where abs(xb[j]) > amax {
                    amax = abs(xb[j])
                    max = xb[j]
                }
                if amax < groupMaxEps {
                    scales[ib] = 0
                    continue
                }
                var d = -max / values[0]
                var id = 1 / d
                var sumqx: Float = 0, sumq2: Float = 0
                for j in 0..<32 {
                    let l = bestIndex(id * xb[j])
                    Lb[j] = l
                    let q = values[Int(l)], w = weight[j]
                    sumqx += w * q * xb[j]
                    sumq2 += w * q * q
                }
                d = sumq2 > 0 ? sumqx / sumq2 : 0
                var best = d * sumqx
                for itry in -ntry...ntry {
                    id = Float(itry - 127) / max  // (itry + kvalues_iq4nl[0]) / max
                    sumqx = 0
                    sumq2 = 0
                    for j in 0..<32 {
                        let q = values[Int(bestIndex(id * xb[j]))], w = weight[j]
                        sumqx += w * q * xb[j]
                        sumq2 += w * q * q
                    }
                    if sumq2 > 0 && sumqx * sumqx > best * sumq2 {
                        d = sumqx / sumq2
                        best = d * sumqx
                    }
                }
                scales[ib] = d
                if abs(d) > amaxScale {
                    amaxScale = abs(d)
                    maxScale = d
                }
            }
            if blocks > 1 {
                // IQ4_XS: {f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}
                var scalesH: UInt16 = 0
                for k in 0..<4 { y.storeBytes(of: 0, toByteOffset: 4 + k, as: UInt8.self) }
                let d = -maxScale / 32
                y.storeHalf(d, at: 0)
                let id: Float = d != 0 ? 1 / d : 0
                for ib in 0..<blocks {
                    var l = Swift.max(-32, Swift.min(31, nearestInt(id * scales[ib])))
                    let dl = d * Float(l)
                    let idl: Float = dl != 0 ? 1 / dl : 0
                    for j in 0..<32 { L[32 * ib + j] = bestIndex(idl * x[32 * ib + j]) }
                    l += 32
                    let low = UInt8(l & 0xF), high = UInt16(l >> 4)
                    let at = 4 + ib / 2
                    let old = ib % 2 == 0 ? 0 : UnsafeRawPointer(y).byte(at)
                    y.storeBytes(of: ib % 2 == 0 ? low : old | (low << 4), toByteOffset: at, as: UInt8.self)
                    scalesH |= high << UInt16(2 * (ib % 8))
                }
                y.storeBytes(of: scalesH.littleEndian, toByteOffset: 2, as: UInt16.self)
            } else {
                // IQ4_NL: {f16 d; u8 qs[16]}
                y.storeHalf(scales[0], at: 0)
                let id: Float = scales[0] != 0 ? 1 / scales[0] : 0
                for j in 0..<32 { L[j] = bestIndex(id * x[j]) }
            }
            let qs = blocks > 1 ? 8 : 2
            for i in 0..<blocks {
                for j in 0..<16 { y.storeBytes(of: L[32 * i + j] | (L[32 * i + 16 + j] << 4), toByteOffset: qs + 16 * i + j, as: UInt8.self) }
            }
        }
        }
    }
}

extension IQ4_NL: BlockCodec {
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) { IQ4Quantizer.quantize(x, count: 32, weights: nil, into: y) }
}

extension IQ4_XS: BlockCodec {
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) { IQ4Quantizer.quantize(x, count: 256, weights: nil, into: y) }
}
