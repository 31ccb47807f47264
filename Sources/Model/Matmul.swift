import CBLAS

/// Matrix products through OpenBLAS. The mapping used everywhere in Model (DESIGN.md, "Backward passes"):
/// forward `out = inp · Wᵀ` with inp [rows, inDim], W [outDim, inDim] (PyTorch Linear layout), out [rows, outDim].
public enum Matmul {
    /// out[rows, outDim] = inp[rows, inDim] · W[outDim, inDim]ᵀ (+ bias[outDim]). Overwrites `out`.
    /// M = 1 goes through sgemv: OpenBLAS's sgemm is ~6× slower for a single row on this machine.
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               rows: Int, inDim: Int, outDim: Int) {
        if rows == 1 {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(outDim), Int32(inDim), 1, weight, Int32(inDim),
                        inp, 1, 0, out, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outDim), Int32(inDim),
                        1, inp, Int32(inDim), weight, Int32(inDim), 0, out, Int32(outDim))
        }
        addBias(out: out, bias: bias, rows: rows, outDim: outDim)
    }

    /// The other half of `forward`, accumulating: dinp[rows, inDim] += dout·W;
    /// dW[outDim, inDim] += doutᵀ·inp; dbias[outDim] += Σrows dout. A nil dW/dbias is a frozen weight (its
    /// product is skipped); a nil dinp is an input nothing upstream needs (the first layer of a frozen path).
    public static func backward(dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?,
                                dbias: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rows: Int, inDim: Int, outDim: Int) {
        let m = Int32(rows), k = Int32(inDim), n = Int32(outDim)
        if let dinp {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, k, n, 1, dout, n, weight, k, 1, dinp, k)
        }
        if let dweight {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, k, m, 1, dout, n, inp, k, 1, dweight, k)
        }
        if let dbias {
            for r in 0..<rows {
                let row = dout + r * outDim
                for o in 0..<outDim { dbias[o] += row[o] }
            }
        }
    }

    /// Array convenience for tests and small callers.
    public static func forward(inp: [Float], weight: [Float], bias: [Float]? = nil,
                               rows: Int, inDim: Int, outDim: Int) -> [Float] {
        precondition(inp.count == rows * inDim && weight.count == outDim * inDim, "matmul: shape mismatch")
        var out = [Float](repeating: 0, count: rows * outDim)
        out.withUnsafeMutableBufferPointer { o in
            inp.withUnsafeBufferPointer { i in
                weight.withUnsafeBufferPointer { w in
                    if let bias {
                        bias.withUnsafeBufferPointer { b in
                            forward(out: o.baseAddress!, inp: i.baseAddress!, weight: w.baseAddress!, bias: b.baseAddress!,
                                    rows: rows, inDim: inDim, outDim: outDim)
                        }
                    } else {
                        forward(out: o.baseAddress!, inp: i.baseAddress!, weight: w.baseAddress!, bias: nil,
                                rows: rows, inDim: inDim, outDim: outDim)
                    }
                }
            }
        }
        return out
    }
}
