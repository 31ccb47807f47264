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

    /// A [rows, cols] matrix of `elementSize`-byte elements transposed to [cols, rows] (GPT-2 Conv1D), in
    /// 32 × 32 tiles so reads and writes both stay in cache (a GPT-2-small checkpoint moves 340 MB this way).
    /// 4-byte elements (f32, the common case) go through the threaded transpose below.
    public static func transpose(_ bytes: UnsafeRawBufferPointer, rows: Int, cols: Int, elementSize: Int) -> [UInt8]? {
        guard rows * cols * elementSize == bytes.count, elementSize > 0 else { return nil }
        if elementSize == 4, rows > 0, cols > 0 {
            return [UInt8](unsafeUninitializedCapacity: bytes.count) { out, filled in
                transpose(bytes.baseAddress!.assumingMemoryBound(to: Float.self), rows: rows, cols: cols, to: .f32,
                          into: UnsafeMutableRawPointer(out.baseAddress!))
                filled = bytes.count
            }
        }
        let tile = 32
        return [UInt8](unsafeUninitializedCapacity: bytes.count) { out, filled in
            let src = bytes.baseAddress, dst = UnsafeMutableRawPointer(out.baseAddress)
            for r0 in stride(from: 0, to: rows, by: tile) {
                let r1 = min(rows, r0 + tile)
                for c0 in stride(from: 0, to: cols, by: tile) {
                    for c in c0..<min(cols, c0 + tile) {
                        for r in r0..<r1 {
                            (dst! + (c * rows + r) * elementSize).copyMemory(from: src! + (r * cols + c) * elementSize, byteCount: elementSize)
                        }
                    }
                }
            }
            filled = bytes.count
        }
    }

    /// f32 [rows, cols] transposed to [cols, rows] and stored as `dtype` (f32, f16 or bf16) in one pass
    /// (FloatRows.transposeNarrow: the same bits as transposing first and narrowing after), the output rows
    /// split across threads. False for any other dtype. (HF → GGUF conversion transposes GPT-2's Conv1D
    /// weights band by band instead, straight from its pread buffers: GGUFConversionPlan.streamTransposed.)
    @discardableResult
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, cols: Int, to dtype: DType, into out: UnsafeMutableRawPointer) -> Bool {
        guard DType.weightFloats.contains(dtype) else { return false }
        let shared = SendablePointer((src: src, out: out))
        // Threads take whole groups of 16 columns (one f32 cache line per source row), so that only the
        // last group can need the kernel's scalar tail.
        let group = 16
        Parallel.forChunks((cols + group - 1) / group, minChunk: 4, perThread: 4) { groups in
            let range = (groups.lowerBound * group)..<min(cols, groups.upperBound * group)
            _ = FloatRows.transposeNarrow(shared.pointer.src, rows: rows, cols: cols, columns: range, to: dtype,
                                          into: shared.pointer.out + range.lowerBound * rows * dtype.bytesPerBlock)
        }
        return true
    }

    /// A TensorNames fixup applied to a tensor's stored bytes: HF → GGUF (`toGGUF`), or back. `shape` is the
    /// source's numpy shape; q/k permutations use n_head for q and n_head_kv for k. nil when the bytes do not
    /// fit the shape. `.none` returns the bytes unchanged.
    public static func apply(_ fixup: TensorNames.Fixup, _ bytes: UnsafeRawBufferPointer, shape: [Int], elementSize: Int,
                             config: TransformerConfig, toGGUF: Bool) -> [UInt8]? {
        switch fixup {
        case .none:
            return Array(bytes)
        case .transpose:
            guard shape.count == 2 else { return nil }
            return transpose(bytes, rows: shape[0], cols: shape[1], elementSize: elementSize)
        case .permuteHeads(let kv):
            guard let rows = shape.first else { return nil }
            return permuteHeads(bytes, rows: rows, heads: kv ? config.kvHeadCount : config.headCount, inverse: !toGGUF)
        case .addOne:
            // Gemma norms: f32 only (norm weights are 1-D and converted as f32 by every writer).
            guard elementSize == 4, bytes.count % 4 == 0 else { return nil }
            let delta: Float = toGGUF ? 1 : -1
            return bytes.withMemoryRebound(to: Float.self) { values in
                values.map { $0 + delta }.withUnsafeBytes { Array($0) }
            }
        }
    }

    /// The same on f32 values.
    public static func apply(_ fixup: TensorNames.Fixup, to values: [Float], shape: [Int], config: TransformerConfig,
                             toGGUF: Bool) -> [Float]? {
        if fixup == .none { return values }
        return values.withUnsafeBytes { apply(fixup, $0, shape: shape, elementSize: 4, config: config, toGGUF: toGGUF) }
            .map { bytes in bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
    }
}
