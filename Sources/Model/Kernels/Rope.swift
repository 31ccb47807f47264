import Foundation

/// Rotary position embedding, llama.cpp's two layouts (RotaryEmbedding.Layout): adjacent pairs (NORM, why
/// GGUF llama q/k rows are permuted from HF's order) or halves (NEOX, HF's rotate_half). Only the first
/// `dimensions` of each head rotate (partial rotary); the rest pass through.
/// Shape: x [rows, heads·headDim], row t at the table's position start + t.
public enum Rope {
    /// cos and sin of every (position, pair) angle, [positions.count, dimensions/2] each: computed once per
    /// forward and shared by q and k of every layer of one kind. Angles in Double: pos · base^(-2i/n) / divisor_i,
    /// cos and sin multiplied by the scaling's attention factor (longrope, yarn).
    public struct Table: Sendable {
        public let start: Int, count: Int, half: Int
        public let layout: RotaryEmbedding.Layout
        let cos: [Float], sin: [Float]

        /// `context`: the positions the model is run for (longrope picks its factors by it).
        public init(positions: Range<Int>, rope: RotaryEmbedding, context: Int) {
            start = positions.lowerBound
            count = positions.count
            half = rope.dimensions / 2
            layout = rope.layout
            let (divisors, factor) = rope.frequencyDivisors(context: context)
            let n = Double(rope.dimensions)
            let freqs = (0..<half).map { i in
                pow(Double(rope.theta), -2 * Double(i) / n) / Double(divisors?[i] ?? 1)
            }
            var c = [Float](), s = [Float]()
            c.reserveCapacity(count * half)
            s.reserveCapacity(count * half)
            for p in positions {
                for f in freqs {
                    let angle = Double(p) * f
                    c.append(Float(Foundation.cos(angle)) * factor)
                    s.append(Float(Foundation.sin(angle)) * factor)
                }
            }
            cos = c
            sin = s
        }

        /// Plain rotation of `headDim`-sized heads on adjacent pairs (tests and simple callers).
        public init(positions: Range<Int>, headDim: Int, theta: Float) {
            self.init(positions: positions, rope: RotaryEmbedding(layout: .adjacentPairs, dimensions: headDim, theta: theta),
                      context: positions.upperBound)
        }
    }

    public static func forward(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int,
                               theta: Float, start: Int = 0) {
        forward(x, rows: rows, heads: heads, headDim: headDim, table: Table(positions: start..<(start + rows), headDim: headDim, theta: theta))
    }

    /// Rows 0..<rows of x are at the table's positions start..<start+rows.
    public static func forward(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int, table: Table) {
        rotate(x, rows: rows, heads: heads, headDim: headDim, table: table, direction: 1)
    }

    /// The rotation (times the attention factor) is linear with a transposed inverse up to that factor, so the
    /// input gradient is the output gradient rotated back with the same scale (sin negated), in place.
    public static func backward(_ dx: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int, table: Table) {
        rotate(dx, rows: rows, heads: heads, headDim: headDim, table: table, direction: -1)
    }

    private static func rotate(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int, table: Table,
                               direction: Float) {
        let half = table.half
        precondition(2 * half <= headDim && rows <= table.count, "rope: table does not cover the rows")
        // Offsets of the two members of pair i within a head.
        let (stride, second) = table.layout == .adjacentPairs ? (2, 1) : (1, half)
        for t in 0..<rows {
            let row = x + t * heads * headDim
            for i in 0..<half {
                let c = table.cos[t * half + i], s = direction * table.sin[t * half + i]
                for h in 0..<heads {
                    let p = row + h * headDim + stride * i
                    let x0 = p[0], x1 = p[second]
                    p[0] = x0 * c - x1 * s
                    p[second] = x0 * s + x1 * c
                }
            }
        }
    }
}
