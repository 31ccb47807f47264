import Foundation

/// RMSNorm (llama) and LayerNorm (gpt2) over the last dimension. Shapes: inp, out, dinp, dout [rows, dim];
/// weight, bias, dweight, dbias [dim]. Sums accumulate in Double as ggml does (`ggml_float`). Backward
/// recomputes each row's statistics from `inp` (one pass, the same Double sums, so the same scale) instead
/// of keeping them, and accumulates (`+=`) into dinp, dweight, dbias; a nil weight gradient is a frozen slot.
public enum RMSNorm {
    /// 1/√(mean(x²) + ε) of one row, exactly as forward computes it.
    static func scale(_ x: UnsafePointer<Float>, dim: Int, epsilon: Float) -> Float {
        var sum: Double = 0
        for i in 0..<dim { sum += Double(x[i] * x[i]) }
        return 1 / (Float(sum / Double(dim)) + epsilon).squareRoot()
    }

    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               rows: Int, dim: Int, epsilon: Float) {
        let p = SendablePointer((out, inp, weight))
        Parallel.forChunks(rows, minChunk: NormRows.minChunk) { range in
            let (out, inp, weight) = p.pointer
            for r in range {
                let x = inp + r * dim, y = out + r * dim
                let s = scale(x, dim: dim, epsilon: epsilon)
                for i in 0..<dim { y[i] = x[i] * s * weight[i] }
            }
        }
    }

    /// y = x·s·w with s = (mean(x²)+ε)^-½:  dw += Σrows dy·x·s;  dx += s·(dy·w) − x·s³/dim·Σ(dy·w·x).
    public static func backward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>?,
                                dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rows: Int, dim: Int, epsilon: Float) {
        NormRows.backward(rows: rows, dim: dim, dweight: dweight, dbias: nil) { r, dw, _ in
            let x = inp + r * dim, dy = dout + r * dim, dx = dinp + r * dim
            let s = scale(x, dim: dim, epsilon: epsilon)
            var dot: Double = 0
            for i in 0..<dim { dot += Double(dy[i] * weight[i] * x[i]) }
            let k = Float(dot) * s * s * s / Float(dim)
            for i in 0..<dim { dx[i] += s * dy[i] * weight[i] - k * x[i] }
            if let dw { for i in 0..<dim { dw[i] += dy[i] * x[i] * s } }
        }
    }
}

public enum LayerNorm {
    /// Mean and 1/√(var + ε) of one row, exactly as forward computes them.
    static func statistics(_ x: UnsafePointer<Float>, dim: Int, epsilon: Float) -> (mean: Float, scale: Float) {
        var sum: Double = 0
        for i in 0..<dim { sum += Double(x[i]) }
        let mean = Float(sum / Double(dim))
        var variance: Double = 0
        for i in 0..<dim { let d = x[i] - mean; variance += Double(d * d) }
        return (mean, 1 / (Float(variance / Double(dim)) + epsilon).squareRoot())
    }

    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>, rows: Int, dim: Int, epsilon: Float) {
        let p = SendablePointer((out, inp, weight, bias))
        Parallel.forChunks(rows, minChunk: NormRows.minChunk) { range in
            let (out, inp, weight, bias) = p.pointer
            for r in range {
                let x = inp + r * dim, y = out + r * dim
                let (mean, s) = statistics(x, dim: dim, epsilon: epsilon)
                for i in 0..<dim { y[i] = (x[i] - mean) * s * weight[i] + bias[i] }
            }
        }
    }

    /// x̂ = (x − μ)·s, y = x̂·w + b:  db += Σ dy;  dw += Σ dy·x̂;  with g = dy·w,
    /// dx += s·(g − mean(g) − x̂·mean(g·x̂)).
    public static func backward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>?,
                                dbias: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rows: Int, dim: Int, epsilon: Float) {
        NormRows.backward(rows: rows, dim: dim, dweight: dweight, dbias: dbias) { r, dweight, dbias in
            let x = inp + r * dim, dy = dout + r * dim, dx = dinp + r * dim
            let (mean, s) = statistics(x, dim: dim, epsilon: epsilon)
            var gMean: Double = 0, gxMean: Double = 0
            for i in 0..<dim {
                let g = dy[i] * weight[i], xhat = (x[i] - mean) * s
                gMean += Double(g)
                gxMean += Double(g * xhat)
            }
            let m1 = Float(gMean / Double(dim)), m2 = Float(gxMean / Double(dim))
            for i in 0..<dim {
                let xhat = (x[i] - mean) * s
                dx[i] += s * (dy[i] * weight[i] - m1 - xhat * m2)
            }
            if let dweight { for i in 0..<dim { dweight[i] += dy[i] * (x[i] - mean) * s } }
            if let dbias { for i in 0..<dim { dbias[i] += dy[i] } }
        }
    }
}

/// Rows of a norm split across threads. Backward: each block of `block` rows accumulates its weight and bias
/// gradients into its own scratch row, and the blocks are added in order afterwards, so the sums do not
/// depend on how many threads ran (fixed blocks, fixed order).
enum NormRows {
    static let minChunk = 16, block = 32

    /// `row(r, dweight, dbias)` handles row r: writes its dx and adds to the given gradient rows (nil when frozen).
    static func backward(rows: Int, dim: Int, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
                         _ row: @escaping (Int, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void) {
        let hasWeight = dweight != nil, hasBias = dbias != nil
        let blocks = (rows + block - 1) / block, width = (hasWeight ? dim : 0) + (hasBias ? dim : 0)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, blocks * width))
        defer { scratch.deallocate() }
        scratch.initialize(repeating: 0, count: blocks * width)
        let shared = SendablePointer((scratch: scratch, row: row))
        Parallel.forChunks(blocks, minChunk: 1) { range in
            for b in range {
                let partial = shared.pointer.scratch + b * width
                let dw = hasWeight ? partial : nil, db = hasBias ? partial + (hasWeight ? dim : 0) : nil
                for r in (b * block)..<min(rows, (b + 1) * block) { shared.pointer.row(r, dw, db) }
            }
        }
        for b in 0..<blocks {
            let partial = scratch + b * width
            if let dweight { for i in 0..<dim { dweight[i] += partial[i] } }
            if let dbias {
                let p = partial + (hasWeight ? dim : 0)
                for i in 0..<dim { dbias[i] += p[i] }
            }
        }
    }
}
