import Foundation

/// An i-quant lattice as ggml's iq2xs_init_impl / iq3xs_init_impl build it for quantizing: the grid points (each a
/// group of `groupSize` bytes 2l + 1), a map from every packed level index (`levelBits` per level) to its point,
/// and, for the indices off the grid, their neighbours: the points at the `nwant` smallest squared distances,
/// ordered by (distance, point), stored as [count, points...] at the offset the map gives as −(offset + 1).
/// - IQ3_S: 512 points of 4 (its decoding grid), 3-bit levels, 3 distances;
/// - IQ3_XXS: 256 points of 4 (kgrid_256, not the decoding grid's values), 2 distances;
/// - IQ2_XS: 512 points of 8 (kgrid_2bit_512), 2-bit levels, 2 distances; IQ2_S: 1024 points (kgrid_2bit_1024), 1.
/// Neighbour lists are built only for the indices a quantizer can ask for (every level ≤ kMaxQ − 1); ggml builds
/// them for the whole map too, but a list depends only on its own index, so the lists used are the same.
struct IQLattice: Sendable {
    let groupSize: Int
    let levelBits: Int
    /// Levels are rounded into 0..<kMaxQ (IQ3: 8; IQ2: 3, one below the grid's top level).
    let kMaxQ: Int
    /// Point j's bytes at 8j..<8j + groupSize (8 per point whatever the group, so one layout serves both).
    let points: [UInt8]
    let map: [Int32]
    let neighbours: [UInt16]

    static let iq3s = IQLattice(grid: IQuantTables.iq3sGrid.map(UInt64.init), groupSize: 4, levelBits: 3, kMaxQ: 8, nearestDistances: 3)
    static let iq3xxs = IQLattice(packed: IQuantTables.iq3xxsLattice, groupSize: 4, levelBits: 3, kMaxQ: 8, nearestDistances: 2)
    static let iq2xs = IQLattice(packed: IQuantTables.iq2xsLattice, groupSize: 8, levelBits: 2, kMaxQ: 3, nearestDistances: 2)
    static let iq2s = IQLattice(packed: IQuantTables.iq2sLattice, groupSize: 8, levelBits: 2, kMaxQ: 3, nearestDistances: 1)

    var count: Int { points.count / 8 }

    /// A lattice from ggml's kgrid table: each entry packs the point's levels, `levelBits` each.
    init(packed: [UInt16], groupSize: Int, levelBits: Int, kMaxQ: Int, nearestDistances: Int) {
        let mask = UInt16(1 << levelBits - 1)
        let grid = packed.map { entry -> UInt64 in
            var point: UInt64 = 0
            for j in 0..<groupSize { point |= UInt64(2 * ((entry >> UInt16(levelBits * j)) & mask) + 1) << (8 * UInt64(j)) }
            return point
        }
        self.init(grid: grid, groupSize: groupSize, levelBits: levelBits, kMaxQ: kMaxQ, nearestDistances: nearestDistances)
    }

    init(grid: [UInt64], groupSize: Int, levelBits: Int, kMaxQ: Int, nearestDistances nwant: Int) {
        self.groupSize = groupSize
        self.levelBits = levelBits
        self.kMaxQ = kMaxQ
        var points = [UInt8](repeating: 0, count: 8 * grid.count)
        for (j, point) in grid.enumerated() {
            for k in 0..<8 { points[8 * j + k] = UInt8(truncatingIfNeeded: point >> (8 * UInt64(k))) }
        }
        var map = [Int32](repeating: -1, count: 1 << (levelBits * groupSize))
        for j in 0..<grid.count {
            var index = 0
            for k in 0..<groupSize { index |= ((Int(points[8 * j + k]) - 1) / 2) << (levelBits * k) }
            map[index] = Int32(j)
        }
        // Every index whose levels all lie in 0..<kMaxQ, in increasing order.
        var neighbours: [UInt16] = []
        var distance = [Int](repeating: 0, count: grid.count)
        var position = [Int](repeating: 0, count: groupSize)
        var digits = [Int](repeating: 0, count: groupSize)
        repeat {
            var index = 0
            for k in 0..<groupSize { index |= digits[k] << (levelBits * k) }
            if map[index] < 0 {
                for k in 0..<groupSize { position[k] = 2 * digits[k] + 1 }
                for j in 0..<grid.count {
                    var d2 = 0
                    for k in 0..<groupSize {
                        let diff = Int(points[8 * j + k]) - position[k]
                        d2 += diff * diff
                    }
                    distance[j] = d2
                }
                // ggml sorts (distance, point) and takes every point until the (nwant + 1)-th distinct distance:
                // the same as the points at the nwant smallest distances, by distance, then by point.
                var kept: [Int] = [], previous = -1
                for _ in 0..<nwant {
                    var next = Int.max
                    for d in distance where d > previous && d < next { next = d }
                    if next == Int.max { break }
                    kept.append(next)
                    previous = next
                }
                let offset = neighbours.count
                map[index] = -Int32(offset + 1)
                neighbours.append(0)
                for d in kept {
                    for j in 0..<grid.count where distance[j] == d { neighbours.append(UInt16(j)) }
                }
                neighbours[offset] = UInt16(neighbours.count - offset - 1)
            }
            var k = 0
            while k < groupSize {
                digits[k] += 1
                if digits[k] < kMaxQ { break }
                digits[k] = 0
                k += 1
            }
            if k == groupSize { break }
        } while true
        self.points = points
        self.map = map
        self.neighbours = neighbours
    }

    /// Point j's level i.
    @inline(__always) func level(_ j: Int, _ i: Int) -> Int8 { Int8((Int(points[8 * j + i]) - 1) / 2) }

    /// iq2/iq3_find_best_neighbour: the neighbour minimising Σ w·(scale·q − x)² (the first on ties); its levels go
    /// to L[0..<groupSize].
    func bestNeighbour(at offset: Int, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, scale: Float,
                       _ L: UnsafeMutablePointer<Int8>) -> Int {
        let count = Int(neighbours[offset])
        var best = Float.greatestFiniteMagnitude, index = -1
        for j in 1...count {
            let point = Int(neighbours[offset + j])
            var d2: Float = 0
            for i in 0..<groupSize {
                let diff = scale * Float(points[8 * point + i]) - x[i]
                d2 += w[i] * diff * diff
            }
            if d2 < best {
                best = d2
                index = point
            }
        }
        for i in 0..<groupSize { L[i] = level(index, i) }
        return index
    }

    /// The map entry of one group's levels: a point (≥ 0) or the neighbour list's −(offset + 1).
    func index(_ L: UnsafePointer<Int8>) -> Int32 {
        var u = 0
        for i in 0..<groupSize { u |= Int(L[i]) << (levelBits * i) }
        return map[u]
    }
}
