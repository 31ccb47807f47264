import Foundation
import Formats
import Testing
import TestSupport

/// The decode-only types against ggml's own C decoders (fixtures/make_iquant_decoding.py: `to_float` of
/// ggml_get_type_traits on 8 blocks of random codes): every value bit-identical, single- and multi-threaded.
@Suite struct IQuantDecodingTests {
    static let types: [DType] = [.iq2_xxs, .iq2_xs, .iq2_s, .iq3_xxs, .iq3_s, .iq1_s, .iq1_m, .iq4_nl, .iq4_xs, .tq1_0, .tq2_0, .mxfp4]

    @Test(arguments: types)
    func decodesLikeGGML(_ dtype: DType) throws {
        let file = try #require(FileManager.default.contents(atPath: Repository.fixtures("quants/decode/\(dtype.name).bin")))
        let blocks = 8, count = blocks * dtype.blockSize
        let blockBytes = blocks * dtype.bytesPerBlock
        #expect(file.count == blockBytes + 4 * count)
        let want = file.dropFirst(blockBytes).withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
        for threads in [1, 3] {
            let got = try #require(file.prefix(blockBytes).withUnsafeBytes { Quantization.dequantize($0, as: dtype, count: count, threads: threads) })
            let bits = got.map(\.bitPattern)
            let first = zip(bits, want).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(first == nil, "\(dtype.name): element \(first?.offset ?? -1): \(got[first?.offset ?? 0]) vs \(Float(bitPattern: want[first?.offset ?? 0]))")
        }
    }
}
