import Formats
import Foundation
import CBLAS

/// Matmul over a WeightMatrix in any stored type (same mapping as Matmul: out = inp · Wᵀ (+ bias)).
/// inp [rows, inDim], W [outDim, inDim], out [rows, outDim].
/// - Few rows (decoding, up to 8 sequences at once): the C kernels on the stored blocks, output rows split
///   across threads, each weight row read once for all input rows (OpenBLAS's sgemm is several times slower
///   than that for a handful of rows, and quantized weights would have to be widened whole).
/// - Many rows (prefill): f32 weights go straight to sgemm; others are widened a slice of rows at a time
///   (≤ 32 MB of scratch) and each slice multiplied by sgemm into its columns of out.
extension Matmul {
    /// Up to this many input rows go through the decoding kernels on the stored weights (no widening), each
    /// weight row multiplied by all of them while it is in cache.
    public static let matvecRowLimit = 8
    /// Scratch floats for one widened slice of a quantized matrix: 32 MB holds every matrix of a small model
    /// whole but its output layer, and OpenBLAS spends far less per product in few wide calls than in many
    /// narrow ones (Qwen2.5-0.5B-shaped Q4_K_M prefill of 199 tokens: 248 tok/s with 4 MB slices, 277 with
    /// 16 MB, 327 with 32 MB, 328 with 64 MB; F32, which needs no slices, 342).
    static let widenSliceFloats = 1 << 23

    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight w: WeightMatrix,
                               bias: UnsafePointer<Float>?, rows: Int) {
        let inDim = w.cols, outDim = w.rows
        if rows <= matvecRowLimit {
            forward(group: [(out, w, bias)], inp: inp, rows: rows)
        } else if let floats = w.floats {
            forward(out: out, inp: inp, weight: floats, bias: bias, rows: rows, inDim: inDim, outDim: outDim)
        } else {
            forEachWidenedSlice(w) { slice, scratch in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(slice.count), Int32(inDim),
                            1, inp, Int32(inDim), scratch, Int32(inDim), 0, out + slice.lowerBound, Int32(outDim))
            }
            addBias(out: out, bias: bias, rows: rows, outDim: outDim)
        }
    }

    /// Several products of one input (q, k, v; up and gate): when decoding, x is prepared once and all
    /// output rows of all matrices are split across threads in one parallel pass. Every weight has inDim
    /// columns; out_i is [rows, W_i.rows].
    public static func forward(group: [(out: UnsafeMutablePointer<Float>, weight: WeightMatrix, bias: UnsafePointer<Float>?)],
                               inp: UnsafePointer<Float>, rows: Int) {
        guard rows <= matvecRowLimit else {
            for item in group { forward(out: item.out, inp: inp, weight: item.weight, bias: item.bias, rows: rows) }
            return
        }
        let inDim = group[0].weight.cols
        precondition(group.allSatisfy { $0.weight.cols == inDim }, "matmul group: weights differ in columns")
        let ends = group.indices.map { i in group[...i].reduce(0) { $0 + $1.weight.rows } }
        let total = ends.last ?? 0
        // Every input row prepared once; one parallel pass over all output rows of all matrices, each weight
        // row multiplied by every input row while it is in cache.
        let blocks = group.contains { $0.weight.dtype.isQuantized }  // f32/f16 rows multiply x as floats
        let prepared = (0..<rows).map { PreparedVector(inp + $0 * inDim, count: inDim, integers: blocks) }
        let vectors = prepared.map(\.kernelVector)
        vectors.withUnsafeBufferPointer { xs in
            let shared = SendablePointer((items: group.map { ($0.out, $0.weight) }, xs: xs))
            // Four chunks per thread of ≥ 32 rows: streaming speed differs between the threads from region
            // to region, and a claimed chunk costs far less than a thread idling at the end.
            Parallel.forChunks(total, minChunk: 32, perThread: 4) { range in
                var lower = range.lowerBound
                for (i, end) in ends.enumerated() where lower < range.upperBound && lower < end {
                    let begin = i == 0 ? 0 : ends[i - 1]
                    let upper = min(end, range.upperBound)
                    let (out, w) = shared.pointer.items[i]
                    w.multiplyRows((lower - begin)..<(upper - begin), xs: shared.pointer.xs, into: out + (lower - begin), stride: w.rows)
                    lower = upper
                }
            }
        }
        withExtendedLifetime(prepared) {}
        for item in group { addBias(out: item.out, bias: item.bias, rows: rows, outDim: item.weight.rows) }
    }

    /// The rows of a stored matrix a slice at a time (≤ widenSliceFloats), each widened to f32 into one scratch
    /// buffer: `body(rows, slice [rows.count, cols])`.
    static func forEachWidenedSlice(_ w: WeightMatrix, _ body: (Range<Int>, UnsafePointer<Float>) -> Void) {
        let sliceRows = max(1, min(w.rows, widenSliceFloats / w.cols))
        WideningScratch.shared.with(floats: sliceRows * w.cols) { scratch in
            for start in stride(from: 0, to: w.rows, by: sliceRows) {
                let rows = start..<min(w.rows, start + sliceRows)
                widen(w, rows, into: scratch)
                body(rows, scratch)
            }
        }
    }

    static func widen(_ w: WeightMatrix, _ rows: Range<Int>, into scratch: UnsafeMutablePointer<Float>) {
        let shared = SendablePointer(scratch)
        Parallel.forChunks(rows.count, minChunk: 256) { range in
            w.widenRows((rows.lowerBound + range.lowerBound)..<(rows.lowerBound + range.upperBound),
                        into: shared.pointer + range.lowerBound * w.cols)
        }
    }

    static func addBias(out: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, rows: Int, outDim: Int) {
        guard let bias else { return }
        for r in 0..<rows {
            let row = out + r * outDim
            for o in 0..<outDim { row[o] += bias[o] }
        }
    }
}

/// The widening scratch, kept between products: a fresh allocation per product was fresh pages every time, and
/// faulting and zeroing them cost more than the widening (a QLoRA SmolLM2 step: a few hundred products of 0.4–3.5 MB each; measured +3–5% per step).
/// A few buffers are pooled, one per caller running at once; each grows to the largest slice it served (never
/// more than one slice of widenSliceFloats, the peak a product needs anyway).
final class WideningScratch: @unchecked Sendable {
    static let shared = WideningScratch()
    private let lock = NSLock()
    private var idle: [ScratchBuffer] = []

    func with<R>(floats: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        lock.lock()
        let buffer = idle.popLast() ?? ScratchBuffer()
        lock.unlock()
        defer {
            lock.lock()
            if idle.count < 2 { idle.append(buffer) }
            lock.unlock()
        }
        return body(buffer.reserve(floats * MemoryLayout<Float>.stride).assumingMemoryBound(to: Float.self))
    }
}
