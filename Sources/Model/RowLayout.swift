import Formats

/// The HF <-> GGUF layout fixups of TensorNames on stored bytes. Rows are moved whole, so the permutation
/// works for any dtype whose blocks run along rows (every ggml type; biases are rows of one element).
public enum RowLayout {
    /// llama q/k: within each of `heads` heads of `rows / heads` rows, GGUF row `2i + j` is HF row
    /// `j·(hd/2) + i` (formats.md §5.1, convert_hf_to_gguf's `permute`). `inverse` maps GGUF back to HF.
    public static func permuteHeads(_ bytes: UnsafeRawBufferPointer, rows: Int, heads: Int, inverse: Bool) -> [UInt8]? {
        guard heads > 0, rows % heads == 0, (rows / heads) % 2 == 0, rows > 0, bytes.count % rows == 0 else { return nil }
        let rowBytes = bytes.count / rows, hd = rows / heads, half = hd / 2
        var out = [UInt8](repeating: 0, count: bytes.count)
        out.withUnsafeMutableBytes { dst in
            for h in 0..<heads {
                for i in 0..<half {
                    for j in 0..<2 {
                        let ggufRow = h * hd + 2 * i + j, hfRow = h * hd + j * half + i
                        let (to, from) = inverse ? (hfRow, ggufRow) : (ggufRow, hfRow)
                        dst.baseAddress!.advanced(by: to * rowBytes)
                            .copyMemory(from: bytes.baseAddress!.advanced(by: from * rowBytes), byteCount: rowBytes)
                    }
                }
            }
        }
        return out
    }

    /// A [rows, cols] matrix of `elementSize`-byte elements transposed to [cols, rows] (GPT-2 Conv1D).
    public static func transpose(_ bytes: UnsafeRawBufferPointer, rows: Int, cols: Int, elementSize: Int) -> [UInt8]? {
        guard rows * cols * elementSize == bytes.count, elementSize > 0 else { return nil }
        var out = [UInt8](repeating: 0, count: bytes.count)
        out.withUnsafeMutableBytes { dst in
            for r in 0..<rows {
                for c in 0..<cols {
                    dst.baseAddress!.advanced(by: (c * rows + r) * elementSize)
                        .copyMemory(from: bytes.baseAddress!.advanced(by: (r * cols + c) * elementSize), byteCount: elementSize)
                }
            }
        }
        return out
    }
}
