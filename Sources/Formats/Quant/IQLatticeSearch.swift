extension IQLattice {
    /// σ² of a super-block of 256, the imatrix weights' floor: `factor`·Σx²/256 (IQ3 and IQ2_S: 2; IQ2_XS: 1).
    static func sigma2(_ x: UnsafePointer<Float>, factor: Float) -> Float {
        var sumX2: Float = 0
        for i in 0..<256 { sumX2 += x[i] * x[i] }
        return factor * sumX2 / 256
    }

    /// One sub-block's weights: qw·√(σ² + x²) with an importance matrix, `plain(x)` without; and their square roots.
    static func weights(_ xb: UnsafePointer<Float>, count: Int, _ qw: UnsafePointer<Float>?, sigma2: Float,
                        plain: (Float) -> Float, into w: inout [Float], roots: inout [Float]) {
        for i in 0..<count { w[i] = qw.map { $0[i] * (sigma2 + xb[i] * xb[i]).squareRoot() } ?? plain(xb[i]) }
        for i in 0..<count { roots[i] = w[i].squareRoot() }
    }

    /// One sub-block's magnitudes into xval and, per group of eight, its sign bits into signs (bit i: x < 0);
    /// xval.count values, signs.count = xval.count / 8. With `evenParity` (IQ3_XXS, IQ2_XS: seven signs stored,
    /// the eighth implied by an even count) a group with an odd count flips the value with the smallest w·x²
    /// (the first on ties), and its byte keeps the low seven bits.
    static func separateSigns(_ x: UnsafePointer<Float>, weights w: [Float], evenParity: Bool, magnitudes xval: inout [Float],
                              signs: inout [UInt8]) {
        for k in 0..<signs.count {
            var s: UInt8 = 0, flips = 0
            for i in 8 * k..<8 * k + 8 {
                if x[i] >= 0 { xval[i] = x[i] } else {
                    xval[i] = -x[i]
                    flips += 1
                    s |= 1 << UInt8(i - 8 * k)
                }
            }
            if evenParity && flips % 2 == 1 {
                var imin = 8 * k
                var least = w[imin] * x[imin] * x[imin]
                for i in 8 * k + 1..<8 * k + 8 {
                    let ax = w[i] * x[i] * x[i]
                    if ax < least {
                        least = ax
                        imin = i
                    }
                }
                xval[imin] = -xval[imin]
                s ^= 1 << UInt8(imin - 8 * k)
            }
            signs[k] = evenParity ? s & 127 : s
        }
    }

    /// A sub-block's 4-bit scale level under the super-block's 1/d: round(0.5·(scale/d − 1)) in 0...15.
    static func scaleLevel(_ scale: Float, inverse id: Float) -> UInt8 {
        UInt8(max(0, min(15, nearestInt(0.5 * (id * scale - 1)))))
    }

    /// Σ w·x·q and Σ w·q² of one sub-block at levels L (q = 2l + 1), in ggml's order.
    static func weightedSums(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ L: UnsafePointer<Int8>, count: Int) -> (qx: Float, q2: Float) {
        var sumQX: Float = 0, sumQ2: Float = 0
        for i in 0..<count {
            let q = Float(2 * Int(L[i]) + 1)
            sumQX += w[i] * x[i] * q
            sumQ2 += w[i] * q * q
        }
        return (sumQX, sumQ2)
    }

    /// The scale search of ggml's IQ2_XS, IQ2_S, IQ3_XXS and IQ3_S quantizers for one sub-block of `x.count`
    /// magnitudes (signs apart) with weights `w` (and √w for the neighbour search): for each trial scale
    /// id = (2·kMaxQ − 1 + trial·step)/max the groups are rounded and snapped to the lattice (or their best
    /// neighbour), the best Σwxq²/Σwq² kept; then groups off the grid (all groups with `refitAll`, IQ3_S) are
    /// snapped again at the chosen scale and the scale refitted. Levels go to L[x.count]; returns the scale (0 when
    /// nothing fit). `initiallyOnGrid`: what the groups count as before any trial wins (IQ3_S false, else true).
    func searchScale(_ x: [Float], weights w: [Float], roots: [Float], max maxValue: Float, trials: ClosedRange<Int>, step: Float,
                     initiallyOnGrid: Bool, refitAll: Bool, levels L: UnsafeMutablePointer<Int8>) -> Float {
        x.withUnsafeBufferPointer { x in w.withUnsafeBufferPointer { w in roots.withUnsafeBufferPointer { roots in
            searchScale(x.baseAddress!, count: x.count, weights: w.baseAddress!, roots: roots.baseAddress!, max: maxValue,
                        trials: trials, step: step, initiallyOnGrid: initiallyOnGrid, refitAll: refitAll, levels: L)
        } } }
    }

    private func searchScale(_ x: UnsafePointer<Float>, count: Int, weights w: UnsafePointer<Float>, roots: UnsafePointer<Float>,
                             max maxValue: Float, trials: ClosedRange<Int>, step: Float, initiallyOnGrid: Bool, refitAll: Bool,
                             levels L: UnsafeMutablePointer<Int8>) -> Float {
        let groups = count / groupSize, top = Int32(kMaxQ - 1)
        var onGrid = [Bool](repeating: initiallyOnGrid, count: groups), onGridAux = [Bool](repeating: true, count: groups)
        var best: Float = 0
        var scale = maxValue / Float(2 * kMaxQ - 1)
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: count) { buffer in
            let Laux = buffer.baseAddress!
            for trial in trials {
                let id = (Float(2 * kMaxQ - 1) + Float(trial) * step) / maxValue
                let thisScale = 1 / id
                for k in 0..<groups {
                    let g0 = groupSize * k
                    for i in 0..<groupSize { Laux[g0 + i] = Int8(max(0, min(top, nearestInt(0.5 * (id * x[g0 + i] - 1))))) }
                    onGridAux[k] = true
                    let g = index(UnsafePointer(Laux + g0))
                    if g < 0 {
                        onGridAux[k] = false
                        _ = bestNeighbour(at: Int(-g - 1), x + g0, roots + g0, scale: thisScale, Laux + g0)
                    }
                }
                let (sumQX, sumQ2) = Self.weightedSums(x, w, Laux, count: count)
                if sumQ2 > 0 && sumQX * sumQX > best * sumQ2 {
                    scale = sumQX / sumQ2
                    best = scale * sumQX
                    L.update(from: Laux, count: count)
                    onGrid = onGridAux
                }
            }
        }
        guard onGrid.contains(false), scale > 0 else { return scale }
        let id = 1 / scale
        for k in 0..<groups where refitAll || !onGrid[k] {
            let g0 = groupSize * k
            for i in 0..<groupSize { L[g0 + i] = Int8(max(0, min(top, nearestInt(0.5 * (id * x[g0 + i] - 1))))) }
            let g = index(UnsafePointer(L + g0))
            if g < 0 { _ = bestNeighbour(at: Int(-g - 1), x + g0, roots + g0, scale: scale, L + g0) }
        }
        let (sumQX, sumQ2) = Self.weightedSums(x, w, L, count: count)
        return sumQ2 > 0 ? sumQX / sumQ2 : scale
    }
}
