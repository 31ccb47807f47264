import CBLAS

/// The backward of a matmul over a WeightMatrix in any stored type (QLoRA: the frozen base stays quantized).
/// out = inp · Wᵀ with inp [rows, in], W [out, in]: dinp += dout · W. An f32 matrix goes to Matmul.backward
/// as it is; a quantized one is widened a slice of its rows at a time (the forward's slices, ≤ 32 MB of
/// scratch, ggml's dequantization) and each slice adds dout[:, slice] · W[slice, :] into dinp. Only f32
/// matrices can take a weight gradient: a stored-quantized base is frozen by construction.
extension Matmul {
    public static func backward(dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?,
                                dbias: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, weight w: WeightMatrix, rows: Int) {
        let inDim = w.cols, outDim = w.rows
        if let floats = w.floats {
            backward(dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: inp, weight: floats,
                     rows: rows, inDim: inDim, outDim: outDim)
            return
        }
        precondition(dweight == nil, "matmul backward: a \(w.dtype.name) weight cannot take a gradient (widen it to f32 to train it)")
        if let dbias {
            for r in 0..<rows {
                let row = dout + r * outDim
                for o in 0..<outDim { dbias[o] += row[o] }
            }
        }
        guard let dinp, rows > 0 else { return }
        forEachWidenedSlice(w) { slice, scratch in
            // dinp [rows, in] += dout[:, slice] [rows, slice.count] · slice [slice.count, in]
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(inDim), Int32(slice.count),
                        1, dout + slice.lowerBound, Int32(outDim), scratch, Int32(inDim), 1, dinp, Int32(inDim))
        }
    }
}
