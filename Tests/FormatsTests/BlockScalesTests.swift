import Formats
import Testing
import TestSupport

/// BlockScales: every type whose weights are linear in its fp16 scale fields decodes (with ggml's decoder,
/// itself checked against gguf-py and ggml) to d·a + m·b, where a and b are the same block decoded with
/// (d, m) = (1, 0) and (0, 1); writing the fields changes only their bytes.
@Suite struct BlockScalesTests {
    @Test(arguments: [DType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_nl, .iq4_xs, .iq3_s])
    func decodeIsLinearInTheFields(_ dtype: DType) throws {
        var rng: UInt64 = 0x9E3779B97F4A7C15
        let n = 4 * 256
        let x = (0..<n).map { i -> Float in
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: rng >> 11) % 2000) / 1000 * (i % 7 == 0 ? 3 : 1) + (i % 5 == 0 ? 0.5 : 0)
        }
        let bytes = try #require(x.withUnsafeBufferPointer { Quantization.quantize($0, as: dtype, threads: 1) })
        let decoded = try #require(bytes.withUnsafeBytes { Quantization.dequantize($0, as: dtype, count: n) })
        let bs = dtype.blockSize, size = dtype.bytesPerBlock
        var a = [Float](repeating: 0, count: bs), b = [Float](repeating: 0, count: bs), scratch = [UInt8](repeating: 0, count: size)
        try bytes.withUnsafeBytes { raw in
            for k in 0..<(n / bs) {
                let block = raw.baseAddress! + k * size
                a.withUnsafeMutableBufferPointer { a in b.withUnsafeMutableBufferPointer { b in scratch.withUnsafeMutableBytes { s in
                    BlockScales.basis(block, dtype, a: a.baseAddress!, b: b.baseAddress!, scratch: s.baseAddress!)
                } } }
                let (d, m) = BlockScales.read(block, dtype)
                for i in 0..<bs {
                    let linear = d * a[i] + m * b[i], want = decoded[k * bs + i]
                    #expect(abs(linear - want) <= 1e-6 * max(1, abs(want)), "\(dtype) block \(k) element \(i): \(linear) vs \(want)")
                }
                // Writing d and m back as read changes nothing; another d changes only d's two bytes (and m's).
                var copy = Array(UnsafeRawBufferPointer(start: block, count: size))
                copy.withUnsafeMutableBytes { BlockScales.write($0.baseAddress!, dtype, d: d, m: m) }
                #expect(copy == Array(UnsafeRawBufferPointer(start: block, count: size)))
                copy.withUnsafeMutableBytes { BlockScales.write($0.baseAddress!, dtype, d: d * 1.5 + 1e-3, m: m * 0.5) }
                let fields = try #require(BlockScales.fields(dtype))
                let allowed = Set([fields.d, fields.d + 1] + (fields.m.map { [$0, $0 + 1] } ?? []))
                let changed = (0..<size).filter { copy[$0] != raw[k * size + $0] }
                #expect(Set(changed).isSubset(of: allowed) && !changed.isEmpty, "\(dtype): bytes \(changed) changed")
            }
        }
    }

    @Test func typesWithoutFieldsAreNil() {
        for dtype in [DType.f32, .f16, .bf16, .iq2_xxs, .iq3_xxs, .tq1_0, .mxfp4] { #expect(BlockScales.fields(dtype) == nil, "\(dtype)") }
    }
}
