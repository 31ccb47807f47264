// Faster forms of the K-quant scale searches. The trial scales of make_qx_quants and make_qkx2_quants
// are evaluated four at a time, one trial per SIMD lane: each lane sums its own trial in ggml's order
// with separate multiplies and adds (Swift never contracts them into FMAs), so every lane is bit-identical
// to the scalar chain. The keep-or-discard decisions are then taken in the original trial order.
// QuantFastPathTests compares these with the literal ports in KQuantSolvers on thousands of blocks.

@inline(__always)
func nearestInt4(_ f: SIMD4<Float>) -> SIMD4<Int32> {
    let v = f + SIMD4<Float>(repeating: 12_582_912.0)
    let bits = unsafeBitCast(v, to: SIMD4<Int32>.self)
    return (bits & 0x007F_FFFF) &- 0x0040_0000
}

@inline(__always)
func clamp4(_ v: SIMD4<Int32>, _ lo: Int32, _ hi: Int32) -> SIMD4<Int32> {
    v.clamped(lowerBound: SIMD4(repeating: lo), upperBound: SIMD4(repeating: hi))
}

extension KQuantSolvers {
    /// Same result as `qx` (rmse_type 1, no weights): make_qx_quants weighs by x² when given no weights, so
    /// this is the weighted search (WeightedSolvers.qx, trials in SIMD lanes) with weights x·x — the same
    /// products in the same order.
    static func qxFast(_ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>) -> Float {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { w in
            for i in 0..<n { w[i] = x[i] * x[i] }
            return WeightedSolvers.qx(n, nmax, x, L, w.baseAddress!)
        }
    }

    /// Same result as `qkx2`. `Laux` must hold 4·n bytes.
    static func qkx2Fast(_ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
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
        // Trials read `min`, which a kept trial changes: when that happens the group's later lanes are
        // dropped and evaluated again in the next group, from the new `min`.
        var step = 0
        while step <= nstep {
            let count = Swift.min(4, nstep - step + 1)
            let minNow = min
            var iscales = SIMD4<Float>(repeating: 0)
            for k in 0..<count { iscales[k] = (rmin + rdelta * Float(step + k) + fnmax) / (max - minNow) }
            var sL = SIMD4<Float>(repeating: 0), sL2 = SIMD4<Float>(repeating: 0), sXL = SIMD4<Float>(repeating: 0)
            for i in 0..<n {
                let w = weights[i]
                let li = clamp4(nearestInt4(iscales * (x[i] - minNow)), 0, nmax)
                // Laux lane k at Laux[k*n + i].
                for k in 0..<4 { Laux[k * n + i] = UInt8(truncatingIfNeeded: li[k]) }
                let wl = w * SIMD4<Float>(li)
                sL += wl
                sL2 += wl * SIMD4<Float>(li)
                sXL += wl * x[i]
            }
            // Each lane's scale and min, scalar as in ggml; lanes with D <= 0 are skipped.
            var thisScale = SIMD4<Float>(repeating: 0), thisMin = SIMD4<Float>(repeating: 0)
            var valid = SIMD4<Int32>(repeating: 0)
            for k in 0..<count {
                let D = sumW * sL2[k] - sL[k] * sL[k]
                guard D > 0 else { continue }
                var ts = (sumW * sXL[k] - sumX * sL[k]) / D
                var tm = (sL2[k] * sumX - sL[k] * sXL[k]) / D
                if tm > 0 {
                    tm = 0
                    ts = sXL[k] / sL2[k]
                }
                thisScale[k] = ts
                thisMin[k] = tm
                valid[k] = 1
            }
            var errors = SIMD4<Float>(repeating: 0)
            for i in 0..<n {
                let l = SIMD4<Float>(Float(Laux[i]), Float(Laux[n + i]), Float(Laux[2 * n + i]), Float(Laux[3 * n + i]))
                var diff = thisScale * l + thisMin - x[i]
                diff = useMad ? abs(diff) : diff * diff
                errors += weights[i] * diff
            }
            var advanced = count
            for k in 0..<count where valid[k] != 0 && errors[k] < bestError {
                for i in 0..<n { L[i] = Laux[k * n + i] }
                bestError = errors[k]
                scale = thisScale[k]
                min = thisMin[k]
                if min.bitPattern != minNow.bitPattern {
                    advanced = k + 1
                    break
                }
            }
            step += advanced
        }
        theMin = -min
        return scale
    }
}

/// fabsf per lane: clears the sign bit (as fabsf does, -0 becomes +0).
@inline(__always)
private func abs(_ v: SIMD4<Float>) -> SIMD4<Float> {
    unsafeBitCast(unsafeBitCast(v, to: SIMD4<UInt32>.self) & 0x7FFF_FFFF, to: SIMD4<Float>.self)
}
