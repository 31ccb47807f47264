extension IQ3Lattice {
    static let kMaxQ = 8

    /// σ² = 2·Σx²/256 of a super-block: the imatrix weights' floor.
    static func sigma2(_ x: UnsafePointer<Float>) -> Float {
        var sumX2: Float = 0
        for i in 0..<256 { sumX2 += x[i] * x[i] }
        return 2 * sumX2 / 256
    }

    /// One sub-block's weights: qw·√(σ² + x²) with an importance matrix, x² without; and their square roots.
    static func weights(_ xb: UnsafePointer<Float>, _ qw: UnsafePointer<Float>?, sigma2: Float, into w: inout [Float], roots: inout [Float]) {
        for i in 0..<32 { w[i] = qw.map { $0[i] * (sigma2 + xb[i] * xb[i]).squareRoot() } ?? xb[i] * xb[i] }
        for i in 0..<32 { roots[i] = w[i].squareRoot() }
    }

    /// Σ w·x·q and Σ w·q² of one sub-block of 32 at levels L (q = 2l + 1), in ggml's order.
    static func weightedSums(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ L: UnsafePointer<Int8>) -> (qx: Float, q2: Float) {
        var sumQX: Float = 0, sumQ2: Float = 0
        for i in 0..<32 {
            let q = Float(2 * Int(L[i]) + 1)
            sumQX += w[i] * x[i] * q
            sumQ2 += w[i] * q * q
        }
        return (sumQX, sumQ2)
    }

    /// The scale search shared by quantize_row_iq3_xxs_impl and quantize_row_iq3_s_impl for one sub-block of 32
    /// magnitudes `x` (signs apart) with weights `w` (and √w for the neighbour search): for each trial scale the
    /// groups of four are rounded and snapped to the lattice (or their best neighbour), the best Σwxq²/Σwq² kept;
    /// then groups off the grid (all groups with `refitAll`, IQ3_S) are snapped again at the chosen scale and the
    /// scale refitted. Levels go to L[32]; returns the scale (0 when nothing fit). `initiallyOnGrid`: what the
    /// groups count as before any trial wins (IQ3_XXS true, IQ3_S false).
    func searchScale(_ x: [Float], weights w: [Float], roots: [Float], max maxValue: Float, trials: ClosedRange<Int>,
                     initiallyOnGrid: Bool, refitAll: Bool, levels L: UnsafeMutablePointer<Int8>) -> Float {
        x.withUnsafeBufferPointer { x in w.withUnsafeBufferPointer { w in roots.withUnsafeBufferPointer { roots in
            searchScale(x.baseAddress!, weights: w.baseAddress!, roots: roots.baseAddress!, max: maxValue, trials: trials,
                        initiallyOnGrid: initiallyOnGrid, refitAll: refitAll, levels: L)
        } } }
    }

    private func searchScale(_ x: UnsafePointer<Float>, weights w: UnsafePointer<Float>, roots: UnsafePointer<Float>, max maxValue: Float,
                             trials: ClosedRange<Int>, initiallyOnGrid: Bool, refitAll: Bool, levels L: UnsafeMutablePointer<Int8>) -> Float {
        let kMaxQ = Self.kMaxQ
        var onGrid = [Bool](repeating: initiallyOnGrid, count: 8), onGridAux = [Bool](repeating: true, count: 8)
        var best: Float = 0
        var scale = maxValue / Float(2 * kMaxQ - 1)
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: 32) { buffer in
            let Laux = buffer.baseAddress!
            for trial in trials {
                let id = (Float(2 * kMaxQ - 1) + Float(trial) * 0.2) / maxValue
                let thisScale = 1 / id
                for k in 0..<8 {
                    for i in 0..<4 {
                        let l = nearestInt(0.5 * (id * x[4 * k + i] - 1))
                        Laux[4 * k + i] = Int8(max(0, min(Int32(kMaxQ - 1), l)))
                    }
                    onGridAux[k] = true
                    let g = index(UnsafePointer(Laux + 4 * k))
                    if g < 0 {
                        onGridAux[k] = false
                        _ = bestNeighbour(at: Int(-g - 1), x + 4 * k, roots + 4 * k, scale: thisScale, Laux + 4 * k)
                    }
                }
                let (sumQX, sumQ2) = Self.weightedSums(x, w, Laux)
                if sumQ2 > 0 && sumQX * sumQX > best * sumQ2 {
                    scale = sumQX / sumQ2
                    best = scale * sumQX
                    L.update(from: Laux, count: 32)
                    onGrid = onGridAux
                }
            }
        }
        guard onGrid.contains(false), scale > 0 else { return scale }
        let id = 1 / scale
        for k in 0..<8 where refitAll || !onGrid[k] {
            var u = 0
            for i in 0..<4 {
                let l = max(0, min(Int32(kMaxQ - 1), nearestInt(0.5 * (id * x[4 * k + i] - 1))))
                u |= Int(l) << (3 * i)
            }
            var g = map[u]
            if g < 0 { g = Int32(bestNeighbour(at: Int(-g - 1), x + 4 * k, roots + 4 * k, scale: scale, L + 4 * k)) }
            let (a, b, c, d) = Self.levels(grid[Int(g)])
            (L[4 * k], L[4 * k + 1], L[4 * k + 2], L[4 * k + 3]) = (Int8(a), Int8(b), Int8(c), Int8(d))
        }
        let (sumQX, sumQ2) = Self.weightedSums(x, w, L)
        return sumQ2 > 0 ? sumQX / sumQ2 : scale
    }
}
