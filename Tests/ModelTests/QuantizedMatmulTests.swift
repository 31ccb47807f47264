import Formats
import Model
import Testing

/// The decoding kernels against the reference: each weight type is quantized by the Formats codecs
/// (bit-exact with ggml), widened by the codecs, and multiplied in Double. Widening in C must equal the
/// codecs bit for bit; products must agree within the stated tolerance, relative to Σ|w·x| of the row:
/// 1e-6 for f32/f16/bf16 rows (f32 arithmetic), 3e-5 for block types (x as 16-bit integers per 32 values),
/// with each kernel set: the fastest on this CPU (AVX512-VNNI where present), AVX2, portable.
@Suite(.serialized) struct QuantizedMatmulTests {
    static let types: [DType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K, .iq4_nl, .iq4_xs, .iq3_s]
    static let rows = 37, cols = 512

    static func random(_ count: Int, seed: UInt32) -> [Float] {
        var s = seed
        return (0..<count).map { _ in
            s = s &* 1_664_525 &+ 1_013_904_223
            return (Float(s >> 8) / Float(1 << 24) - 0.5) * 2
        }
    }

    /// The stored bytes, the codecs' widening, and a view of the bytes.
    static func weights(_ dtype: DType) throws -> (bytes: [UInt8], widened: [Float]) {
        let values = random(rows * cols, seed: 7)
        let bytes = try #require(values.withUnsafeBufferPointer { Quantization.quantize($0, as: dtype) })
        let widened = try #require(bytes.withUnsafeBytes { Quantization.dequantize($0, as: dtype, count: rows * cols) })
        return (bytes, widened)
    }

    @Test(arguments: types, WeightMatrix.KernelSet.allCases)
    func widenMatchesCodecs(_ dtype: DType, kernels: WeightMatrix.KernelSet) throws {
        let (bytes, widened) = try Self.weights(dtype)
        var out = [Float](repeating: .nan, count: Self.rows * Self.cols)
        bytes.withUnsafeBytes { raw in
            let w = WeightMatrix(dtype: dtype, base: raw.baseAddress!, rows: Self.rows, cols: Self.cols)!.usingKernels(kernels)
            w.widenRows(3..<Self.rows, into: &out[3 * Self.cols])
            w.widenRows(0..<3, into: &out)
        }
        #expect(out.map(\.bitPattern) == widened.map(\.bitPattern))
    }

    @Test(arguments: types, WeightMatrix.KernelSet.allCases)
    func productsWithinTolerance(_ dtype: DType, kernels: WeightMatrix.KernelSet) throws {
        let (bytes, widened) = try Self.weights(dtype)
        let tolerance = dtype.isQuantized ? 3e-5 : 1e-6
        for inputRows in [1, 2, 5, 12] {  // up to 8: the decoding kernels; 12: widened slices + sgemm
            let x = Self.random(inputRows * Self.cols, seed: 99)
            let bias = Self.random(Self.rows, seed: 5)
            var out = [Float](repeating: .nan, count: inputRows * Self.rows)
            bytes.withUnsafeBytes { raw in
                let w = WeightMatrix(dtype: dtype, base: raw.baseAddress!, rows: Self.rows, cols: Self.cols)!.usingKernels(kernels)
                Matmul.forward(out: &out, inp: x, weight: w, bias: bias, rows: inputRows)
            }
            var worst = 0.0
            for r in 0..<inputRows {
                for o in 0..<Self.rows {
                    var exact = Double(bias[o]), scale = 0.0
                    for i in 0..<Self.cols {
                        let p = Double(widened[o * Self.cols + i]) * Double(x[r * Self.cols + i])
                        exact += p
                        scale += abs(p)
                    }
                    worst = max(worst, abs(Double(out[r * Self.rows + o]) - exact) / scale)
                }
            }
            #expect(worst <= tolerance, "\(dtype.name) rows \(inputRows) kernels \(kernels): \(worst)")
        }
    }

    @Test func groupedProductsEqualSeparateOnes() throws {
        let (bytes, _) = try Self.weights(.q4_1)
        let x = Self.random(Self.cols, seed: 3)
        var a = [Float](repeating: 0, count: Self.rows), b = a, c = a, d = a
        bytes.withUnsafeBytes { raw in
            let w = WeightMatrix(dtype: .q4_1, base: raw.baseAddress!, rows: Self.rows, cols: Self.cols)!
            let half = WeightMatrix(dtype: .q4_1, base: raw.baseAddress!, rows: 20, cols: Self.cols)!
            Matmul.forward(out: &a, inp: x, weight: w, bias: nil, rows: 1)
            Matmul.forward(out: &b, inp: x, weight: half, bias: nil, rows: 1)
            c.withUnsafeMutableBufferPointer { cp in
                d.withUnsafeMutableBufferPointer { dp in
                    Matmul.forward(group: [(cp.baseAddress!, w, nil), (dp.baseAddress!, half, nil)], inp: x, rows: 1)
                }
            }
        }
        #expect(c == a)
        #expect(Array(d.prefix(20)) == Array(b.prefix(20)))
    }

