// Quantization with an importance matrix: ggml's quantize_row_*_impl with quant_weights (ggml-quants.c), what
// llama-quantize --imatrix runs for the tensors the imatrix has entries for. Literal Float32 ports with C's
// evaluation order (products left to right, ints widened at the operator, never fused), like KQuantSolvers.
// The weights are per column of the row (the imatrix entry's sums / count): block b of a row reads
// columnWeights[b·blockSize ..< (b+1)·blockSize]. Q8_0 ignores them in ggml; the types here are the rest of
// the legacy and K types ckpt produces: Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K and Q6_K.

enum WeightedSolvers {
    /// The weights ggml's *_impl quantizers fit with: w[j] = qw[j]·sqrt(σ² + x[j]²) for `n` values; returns
    /// their sum, added in order (the sub-block weight sums of the K types).
    @discardableResult
    static func imatrixWeights(_ w: UnsafeMutablePointer<Float>, _ qw: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                               sigma2: Float, count n: Int) -> Float {
        for j in 0..<n { w[j] = qw[j] * (sigma2 + x[j] * x[j]).squareRoot() }
        var sum: Float = 0
        for j in 0..<n { sum += w[j] }
        return sum
    }

    /// make_qx_quants(n, nmax, x, L, rmse_type 1, qw): L in 0..<2·nmax; returns the scale.
    static func qx(_ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>,
                   _ qw: UnsafePointer<Float>) -> Float {
        let (max, amax) = KQuantSolvers.maxMagnitude(n, x)
        if amax < groupMaxEps {
            for i in 0..<n { L[i] = 0 }
            return 0
        }
        let fnmax = Float(nmax)
        func sums(_ iscale: Float) -> (Float, Float) {
            var sumlx: Float = 0, suml2: Float = 0
            for i in 0..<n {
                let l = Float(Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(iscale * x[i]))))
                sumlx += qw[i] * x[i] * l
                suml2 += qw[i] * l * l
            }
            return (sumlx, suml2)
        }
        func fill(_ iscale: Float) {
            for i in 0..<n { L[i] = Int8(truncatingIfNeeded: nmax + Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(iscale * x[i])))) }
        }
        let iscale = -fnmax / max
        fill(iscale)
        let (sumlx, suml2) = sums(iscale)
        var scale: Float = suml2 != 0 ? sumlx / suml2 : 0
        var best = scale * sumlx
        // The 18 trial scales four at a time, one per SIMD lane, each lane summing in ggml's order with separate
        // multiplies and adds (as KQuantSolvers.qkx2Fast): the sums do not depend on earlier trials, so the keep
        // decisions, taken afterwards in trial order, are ggml's.
        let trials: [Float] = [-9, -8, -7, -6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        var start = 0
        while start < trials.count {
            let count = Swift.min(4, trials.count - start)
            var iscales = SIMD4<Float>(repeating: 0)
            for k in 0..<count { iscales[k] = -(fnmax + 0.1 * trials[start + k]) / max }
            var lx = SIMD4<Float>(repeating: 0), l2 = SIMD4<Float>(repeating: 0)
            for i in 0..<n {
                let wx = qw[i] * x[i]
                let l = SIMD4<Float>(clamp4(nearestInt4(iscales * x[i]), -nmax, nmax - 1))
                lx += wx * l
                l2 += (qw[i] * l) * l
            }
            for k in 0..<count where l2[k] > 0 && lx[k] * lx[k] > best * l2[k] {
                fill(iscales[k])
                scale = lx[k] / l2[k]
                best = scale * lx[k]
            }
            start += count
        }
        return scale
    }

    /// make_qkx3_quants(n, nmax, x, weights, L, &min, Laux, rmin, rdelta, nstep, use_mad false); `theMin`
    /// receives −min (ggml's convention); returns the scale. With weights given, make_qkx3_quants is
    /// make_qkx2_quants line for line (its `max <= min` test equals qkx2's `max == min` once min ≤ 0 ≤ max), so
    /// this is KQuantSolvers.qkx2Fast: trials four per SIMD lane, byte-identical. `Laux` holds 4·n bytes.
    static func qkx3(_ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                     _ L: UnsafeMutablePointer<UInt8>, _ theMin: inout Float, _ Laux: UnsafeMutablePointer<UInt8>,
                     rmin: Float, rdelta: Float, nstep: Int) -> Float {
        KQuantSolvers.qkx2Fast(n, nmax, x, w, L, &theMin, Laux, rmin: rmin, rdelta: rdelta, nstep: nstep, useMad: false)
    }

    /// make_qp_quants(n, nmax, x, L, quant_weights): non-negative x (sub-block scales or mins) onto 0...nmax.
    static func qp(_ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<UInt8>,
                   _ qw: UnsafePointer<Float>) -> Float {
        var max: Float = 0
        for i in 0..<n { max = Swift.max(max, x[i]) }
        if max < groupMaxEps {
            for i in 0..<n { L[i] = 0 }
            return 0
        }
        let fnmax = Float(nmax)
        var iscale = fnmax / max
        for i in 0..<n { L[i] = UInt8(truncatingIfNeeded: nearestInt(iscale * x[i])) }
        let scale = 1 / iscale
        var bestMse: Float = 0
        for i in 0..<n {
            let diff = x[i] - scale * Float(L[i])
            bestMse += qw[i] * diff * diff
        }
        for step in -4...4 where step != 0 {
            let iscaleIs = (0.1 * Float(step) + fnmax) / max
            let scaleIs = 1 / iscaleIs
            var mse: Float = 0
            for i in 0..<n {
                let l = Swift.min(nmax, nearestInt(iscaleIs * x[i]))
                let diff = x[i] - scaleIs * Float(l)
                mse += qw[i] * diff * diff
            }
            if mse < bestMse {
                bestMse = mse
                iscale = iscaleIs
            }
        }
        var sumlx: Float = 0, suml2: Float = 0
        for i in 0..<n {
            let l = Swift.min(nmax, nearestInt(iscale * x[i]))
            L[i] = UInt8(truncatingIfNeeded: l)
            sumlx += qw[i] * x[i] * Float(l)
            suml2 += qw[i] * Float(l) * Float(l)
        }
        for _ in 0..<5 {
            var changed = 0
            for i in 0..<n {
                let w = qw[i], li = Float(L[i])
                var slx = sumlx - w * x[i] * li
                var sl2 = suml2 - w * li * li
                if slx > 0 && sl2 > 0 {
                    let newL = Swift.min(nmax, nearestInt(x[i] * sl2 / slx))
                    if newL != Int32(L[i]) {
                        let fn = Float(newL)
                        slx += w * x[i] * fn
                        sl2 += w * fn * fn
                        if slx * slx * suml2 > sumlx * sumlx * sl2 {
                            L[i] = UInt8(truncatingIfNeeded: newL)
                            sumlx = slx
                            suml2 = sl2
                            changed += 1
                        }
                    }
                }
            }
            if changed == 0 { break }
        }
        return suml2 > 0 ? sumlx / suml2 : 0
    }
}

