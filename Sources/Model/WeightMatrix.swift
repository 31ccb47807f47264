import CKernels
import Formats

/// One weight matrix [rows, cols] (PyTorch Linear layout) as it is stored: f32, f16, bf16 or ggml blocks,
/// in memory owned by someone else (a mapped GGUF file or a ParameterSet; ModelWeights keeps the owner
/// alive). Decoding multiplies the stored blocks directly (ck_matvec); prefill widens slices to f32 for sgemm.
public struct WeightMatrix: @unchecked Sendable {
    public let dtype: DType
    public let base: UnsafeRawPointer
    public let rows: Int
    public let cols: Int
    /// Bytes from one row to the next.
    public let rowBytes: Int
    /// The ggml type id, with CK_PORTABLE when this matrix runs the portable kernels (tests).
    private(set) var kernelType: Int32

    /// Types whose rows ck_matvec multiplies without widening (the rest are widened to f32 at load).
    public static func isMultipliedInPlace(_ dtype: DType) -> Bool {
        guard let id = dtype.ggmlID else { return false }
        return ck_supports(Int32(id)) != 0
    }

    /// A view of `rows × cols` elements of `dtype` at `base`; nil for a type without kernels or a row
    /// length that is not whole blocks.
    public init?(dtype: DType, base: UnsafeRawPointer, rows: Int, cols: Int) {
        guard Self.isMultipliedInPlace(dtype), let id = dtype.ggmlID, cols % dtype.blockSize == 0 else { return nil }
        self.dtype = dtype
        self.base = base
        self.rows = rows
        self.cols = cols
        rowBytes = cols / dtype.blockSize * dtype.bytesPerBlock
        kernelType = Int32(id)
    }

    /// An f32 matrix (ParameterSet slots, widened tensors).
    public init(f32 base: UnsafePointer<Float>, rows: Int, cols: Int) {
        self.init(dtype: .f32, base: UnsafeRawPointer(base), rows: rows, cols: cols)!
    }

    /// The f32 elements when the matrix is stored as f32.
    public var floats: UnsafePointer<Float>? { dtype == .f32 ? base.assumingMemoryBound(to: Float.self) : nil }

    /// Rows [start, end) widened to f32 into `out` [(end - start), cols], with ggml's arithmetic.
    public func widenRows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        ck_dequantize_rows(kernelType, base, rowBytes, Int32(range.lowerBound), Int32(range.upperBound), Int32(cols), out)
    }

    /// out[j·stride + (r − range.lowerBound)] = row r · xs[j] for every r in `range` and every vector j (each
    /// prepared once for all rows): each row read once for all vectors, each product the same whatever their number.
    public func multiplyRows(_ range: Range<Int>, xs: UnsafeBufferPointer<ck_vector>, into out: UnsafeMutablePointer<Float>, stride: Int) {
        ck_matvec(kernelType, base, rowBytes, Int32(range.lowerBound), Int32(range.upperBound), Int32(xs.count),
                        xs.baseAddress!, Int32(cols), out, stride)
    }

    /// True when the portable kernels are used (no AVX2/FMA/F16C on this CPU).
    public static var usesPortableKernels: Bool { ck_uses_avx2() == 0 }

    /// True when the AVX512-VNNI decoding kernels run on this CPU.
    public static var usesVNNIKernels: Bool { ck_cpu_has_vnni() != 0 }

    /// Which of the kernel sets a matrix runs: the fastest this CPU has, AVX2 even where VNNI is present, or
    /// the portable scalar ones. Tests compare the sets.
    public enum KernelSet: Sendable, CaseIterable { case fastest, avx2, portable }

    /// The same matrix multiplied and widened by the given kernel set; a property of this value, so concurrent
    /// users of other matrices are unaffected.
    public func usingKernels(_ set: KernelSet) -> WeightMatrix {
        var copy = self
        let id = kernelType & ~Int32(CK_PORTABLE | CK_AVX2_ONLY)
        switch set {
        case .fastest: copy.kernelType = id
        case .avx2: copy.kernelType = id | Int32(CK_AVX2_ONLY)
        case .portable: copy.kernelType = id | Int32(CK_PORTABLE)
        }
        return copy
    }

    /// The portable kernels (true) or the fastest (false).
    public func usingPortableKernels(_ on: Bool = true) -> WeightMatrix { usingKernels(on ? .portable : .fastest) }
}

/// A vector x [count] as the block kernels take it: the f32 values, plus for each 32 values a scale and
/// 16-bit integers (x ≈ scale·q) and their exact sum; where the CPU has VNNI, also the same integers as byte
/// pairs in the VNNI kernels' order (ck_prepare_vnni). Prepared once, multiplied by every row.
public final class PreparedVector: @unchecked Sendable {
    public let count: Int
    let values: UnsafePointer<Float>
    let integers: UnsafeMutablePointer<Int16>
    let scales: UnsafeMutablePointer<Float>
    let sums: UnsafeMutablePointer<Float>
    /// The VNNI form (nil on CPUs without VNNI, or when the integers are not wanted).
    let bytePairs: UnsafeMutablePointer<Int8>?
    let byteScales: UnsafeMutablePointer<Float>
    let byteSums: UnsafeMutablePointer<Float>

    /// `x` must stay valid while this object is used. `integers: false` skips the integer forms (only
    /// block types read them; their buffers then stay unset).
    public init(_ x: UnsafePointer<Float>, count: Int, integers wanted: Bool = true) {
        self.count = count
        values = x
        let blocks = max(1, count / 32)
        integers = .allocate(capacity: max(32, count))
        scales = .allocate(capacity: blocks)
        sums = .allocate(capacity: blocks)
        byteScales = .allocate(capacity: blocks)
        byteSums = .allocate(capacity: blocks)
        let prepared = wanted && count % 32 == 0
        bytePairs = prepared && WeightMatrix.usesVNNIKernels ? .allocate(capacity: 128 * ((count + 63) / 64)) : nil
        if prepared {
            ck_prepare(x, Int32(count), integers, scales, sums)
            if let bytePairs { ck_prepare_vnni(x, Int32(count), bytePairs, byteScales, byteSums) }
        }
    }

    /// The kernels' view of this vector.
    public var kernelVector: ck_vector {
        ck_vector(x: values, q: integers, scales: scales, sums: sums, q8: bytePairs, scales8: byteScales, qsums8: byteSums)
    }

    deinit {
        integers.deallocate()
        scales.deallocate()
        sums.deallocate()
        bytePairs?.deallocate()
        byteScales.deallocate()
        byteSums.deallocate()
    }
}
