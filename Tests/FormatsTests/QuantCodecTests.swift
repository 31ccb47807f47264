import Formats
import Testing
import TestSupport

/// The block codecs against the references (fixtures/make_quants.py): gguf-py for the legacy types'
/// quantize and every dequantize, ggml's own C (`ggml_quantize_chunk`, no imatrix) for K-quant quantize.
/// Byte-identical, on ramp, random, all-zero, constant, single-outlier, subnormal, tie and mixed-scale rows.
@Suite struct QuantCodecTests {
    static let ggufpy = try? Fixtures.json("../quants/ggufpy.json")
    static let ggml = try? Fixtures.json("../quants/ggml_kquants.json")
    static let extraQuants = try? Fixtures.json("../quants/ggml_extra_quants.json")

    static func inputs() throws -> [(String, [Float])] {
        let inputs = try #require(ggufpy?["inputs"]?.objectValue)
        return inputs.map { ($0.0, Hex.floats($0.1.stringValue ?? "")) }
    }

    static func check(_ golden: JSONValue?, _ type: String) throws {
        let expected = try #require(golden?["quantize"]?[type]?.objectValue, "no golden for \(type)")
        let dtype = try #require(DType(rawValue: type))
        for (name, row) in try inputs() {
            let want = try #require(expected.first { $0.0 == name }?.1.stringValue)
            for threads in [1, 2] {
                let got = try #require(row.withUnsafeBufferPointer { Quantization.quantize($0, as: dtype, threads: threads) })
                #expect(Hex.encode(got) == want, "\(type) on \(name), \(threads) thread(s)")
            }
        }
    }

    @Test(arguments: ["BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"])
    func legacyQuantizeMatchesGGUFPy(_ type: String) throws {
        try Self.check(Self.ggufpy, type)
    }

    /// TQ1_0, TQ2_0, MXFP4, IQ3_S, IQ3_XXS and IQ2_S as ggml's C quantizer writes them (the first three equal to
    /// gguf-py's; fixtures/make_quants.py).
    @Test(arguments: ["TQ1_0", "TQ2_0", "MXFP4", "IQ3_S", "IQ3_XXS", "IQ2_S"])
    func moreQuantizersMatchGGMLC(_ type: String) throws {
        try Self.check(Self.extraQuants, type)
    }

