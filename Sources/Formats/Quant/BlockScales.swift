/// The fp16 scale fields of the block types whose decoded weights are linear in them: w_i = d·a_i + m·b_i,
/// with a_i and b_i fixed by the block's codes and integer sub-block scales/mins. Teacher-aware quantization
/// learns d and m (DistillQuantTuner) and writes them back into otherwise unchanged blocks, so the file stays
/// an ordinary GGUF of the same type. Byte offsets follow each block struct (formats.md; the codecs in this
/// folder read the same places): d first in most types, at the end in Q2_K, Q3_K and Q6_K.
public enum BlockScales {
    /// (byte offset of d, byte offset of the second field: Q4_1/Q5_1's m, the K-quants' dmin), or nil for a
    /// type without such fields.
    public static func fields(_ dtype: DType) -> (d: Int, m: Int?)? {
        switch dtype {
        case .q4_0, .q5_0, .q8_0, .iq4_nl, .iq4_xs, .iq3_s: (0, nil)
        case .q4_1, .q5_1, .q4_K, .q5_K: (0, 2)
        case .q2_K: (80, 82)
        case .q3_K: (108, nil)
        case .q6_K: (208, nil)
        default: nil
        }
    }

    /// The block's d and m (0 when the type has no m).
    public static func read(_ block: UnsafeRawPointer, _ dtype: DType) -> (d: Float, m: Float) {
        let f = fields(dtype)!
        return (block.loadHalf(at: f.d), f.m.map { block.loadHalf(at: $0) } ?? 0)
    }

    /// Stores d and m as ggml fp16 (round to nearest even).
    public static func write(_ block: UnsafeMutableRawPointer, _ dtype: DType, d: Float, m: Float) {
        let f = fields(dtype)!
        block.storeHalf(d, at: f.d)
        if let offset = f.m { block.storeHalf(m, at: offset) }
    }

    /// a = the block decoded with d = 1, m = 0; b = decoded with d = 0, m = 1 (zeros without an m), each
    /// [dtype.blockSize]. `scratch`: dtype.bytesPerBlock bytes.
    public static func basis(_ block: UnsafeRawPointer, _ dtype: DType, a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>,
                             scratch: UnsafeMutableRawPointer) {
        let decoder = BlockCodecs.decoder(for: dtype)!, bytes = dtype.bytesPerBlock
        scratch.copyMemory(from: block, byteCount: bytes)
        write(scratch, dtype, d: 1, m: 0)
        decoder.dequantize(UnsafeRawPointer(scratch), into: a)
        guard fields(dtype)!.m != nil else {
            b.update(repeating: 0, count: dtype.blockSize)
            return
        }
        write(scratch, dtype, d: 0, m: 1)
        decoder.dequantize(UnsafeRawPointer(scratch), into: b)
    }
}
