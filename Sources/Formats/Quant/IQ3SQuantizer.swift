import Foundation

/// An IQ3 lattice as ggml's iq3xs_init_impl builds it: the grid points (four bytes 2l + 1, l in 0..<8), a map
/// from every 12-bit (l0, l1, l2, l3) index to its point, and for the indices off the grid their neighbours: the
/// points at the `nwant` smallest squared distances, ordered by (distance, point), stored as [count, points...] at
/// the offset the map gives as −(offset + 1). IQ3_S: 512 points (its decoding grid), 3 distances; IQ3_XXS: 256
/// points (kgrid_256, not the decoding grid's values), 2 distances.
struct IQ3Lattice: Sendable {
    let grid: [UInt32]
    let map: [Int32]
    let neighbours: [UInt16]

    static let s512 = IQ3Lattice(grid: IQuantTables.iq3sGrid, nearestDistances: 3)
    static let xxs256 = IQ3Lattice(grid: IQuantTables.iq3xxsLattice.map(point), nearestDistances: 2)

    /// The grid point of 12 packed 3-bit levels: byte j = 2·l_j + 1.
    static func point(_ packed: UInt16) -> UInt32 {
        var point: UInt32 = 0
        for j in 0..<4 {
            let level = UInt32((packed >> (3 * UInt16(j))) & 7)
            point |= (2 * level + 1) << (8 * UInt32(j))
        }
        return point
    }

    static func levels(_ point: UInt32) -> (Int, Int, Int, Int) {
        func l(_ j: Int) -> Int { (Int((point >> (8 * UInt32(j))) & 0xFF) - 1) / 2 }
        return (l(0), l(1), l(2), l(3))
    }

    init(grid: [UInt32], nearestDistances nwant: Int) {
        self.grid = grid
        var map = [Int32](repeating: -1, count: 4096)
        for (i, point) in grid.enumerated() {
            let (a, b, c, d) = Self.levels(point)
            map[a | b << 3 | c << 6 | d << 9] = Int32(i)
        }
        var neighbours: [UInt16] = []
        var order: [(Int, Int)] = []
        order.reserveCapacity(grid.count)
        for index in 0..<4096 where map[index] < 0 {
            let pos = (0..<4).map { 2 * ((index >> (3 * $0)) & 7) + 1 }
            order.removeAll(keepingCapacity: true)
            for (j, point) in grid.enumerated() {
                var d2 = 0
                for k in 0..<4 {
                    let diff = Int((point >> (8 * UInt32(k))) & 0xFF) - pos[k]
                    d2 += diff * diff
                }
                order.append((d2, j))
            }
            order.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }  // iq3_compare_func: a total order
            let offset = neighbours.count
            map[index] = -Int32(offset + 1)
            neighbours.append(0)
            var d2 = order[0].0, have = 1, n = 0
            for (distance, j) in order {
                if distance > d2 {
                    if have == nwant { break }
                    d2 = distance
                    have += 1
                }
                neighbours.append(UInt16(j))
                n += 1
            }
            neighbours[offset] = UInt16(n)
        }
        self.map = map
        self.neighbours = neighbours
    }

    /// iq3_find_best_neighbour: the neighbour minimising Σ w·(scale·q − x)² (the first on ties); its levels go
    /// to L[0..<4].
    func bestNeighbour(at offset: Int, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, scale: Float,
                       _ L: UnsafeMutablePointer<Int8>) -> Int {
        let count = Int(neighbours[offset])
        var best = Float.greatestFiniteMagnitude, index = -1
        for j in 1...count {
            let point = grid[Int(neighbours[offset + j])]
            var d2: Float = 0
            for i in 0..<4 {
                let q = Float((point >> (8 * UInt32(i))) & 0xFF)
                let diff = scale * q - x[i]
                d2 += w[i] * diff * diff
            }
            if d2 < best {
                best = d2
                index = Int(neighbours[offset + j])
            }
        }
        let (a, b, c, d) = Self.levels(grid[index])
        (L[0], L[1], L[2], L[3]) = (Int8(a), Int8(b), Int8(c), Int8(d))
        return index
    }

    /// The map entry of four levels: a point (≥ 0) or the neighbour list's −(offset + 1).
    func index(_ L: UnsafePointer<Int8>) -> Int32 { map[Int(L[0]) | Int(L[1]) << 3 | Int(L[2]) << 6 | Int(L[3]) << 9] }
}

/// ggml's quantize_row_iq3_s_impl (block_size 32) for one super-block of 256: per 32 values the signs apart,
/// a search over 19 trial scales with every group of four snapped to the lattice (or its best neighbour),
/// a refit, then 4-bit sub-block scales under d = max/31 stored ×1.033. `qw`: the imatrix row slice or nil.
enum IQ3SQuantizer {
    static func quantize(_ xbl: UnsafePointer<Float>, weights qw: UnsafePointer<Float>?, into y: UnsafeMutableRawPointer) {
        let lattice = IQ3Lattice.s512
        y.initializeMemory(as: UInt8.self, repeating: 0, count: 110)
        let qsOffset = 2, qhOffset = 66, signsOffset = 74, scalesOffset = 106
        var scales = [Float](repeating: 0, count: 8)
        var weight = [Float](repeating: 0, count: 32), waux = [Float](repeating: 0, count: 32), xval = [Float](repeating: 0, count: 32)
        var L = [Int8](repeating: 0, count: 32)
        var blockSigns = [UInt8](repeating: 0, count: 4)
        var maxScale: Float = 0
        let sigma2 = IQ3Lattice.sigma2(xbl)
        var qs = qsOffset, signs = signsOffset
        L.withUnsafeMutableBufferPointer { Lp in
        for ib in 0..<8 {
            let xb = xbl + 32 * ib
            IQ3Lattice.weights(xb, qw.map { $0 + 32 * ib }, sigma2: sigma2, into: &weight, roots: &waux)
            for k in 0..<4 {
                var s: UInt8 = 0
                for i in 0..<8 {
                    if xb[8 * k + i] >= 0 { xval[8 * k + i] = xb[8 * k + i] } else {
                        xval[8 * k + i] = -xb[8 * k + i]
                        s |= 1 << UInt8(i)
                    }
                }
                blockSigns[k] = s
            }
            var maxValue = xval[0]
            for i in 1..<32 { maxValue = max(maxValue, xval[i]) }
            for i in 0..<32 { Lp[i] = 0 }
            if maxValue == 0 {
                scales[ib] = 0
                continue
            }
            var scale = lattice.searchScale(xval, weights: weight, roots: waux, max: maxValue, trials: -9...9,
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
            let l1 = max(0, min(15, nearestInt(0.5 * (id * scales[ib] - 1))))
            let l2 = max(0, min(15, nearestInt(0.5 * (id * scales[ib + 1] - 1))))
            y.storeBytes(of: UInt8(l1) | UInt8(l2) << 4, toByteOffset: scalesOffset + ib / 2, as: UInt8.self)
        }
    }
}

extension IQ3_S: BlockCodec {
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) { IQ3SQuantizer.quantize(x, weights: nil, into: y) }
}
