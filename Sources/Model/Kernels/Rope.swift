import Foundation

/// Rotary position embedding on adjacent pairs (llama.cpp's NORM mode, which is why GGUF q/k rows are
/// permuted from HF's rotate-half order). Shape: x [rows, heads·headDim], row t at position `start + t`.
public enum Rope {
    /// cos and sin of every (position, pair) angle, [positions.count, headDim/2] each: computed once per
    /// forward and shared by q and k of every layer. Angles in Double: pos · base^(-2i/d).
    public struct Table: Sendable {
        public let start: Int, count: Int, half: Int
        let cos: [Float], sin: [Float]

        public init(positions: Range<Int>, headDim: Int, theta: Float) {
            start = positions.lowerBound
            count = positions.count
            half = headDim / 2
            let freqs = (0..<half).map { pow(Double(theta), -2 * Double($0) / Double(headDim)) }
            var c = [Float](), s = [Float]()
            c.reserveCapacity(count * half)
            s.reserveCapacity(count * half)
            for p in positions {
                for f in freqs {
                    let angle = Double(p) * f
                    c.append(Float(Foundation.cos(angle)))
                    s.append(Float(Foundation.sin(angle)))
                }
            }
            cos = c
            sin = s
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

    /// The rotation is orthogonal, so the gradient of its input is the output gradient rotated back
    /// (angle −θ), in place: dx0 = dy0·cos + dy1·sin, dx1 = −dy0·sin + dy1·cos.
    public static func backward(_ dx: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int, table: Table) {
        rotate(dx, rows: rows, heads: heads, headDim: headDim, table: table, direction: -1)
    }

    private static func rotate(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int, table: Table,
                               direction: Float) {
        let half = headDim / 2
        precondition(table.half == half && rows <= table.count, "rope: table does not cover the rows")
        for t in 0..<rows {
            let row = x + t * heads * headDim
            for i in 0..<half {
                let c = table.cos[t * half + i], s = direction * table.sin[t * half + i]
                for h in 0..<heads {
                    let p = row + h * headDim + 2 * i
                    let x0 = p[0], x1 = p[1]
                    p[0] = x0 * c - x1 * s
                    p[1] = x0 * s + x1 * c
                }
            }
        }
    }
}
