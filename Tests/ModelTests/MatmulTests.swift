import Model
import Testing

/// The BLAS link is real: cblas_sgemm / sgemv against a naive triple loop in Double.
@Suite struct MatmulTests {
    func naive(_ inp: [Float], _ w: [Float], _ bias: [Float]?, rows: Int, inDim: Int, outDim: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows * outDim)
        for r in 0..<rows {
            for o in 0..<outDim {
                var acc = Double(bias?[o] ?? 0)
                for i in 0..<inDim { acc += Double(inp[r * inDim + i]) * Double(w[o * inDim + i]) }
                out[r * outDim + o] = Float(acc)
            }
        }
        return out
    }

    @Test(arguments: [(1, 7, 5), (3, 64, 17), (33, 96, 48)])
    func matchesNaive(shape: (Int, Int, Int)) {
        let (rows, inDim, outDim) = shape
        var seed: UInt32 = 12345
        func next() -> Float { seed = seed &* 1_664_525 &+ 1_013_904_223; return Float(seed >> 8) / Float(1 << 24) - 0.5 }
        let inp = (0..<rows * inDim).map { _ in next() }
        let w = (0..<outDim * inDim).map { _ in next() }
        let bias = (0..<outDim).map { _ in next() }
        for b in [nil, bias] {
            let got = Matmul.forward(inp: inp, weight: w, bias: b, rows: rows, inDim: inDim, outDim: outDim)
            let want = naive(inp, w, b, rows: rows, inDim: inDim, outDim: outDim)
            let maxDiff = zip(got, want).map { abs($0 - $1) }.max() ?? 0
            #expect(maxDiff < 1e-5, "rows \(rows) in \(inDim) out \(outDim): max |Δ| \(maxDiff)")
        }
    }
}
