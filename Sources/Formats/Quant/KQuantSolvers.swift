// The scale searches shared by the K-quants (formats.md §3.5; ggml-quants.c make_qx_quants,
// make_q3_quants, make_qkx2_quants, get_scale_min_k4). Literal Float32 ports: products are evaluated as
// C does, `w*x*l` = (w·x)·l, `w*l*l` = (w·l)·l, with ints widened to float at the operator.

enum KQuantSolvers {
    /// make_qx_quants(n, nmax, x, L, rmse_type: 1, qw: NULL), the only form Q6_K uses.
    /// L receives values in 0..<2·nmax; returns the scale.
    static func qx(_ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>) -> Float {
        guard let (max, first) = qxFirstPass(n, nmax, x, L) else { return 0 }
        let fnmax = Float(nmax)
        var (scale, best) = first
        var sumlx: Float = 0, suml2: Float = 0
        for step in -9...9 where step != 0 {
            let iscale = -(fnmax + 0.1 * Float(step)) / max
            sumlx = 0
            suml2 = 0
            for i in 0..<n {
                let l = Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(iscale * x[i])))
                let w = x[i] * x[i]
                let fl = Float(l)
                sumlx += w * x[i] * fl
                suml2 += w * fl * fl
            }
            if suml2 > 0 && sumlx * sumlx > best * suml2 {
                for i in 0..<n {
                    let l = Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(iscale * x[i])))
                    L[i] = Int8(truncatingIfNeeded: nmax + l)
                }
                scale = sumlx / suml2
                best = scale * sumlx
            }
        }
        return scale
    }

    /// The signed value of largest magnitude (first occurrence) and that magnitude.
    @inline(__always)
    static func maxMagnitude(_ n: Int, _ x: UnsafePointer<Float>) -> (signed: Float, magnitude: Float) {
        var max: Float = 0, amax: Float = 0
        for i in 0..<n {
            let ax = abs(x[i])
            if ax > amax { amax = ax; max = x[i] }
        }
        return (max, amax)
    }

    /// make_qx_quants up to its trial loop: nil (L zeroed) for an all-zero group, else the signed max and
    /// the first (scale, best) with L from the first scale.
    @inline(__always)
    static func qxFirstPass(_ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>,
                            _ L: UnsafeMutablePointer<Int8>) -> (max: Float, first: (scale: Float, best: Float))? {
        let (max, amax) = maxMagnitude(n, x)
        if amax < groupMaxEps {
            for i in 0..<n { L[i] = 0 }
            return nil
        }
        let iscale = -Float(nmax) / max
        var sumlx: Float = 0, suml2: Float = 0
        for i in 0..<n {
            let l = Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(iscale * x[i])))
            L[i] = Int8(truncatingIfNeeded: l + nmax)
            let w = x[i] * x[i]
            let fl = Float(l)
            sumlx += w * x[i] * fl
            suml2 += w * fl * fl
        }
        let scale: Float = suml2 != 0 ? sumlx / suml2 : 0
        return (max, (scale, scale * sumlx))
    }

    /// make_q3_quants(n, nmax, x, L, do_rmse: true), as Q3_K uses it. L receives values in 0..<2·nmax.
    static func q3(_ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>) -> Float {
        let (max, amax) = maxMagnitude(n, x)
        if amax < groupMaxEps {
            for i in 0..<n { L[i] = 0 }
            return 0
        }
        let iscale = -Float(nmax) / max
        var sumlx: Float = 0, suml2: Float = 0
        for i in 0..<n {
            let l = Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(iscale * x[i])))
            L[i] = Int8(truncatingIfNeeded: l)
            let w = x[i] * x[i]
            sumlx += w * x[i] * Float(l)
            suml2 += w * Float(l) * Float(l)
        }
        for _ in 0..<5 {
            var changed = 0
            for i in 0..<n {
                let w = x[i] * x[i]
                let li = Float(L[i])
                var slx = sumlx - w * x[i] * li
                if slx > 0 {
                    var sl2 = suml2 - w * li * li
                    let newL = Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(x[i] * sl2 / slx)))
                    if newL != Int32(L[i]) {
                        slx += w * x[i] * Float(newL)
                        sl2 += w * Float(newL) * Float(newL)
                        if sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2 {
                            L[i] = Int8(truncatingIfNeeded: newL)
                            sumlx = slx
                            suml2 = sl2
                            changed += 1
                        }
                    }
                }
            }
            if changed == 0 { break }
        }
        for i in 0..<n { L[i] = L[i] &+ Int8(truncatingIfNeeded: nmax) }
        return suml2 > 0 ? sumlx / suml2 : 0
    }

    /// make_qkx2_quants: asymmetric (scale, min) search. Returns the scale; `theMin` receives the value
    /// subtracted at decode (≥ 0). L receives values in 0...nmax; `Laux` is scratch of n bytes.
    static func qkx2(_ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
                     _ L: UnsafeMutablePointer<UInt8>, _ theMin: inout Float, _ Laux: UnsafeMutablePointer<UInt8>,
                     rmin: Float, rdelta: Float, nstep: Int, useMad: Bool) -> Float {
        let start = qkx2FirstPass(n, nmax, x, weights, L, useMad: useMad)
        if start.flat || nstep < 1 {
            theMin = -start.min
            return start.scale
        }
        let fnmax = Float(nmax)
        var (min, max, scale, bestError) = (start.min, start.max, start.scale, start.bestError)
        let (sumW, sumX) = (start.sumW, start.sumX)
        for step in 0...nstep {
            let iscale = (rmin + rdelta * Float(step) + fnmax) / (max - min)
            var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
            for i in 0..<n {
                let l = Swift.max(0, Swift.min(nmax, nearestInt(iscale * (x[i] - min))))
                Laux[i] = UInt8(truncatingIfNeeded: l)
                let w = weights[i]
                let fl = Float(l)
                sumL += w * fl
                sumL2 += w * fl * fl
                sumXL += w * fl * x[i]
            }
            let D = sumW * sumL2 - sumL * sumL
            if D > 0 {
                var thisScale = (sumW * sumXL - sumX * sumL) / D
                var thisMin = (sumL2 * sumX - sumL * sumXL) / D
                if thisMin > 0 {
                    thisMin = 0
                    thisScale = sumXL / sumL2
                }
                var curError: Float = 0
                for i in 0..<n {
                    var diff = thisScale * Float(Laux[i]) + thisMin - x[i]
                    diff = useMad ? abs(diff) : diff * diff
                    curError += weights[i] * diff
                }
                if curError < bestError {
                    for i in 0..<n { L[i] = Laux[i] }
                    bestError = curError
                    scale = thisScale
                    min = thisMin
                }
            }
        }
        theMin = -min
        return scale
    }

    /// make_qkx2_quants up to its trial loop. `flat`: max == min (min clamped to ≤ 0), L zeroed and the
    /// scale 0, nothing to search.
    struct Qkx2Start {
        var min: Float, max: Float, sumW: Float, sumX: Float, scale: Float, bestError: Float, flat: Bool
    }

    @inline(__always)
    static func qkx2FirstPass(_ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
                              _ L: UnsafeMutablePointer<UInt8>, useMad: Bool) -> Qkx2Start {
        var min = x[0], max = x[0]
        var sumW = weights[0]
        var sumX = sumW * x[0]
        for i in 1..<n {
            if x[i] < min { min = x[i] }
            if x[i] > max { max = x[i] }
            let w = weights[i]
            sumW += w
            sumX += w * x[i]
        }
        if min > 0 { min = 0 }
        if max == min {
            for i in 0..<n { L[i] = 0 }
            return Qkx2Start(min: min, max: max, sumW: sumW, sumX: sumX, scale: 0, bestError: 0, flat: true)
        }
        let iscale = Float(nmax) / (max - min)
        let scale = 1 / iscale
        var bestError: Float = 0
        for i in 0..<n {
            let l = nearestInt(iscale * (x[i] - min))
            L[i] = UInt8(truncatingIfNeeded: Swift.max(0, Swift.min(nmax, l)))
            var diff = scale * Float(L[i]) + min - x[i]
            diff = useMad ? abs(diff) : diff * diff
            bestError += weights[i] * diff
        }
        return Qkx2Start(min: min, max: max, sumW: sumW, sumX: sumX, scale: scale, bestError: bestError, flat: false)
    }

    /// get_scale_min_k4: the j-th (6-bit scale, 6-bit min) of a Q4_K/Q5_K `scales[12]` at `q`.
    @inline(__always)
    static func scaleMinK4(_ j: Int, _ q: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
        if j < 4 {
            return (q.byte(j) & 63, q.byte(j + 4) & 63)
        }
        return ((q.byte(j + 4) & 0xF) | ((q.byte(j - 4) >> 6) << 4),
                (q.byte(j + 4) >> 4) | ((q.byte(j) >> 6) << 4))
    }

    /// Packs 2-bit values as Q2_K and Q3_K do: per 128 elements, byte l holds L[l], L[l+32], L[l+64], L[l+96].
    @inline(__always)
    static func pack2Bit(_ L: UnsafePointer<UInt8>, into qs: UnsafeMutableRawPointer) {
        for j in stride(from: 0, to: 256, by: 128) {
            for l in 0..<32 {
                let v = L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6)
                qs.storeBytes(of: v, toByteOffset: j / 4 + l, as: UInt8.self)
            }
        }
    }
}
