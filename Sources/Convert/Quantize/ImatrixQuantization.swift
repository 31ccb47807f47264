import Formats

/// The importance-matrix side of quantize (llama-quant.cpp): which tensors take column weights, and their rows
/// quantized with them (WeightedQuantization, ggml's quantize_row_*_impl).
extension GGUFQuantizer {
    /// The column weights of a tensor (entry's sums / counts), nil when the imatrix has no entry for it or the
    /// target type ignores them (Q8_0, F16, …). A size that is not the row length is an error, except for
    /// token_embd, as in llama.cpp.
    static func columnWeights(_ entry: QuantizePlan.Entry, options: QuantizeOptions, path: String) throws(ConvertError) -> [Float]? {
        guard let (matrix, imatrixPath) = options.imatrix, let weights = matrix.columnWeights(entry.info.name) else { return nil }
        let columns = Int(entry.info.ne[0]), matrices = entry.info.ne.count > 2 ? Int(entry.info.ne[2]) : 1
        guard weights.count == columns * matrices else {
            if entry.info.name.hasPrefix("token_embd") { return nil }
            throw .invalidImatrix(path: imatrixPath, reason: "'\(entry.info.name)' has \(weights.count) columns, the tensor \(columns * matrices)")
        }
        return WeightedQuantization.types.contains(entry.target) ? weights : nil
    }

    static func weighted(_ values: UnsafeBufferPointer<Float>, _ weights: [Float], _ entry: QuantizePlan.Entry, path: String,
                         threads: Int) throws(ConvertError) -> [UInt8] {
        let rowsPerMatrix = Int(entry.info.ne.count > 1 ? entry.info.ne[1] : 1)
        guard let out = WeightedQuantization.quantize(values, rowLength: Int(entry.info.ne[0]), weights: weights,
                                                      rowsPerMatrix: rowsPerMatrix, as: entry.target, threads: threads) else {
            throw .format(.unsupportedType(path: path, tensor: entry.info.name, dtype: entry.target.name, reason: "no weighted quantizer"))
        }
        return out
    }
}
