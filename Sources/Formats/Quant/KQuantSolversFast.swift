// Faster forms of the K-quant scale searches. The trial scales of make_qx_quants and make_qkx2_quants are
// independent: only the keep-or-discard decision after each trial depends on the previous ones. These
// versions evaluate two trials per pass (two independent float-add chains instead of one, each summed in
// ggml's order) and then take the decisions in the original order, so results are bit-identical to the
// literal ports in KQuantSolvers (QuantFastPathTests checks this on many random blocks).

extension KQuantSolvers {
    /// Same result as `qx` (rmse_type 1, no weights), two trials per pass.
    static func qxFast(_ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>) -> Float {
        var max: Float = 0, amax: Float = 0
        for i in 0..<n {
            let ax = abs(x[i])
            if ax > amax { amax = ax; max = x[i] }
        }
        if amax < groupMaxEps {
            for i in 0..<n { L[i] = 0 }
            return 0
        }
        let fnmax = Float(nmax)
        let iscale0 = -fnmax / max
        var sumlx: Float = 0, suml2: Float = 0
        for i in 0..<n {
            let l = Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(iscale0 * x[i])))
            L[i] = Int8(truncatingIfNeeded: l + nmax)
            let w = x[i] * x[i]
            let fl = Float(l)
            sumlx += w * x[i] * fl
            suml2 += w * fl * fl
        }
        var scale: Float = suml2 != 0 ? sumlx / suml2 : 0
        var best = scale * sumlx
        // Trials -9..-1, 1..9 in pairs.
        var k = 0
        while k < 18 {
            let stepA = k < 9 ? k - 9 : k - 8, stepB = k + 1 < 9 ? k - 8 : k - 7  // -9..-1, 1..9
            let isA = -(fnmax + 0.1 * Float(stepA)) / max
            let isB = -(fnmax + 0.1 * Float(stepB)) / max
            var lxA: Float = 0, l2A: Float = 0, lxB: Float = 0, l2B: Float = 0
            for i in 0..<n {
                let w = x[i] * x[i]
                let wx = w * x[i]
                let a = Float(Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(isA * x[i]))))
                let b = Float(Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(isB * x[i]))))
                lxA += wx * a
                l2A += w * a * a
                lxB += wx * b
                l2B += w * b * b
            }
            // A kept trial changes only `best`, `scale` and L, none of which the next trial's sums read.
            if l2A > 0 && lxA * lxA > best * l2A {
                for i in 0..<n {
                    L[i] = Int8(truncatingIfNeeded: nmax + Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(isA * x[i]))))
                }
                scale = lxA / l2A
                best = scale * lxA
            }
            if l2B > 0 && lxB * lxB > best * l2B {
                for i in 0..<n {
                    L[i] = Int8(truncatingIfNeeded: nmax + Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(isB * x[i]))))
                }
                scale = lxB / l2B
                best = scale * lxB
            }
            k += 2
        }
        return scale
    }

    /// Same result as `qkx2`, two trial scales per pass. `Laux` must hold 2·n bytes.
    static func qkx2Fast(_ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
                         _ L: UnsafeMutablePointer<UInt8>, _ theMin: inout Float, _ Laux: UnsafeMutablePointer<UInt8>,
                         rmin: Float, rdelta: Float, nstep: Int, useMad: Bool) -> Float {
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
            theMin = -min
            return 0
        }
        let fnmax = Float(nmax)
        var iscale = fnmax / (max - min)
        var scale = 1 / iscale
        var bestError: Float = 0
        for i in 0..<n {
            let l = nearestInt(iscale * (x[i] - min))
            L[i] = UInt8(truncatingIfNeeded: Swift.max(0, Swift.min(nmax, l)))
            var diff = scale * Float(L[i]) + min - x[i]
            diff = useMad ? abs(diff) : diff * diff
            bestError += weights[i] * diff
        }
        if nstep < 1 {
            theMin = -min
            return scale
        }
        // A trial reads `min`, which an accepted trial changes: the second trial of a pair is kept only
        // when the first left `min` as it was; otherwise it is evaluated again on the next pass.
        let auxA = Laux, auxB = Laux + n
        var step = 0
        while step <= nstep {
            let pair = step + 1 <= nstep
            let minNow = min
            iscale = (rmin + rdelta * Float(step) + fnmax) / (max - minNow)
            let iscaleB = (rmin + rdelta * Float(step + 1) + fnmax) / (max - minNow)
            var sA: (Float, Float, Float) = (0, 0, 0), sB: (Float, Float, Float) = (0, 0, 0)
            for i in 0..<n {
                let w = weights[i]
                let xm = x[i] - minNow
                let a = Swift.max(0, Swift.min(nmax, nearestInt(iscale * xm)))
                auxA[i] = UInt8(truncatingIfNeeded: a)
                let fa = Float(a)
                sA.0 += w * fa
                sA.1 += w * fa * fa
                sA.2 += w * fa * x[i]
                if pair {
                    let b = Swift.max(0, Swift.min(nmax, nearestInt(iscaleB * xm)))
                    auxB[i] = UInt8(truncatingIfNeeded: b)
                    let fb = Float(b)
                    sB.0 += w * fb
                    sB.1 += w * fb * fb
                    sB.2 += w * fb * x[i]
                }
            }
            decide(n, x, weights, L, auxA, sA, sumW: sumW, sumX: sumX, useMad: useMad,
                   bestError: &bestError, scale: &scale, min: &min)
            if pair && min.bitPattern == minNow.bitPattern {
                decide(n, x, weights, L, auxB, sB, sumW: sumW, sumX: sumX, useMad: useMad,
                       bestError: &bestError, scale: &scale, min: &min)
                step += 2
            } else {
                step += 1
            }
        }
        theMin = -min
        return scale
    }

    /// The keep-or-discard step of one make_qkx2_quants trial, given its sums.
    @inline(__always)
    private static func decide(_ n: Int, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
                               _ L: UnsafeMutablePointer<UInt8>, _ aux: UnsafeMutablePointer<UInt8>,
                               _ sums: (Float, Float, Float), sumW: Float, sumX: Float, useMad: Bool,
                               bestError: inout Float, scale: inout Float, min: inout Float) {
        let (sumL, sumL2, sumXL) = sums
        let D = sumW * sumL2 - sumL * sumL
        guard D > 0 else { return }
        var thisScale = (sumW * sumXL - sumX * sumL) / D
        var thisMin = (sumL2 * sumX - sumL * sumXL) / D
        if thisMin > 0 {
            thisMin = 0
            thisScale = sumXL / sumL2
        }
        var curError: Float = 0
        for i in 0..<n {
            var diff = thisScale * Float(aux[i]) + thisMin - x[i]
            diff = useMad ? abs(diff) : diff * diff
            curError += weights[i] * diff
        }
        if curError < bestError {
            for i in 0..<n { L[i] = aux[i] }
            bestError = curError
            scale = thisScale
            min = thisMin
        }
    }
}