/// Rows quantized with column weights (quantize_q*_* with quant_weights non-null, one row at a time).
public enum WeightedQuantization {
    /// Types whose ggml quantizer uses an importance matrix and that ckpt reproduces with one.
    public static let types: Set<DType> = [.q4_0, .q4_1, .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_nl, .iq4_xs, .iq3_s, .iq3_xxs, .iq2_xs, .iq2_s]

    /// Rows of `rowLength` quantized with `weights` (one slice of rowLength per matrix of `rowsPerMatrix` rows:
    /// MoE experts each have their own), rows split across threads (the bytes do not depend on it). Nil for a
    /// type not in `types`.
    public static func quantize(_ values: UnsafeBufferPointer<Float>, rowLength: Int, weights: [Float], rowsPerMatrix: Int,
                                as dtype: DType, threads: Int) -> [UInt8]? {
        guard types.contains(dtype), let base = values.baseAddress else { return nil }
        let rows = values.count / rowLength, rowBytes = rowLength / dtype.blockSize * dtype.bytesPerBlock
        var out = [UInt8](repeating: 0, count: rows * rowBytes)
        out.withUnsafeMutableBytes { o in
            weights.withUnsafeBufferPointer { w in
                let src = UnsafeSendable(base), dst = UnsafeSendable(o.baseAddress!), qw = UnsafeSendable(w.baseAddress!)
                Quantization.forEachChunk(blocks: rows, threads: threads, minBlocks: 16) { range in
                    for r in range {
                        _ = quantizeRow(src.value + r * rowLength, count: rowLength, weights: qw.value + (r / rowsPerMatrix) * rowLength,
                                        as: dtype, into: dst.value + r * rowBytes)
                    }
                }
            }
        }
        return out
    }