    /// Batched decoding (several input rows, each weight row read once for all) gives every input row the
    /// bits it gets alone, for each kernel type and both kernel sets.
    @Test(arguments: types, WeightMatrix.KernelSet.allCases)
    func batchedRowsEqualSingleRows(_ dtype: DType, kernels: WeightMatrix.KernelSet) throws {
        let (bytes, _) = try Self.weights(dtype)
        let n = Matmul.matvecRowLimit
        let x = Self.random(n * Self.cols, seed: 11)
        var batched = [Float](repeating: .nan, count: n * Self.rows), single = batched
        bytes.withUnsafeBytes { raw in
            let w = WeightMatrix(dtype: dtype, base: raw.baseAddress!, rows: Self.rows, cols: Self.cols)!.usingKernels(kernels)
            Matmul.forward(out: &batched, inp: x, weight: w, bias: nil, rows: n)
            for r in 0..<n {
                x.withUnsafeBufferPointer { xp in
                    single.withUnsafeMutableBufferPointer { Matmul.forward(out: $0.baseAddress! + r * Self.rows, inp: xp.baseAddress! + r * Self.cols, weight: w, bias: nil, rows: 1) }
                }
            }
        }
        #expect(batched.map(\.bitPattern) == single.map(\.bitPattern), "\(dtype.name) kernels \(kernels)")
    }

    /// One input row through `dtype` rows [rows, cols] with each kernel set, against the Double product of the
    /// stored (widened) values: within `tolerance` of Σ|w·x| per output.
    static func expectOneRowProducts(_ dtype: DType, rows: Int, cols: Int, seed: UInt32, tolerance: Double) throws {
        let values = random(rows * cols, seed: seed), x = random(cols, seed: seed + 1)
        let bytes = try #require(values.withUnsafeBufferPointer { Quantization.quantize($0, as: dtype) })
        let widened = try #require(bytes.withUnsafeBytes { Quantization.dequantize($0, as: dtype, count: rows * cols) })
        for kernels in WeightMatrix.KernelSet.allCases {
            var out = [Float](repeating: .nan, count: rows)
            bytes.withUnsafeBytes { raw in
                let w = WeightMatrix(dtype: dtype, base: raw.baseAddress!, rows: rows, cols: cols)!.usingKernels(kernels)
                Matmul.forward(out: &out, inp: x, weight: w, bias: nil, rows: 1)
            }
            for o in 0..<rows {
                var exact = 0.0, magnitude = 0.0
                for i in 0..<cols {
                    let p = Double(widened[o * cols + i]) * Double(x[i])
                    exact += p
                    magnitude += abs(p)
                }
                #expect(abs(Double(out[o]) - exact) <= tolerance * magnitude, "\(dtype.name) cols \(cols) row \(o) kernels \(kernels)")
            }
        }
    }

    /// The VNNI kernels take 32-value blocks in pairs: an odd number of blocks pairs the last with zeros.
    /// Rows of 1, 3 and 17 blocks, every kernel set.
    @Test(arguments: [DType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .iq4_nl], [32, 96, 544])
    func blockCountsOddAndEven(_ dtype: DType, cols: Int) throws {
        try Self.expectOneRowProducts(dtype, rows: 3, cols: cols, seed: 17, tolerance: 3e-5)
    }

    /// f32, f16 and bf16 rows of every length around the kernels' strides (8, 16, 32, 64: AVX2 and AVX-512 main
    /// loops, their 16-wide and masked tails): within 1e-6 (f32 arithmetic), every kernel set.
    @Test(arguments: [1, 7, 15, 16, 17, 31, 33, 63, 64, 65, 79, 96, 127, 129, 640, 655])
    func floatRowsOfAnyLength(_ cols: Int) throws {
        for dtype in [DType.f32, .f16, .bf16] {
            try Self.expectOneRowProducts(dtype, rows: 5, cols: cols, seed: 21, tolerance: 1e-6)
        }
    }
}
