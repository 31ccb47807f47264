import CKernels
import Foundation
import Model
import Testing

/// The vectorized activations (ck_activations.c) against the formulas in Double, over a dense grid and the
/// extremes, and the same bits whatever the split of the range (tails go through the padded vector code).
@Suite struct ActivationTests {
    static let grid: [Float] = stride(from: -30.0, through: 30.0, by: 0.00731).map { Float($0) }
        + [0, -0, 1e-30, -1e-30, 1e-7, -1e-7, 87, -87, 88.5, -88.5, 100, -100, 1e4, -1e4, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
    static let c = (2 / Double.pi).squareRoot(), a = 0.044715

    static func geluRef(_ x: Double) -> (value: Double, slope: Double) {
        let t = tanh(c * (x + a * x * x * x))
        return (0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * a * x * x))
    }

    /// |ours − exact| within a few float ulps of the larger of the value and the terms it is made of, or
    /// both below the normal floats (where expf itself overflows to a zero quotient).
    static func close(_ ours: Float, _ exact: Double, scale: Double) -> Bool {
        if abs(exact) < 1e-37 && abs(ours) < 1e-37 { return true }
        return abs(Double(ours) - exact) <= 4 * Double(Float.ulpOfOne) * max(abs(exact), scale)
    }

    @Test func geluMatchesTheFormula() {
        let xs = Self.grid.filter { abs($0) < 1e5 }
        var out = [Float](repeating: 0, count: xs.count), grad = [Float](repeating: 0, count: xs.count)
        let ones = [Float](repeating: 1, count: xs.count)
        ck_gelu_forward(&out, xs, Int64(xs.count))
        ck_gelu_backward(&grad, ones, xs, Int64(xs.count))
        for (i, x) in xs.enumerated() {
            let r = Self.geluRef(Double(x))
            // 1 + tanh u carries an absolute error of a few ulps of 1 (it cancels for x ≪ 0), scaled by x/2.
            #expect(Self.close(out[i], r.value, scale: 0.5 * abs(Double(x))), "gelu(\(x)) = \(out[i]), exact \(r.value)")
            // The slope's second term multiplies 1 − tanh² u (same cancellation) by x/2·c·(1 + 3a·x²).
            let d = Double(x), terms = 0.5 + 0.5 * abs(d) * Self.c * (1 + 3 * Self.a * d * d)
            #expect(Self.close(grad[i], r.slope, scale: terms), "gelu'(\(x)) = \(grad[i]), exact \(r.slope)")
        }
    }

    @Test func swigluMatchesTheFormula() {
        let g = Self.grid.filter { abs($0) < 1e5 }, n = g.count
        let up = (0..<n).map { Float($0 % 7) - 3.5 }, dout = (0..<n).map { Float($0 % 5) * 0.25 - 0.5 }
        var out = [Float](repeating: 0, count: n), dgate = [Float](repeating: 0, count: n), dup = [Float](repeating: 0, count: n)
        ck_swiglu_forward(&out, g, up, Int64(n))
        ck_swiglu_backward(&dgate, &dup, dout, g, up, Int64(n))
        for i in 0..<n {
            let x = Double(g[i]), s = 1 / (1 + exp(-x)), u = Double(up[i]), d = Double(dout[i])
            #expect(Self.close(out[i], x * s * u, scale: 0), "silu(\(x))·\(u) = \(out[i])")
            #expect(Self.close(dup[i], d * x * s, scale: 0), "dup at \(x)")
            #expect(Self.close(dgate[i], d * u * s * (1 + x * (1 - s)), scale: abs(d * u * s) * (1 + abs(x))), "dgate at \(x): \(dgate[i])")
        }
    }

    @Test func extremesSaturate() {
        let xs: [Float] = [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e4, -1e4]
        var out = [Float](repeating: .nan, count: 4)
        ck_gelu_forward(&out, xs, 4)
        #expect(out == [.greatestFiniteMagnitude, -0.0, 1e4, -0.0])
        ck_swiglu_forward(&out, xs, [1, 1, 1, 1], 4)
        #expect(out[0] == .greatestFiniteMagnitude && out[2] == 1e4 && abs(out[1]) < 1e-30 && abs(out[3]) < 1e-30, "\(out)")
        // A NaN activation stays NaN (training's divergence check relies on it).
        var nan: [Float] = [.nan, 1, .nan, 2, 3, 4, 5, 6, .nan]
        var d = [Float](repeating: 0, count: 9), d2 = d
        ck_gelu_backward(&d, [Float](repeating: 1, count: 9), nan, 9)
        ck_swiglu_backward(&d, &d2, [Float](repeating: 1, count: 9), nan, [Float](repeating: 1, count: 9), 9)
        ck_gelu_forward(&nan, nan, 9)
        #expect(nan[0].isNaN && nan[2].isNaN && nan[8].isNaN && !nan[1].isNaN && d[0].isNaN && d[8].isNaN && d2[2].isNaN && !d2[1].isNaN)
    }

    /// The soft-max numerators and their sum (cross-entropy's inner loop), for lengths with partial groups.
    @Test(arguments: [1, 7, 8, 13, 50257])
    func expShiftedMatchesExp(_ n: Int) {
        let values = (0..<n).map { Float(($0 * 7919) % 4001) / 100 - 20 }
        let shift = values.max()!
        var x = values
        let sum = ck_exp_shifted(&x, Int64(n), shift)
        var exact = 0.0
        for i in 0..<n {
            let e = exp(Double(values[i] - shift))
            exact += e
            #expect(Self.close(x[i], e, scale: 0), "e^(\(values[i]) − \(shift)) = \(x[i]), exact \(e)")
        }
        #expect(abs(sum - exact) <= 4 * Double(Float.ulpOfOne) * exact, "sum \(sum), exact \(exact)")
    }

    /// The threads split ranges at arbitrary points: every element must come out the same.
    @Test func anySplitGivesTheSameBits() {
        let xs = Array(Self.grid.prefix(1000)), n = xs.count
        var whole = [Float](repeating: 0, count: n), pieces = [Float](repeating: 0, count: n)
        var gWhole = [Float](repeating: 0.5, count: n), gPieces = [Float](repeating: 0.5, count: n)
        ck_gelu_forward(&whole, xs, Int64(n))
        ck_gelu_backward(&gWhole, xs, xs, Int64(n))
        var start = 0
        for length in [13, 1, 7, 8, 9, 100, 862] {
            xs.withUnsafeBufferPointer { x in
                pieces.withUnsafeMutableBufferPointer { ck_gelu_forward($0.baseAddress! + start, x.baseAddress! + start, Int64(length)) }
                gPieces.withUnsafeMutableBufferPointer {
                    ck_gelu_backward($0.baseAddress! + start, x.baseAddress! + start, x.baseAddress! + start, Int64(length))
                }
            }
            start += length
        }
        #expect(start == n)
        #expect(whole.map(\.bitPattern) == pieces.map(\.bitPattern) && gWhole.map(\.bitPattern) == gPieces.map(\.bitPattern))
    }
}
