import Model
import Testing

/// Every kernel's backward against central finite differences of its own forward (Double-summed loss
/// Σ w·out, dout = w), and the accumulate contract: a second backward adds exactly the same again.
@Suite struct KernelBackwardTests {
    /// Runs `backward` into zeroed gradients shaped like `inputs`, twice; returns the first result and
    /// whether the second doubled it (to rounding: a sum over rows is re-added term by term).
    static func twice(_ shapes: [Int], _ backward: ([UnsafeMutablePointer<Float>]) -> Void) -> (grads: [[Float]], doubled: Bool) {
        let buffers = shapes.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: $0) }
        defer { buffers.forEach { $0.deallocate() } }
        buffers.forEach { $0.initialize(repeating: 0) }
        backward(buffers.map { $0.baseAddress! })
        let once = buffers.map { Array($0) }
        backward(buffers.map { $0.baseAddress! })
        let doubled = zip(once, buffers).allSatisfy { a, b in zip(a, b).allSatisfy { abs(2 * $0 - $1) <= 1e-5 * max(abs($1), 1e-3) } }
        return (once, doubled)
    }

    static func expectClose(_ inputs: [[Float]], grads: [[Float]], names: [String], atol: Double = 2e-3,
                            loss: ([[Float]]) -> Double) {
        for (which, name) in names.enumerated() {
            let r = GradientCheck.worst(inputs, which: which, analytic: grads[which], atol: atol, loss: loss)
            #expect(r.ratio <= 1, "d\(name)[\(r.index)]: numeric \(r.numeric) analytic \(r.analytic)")
        }
    }

    @Test func matmul() {
        var g = GradientCheck(seed: 1)
        let (rows, inDim, outDim) = (3, 5, 4)
        let inputs = [g.values(rows * inDim), g.values(outDim * inDim), g.values(outDim)]
        let w = g.values(rows * outDim)
        func loss(_ x: [[Float]]) -> Double {
            GradientCheck.weightedSum(Matmul.forward(inp: x[0], weight: x[1], bias: x[2], rows: rows, inDim: inDim, outDim: outDim), w)
        }
        let (grads, doubled) = Self.twice(inputs.map(\.count)) { d in
            w.withPointer { dout in inputs[0].withPointer { inp in inputs[1].withPointer { weight in
                do { let di = d[0]; do { let dw = d[1]; do { let db = d[2]
                    Matmul.backward(dinp: di, dweight: dw, dbias: db, dout: dout, inp: inp, weight: weight,
                                    rows: rows, inDim: inDim, outDim: outDim)
                } } }
            } } }
        }
        #expect(doubled)
        Self.expectClose(inputs, grads: grads, names: ["inp", "weight", "bias"], loss: loss)
    }

    @Test func rmsNorm() {
        var g = GradientCheck(seed: 2)
        let (rows, dim) = (3, 8)
        let inputs = [g.values(rows * dim), g.values(dim)]
        let w = g.values(rows * dim)
        func forward(_ x: [[Float]]) -> [Float] {
            var out = [Float](repeating: 0, count: rows * dim)
            out.withMutablePointer { o in x[0].withPointer { i in x[1].withPointer { wt in
                RMSNorm.forward(out: o, inp: i, weight: wt, rows: rows, dim: dim, epsilon: 1e-5)
            } } }
            return out
        }
        let (grads, doubled) = Self.twice(inputs.map(\.count)) { d in
            w.withPointer { dout in inputs[0].withPointer { inp in inputs[1].withPointer { weight in
                do { let di = d[0]; do { let dw = d[1]
                    RMSNorm.backward(dinp: di, dweight: dw, dout: dout, inp: inp, weight: weight, rows: rows, dim: dim, epsilon: 1e-5)
                } }
            } } }
        }
        #expect(doubled)
        Self.expectClose(inputs, grads: grads, names: ["inp", "weight"]) { GradientCheck.weightedSum(forward($0), w) }
    }

    @Test func layerNorm() {
        var g = GradientCheck(seed: 3)
        let (rows, dim) = (3, 8)
        let inputs = [g.values(rows * dim), g.values(dim), g.values(dim)]
        let w = g.values(rows * dim)
        func forward(_ x: [[Float]]) -> [Float] {
            var out = [Float](repeating: 0, count: rows * dim)
            out.withMutablePointer { o in x[0].withPointer { i in x[1].withPointer { wt in x[2].withPointer { b in
                LayerNorm.forward(out: o, inp: i, weight: wt, bias: b, rows: rows, dim: dim, epsilon: 1e-5)
            } } } }
            return out
        }
        let (grads, doubled) = Self.twice(inputs.map(\.count)) { d in
            w.withPointer { dout in inputs[0].withPointer { inp in inputs[1].withPointer { weight in
                do { let di = d[0]; do { let dw = d[1]; do { let db = d[2]
                    LayerNorm.backward(dinp: di, dweight: dw, dbias: db, dout: dout, inp: inp, weight: weight,
                                       rows: rows, dim: dim, epsilon: 1e-5)
                } } }
            } } }
        }
        #expect(doubled)
        Self.expectClose(inputs, grads: grads, names: ["inp", "weight", "bias"]) { GradientCheck.weightedSum(forward($0), w) }
    }

    @Test func gelu() {
        var g = GradientCheck(seed: 4)
        let inputs = [g.values(40, scale: 3)]
        let w = g.values(40)
        func forward(_ x: [[Float]]) -> [Float] {
            var out = [Float](repeating: 0, count: 40)
            out.withMutablePointer { o in x[0].withPointer { GELU.forward(out: o, inp: $0, count: 40) } }
            return out
        }
        let (grads, doubled) = Self.twice([40]) { d in
            w.withPointer { dout in inputs[0].withPointer { inp in do { let di = d[0]
                GELU.backward(dinp: di, dout: dout, inp: inp, count: 40)
            } } }
        }
        #expect(doubled)
        Self.expectClose(inputs, grads: grads, names: ["inp"]) { GradientCheck.weightedSum(forward($0), w) }
    }

    @Test func swiglu() {
        var g = GradientCheck(seed: 5)
        let inputs = [g.values(30, scale: 3), g.values(30, scale: 2)]
        let w = g.values(30)
        func forward(_ x: [[Float]]) -> [Float] {
            var out = [Float](repeating: 0, count: 30)
            out.withMutablePointer { o in x[0].withPointer { gate in x[1].withPointer { SwiGLU.forward(out: o, gate: gate, up: $0, count: 30) } } }
            return out
        }
        let (grads, doubled) = Self.twice([30, 30]) { d in
            w.withPointer { dout in inputs[0].withPointer { gate in inputs[1].withPointer { up in
                do { let dg = d[0]; do { let du = d[1]
                    SwiGLU.backward(dgate: dg, dup: du, dout: dout, gate: gate, up: up, count: 30)
                } }
            } } }
        }
        #expect(doubled)
        Self.expectClose(inputs, grads: grads, names: ["gate", "up"]) { GradientCheck.weightedSum(forward($0), w) }
    }

    @Test func rope() {
        var g = GradientCheck(seed: 6)
        let (rows, heads, headDim) = (5, 2, 8)
        let table = Rope.Table(positions: 0..<rows, headDim: headDim, theta: 10000)
        let inputs = [g.values(rows * heads * headDim)]
        let w = g.values(rows * heads * headDim)
        func forward(_ x: [[Float]]) -> [Float] {
            var out = x[0]
            out.withMutablePointer { Rope.forward($0, rows: rows, heads: heads, headDim: headDim, table: table) }
            return out
        }
        // In place: the backward rotates dout back; accumulation is the caller's (it owns the buffer).
        var grad = w
        grad.withMutablePointer { Rope.backward($0, rows: rows, heads: heads, headDim: headDim, table: table) }
        Self.expectClose(inputs, grads: [grad], names: ["x"]) { GradientCheck.weightedSum(forward($0), w) }
    }

    @Test(arguments: [(4, 4), (4, 2), (6, 1)])
    func attention(heads: (Int, Int)) {
        let (H, KV) = heads
        var g = GradientCheck(seed: 7)
        let (T, d) = (5, 4)
        let inputs = [g.values(T * H * d), g.values(T * KV * d), g.values(T * KV * d)]
        let w = g.values(T * H * d)
        var probs = [Float](repeating: 0, count: H * T * T)
        func forward(_ x: [[Float]]) -> [Float] {
            var out = [Float](repeating: 0, count: T * H * d)
            out.withMutablePointer { o in probs.withMutablePointer { p in x[0].withPointer { q in x[1].withPointer { k in x[2].withPointer { v in
                Attention.forward(out: o, probs: p, q: q, k: k, v: v, rows: T, heads: H, kvHeads: KV, headDim: d)
            } } } } }
            return out
        }
        // Probabilities kept are the ones the plain forward would use: outputs agree exactly.
        let kept = forward(inputs)
        var plain = [Float](repeating: 0, count: T * H * d)
        plain.withMutablePointer { o in inputs[0].withPointer { q in inputs[1].withPointer { k in inputs[2].withPointer { v in
            Attention.forward(out: o, q: q, k: k, v: v, rows: T, heads: H, kvHeads: KV, headDim: d)
        } } } }
        #expect(kept == plain)
        let (grads, doubled) = Self.twice(inputs.map(\.count)) { dd in
            w.withPointer { dout in probs.withPointer { p in inputs[0].withPointer { q in inputs[1].withPointer { k in inputs[2].withPointer { v in
                do { let dq = dd[0]; do { let dk = dd[1]; do { let dv = dd[2]
                    Attention.backward(dq: dq, dk: dk, dv: dv, dout: dout, probs: p, q: q, k: k, v: v,
                                       rows: T, heads: H, kvHeads: KV, headDim: d)
                } } }
            } } } } }
        }
        #expect(doubled)
        Self.expectClose(inputs, grads: grads, names: ["q", "k", "v"]) { GradientCheck.weightedSum(forward($0), w) }
    }

    @Test func crossEntropy() {
        var g = GradientCheck(seed: 8)
        let (rows, vocab) = (4, 7)
        let targets = [3, -1, 0, 6]
        let inputs = [g.values(rows * vocab, scale: 3)]
        func loss(_ x: [[Float]]) -> Double {
            x[0].withPointer { p in targets.enumerated().filter { $0.1 >= 0 }.reduce(0) {
                $0 + CrossEntropy.loss(p + $1.0 * vocab, target: $1.1, vocab: vocab)
            } } / 3
        }
        var grad = inputs[0]
        let total = grad.withMutablePointer { CrossEntropy.lossAndGradient($0, targets: targets, vocab: vocab, scale: 1.0 / 3) }
        #expect(abs(total / 3 - loss(inputs)) < 1e-9)
        #expect(grad[vocab..<(2 * vocab)].allSatisfy { $0 == 0 })
        Self.expectClose(inputs, grads: [grad], names: ["logits"], atol: 1e-4) { loss($0) }
    }
}