    /// The lattice types with an importance matrix (the same weights for every row) as ggml's quantizers write them;
    /// IQ2_XS only exists this way (ggml asserts on a missing imatrix).
    @Test(arguments: [DType.iq3_s, .iq3_xxs, .iq2_xs, .iq2_s])
    func weightedLatticeQuantsMatchGGMLC(_ dtype: DType) throws {
        let expected = try #require(Self.extraQuants?["quantize"]?["\(dtype.name)+imatrix"]?.objectValue)
        let weights = Hex.floats(try #require(Self.extraQuants?["weights"]?.stringValue))
        for (name, row) in try Self.inputs() {
            let want = try #require(expected.first { $0.0 == name }?.1.stringValue)
            var out = [UInt8](repeating: 0, count: row.count / 256 * dtype.bytesPerBlock)
            let ok = row.withUnsafeBufferPointer { x in weights.withUnsafeBufferPointer { w in out.withUnsafeMutableBytes { o in
                WeightedQuantization.quantizeRow(x.baseAddress!, count: row.count, weights: w.baseAddress!, as: dtype, into: o.baseAddress!)
            } } }
            #expect(ok && Hex.encode(out) == want, "\(dtype.name)+imatrix on \(name)")
        }
    }

    @Test(arguments: ["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"])
    func quantizeMatchesGGMLC(_ type: String) throws {
        try Self.check(Self.ggml, type)
    }

    @Test(arguments: [("ggufpy", "BF16"), ("ggufpy", "Q4_0"), ("ggufpy", "Q4_1"), ("ggufpy", "Q5_0"), ("ggufpy", "Q5_1"),
                      ("ggufpy", "Q8_0"), ("ggufpy", "Q2_K"), ("ggufpy", "Q3_K"), ("ggufpy", "Q4_K"), ("ggufpy", "Q5_K"),
                      ("ggufpy", "Q6_K"), ("ggml", "Q2_K"), ("ggml", "Q3_K"), ("ggml", "Q4_K"), ("ggml", "Q5_K"), ("ggml", "Q6_K")])
    func dequantizeMatchesGGUFPy(_ source: String, _ type: String) throws {
        // ggufpy: random K blocks; ggml: ggml's K blocks of the named rows (ramp, zero, constant, outlier, subnormal...).
        let golden = try #require((source == "ggml" ? Self.ggml : Self.ggufpy)?["dequantize"]?[type])
        let dtype = try #require(DType(rawValue: type))
        let blocks = Hex.decode(try #require(golden["blocks"]?.stringValue))
        let count = Int(try #require(golden["count"]?.uint64Value))
        for threads in [1, 2] {
            let values = try #require(blocks.withUnsafeBytes { Quantization.dequantize($0, as: dtype, count: count, threads: threads) })
            let bytes = Hex.bytes(of: values)
            #expect(Hex.encode(Array(bytes.prefix(256))) == golden["head"]?.stringValue, "\(type) first values")
            #expect(SHA256Digest.hex(bytes) == golden["sha256"]?.stringValue, "\(type), \(threads) thread(s)")
        }
    }

    /// Types without a decoder (NVFP4, Q8_K) are refused by name, never decoded into garbage; types ckpt cannot
    /// write (IQ3_S here) give no bytes.
    @Test(arguments: [DType.nvfp4, .q8_K])
    func unsupportedTypesAreNamed(_ dtype: DType) throws {
        let tensor = RawTensor(name: "blk.0.ffn_up.weight", dtype: dtype, shape: [dtype.blockSize],
                               data: ByteView(owned: [UInt8](repeating: 0, count: dtype.bytesPerBlock)))
        let error = formatError { _ = try Quantization.dequantize(tensor, path: "model.gguf") }
        #expect(error?.kind == "unsupportedType")
        #expect(error?.description.contains("blk.0.ffn_up.weight") == true)
        #expect(error?.description.contains(dtype.name) == true)
        #expect([Float](repeating: 0, count: 256).withUnsafeBufferPointer { Quantization.quantize($0, as: .iq2_xs) } == nil)
    }

    /// The threaded path is byte-identical to the scalar one on a buffer large enough to be split.
    @Test(arguments: ["Q4_0", "Q8_0", "Q4_K", "Q6_K"])
    func threadedEqualsScalar(_ type: String) throws {
        let dtype = try #require(DType(rawValue: type))
        var state: UInt32 = 99
        // Enough blocks for two chunks: legacy types split from 2 × 4096 blocks, K-quants from 2 × 64.
        let count = dtype.blockSize == 256 ? 256 * 300 : 32 * 8200
        let values = (0..<count).map { _ -> Float in
            state = state &* 1_664_525 &+ 1_013_904_223
            return (Float(state >> 8) / Float(1 << 24) - 0.5) * 0.2
        }
        let one = values.withUnsafeBufferPointer { Quantization.quantize($0, as: dtype, threads: 1) }
        let two = values.withUnsafeBufferPointer { Quantization.quantize($0, as: dtype, threads: 2) }
        #expect(one == two)
        let back1 = one?.withUnsafeBytes { Quantization.dequantize($0, as: dtype, count: values.count, threads: 1) }
        let back2 = one?.withUnsafeBytes { Quantization.dequantize($0, as: dtype, count: values.count, threads: 2) }
        #expect(back1 == back2)
        // A sanity bound, not the oracle: the round trip stays near the input.
        let err = zip(values, back1 ?? []).map { abs($0 - $1) }.max() ?? 1
        #expect(err < 0.05)
    }
}
