import Dispatch

/// Whole-buffer quantize / dequantize through the block codecs. Blocks are independent, so the threaded
/// path splits them into contiguous chunks and produces the same bytes as the scalar path
/// (tests compare them byte for byte).
public enum Quantization {
    /// Encodes `values` (rows of `rowLength`, which must be a multiple of the block size) as `dtype`.
    /// Returns nil for a type without a codec. `threads` > 1 splits the blocks across threads.
    public static func quantize(_ values: UnsafeBufferPointer<Float>, as dtype: DType, threads: Int = 1) -> [UInt8]? {
        let count = values.count / dtype.blockSize * dtype.bytesPerBlock
        var supported = false
        let bytes = [UInt8](unsafeUninitializedCapacity: max(1, count)) { out, filled in
            supported = quantize(values, as: dtype, threads: threads, into: UnsafeMutableRawPointer(out.baseAddress!))
            filled = supported ? count : 0
        }
        return supported ? bytes : nil
    }

    /// The same into `out`, which holds values.count / blockSize × bytesPerBlock bytes; false (nothing
    /// written) for a type without a codec.
    public static func quantize(_ values: UnsafeBufferPointer<Float>, as dtype: DType, threads: Int = 1,
                                into out: UnsafeMutableRawPointer) -> Bool {
        let narrowing = dtype == .f16 || dtype == .bf16
        guard narrowing || BlockCodecs.codec(for: dtype) != nil else { return false }
        guard let base = values.baseAddress, !values.isEmpty else { return true }
        if narrowing {
            let src = UnsafeSendable(base), dst = UnsafeSendable(out)
            forEachChunk(blocks: values.count, threads: threads, minBlocks: 1 << 16) { range in
                _ = FloatRows.narrow(src.value + range.lowerBound, count: range.count, to: dtype, into: dst.value + 2 * range.lowerBound)
            }
            return true
        }
        let codec = BlockCodecs.codec(for: dtype)!
        let blocks = values.count / dtype.blockSize
        precondition(blocks * dtype.blockSize == values.count, "quantize: \(values.count) values are not whole \(dtype.name) blocks")
        let src = UnsafeSendable(Optional(base)), dst = UnsafeSendable(Optional(out.assumingMemoryBound(to: UInt8.self)))
        let type = UnsafeSendable(codec)  // a caseless enum's metatype: no state to share
        forEachChunk(blocks: blocks, threads: threads, minBlocks: dtype.blockSize >= 256 ? 64 : 4096) { range in
            quantizeBlocks(type.value, src.value, dst.value, range)
        }
        return true
    }

    /// Decodes `count` elements of `dtype` from `bytes`.
    public static func dequantize(_ bytes: UnsafeRawBufferPointer, as dtype: DType, count: Int, threads: Int = 1) -> [Float]? {
        if !dtype.isQuantized && bytes.count >= count * dtype.bytesPerBlock, let base = bytes.baseAddress {
            var ok = false
            let values = [Float](unsafeUninitializedCapacity: count) { out, filled in
                ok = FloatRows.widen(base, dtype, count: count, into: out.baseAddress!)
                filled = ok ? count : 0
            }
            if ok { return values }
        }
        guard let codec = BlockCodecs.decoder(for: dtype), count % dtype.blockSize == 0,
              bytes.count >= count / dtype.blockSize * dtype.bytesPerBlock else { return nil }
        let blocks = count / dtype.blockSize
        return [Float](unsafeUninitializedCapacity: count) { out, filled in
            let src = UnsafeSendable(bytes.baseAddress), dst = UnsafeSendable(out.baseAddress)
            let type = UnsafeSendable(codec)
            forEachChunk(blocks: blocks, threads: threads, minBlocks: 4096) { range in
                dequantizeBlocks(type.value, src.value, dst.value, range)
            }
            filled = count
        }
    }

    /// A tensor's values as f32, or an error naming the tensor when its type has no decoder (IQ*, TQ*, ...).
    public static func dequantize(_ tensor: RawTensor, path: String, threads: Int = 1) throws(FormatError) -> [Float] {
        let decoded = tensor.data.withUnsafeBytes { dequantize($0, as: tensor.dtype, count: tensor.elementCount, threads: threads) }
        guard let decoded else {
            throw .unsupportedType(path: path, tensor: tensor.name, dtype: tensor.dtype.name,
                                   reason: "ckpt decodes F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K to Q6_K, the IQ types, TQ1_0, TQ2_0 and MXFP4")
        }
        return decoded
    }

    private static func quantizeBlocks<C: BlockCodec>(_: C.Type, _ src: UnsafePointer<Float>?, _ dst: UnsafeMutablePointer<UInt8>?,
                                                      _ range: Range<Int>) {
        guard let src, let dst else { return }
        let n = C.dtype.blockSize, size = C.dtype.bytesPerBlock
        for b in range { C.quantize(src + b * n, into: UnsafeMutableRawPointer(dst + b * size)) }
    }

    private static func dequantizeBlocks<C: BlockDecoder>(_: C.Type, _ src: UnsafeRawPointer?, _ dst: UnsafeMutablePointer<Float>?,
                                                        _ range: Range<Int>) {
        guard let src, let dst else { return }
        let n = C.dtype.blockSize, size = C.dtype.bytesPerBlock
        for b in range { C.dequantize(src + b * size, into: dst + b * n) }
    }

    /// Runs `body` over at most `threads` contiguous chunks of `0..<blocks`, each of at least `minBlocks`
    /// (waking a worker costs more than quantizing a few thousand legacy blocks), inline when one suffices.
    static func forEachChunk(blocks: Int, threads: Int, minBlocks: Int = 64, _ body: @Sendable (Range<Int>) -> Void) {
        let chunks = Swift.max(1, Swift.min(threads, blocks / minBlocks))
        if chunks == 1 { body(0..<blocks); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body((blocks * c / chunks)..<(blocks * (c + 1) / chunks))
        }
    }
}

/// A pointer handed to `concurrentPerform` workers that write disjoint ranges.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