    /// One row of `n` values (whole blocks) into `y`, weights[j] for column j. False for a type not in `types`.
    public static func quantizeRow(_ x: UnsafePointer<Float>, count n: Int, weights qw: UnsafePointer<Float>, as dtype: DType,
                                   into y: UnsafeMutableRawPointer) -> Bool {
        let blocks = n / dtype.blockSize, size = dtype.bytesPerBlock
        switch dtype {
        case .q4_0, .q4_1, .q5_0, .q5_1:
            // The legacy impls scale each weight by sqrt(σ² + x²) with σ² the row's mean square.
            var sumX2: Float = 0
            for j in 0..<n { sumX2 += x[j] * x[j] }
            let sigma2 = sumX2 / Float(n)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { wb in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32 + 4 * 32) { lb in
                let w = wb.baseAddress!, L = lb.baseAddress!, Laux = L + 32
                for b in 0..<blocks {
                    let xb = x + 32 * b, out = y + b * size
                    WeightedSolvers.imatrixWeights(w, qw + 32 * b, xb, sigma2: sigma2, count: 32)
                    legacyBlock(dtype, xb, w, L, Laux, out)
                }
            }
            }
        case .q2_K:
            for b in 0..<blocks { q2KBlock(x + 256 * b, qw + 256 * b, y + b * size) }
        case .q3_K:
            for b in 0..<blocks { q3KBlock(x + 256 * b, qw + 256 * b, y + b * size) }
        case .q4_K:
            for b in 0..<blocks { q4KBlock(x + 256 * b, qw + 256 * b, y + b * size) }
        case .q5_K:
            for b in 0..<blocks { q5KBlock(x + 256 * b, qw + 256 * b, y + b * size) }
        case .q6_K:
            for b in 0..<blocks { Q6_K.quantize(x + 256 * b, weights: qw + 256 * b, into: y + b * size) }
        case .iq4_nl, .iq4_xs:
            let m = dtype.blockSize
            for b in 0..<blocks { IQ4Quantizer.quantize(x + m * b, count: m, weights: qw + m * b, into: y + b * size) }
        case .iq3_s:
            for b in 0..<blocks { IQ3SQuantizer.quantize(x + 256 * b, weights: qw + 256 * b, into: y + b * size) }
        case .iq3_xxs:
            for b in 0..<blocks { IQ3XXSQuantizer.quantize(x + 256 * b, weights: qw + 256 * b, into: y + b * size) }
        case .iq2_xs, .iq2_s:
            let variant: IQ2Quantizer.Variant = dtype == .iq2_xs ? .xs : .s
            for b in 0..<blocks { IQ2Quantizer.quantize(variant, x + 256 * b, weights: qw + 256 * b, into: y + b * size) }
        default:
            return false
        }
        return true
    }

    /// One legacy block from its weights (quantize_row_q4_0/q4_1/q5_0/q5_1_impl's loop body).
    static func legacyBlock(_ dtype: DType, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ L: UnsafeMutablePointer<UInt8>,
                            _ Laux: UnsafeMutablePointer<UInt8>, _ y: UnsafeMutableRawPointer) {
        let fiveBit = dtype == .q5_0 || dtype == .q5_1
        let qsOffset: Int
        switch dtype {
        case .q4_0, .q5_0:
            let d = L.withMemoryRebound(to: Int8.self, capacity: 32) { WeightedSolvers.qx(32, fiveBit ? 16 : 8, x, $0, w) }
            y.storeHalf(d, at: 0)
            qsOffset = fiveBit ? 6 : 2
        default:
            var min: Float = 0
            let d = WeightedSolvers.qkx3(32, fiveBit ? 31 : 15, x, w, L, &min, Laux, rmin: -0.9, rdelta: 0.05, nstep: 36)
            y.storeHalf(d, at: 0)
            y.storeHalf(-min, at: 2)
            qsOffset = fiveBit ? 8 : 4
        }
        var qh: UInt32 = 0
        for j in 0..<16 {
            let xi0 = L[j], xi1 = L[j + 16]
            y.storeBytes(of: (xi0 & 0x0F) | ((xi1 & 0x0F) << 4), toByteOffset: qsOffset + j, as: UInt8.self)
            qh |= UInt32((xi0 & 0x10) >> 4) << UInt32(j)
            qh |= UInt32((xi1 & 0x10) >> 4) << UInt32(j + 16)
        }
        if fiveBit { y.storeBytes(of: qh.littleEndian, toByteOffset: qsOffset - 4, as: UInt32.self) }
    }

    /// The scale/min half of quantize_row_q4_K_impl and _q5_K_impl (`nmax` 15 or 31): sub-block scales and mins
    /// by make_qkx3_quants with weights qw·sqrt(σ² + x²) (σ² = 2·mean x² of the block), both quantized to 6 bits
    /// by make_qp_quants weighted by each sub-block's weight sum and packed like the reference, then the codes
    /// L (0...nmax) against the stored scales. The caller packs L.
    static func kScaleMinBlock(_ x: UnsafePointer<Float>, _ qw: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer,
                               _ L: UnsafeMutablePointer<UInt8>, nmax: Int32, dOffset: Int, dminOffset: Int, scalesOffset: Int) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 64) { f in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4 * 32 + 16) { u in
            let weights = f.baseAddress!, sw = weights + 32, mins = sw + 8, scales = mins + 8
            let Laux = u.baseAddress!, Ls = Laux + 4 * 32, Lm = Ls + 8
            var sumX2: Float = 0
            for l in 0..<256 { sumX2 += x[l] * x[l] }
            let sigma2 = 2 * sumX2 / 256
            for j in 0..<8 {
                sw[j] = WeightedSolvers.imatrixWeights(weights, qw + 32 * j, x + 32 * j, sigma2: sigma2, count: 32)
                scales[j] = WeightedSolvers.qkx3(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin: -0.9, rdelta: 0.05, nstep: 36)
            }
            let dBlock = WeightedSolvers.qp(8, 63, scales, Ls, sw)
            let mBlock = WeightedSolvers.qp(8, 63, mins, Lm, sw)
            let s = y + scalesOffset
            // The clamp is Q5_K's; Q4_K's make_qp_quants codes stay ≤ 63 anyway.
            KQuantScaleMin.packScales(s) { j in (Swift.min(63, Ls[j]), Swift.min(63, Lm[j])) }
            y.storeHalf(dBlock, at: dOffset)
            y.storeHalf(mBlock, at: dminOffset)
            let d = UnsafeRawPointer(y).loadHalf(at: dOffset), dmin = UnsafeRawPointer(y).loadHalf(at: dminOffset)
            for j in 0..<8 {
                let (sc, m) = KQuantSolvers.scaleMinK4(j, UnsafeRawPointer(s))
                let dj = d * Float(sc)
                if dj == 0 { continue }
                let dm = dmin * Float(m)
                for i in 0..<32 { L[32 * j + i] = UInt8(Swift.max(0, Swift.min(nmax, nearestInt((x[32 * j + i] + dm) / dj)))) }
            }
        }
        }
    }

    static func q4KBlock(_ x: UnsafePointer<Float>, _ qw: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buffer in
            let L = buffer.baseAddress!
            kScaleMinBlock(x, qw, y, L, nmax: 15, dOffset: Q4_K.dOffset, dminOffset: Q4_K.dminOffset, scalesOffset: Q4_K.scalesOffset)
            var q = y + Q4_K.qsOffset
            for j in stride(from: 0, to: 256, by: 64) {
                for l in 0..<32 { q.storeBytes(of: L[j + l] | (L[j + l + 32] << 4), toByteOffset: l, as: UInt8.self) }
                q += 32
            }
        }
    }

    static func q5KBlock(_ x: UnsafePointer<Float>, _ qw: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buffer in
            let L = buffer.baseAddress!
            kScaleMinBlock(x, qw, y, L, nmax: 31, dOffset: Q5_K.dOffset, dminOffset: Q5_K.dminOffset, scalesOffset: Q5_K.scalesOffset)
            Q5_K.pack(L, y)
        }
    }

    /// quantize_row_q2_K_impl: 16 sub-blocks of 16, make_qkx3_quants (nmax 3) with weights qw·sqrt(σ² + x²)
    /// (σ² = mean x² of the block), 4-bit scales and mins by make_qp_quants weighted by the sub-block weight sums.
    static func q2KBlock(_ x: UnsafePointer<Float>, _ qw: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 64) { f in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256 + 64 + 32) { u in
            let weight = f.baseAddress!, sw = weight + 16, mins = sw + 16, scales = mins + 16
            let L = u.baseAddress!, Laux = L + 256, Ls = Laux + 64, Lm = Ls + 16
            var sumX2: Float = 0
            for j in 0..<256 { sumX2 += x[j] * x[j] }
            let sigma2 = sumX2 / 256
            for j in 0..<16 {
                sw[j] = WeightedSolvers.imatrixWeights(weight, qw + 16 * j, x + 16 * j, sigma2: sigma2, count: 16)
                scales[j] = WeightedSolvers.qkx3(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j], Laux, rmin: -0.9, rdelta: 0.05, nstep: 36)
            }
            var dm = WeightedSolvers.qp(16, 15, scales, Ls, sw)
            var mm = WeightedSolvers.qp(16, 15, mins, Lm, sw)
            y.storeHalf(dm, at: Q2_K.dOffset)
            y.storeHalf(mm, at: Q2_K.dminOffset)
            dm = UnsafeRawPointer(y).loadHalf(at: Q2_K.dOffset)
            mm = UnsafeRawPointer(y).loadHalf(at: Q2_K.dminOffset)
            for j in 0..<16 { y.storeBytes(of: Ls[j] | (Lm[j] << 4), toByteOffset: Q2_K.scalesOffset + j, as: UInt8.self) }
            for j in 0..<16 {
                let sc = UnsafeRawPointer(y).byte(Q2_K.scalesOffset + j)
                let d = dm * Float(sc & 0xF)
                if d == 0 { continue }
                let m = mm * Float(sc >> 4)
                for i in 0..<16 { L[16 * j + i] = UInt8(Swift.max(0, Swift.min(3, nearestInt((x[16 * j + i] + m) / d)))) }
            }
            KQuantSolvers.pack2Bit(L, into: y + Q2_K.qsOffset)
        }
        }
    }

    /// quantize_row_q3_K_impl: 16 sub-blocks of 16, make_qx_quants (nmax 4) with weights qw·sqrt(σ² + x²)
    /// (σ² = 2·mean x² of the block), the 16 scales quantized to 6 bits by make_qx_quants (nmax 32) weighted by
    /// the sub-block weight sums; then the reference's requantization and packing (Q3_K.finish).
    static func q3KBlock(_ x: UnsafePointer<Float>, _ qw: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 48) { f in
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: 256 + 16) { u in
            let weight = f.baseAddress!, sw = weight + 16, scales = sw + 16
            let L = u.baseAddress!, Ls = L + 256
            var sumX2: Float = 0
            for j in 0..<256 { sumX2 += x[j] * x[j] }
            let sigma2 = 2 * sumX2 / 256
            for j in 0..<16 {
                sw[j] = WeightedSolvers.imatrixWeights(weight, qw + 16 * j, x + 16 * j, sigma2: sigma2, count: 16)
                scales[j] = WeightedSolvers.qx(16, 4, x + 16 * j, L + 16 * j, weight)
            }
            let s = y + Q3_K.scalesOffset
            for k in 0..<12 { s.storeBytes(of: 0, toByteOffset: k, as: UInt8.self) }
            let dBlock = WeightedSolvers.qx(16, 32, scales, Ls, sw)
            for j in 0..<16 {
                var l = UInt8(bitPattern: Ls[j])
                if j < 8 {
                    s.storeBytes(of: l & 0xF, toByteOffset: j, as: UInt8.self)
                } else {
                    s.storeBytes(of: UnsafeRawPointer(s).byte(j - 8) | ((l & 0xF) << 4), toByteOffset: j - 8, as: UInt8.self)
                }
                l >>= 4
                s.storeBytes(of: UnsafeRawPointer(s).byte(j % 4 + 8) | (l << UInt8(2 * (j / 4))), toByteOffset: j % 4 + 8, as: UInt8.self)
            }
            y.storeHalf(dBlock, at: Q3_K.dOffset)
            Q3_K.finish(x, L, y)
        }
        }
    }
}
